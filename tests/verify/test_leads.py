"""Problem leads on a generated county: every planted ineligible beneficiary is found,
no clean beneficiary is accused, and the ranking follows the evidence strength."""

from __future__ import annotations

import random
from typing import Any

import ibis

from dixian.policy import load_policy_set
from dixian.verify import ProblemLead, find_problem_leads, lead_strength
from tests.verify.households import PERIOD, elder_alone, family, params_2024, table

# Planted faults: what department data would show for an ineligible beneficiary.
_FAULTS: dict[str, dict[str, Any]] = {
    "public_payroll": {"public_payroll_count": 1},
    "vehicle": {"vehicle_non_exempt_count": 1, "vehicle_count": 1},
    "business": {"business_count": 1, "business_capital_total": 200000.0},
    "property_purchase": {"property_purchased_12m": 1, "property_count": 2},
    "deposits_over_limit": {"financial_assets_pc": 60000.0},
    "payment_after_death": {"payments_after_death_count": 3},
}


def _county(seed: int = 7) -> tuple[list[dict[str, Any]], dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    planted: dict[str, str] = {}
    for index in range(600):
        household_id = f"h{index:04d}"
        kind = rng.random()
        if kind < 0.5:  # ordinary households, not beneficiaries, some well-off
            rows.append(
                family(
                    household_id,
                    is_dibao=False,
                    registry_status="ordinary",
                    income_net_pc=rng.uniform(5000, 40000),
                    vehicle_non_exempt_count=rng.choice([0, 0, 1]),
                )
            )
            continue
        maker = family if kind < 0.85 else elder_alone
        row = maker(household_id, income_net_pc=rng.uniform(1000, 7000))
        if rng.random() < 0.2:
            fault = rng.choice(sorted(_FAULTS))
            row.update(_FAULTS[fault])
            planted[household_id] = fault
        rows.append(row)
    return rows, planted


def _leads(rows: list[dict[str, Any]], programs: list[str] | None = None) -> list[ProblemLead]:
    """Problem leads of hand-built households, 2024 default parameters, in-memory DuckDB."""
    return find_problem_leads(
        table(*rows),
        load_policy_set(),
        params=params_2024(),
        period=PERIOD,
        backend=ibis.duckdb.connect(),
        programs=programs,
    )


def test_every_planted_fault_is_found_without_false_leads() -> None:
    rows, planted = _county()
    leads = _leads(rows, ["dibao", "tekun"])
    found = {lead.household_id: lead for lead in leads}
    assert set(found) == set(planted)
    for household_id, fault in planted.items():
        assert fault in found[household_id].kinds
        assert found[household_id].evidence, household_id
        assert found[household_id].region_code == "522799001001"


def test_leads_are_ranked_by_strength() -> None:
    rows = [
        family("weak", property_count=2),
        family("strong", payments_after_death_count=1),
        family("double", vehicle_non_exempt_count=1, business_count=1, business_capital_total=1e6),
        family("clean"),
    ]
    leads = _leads(rows, ["dibao"])
    assert [lead.household_id for lead in leads] == ["strong", "double", "weak"]
    assert leads[1].strength == lead_strength([0.85, 0.8])
    assert leads[1].kinds == ("vehicle", "business")
    assert leads[0].reasons_zh == ("死亡后仍在发放",)


def test_non_beneficiaries_are_not_leads() -> None:
    rows = [family("x", is_dibao=False, registry_status="ordinary", public_payroll_count=1)]
    leads = _leads(rows)
    assert leads == []


def test_lead_strength_combines_as_noisy_or() -> None:
    assert lead_strength([]) == 0.0
    assert lead_strength([0.5, 0.5]) == 0.75
    assert lead_strength([0.99]) == 0.99
