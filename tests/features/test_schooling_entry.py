"""The panel's schooling_cost_entering: the school year's costs of students new to a stage."""

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
PERIODS = ["2024-08", "2024-12"]
# (record, person, school year, stage, fees, aid)
RECORDS = [
    ("stu:a-2023", "a", 2023, "senior_secondary", 6000.0, 0.0),
    ("stu:a-2024", "a", 2024, "undergraduate", 16000.0, 0.0),
    ("stu:b-2023", "b", 2023, "undergraduate", 14000.0, 0.0),
    ("stu:b-2024", "b", 2024, "undergraduate", 15000.0, 0.0),
    ("stu:c-2024", "c", 2024, "senior_secondary", 6000.0, 3000.0),
    ("stu:d-2024", "d", 2024, "junior_secondary", 600.0, 0.0),
]


def _warehouse() -> Any:
    backend = ibis.duckdb.connect()
    people = [("a", "h1", "child"), ("b", "h1", "child"), ("p", "h1", "head"), ("c", "h2", "head")]
    people.append(("d", "h2", "child"))
    write_persons(backend, [(person, date(2006, 1, 1), VILLAGE) for person, _, _ in people])
    write_membership(
        backend,
        [
            (period, household, person, relation)
            for period in PERIODS
            for person, household, relation in people
        ],
    )
    write_staged(
        backend,
        "students",
        [
            {
                "_record_id": record,
                "school_year": year,
                "school_stage": stage,
                "annual_fees": fees,
                "aid_amount": aid,
            }
            for record, _, year, stage, fees, aid in RECORDS
        ],
        {
            "school_year": "int64",
            "school_stage": "string",
            "annual_fees": "float64",
            "aid_amount": "float64",
        },
    )
    write_links(backend, [(record, "students", person) for record, person, *_ in RECORDS])
    return backend


@pytest.fixture(scope="module")
def panel() -> dict[tuple[str, str], dict[str, Any]]:
    return panel_rows(_warehouse(), PERIODS)


def test_a_student_entering_university_counts_a_continuing_one_does_not(
    panel: dict[Any, Any],
) -> None:
    december = panel[("h1", "2024-12")]
    assert december["schooling_cost_12m"] == pytest.approx(31000.0)
    # a went from high school to university; b stays at university.
    assert december["schooling_cost_entering"] == pytest.approx(16000.0)
    assert json.loads(december["evidence"])["schooling_cost_entering"] == ["stu:a-2024"]


def test_without_a_record_of_the_year_before_a_student_is_new_to_the_stage(
    panel: dict[Any, Any],
) -> None:
    # School year 2023 has no year before it in the feed: both students count as entering.
    assert panel[("h1", "2024-08")]["schooling_cost_entering"] == pytest.approx(20000.0)
    # c entered high school with aid (6,000 - 3,000); compulsory school is no entry.
    assert panel[("h2", "2024-12")]["schooling_cost_entering"] == pytest.approx(3000.0)
