"""The panel's job_loss_wages_12m and job_loss_months_out columns."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import ibis
import pytest

from tests.features.warehouse import (
    panel_rows,
    write_links,
    write_membership,
    write_persons,
    write_staged,
)

VILLAGE = "522799001001"
PERIODS = ["2023-09", "2023-11", "2023-12", "2024-06", "2024-09"]
# (record, person, report month, status, monthly wage, end date)
RECORDS = [
    ("emp:m1-mar", "m1", date(2023, 3, 31), "employed", 4000.0, None),
    ("emp:m1-jun", "m1", date(2023, 6, 30), "employed", 5000.0, None),
    ("emp:m1-loss", "m1", date(2023, 8, 1), "unemployed", 0.0, date(2023, 8, 10)),
    ("emp:m1-dec", "m1", date(2023, 12, 31), "employed", 5200.0, None),
    ("emp:n1-sep", "n1", date(2023, 9, 30), "employed", 3000.0, None),
    ("emp:n1-loss", "n1", date(2023, 11, 1), "ended", 0.0, date(2023, 11, 5)),
]


def _warehouse() -> Any:
    backend = ibis.duckdb.connect()
    people = [("m1", "hm"), ("n1", "hn"), ("o1", "ho")]
    write_persons(backend, [(person, date(1985, 1, 1), VILLAGE) for person, _ in people])
    write_membership(
        backend,
        [(period, household, person, "head") for period in PERIODS for person, household in people],
    )
    write_staged(
        backend,
        "employment",
        [
            {
                "_record_id": record,
                "report_month": month,
                "employment_status": status,
                "monthly_wage": wage,
                "end_date": ended,
            }
            for record, _, month, status, wage, ended in RECORDS
        ],
        {
            "report_month": "date",
            "employment_status": "string",
            "monthly_wage": "float64",
            "end_date": "date",
        },
    )
    write_links(backend, [(record, "employment", person) for record, person, *_ in RECORDS])
    return backend


@pytest.fixture(scope="module")
def panel() -> dict[tuple[str, str], dict[str, Any]]:
    return panel_rows(_warehouse(), PERIODS)


def _lost(panel: dict[Any, Any], household: str) -> dict[str, float]:
    return {period: panel[(household, period)]["job_loss_wages_12m"] for period in PERIODS}


def test_a_finished_spell_costs_the_wage_times_the_months_without_work(
    panel: dict[Any, Any],
) -> None:
    # Lost in 2023-08 at the June wage of 5,000, back in work in 2023-12: four months.
    # In 2023-09 the return is not known yet and no spell has ended in the county: the
    # default six months are counted; from 2023-12 the four; gone after 12 months.
    assert _lost(panel, "hm") == pytest.approx(
        {
            "2023-09": 30000.0,
            "2023-11": 30000.0,
            "2023-12": 20000.0,
            "2024-06": 20000.0,
            "2024-09": 0.0,
        }
    )
    months = {period: panel[("hm", period)]["job_loss_months_out"] for period in PERIODS}
    assert months == {"2023-09": 2, "2023-11": 4, "2023-12": 4, "2024-06": 4, "2024-09": 0}
    evidence = json.loads(panel[("hm", "2023-12")]["evidence"])
    assert evidence["job_loss_wages_12m"] == ["emp:m1-loss"]


def test_a_member_still_without_work_counts_the_countys_usual_spell(
    panel: dict[Any, Any],
) -> None:
    # Lost in 2023-11 at 3,000 a month. Before any spell has ended: six months; once the
    # county's one finished spell (four months) is known: four; then the months so far.
    assert _lost(panel, "hn") == pytest.approx(
        {
            "2023-09": 0.0,
            "2023-11": 18000.0,
            "2023-12": 12000.0,
            "2024-06": 24000.0,
            "2024-09": 33000.0,
        }
    )
    assert panel[("hn", "2024-09")]["job_loss_months_out"] == 11
    assert panel[("hn", "2023-12")]["job_loss_12m"]


def test_a_household_without_a_job_loss_has_none(panel: dict[Any, Any]) -> None:
    assert _lost(panel, "ho") == pytest.approx(dict.fromkeys(PERIODS, 0.0))
