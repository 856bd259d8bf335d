"""Payments after a member's death: charged to the surviving family, whatever its household id."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from dixian.features.builder import build_household_period
from tests.features.warehouse import write_links, write_membership, write_persons, write_staged

VILLAGE = "522799001001"


def _warehouse() -> Any:
    """q1 (head) dies 2023-03-10 in g1; 低保 goes on for April and May.

    q2, his wife, re-registers as the head of a new household g2 in 2023-06; q3, a daughter,
    left g1 for g3 in 2023-02, before the death; q4 lives in g4 and is no relation.
    """
    backend = ibis.duckdb.connect()
    write_persons(backend, [(p, date(1960, 1, 1), VILLAGE) for p in ("q1", "q2", "q3", "q4")])
    membership = [
        ("2023-01", "g1", "q1", "head"),
        ("2023-01", "g1", "q2", "spouse"),
        ("2023-01", "g1", "q3", "daughter"),
        ("2023-01", "g4", "q4", "head"),
        ("2023-02", "g3", "q3", "head"),
        ("2023-06", "g2", "q2", "head"),
    ]
    write_membership(backend, membership)
    links = [("reg:death", "household_registration", "q1")]
    payments = []
    for month in range(1, 6):  # January to May: two of them after the death
        for person in ("q1", "q2"):
            record = f"pay:{person}:{month}"
            payments.append((record, person, date(2023, month, 1)))
            links.append((record, "civil_affairs_assistance", person))
    payments.append(("pay:q4:4", "q4", date(2023, 4, 1)))
    links.append(("pay:q4:4", "civil_affairs_assistance", "q4"))
    write_staged(
        backend,
        "civil_affairs_assistance",
        [
            {"_record_id": record, "program": "dibao", "amount": 300.0, "payment_month": month}
            for record, _person, month in payments
        ],
        {"program": "string", "amount": "float64", "payment_month": "date"},
    )
    write_staged(
        backend,
        "household_registration",
        [
            {
                "_record_id": "reg:death",
                "registration_status": "deceased",
                "status_date": date(2023, 3, 10),
            }
        ],
        {"registration_status": "string", "status_date": "date"},
    )
    write_links(backend, links)
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
