"""The panel builder on a hand-built warehouse: two households, three months."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import ibis
import pytest

from dixian.engine import STAGED_SUFFIX
from dixian.features import PANEL_COLUMNS, builder, check_panel_table
from dixian.features.builder import FeatureSettings, build_household_period, membership_periods
from tests.features.warehouse import (
    write_links,
    write_membership,
    write_persons,
    write_staged,
    write_table,
)

VILLAGE_A = "522799001001"
VILLAGE_B = "522799002001"
PERIODS = ["2023-01", "2023-02", "2024-01"]  # batches: a full extract, changes, a full extract
ALL_MONTHS = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"]


@pytest.fixture(scope="module")
def warehouse() -> Any:
    return _build_warehouse(ibis.duckdb.connect())


def _build_warehouse(backend: Any) -> Any:
    persons = [
        ("p1", date(1980, 5, 1), VILLAGE_A),  # head of h1, works as migrant
        ("p2", date(1982, 3, 1), VILLAGE_A),  # spouse, serious illness in 2023-02
        ("p3", date(2012, 9, 1), VILLAGE_A),  # child, junior secondary
        ("p4", date(1950, 1, 1), VILLAGE_B),  # h2, elderly, dibao; dies 2023-06
        ("p5", date(1990, 1, 1), VILLAGE_B),  # h2, public payroll, owns a car
        ("p6", date(1985, 7, 1), VILLAGE_A),  # in h1 from 2023-01, moves out 2023-03
    ]
    write_persons(backend, persons)
    membership: list[tuple[str, str, str, str]] = []
    for period in PERIODS:
        for person, household, relation in [
            ("p1", "h1", "head"),
            ("p2", "h1", "spouse"),
            ("p3", "h1", "son"),
            ("p4", "h2", "head"),
            ("p5", "h2", "son"),
        ]:
            if person == "p4" and period == "2024-01":
                continue  # died in 2023-06: not in the next full extract
            membership.append((period, household, person, relation))
    membership.append(("2023-01", "h1", "p6", "sibling"))
    write_membership(backend, membership)
    links: list[tuple[str, str, str]] = []

    def link(dataset: str, record: str, person: str) -> None:
        links.append((record, dataset, person))

    employment = []
    for month in range(1, 13):
        record = f"emp:{month}"
        employment.append(
            {
                "_record_id": record,
                "employment_type": "migrant",
                "employment_status": "employed",
                "monthly_wage": 3000.0,
                "report_month": date(2022, month, 1),
                "end_date": None,
            }
        )
        link("employment", record, "p1")
    employment.append(
        {
            "_record_id": "emp:lost",
            "employment_type": "migrant",
            "employment_status": "ended",
            "monthly_wage": None,
            "report_month": date(2023, 12, 1),
            "end_date": date(2023, 11, 20),
        }
    )
    link("employment", "emp:lost", "p1")
    write_staged(
        backend,
        "employment",
        employment,
        {
            "employment_type": "string",
            "employment_status": "string",
            "monthly_wage": "float64",
            "report_month": "date",
            "end_date": "date",
        },
    )
    write_staged(
        backend,
        "chronic_illness",
        [{"_record_id": "ill:1", "illness_kind": "serious", "diagnosis_date": date(2023, 2, 10)}],
        {"illness_kind": "string", "diagnosis_date": "date"},
    )
    link("chronic_illness", "ill:1", "p2")
    write_staged(
        backend,
        "medical_claims",
        [
            {
                "_record_id": "clm:1",
                "visit_type": "inpatient",
                "settlement_date": date(2023, 2, 20),
                "out_of_pocket": 23000.0,
            }
        ],
        {"visit_type": "string", "settlement_date": "date", "out_of_pocket": "float64"},
    )
    link("medical_claims", "clm:1", "p2")
    write_staged(
        backend,
        "students",
        [
            {
                "_record_id": "stu:1",
                "school_stage": "junior_secondary",
                "student_status": "enrolled",
                "school_year": 2022,
                "annual_fees": 1500.0,
                "aid_amount": 500.0,
            }
        ],
        {
            "school_stage": "string",
            "student_status": "string",
            "school_year": "int64",
            "annual_fees": "float64",
            "aid_amount": "float64",
        },
    )
    link("students", "stu:1", "p3")
    payments = []
    for month in range(1, 13):
        for year in (2023,):
            record = f"dib:{year}-{month}"
            payments.append(
                {
                    "_record_id": record,
                    "program": "dibao",
                    "amount": 400.0,
                    "payment_month": date(year, month, 1),
                }
            )
            link("civil_affairs_assistance", record, "p4")
    write_staged(
        backend,
        "civil_affairs_assistance",
        payments,
        {"program": "string", "amount": "float64", "payment_month": "date"},
    )
    write_staged(
        backend,
        "household_registration",
        [
            {
                "_record_id": "hr:4",
                "registration_status": "deceased",
                "status_date": date(2023, 6, 15),
                "birth_date": date(1950, 1, 1),
            },
            {
                "_record_id": "hr:6",
                "registration_status": "moved_out",
                "status_date": date(2023, 3, 10),
                "birth_date": date(1985, 7, 1),
            },
        ],
        {"registration_status": "string", "status_date": "date", "birth_date": "date"},
    )
    link("household_registration", "hr:4", "p4")
    link("household_registration", "hr:6", "p6")
    write_staged(
        backend,
        "vehicles",
        [
            {
                "_record_id": "veh:1",
                "vehicle_type": "small_passenger",
                "registration_date": date(2022, 8, 1),
                "purchase_price": 120000.0,
                "vehicle_status": "normal",
            },
            {
                "_record_id": "veh:2",
                "vehicle_type": "agricultural",
                "registration_date": date(2020, 3, 1),
                "purchase_price": 15000.0,
                "vehicle_status": "normal",
            },
        ],
        {
            "vehicle_type": "string",
            "registration_date": "date",
            "purchase_price": "float64",
            "vehicle_status": "string",
        },
    )
    link("vehicles", "veh:1", "p5")
    link("vehicles", "veh:2", "p4")  # the head's tractor, still his after his death
    write_staged(
        backend,
        "public_payroll",
        [{"_record_id": f"pay:{m}", "report_month": date(2023, m, 1)} for m in (1, 2)],
        {"report_month": "date"},
    )
    for m in (1, 2):
        link("public_payroll", f"pay:{m}", "p5")
    write_staged(
        backend,
        "drinking_water",
        [
            {
                "_record_id": "w:1",
                "region_code": VILLAGE_A,
                "water_safety": "unsafe",
                "assessment_date": date(2022, 10, 1),
            }
        ],
        {"region_code": "string", "water_safety": "string", "assessment_date": "date"},
    )
    write_staged(
        backend,
        "poverty_registry",
        [
            {
                "_record_id": "reg:1",
                "registry_status": "exited_poverty",
                "land_area_mu": 3.0,
                "report_month": date(2023, 1, 1),
            }
        ],
        {"registry_status": "string", "land_area_mu": "float64", "report_month": "date"},
    )
    link("poverty_registry", "reg:1", "p1")
    write_links(backend, links)
    return backend


_CACHE: dict[int, dict[tuple[str, str], dict[str, Any]]] = {}


def _rows(backend: Any) -> dict[tuple[str, str], dict[str, Any]]:
    if id(backend) not in _CACHE:
        settings = FeatureSettings(farm_net_income_per_mu=0, employment_carry_months=1)
        panel = build_household_period(backend, settings=settings)
        check_panel_table(panel)
        frame = panel.to_pandas()
        _CACHE[id(backend)] = {
            (r["household_id"], r["period"]): r for r in frame.to_dict("records")
        }
    return _CACHE[id(backend)]


def test_panel_has_declared_columns_and_one_row_per_household_period(warehouse: Any) -> None:
    rows = _rows(warehouse)
    assert list(next(iter(rows.values()))) == [column.name for column in PANEL_COLUMNS]
    assert set(rows) == {(h, p) for h in ("h1", "h2") for p in ALL_MONTHS}


def test_evidence_built_a_period_at_a_time_is_the_same(
    warehouse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _rows(warehouse)
    monkeypatch.setattr(builder, "EVIDENCE_HOUSEHOLD_PERIODS_PER_STEP", 1)
    settings = FeatureSettings(farm_net_income_per_mu=0, employment_carry_months=1)
    steps: list[str] = []
    stepped = build_household_period(warehouse, settings=settings, step=steps.append).to_pandas()
    assert len(stepped) == len(whole)
    # Progress: the member grid first, then one evidence step per month (two households each).
    assert steps[0] == "成员 member grid"
    assert [s for s in steps if s.startswith("证据")][-1] == "证据 evidence 13/13"
    for row in stepped.to_dict("records"):
        expected = json.loads(whole[(row["household_id"], row["period"])]["evidence"])
        got = json.loads(row["evidence"])
        assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in expected.items()}
    assert any(json.loads(row["evidence"]) for row in stepped.to_dict("records"))


def test_membership_holds_between_batches_until_a_move_out(warehouse: Any) -> None:
    rows = _rows(warehouse)
    sizes = [rows[("h1", month)]["member_count"] for month in ALL_MONTHS]
    assert sizes == [4, 4, 4] + [3] * 10  # p6 moved out in March


def test_members_ages_and_labour(warehouse: Any) -> None:
    rows = _rows(warehouse)
    jan = rows[("h1", "2023-01")]
    assert jan["member_count"] == 4
    assert jan["members_under_16"] == 1 and jan["members_16_59"] == 3
    assert jan["head_age"] == 42
    assert jan["labour_capacity_count"] == 3
    assert jan["farm_labour_count"] == 2  # the head worked away as a migrant
    assert jan["land_area_mu"] == 3.0 and not jan["land_area_imputed"]
    assert json.loads(jan["evidence"])["income_operating_pc"] == ["reg:1"]
    h2 = rows[("h2", "2023-01")]
    assert h2["land_area_mu"] == 3.0 and h2["land_area_imputed"]  # the county's mean
    assert rows[("h2", "2023-01")]["farm_labour_count"] == 0  # 73, and public payroll
    assert rows[("h1", "2024-01")]["farm_labour_count"] == 2  # p6 left; p1 away until 2023-12
    feb = rows[("h1", "2023-02")]
    assert feb["serious_illness_count"] == 1
    assert feb["labour_capacity_count"] == 2  # the spouse fell seriously ill
    assert feb["labourer_shock_12m"]
    assert feb["students_compulsory"] == 1


def test_income_window_and_year_on_year(warehouse: Any) -> None:
    rows = _rows(warehouse)
    jan = rows[("h1", "2023-01")]
    # 12 months to 2023-01 hold 11 monthly wages of 2022 (Feb..Dec) at 3000
    assert jan["income_wages_pc"] == pytest.approx(11 * 3000 / 4)
    jan24 = rows[("h1", "2024-01")]
    assert jan24["income_wages_pc"] == pytest.approx(0.0)
    assert jan24["income_change_yoy"] == pytest.approx(-1.0)
    assert jan24["job_loss_12m"]
    evidence = json.loads(jan["evidence"])
    assert len(evidence["income_wages_pc"]) == 11


def test_spending_assets_flags_and_death(warehouse: Any) -> None:
    rows = _rows(warehouse)
    feb = rows[("h1", "2023-02")]
    assert feb["medical_oop_12m"] == pytest.approx(23000.0)
    assert feb["medical_oop_inpatient_12m"] == pytest.approx(23000.0)
    assert feb["schooling_cost_12m"] == pytest.approx(1000.0)
    assert feb["water_unsafe"] is True or feb["water_unsafe"] == 1
    h2 = rows[("h2", "2023-02")]
    assert h2["vehicle_count"] == 2 and h2["vehicle_non_exempt_count"] == 1
    assert h2["public_payroll_count"] == 1
    assert bool(h2["is_dibao"])
    assert h2["assistance_paid_12m"] == pytest.approx(800.0)
    after = rows[("h2", "2024-01")]
    assert after["member_count"] == 1  # the head died in 2023-06
    assert after["vehicle_count"] == 2  # his tractor stays with the family
    assert after["vehicle_value_total"] == pytest.approx(135000.0)
    assert after["payments_after_death_count"] == 6  # July..December 2023
    assert after["payments_after_death_amount"] == pytest.approx(2400.0)
    assert json.loads(after["evidence"])["payments_after_death_count"]


def test_store_is_incremental_and_keeps_other_periods(warehouse: Any) -> None:
    from dixian.features.store import update_household_period

    # The fixture's employment is monthly; no farm income, so only wages change.
    monthly = FeatureSettings(farm_net_income_per_mu=0, employment_carry_months=1)
    first = update_household_period(
        warehouse, periods=["2023-01"], complete_windows_only=False, settings=monthly
    )
    assert first["rows_written"] == 2 and first["rows_total"] == 2
    rest = update_household_period(warehouse, complete_windows_only=False, settings=monthly)
    assert rest["periods"] == ALL_MONTHS[1:]
    assert rest["rows_total"] == 2 * len(ALL_MONTHS)
    again = update_household_period(warehouse, complete_windows_only=False, settings=monthly)
    assert again["periods_built"] == 0
    stored = warehouse.table("household_period").to_pandas()
    jan24 = stored[(stored.household_id == "h1") & (stored.period == "2024-01")].iloc[0]
    assert jan24["income_change_yoy"] == pytest.approx(-1.0)  # history came from 2023-01
    # The new panel was renamed into place; no staged copy or intermediate is left behind.
    left = [
        t
        for t in warehouse.list_tables()
        if t.endswith(STAGED_SUFFIX) or t.startswith("_features_")
    ]
    assert left == []


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_builds_the_same_panel(warehouse: Any, spark_backend: Any) -> None:
    import pandas as pd

    settings = FeatureSettings(farm_net_income_per_mu=0, employment_carry_months=1)
    before = set(spark_backend.list_tables())
    spark_warehouse = _build_warehouse(spark_backend)
    try:
        spark = build_household_period(spark_warehouse, settings=settings).to_pandas()
    finally:
        for name in set(spark_backend.list_tables()) - before:
            spark_backend.drop_table(name, force=True)
    duck = build_household_period(warehouse, settings=settings).to_pandas()
    order = ["household_id", "period"]
    spark = spark.drop(columns="evidence").sort_values(order).reset_index(drop=True)
    duck = duck.drop(columns="evidence").sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        duck.astype(object).where(duck.notna(), None),
        spark.astype(object).where(spark.notna(), None),
        check_dtype=False,
    )


def test_default_build_skips_periods_with_a_short_window() -> None:
    from dixian.features.store import update_household_period

    backend = _build_warehouse(ibis.duckdb.connect())
    figures = update_household_period(backend)
    assert figures["periods"] == ["2023-12", "2024-01"]  # 12 months of data from 2023-01
    assert figures["income_model"]["source"] == "configured"


def test_quarterly_employment_snapshots_hold_until_the_next_record() -> None:
    from dixian.features._wages import employment_wages

    backend = ibis.duckdb.connect()
    snapshots = [  # quarter-end reports of one migrant worker; the job ends in September
        ("q1", date(2023, 3, 1), "employed", 3000.0),
        ("q2", date(2023, 6, 1), "employed", 3300.0),
        ("q3", date(2023, 9, 1), "unemployed", 0.0),
    ]
    write_staged(
        backend,
        "employment",
        [
            {"_record_id": r, "report_month": d, "employment_status": st, "monthly_wage": w}
            for r, d, st, w in snapshots
        ],
        {"report_month": "date", "employment_status": "string", "monthly_wage": "float64"},
    )
    write_table(
        backend,
        "person_link",
        [{"_record_id": r, "dataset": "employment", "person_id": "p1"} for r, *_ in snapshots],
        {"_record_id": "string", "dataset": "string", "person_id": "string"},
    )
    grid = ibis.memtable(
        [
            {"household_id": "h1", "period": p, "p_month": 2023 * 12 + m - 1, "person_id": "p1"}
            for p, m in (("2023-04", 4), ("2023-12", 12))
        ]
    )
    result = employment_wages(backend, grid, FeatureSettings())
    assert result is not None
    wages = dict(result.values.to_pandas()[["period", "wages_employment"]].values.tolist())
    assert wages["2023-04"] == pytest.approx(2 * 3000.0)  # March and April so far
    assert wages["2023-12"] == pytest.approx(3 * 3000.0 + 3 * 3300.0)  # ended at the Q3 report


def test_unreported_income_model_is_fitted_on_registry_incomes() -> None:
    import math

    from dixian.features._income_model import fit_income_model

    rows = []
    for index in range(60):
        land = float(index % 8)
        size = 1 + index % 5
        farming = index % 4 != 0
        wages = 5000.0 * (index % 3)
        capital = 10000.0 * (index % 7 == 0)
        declared_total = (
            wages
            + (800.0 + 2500.0 * land if farming else 400.0 * land)
            + 0.3 * capital
            + 3000.0 * math.sqrt(size)
        )
        rows.append(
            {
                "household_id": f"h{index}",
                "period": "2023-12",
                "member_count": size,
                "farm_labour_count": 2 if farming else 0,
                "land_area_mu": land,
                "land_area_imputed": False,
                "business_capital_total": capital,
                "declared_income_pc": declared_total / size,
                "wages_employment": wages,
            }
        )
    panel = ibis.memtable(rows)
    model = fit_income_model(panel, FeatureSettings())
    assert model.per_farming_household == pytest.approx(800.0, abs=1e-6)
    assert model.per_mu_farmed == pytest.approx(2500.0)
    assert model.per_mu_rented_out == pytest.approx(400.0)
    assert model.business_capital_return == pytest.approx(0.3)
    assert model.family_support_per_sqrt_member == pytest.approx(3000.0)
    assert model.source.startswith("fitted on 60")
    few = panel.filter(panel.household_id.isin(["h1", "h2"]))
    assert fit_income_model(few, FeatureSettings()).source == "configured"
    imputed = panel.mutate(land_area_imputed=True)
    assert fit_income_model(imputed, FeatureSettings()).source == "configured"


def test_unknown_farmland_is_the_village_mean_of_registry_households() -> None:
    from dixian.features._income_model import with_land

    panel = ibis.memtable(
        {
            "household_id": ["a", "b", "c", "d"],
            "period": ["2023-12"] * 4,
            "region_code": ["v1", "v1", "v1", "v2"],
            "land_area_mu": [2.0, 6.0, None, None],
        }
    )
    rows = with_land(panel).to_pandas().set_index("household_id")
    assert rows.loc["c", "land_area_mu"] == pytest.approx(4.0)  # village v1
    assert rows.loc["d", "land_area_mu"] == pytest.approx(4.0)  # county: no v2 figure
    assert list(rows["land_area_imputed"]) == [False, False, True, True]


def test_periods_reach_the_latest_registration_batch_with_rows() -> None:
    backend = ibis.duckdb.connect()
    backend.create_table(
        "household_membership",
        ibis.memtable({"period": ["2024-01", "2024-02"], "household_id": ["h1", "h1"]}),
    )
    assert membership_periods(backend) == ["2024-01", "2024-02"]
    backend.create_table(
        "ingest_batches",
        ibis.memtable(
            {
                "dataset": ["household_registration"] * 3 + ["pensions"],
                "period": ["2024-01", "2024-05", "2024-07", "2024-12"],
                "rows_accepted": [10, 3, 0, 50],
            }
        ),
    )
    # Deaths and moves only in 2024-05 (no membership rows); 2024-07 was all quarantined.
    assert membership_periods(backend)[-1] == "2024-05"
    assert len(membership_periods(backend)) == 5
