"""Each program on hand-built households at and around every threshold."""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from dixian.policy import load_policy_set
from dixian.verify import Outcome, Status, explain_programs, verify_programs
from tests.verify.households import (
    ASSETS_LIMIT,
    DIBAO_LINE,
    LOW_INCOME_LINE,
    MONITORING_LINE,
    PERIOD,
    elder_alone,
    family,
    params_2024,
    table,
)

_BACKEND = ibis.duckdb.connect()


_POLICIES = load_policy_set()
_PARAMS = params_2024()


def _status(row: dict[str, Any], program: str) -> str:
    rows = _BACKEND.to_pyarrow(
        verify_programs(
            table(row),
            _POLICIES,
            params=_PARAMS,
            period=PERIOD,
            programs=[program],
        )
    ).to_pylist()
    assert len(rows) == 1
    return str(rows[0]["status"])


E, N, R = Status.ELIGIBLE.value, Status.NOT_ELIGIBLE.value, Status.NEEDS_REVIEW.value


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, E),
        ({"income_net_pc": DIBAO_LINE - 0.01}, E),
        ({"income_net_pc": float(DIBAO_LINE)}, N),
        ({"income_net_pc": DIBAO_LINE + 0.01}, N),
        ({"income_net_pc": None}, R),
        ({"financial_assets_pc": ASSETS_LIMIT}, E),
        ({"financial_assets_pc": ASSETS_LIMIT + 0.01}, N),
        ({"vehicle_non_exempt_count": 1}, N),
        ({"vehicle_count": 2, "vehicle_non_exempt_count": 0}, E),
        ({"business_count": 1, "business_capital_total": 50000.0}, E),
        ({"business_count": 1, "business_capital_total": 50000.01}, N),
        ({"property_count": 2}, N),
        ({"property_purchased_12m": 1}, N),
        ({"public_payroll_count": 1}, N),
        ({"public_payroll_count": None}, R),
        ({"payments_after_death_count": 1}, N),
        ({"income_wages_pc": 0.0}, R),  # labour capacity but no wages: verify on site
        ({"income_wages_pc": 0.0, "labour_capacity_count": 0}, E),
    ],
)
def test_dibao_thresholds(overrides: dict[str, Any], expected: str) -> None:
    assert _status(family(**overrides), "dibao") == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"income_net_pc": LOW_INCOME_LINE - 0.01}, E),
        ({"income_net_pc": LOW_INCOME_LINE}, N),
        ({"income_net_pc": 9000.0}, E),  # above 低保, below 1.5x: the near-dibao band
        ({"financial_assets_pc": ASSETS_LIMIT + 1}, N),
        ({"vehicle_non_exempt_count": 1}, N),
        ({"property_count": 2}, N),
        ({"public_payroll_count": 1}, N),
    ],
)
def test_low_income_thresholds(overrides: dict[str, Any], expected: str) -> None:
    assert _status(family(**overrides), "low_income") == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"income_net_pc": MONITORING_LINE - 0.01}, E),
        ({"income_net_pc": float(MONITORING_LINE), "income_net_total": 3.0 * MONITORING_LINE}, N),
        # expenditure-type: (36,000 - 12,000) / 3 = 8,000 < 8,100
        ({"income_net_pc": 12000.0, "income_net_total": 36000.0, "medical_oop_12m": 12000.0}, E),
        # (36,000 - 11,700) / 3 = 8,100: not below the line
        ({"income_net_pc": 12000.0, "income_net_total": 36000.0, "medical_oop_12m": 11700.0}, N),
        (
            {
                "income_net_pc": 12000.0,
                "income_net_total": 36000.0,
                "medical_oop_12m": 6000.0,
                "schooling_cost_12m": 6000.0,
            },
            E,
        ),
        ({"income_net_pc": 12000.0, "income_net_total": 36000.0, "medical_oop_12m": None}, N),
        ({"public_payroll_count": 1}, N),
    ],
)
def test_monitoring_inclusion_thresholds(overrides: dict[str, Any], expected: str) -> None:
    assert _status(family(**overrides), "monitoring") == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (elder_alone(), E),
        (elder_alone(income_net_pc=DIBAO_LINE - 0.01), E),
        (elder_alone(income_net_pc=float(DIBAO_LINE)), N),
        (elder_alone(members_60_plus=0, members_16_59=1), N),  # a working-age member
        (elder_alone(members_60_plus=0, members_16_59=1, severe_disabled_count=1), E),
        (elder_alone(labour_capacity_count=1), N),
        (elder_alone(business_count=1, business_capital_total=1000.0), N),
        (elder_alone(payments_after_death_count=2), N),
        (elder_alone(labour_capacity_count=None), R),
        (family(), N),  # a family with a working member is not 特困
        (elder_alone(member_count=2, members_60_plus=2), R),  # legal supporters to check
    ],
)
def test_tekun_thresholds(row: dict[str, Any], expected: str) -> None:
    assert _status(row, "tekun") == expected


