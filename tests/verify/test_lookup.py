"""Application lookups on sparse registration batches: members as at a period."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dixian.verify.lookup import current_households, members_of, memberships_of
from tests.verify.registry import OtherEngine, registry_warehouse
from tests.verify.registry import id_number as _id


@pytest.fixture(scope="module")
def backend() -> Any:
    """k1..k5 in g1 by the January extract; later months carry changes only.

    k3 dies in 2024-03; k4 moves to g2 in 2024-04 (a change row); k5 moves out of the
    county in 2024-02 and registers again in g1 in 2024-05; k6 is born into g1 in 2024-03.
    """
    persons = ["k1", "k2", "k3", "k4", "k5", "k6"]
    rows = [("2024-01", "g1", p) for p in persons[:5]]
    rows += [("2024-04", "g2", "k4"), ("2024-05", "g1", "k5"), ("2024-03", "g1", "k6")]
    exits = [
        ("k3", "deceased", date(2024, 3, 5), True),
        ("k5", "moved_out", date(2024, 2, 10), True),
        ("k1", "normal", None, True),
    ]
    return registry_warehouse(persons, rows, exits)


@pytest.mark.parametrize("path", ["duckdb", "ibis"])
def test_members_as_at_a_period(backend: Any, path: str) -> None:
    engine = backend if path == "duckdb" else OtherEngine(backend)
    # June: k1, k2; k5 came back in May; k6 born in March; k3 died, k4 left for g2.
    june = members_of(engine, "g1", "2024-06")
    assert set(june.values()) == {"k1", "k2", "k5", "k6"}
    assert june[_id("k1")] == "k1"
    # March: k3 still counted in the month of the death, k5 gone since February.
    assert set(members_of(engine, "g1", "2024-03").values()) == {"k1", "k2", "k3", "k4", "k6"}
    assert set(members_of(engine, "g2", "2024-06").values()) == {"k4"}


@pytest.mark.parametrize("path", ["duckdb", "ibis"])
def test_declared_rows_are_reused_and_households_found(backend: Any, path: str) -> None:
    engine = backend if path == "duckdb" else OtherEngine(backend)
    rows = memberships_of(engine, [_id("k1"), _id("k4")], "2024-06")
    # k4's latest row is g2 (April), k1's is g1 (January): a tie, each in their own.
    assert current_households(rows, "2024-06") == {"k1": "g1", "k4": "g2"}
    assert current_households(rows, "2024-03") == {"k1": "g1", "k4": "g1"}
    known = {str(r["person_id"]): str(r["id_number"]) for r in rows}
    members = members_of(engine, "g1", "2024-06", known=known, known_rows=rows)
    assert set(members.values()) == {"k1", "k2", "k5", "k6"}
