"""Payments after a member's death: charged to the surviving family, whatever its household id."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from dixian.features.builder import build_household_period

VILLAGE = "522799001001"


def _table(backend: Any, name: str, rows: list[dict[str, Any]], schema: dict[str, str]) -> None:
    backend.create_table(name, ibis.memtable(rows, schema=schema), overwrite=True)


def _warehouse() -> Any:
    """q1 (head) dies 2023-03-10 in g1; 低保 goes on for April and May.

    q2, his wife, re-registers as the head of a new household g2 in 2023-06; q3, a daughter,
    left g1 for g3 in 2023-02, before the death; q4 lives in g4 and is no relation.
    """
    backend = ibis.duckdb.connect()
    _table(
        backend,
        "persons",
        [
            {"person_id": p, "birth_date": date(1960, 1, 1), "region_code": VILLAGE}
            for p in ("q1", "q2", "q3", "q4")
        ],
        {"person_id": "string", "birth_date": "date", "region_code": "string"},
    )
    membership = [
        ("2023-01", "g1", "q1", "head"),
        ("2023-01", "g1", "q2", "spouse"),
        ("2023-01", "g1", "q3", "daughter"),
        ("2023-01", "g4", "q4", "head"),
        ("2023-02", "g3", "q3", "head"),
        ("2023-06", "g2", "q2", "head"),
    ]
    _table(
        backend,
        "household_membership",
        [
            {"period": p, "household_id": h, "person_id": q, "relation_to_head": r}
            for p, h, q, r in membership
        ],
        {
            "period": "string",
            "household_id": "string",
            "person_id": "string",
            "relation_to_head": "string",
        },
    )
    links = [("reg:death", "household_registration", "q1")]
    payments = []
    for month in range(1, 6):  # January to May: two of them after the death
        for person in ("q1", "q2"):
            record = f"pay:{person}:{month}"
            payments.append((record, person, date(2023, month, 1)))
            links.append((record, "civil_affairs_assistance", person))
    payments.append(("pay:q4:4", "q4", date(2023, 4, 1)))
    links.append(("pay:q4:4", "civil_affairs_assistance", "q4"))
    _table(
        backend,
        "staging_civil_affairs_assistance",
        [
            {
                "_record_id": record,
                "_is_current": True,
                "program": "dibao",
                "amount": 300.0,
                "payment_month": month,
            }
            for record, _person, month in payments
        ],
        {
            "_record_id": "string",
            "_is_current": "boolean",
            "program": "string",
            "amount": "float64",
            "payment_month": "date",
        },
    )
    _table(
        backend,
        "staging_household_registration",
        [
            {
                "_record_id": "reg:death",
                "_is_current": True,
                "registration_status": "deceased",
                "status_date": date(2023, 3, 10),
            }
        ],
        {
            "_record_id": "string",
            "_is_current": "boolean",
            "registration_status": "string",
            "status_date": "date",
        },
    )
    _table(
        backend,
        "person_link",
        [
            {
                "_record_id": record,
                "dataset": dataset,
                "person_id": person,
                "match_method": "id",
                "match_probability": 1.0,
            }
            for record, dataset, person in links
        ],
        {
            "_record_id": "string",
            "dataset": "string",
            "person_id": "string",
            "match_method": "string",
            "match_probability": "float64",
        },
    )
    return backend


def test_payments_after_death_follow_the_surviving_family() -> None:
    backend = _warehouse()
    panel = build_household_period(backend, periods=["2023-04", "2023-08", "2024-07"])
    rows = {(row["household_id"], row["period"]): row for row in panel.to_pyarrow().to_pylist()}
    # April: the payment of April to the late q1, charged to g1 where his wife still lives.
    assert rows[("g1", "2023-04")]["payments_after_death_count"] == 1
    # After the wife re-registered under g2: April and May follow her there.
    assert rows[("g2", "2023-08")]["payments_after_death_count"] == 2
    assert rows[("g2", "2023-08")]["payments_after_death_amount"] == 600.0
    # Still a finding 14 months after the last payment: not a 12-month window.
    assert rows[("g2", "2024-07")]["payments_after_death_count"] == 2
    # The daughter had left before the death; q4 is no relation: nothing charged to them.
    assert rows[("g3", "2023-08")]["payments_after_death_count"] == 0
    assert rows[("g4", "2023-08")]["payments_after_death_count"] == 0
    assert ("g1", "2023-08") not in rows  # nobody lives in g1 any more
    evidence = rows[("g2", "2023-08")]["evidence"]
    assert "pay:q1:4" in evidence and "pay:q1:5" in evidence