def test_parameters_follow_the_year() -> None:
    row = family(income_net_pc=6500.0, income_net_total=19500.0, period="2021-06")
    params = dict(load_policy_set().resolve_parameters(province="52", year=2021))
    result = _BACKEND.to_pyarrow(
        verify_programs(
            table(row), load_policy_set(), params=params, period="2021-06", programs=["monitoring"]
        )
    ).to_pylist()
    assert result[0]["status"] == N  # 6,500 is above the 2021 line of 6,000
    assert _status(family(income_net_pc=6500.0, income_net_total=19500.0), "monitoring") == E


def test_result_lists_failed_unknown_and_review_ids() -> None:
    rows = [
        family("a", vehicle_non_exempt_count=1, public_payroll_count=1),
        family("b", income_net_pc=None),
        family("c", income_wages_pc=0.0),
    ]
    result = {
        row["household_id"]: row
        for row in _BACKEND.to_pyarrow(
            verify_programs(
                table(*rows),
                load_policy_set(),
                params=params_2024(),
                period=PERIOD,
                programs=["dibao"],
            )
        ).to_pylist()
    }
    assert result["a"]["failed_conditions"] == "vehicles,public_payroll"
    assert result["b"]["unknown_conditions"] == "income"
    assert result["c"]["review_reasons"] == "labour_without_income"
    assert result["a"]["is_beneficiary"] is True


def test_explanation_carries_values_thresholds_and_records() -> None:
    (result,) = explain_programs(
        table(family("h9", vehicle_non_exempt_count=1, income_net_pc=7000.0)),
        load_policy_set(),
        params=params_2024(),
        period=PERIOD,
        programs=["dibao"],
        backend=_BACKEND,
    )
    assert result.status is Status.NOT_ELIGIBLE
    by_id = {c.id: c for c in result.conditions}
    vehicles = by_id["vehicles"]
    assert vehicles.outcome is Outcome.FAIL
    assert (vehicles.value, vehicles.threshold) == (1, 0)
    assert vehicles.records == {"vehicle_non_exempt_count": ["veh:h9:1"]}
    assert vehicles.params == {"max_non_exempt_vehicles": 0}
    income = by_id["income"]
    assert income.outcome is Outcome.PASS
    assert (income.value, income.threshold) == (7000.0, DIBAO_LINE)
    assets = by_id["financial_assets"]
    assert assets.threshold == pytest.approx(ASSETS_LIMIT)


def test_explanation_agrees_with_batch_status() -> None:
    rows = [
        family("a"),
        family("b", income_net_pc=None),
        family("c", property_count=3),
        elder_alone("d"),
        elder_alone("e", member_count=2, members_60_plus=2),
    ]
    policy_set = load_policy_set()
    batch = {
        (row["household_id"], row["program"]): row["status"]
        for row in _BACKEND.to_pyarrow(
            verify_programs(table(*rows), policy_set, params=params_2024(), period=PERIOD)
        ).to_pylist()
    }
    explained = explain_programs(
        table(*rows), policy_set, params=params_2024(), period=PERIOD, backend=_BACKEND
    )
    assert len(explained) == len(batch) == 20
    for result in explained:
        assert batch[(result.household_id, result.program)] == result.status.value


def test_sum_over_rolls_over_periods() -> None:
    from dixian.policy import compile_expression, parse_expression

    rows = [family("h", period=f"2024-0{m}", medical_oop_12m=float(m * 100)) for m in range(1, 7)]
    panel = table(*rows)
    expr = compile_expression(parse_expression("sum_over(medical_oop_12m, 3)"), panel, params={})
    result = _BACKEND.to_pyarrow(panel.select("period", s=expr).order_by("period")).to_pylist()
    assert [row["s"] for row in result] == [100.0, 300.0, 600.0, 900.0, 1200.0, 1500.0]


def test_python_path_gives_the_same_results_as_the_engine() -> None:
    from dixian.verify.batch import explain_history

    rows = [
        family("a", vehicle_non_exempt_count=1),
        family("b", income_net_pc=None, public_payroll_count=None),
        family("c", income_wages_pc=0.0),
        elder_alone("d"),
        elder_alone("e", member_count=2, members_60_plus=2, business_count=1),
    ]
    policy_set = load_policy_set()
    engine = explain_programs(
        table(*rows), policy_set, params=params_2024(), period=PERIOD, backend=_BACKEND
    )
    python = [
        result
        for row in rows
        for result in explain_history([row], policy_set, params=params_2024())
    ]
    assert python == engine
