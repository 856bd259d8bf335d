"""The panel's disability_onset_12m and medical_oop_injury_12m columns."""

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
PERIODS = ["2023-05", "2023-06", "2024-05", "2024-06"]


def _warehouse() -> Any:
    backend = ibis.duckdb.connect()
    write_persons(
        backend,
        [
            ("a1", date(1980, 1, 1), VILLAGE),  # certified disabled in 2023-06
            ("a2", date(1955, 1, 1), VILLAGE),  # certified long ago
            ("b1", date(1985, 1, 1), VILLAGE),  # a fracture in 2023-06, an illness in 2023-05
        ],
    )
    write_membership(
        backend,
        [
            (period, household, person, relation)
            for period in PERIODS
            for person, household, relation in [
                ("a1", "ha", "head"),
                ("a2", "ha", "parent"),
                ("b1", "hb", "head"),
            ]
        ],
    )
    write_staged(
        backend,
        "disability",
        [
            {"_record_id": "dis:new", "disability_grade": "3", "issue_date": date(2023, 6, 12)},
            {"_record_id": "dis:old", "disability_grade": "2", "issue_date": date(2015, 4, 2)},
        ],
        {"disability_grade": "string", "issue_date": "date"},
    )
    claims = [
        ("clm:ill", "恶性肿瘤", date(2023, 5, 20), 9000.0),
        ("clm:hurt", "四肢骨折", date(2023, 6, 8), 6000.0),
        ("clm:none", None, date(2023, 6, 9), 100.0),
    ]
    write_staged(
        backend,
        "medical_claims",
        [
            {
                "_record_id": record,
                "visit_type": "inpatient",
                "diagnosis_category": diagnosis,
                "settlement_date": settled,
                "out_of_pocket": oop,
            }
            for record, diagnosis, settled, oop in claims
        ],
        {
            "visit_type": "string",
            "diagnosis_category": "string",
            "settlement_date": "date",
            "out_of_pocket": "float64",
        },
    )
    write_links(
        backend,
        [
            ("dis:new", "disability", "a1"),
            ("dis:old", "disability", "a2"),
            *[(record, "medical_claims", "b1") for record, *_ in claims],
        ],
    )
    return backend


@pytest.fixture(scope="module")
def panel() -> dict[tuple[str, str], dict[str, Any]]:
    return panel_rows(_warehouse(), PERIODS)


def test_a_first_certificate_is_an_onset_for_twelve_months(panel: dict[Any, Any]) -> None:
    onsets = {period: panel[("ha", period)]["disability_onset_12m"] for period in PERIODS}
    # Not before the certificate, then 12 months, and never the certificate of 2015.
    assert onsets == {"2023-05": 0, "2023-06": 1, "2024-05": 1, "2024-06": 0}
    assert panel[("ha", "2023-06")]["disabled_count"] == 2
    assert panel[("hb", "2023-06")]["disability_onset_12m"] == 0
    evidence = json.loads(panel[("ha", "2023-06")]["evidence"])
    assert evidence["disability_onset_12m"] == ["dis:new"]


def test_injury_out_of_pocket_counts_claims_with_an_injury_diagnosis(
    panel: dict[Any, Any],
) -> None:
    june = panel[("hb", "2023-06")]
    assert june["medical_oop_12m"] == pytest.approx(15100.0)
    assert june["medical_oop_injury_12m"] == pytest.approx(6000.0)
    assert panel[("hb", "2023-05")]["medical_oop_injury_12m"] == 0.0
    assert panel[("hb", "2024-06")]["medical_oop_injury_12m"] == 0.0
    assert json.loads(june["evidence"])["medical_oop_injury_12m"] == ["clm:hurt"]
