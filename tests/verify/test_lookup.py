"""Application lookups on sparse registration batches: members as at a period."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pytest

from dixian.verify.lookup import (
    current_households,
    members_of,
    memberships_of,
    prepare_lookups,
)


class _OtherEngine:
    """A DuckDB backend seen as another engine: lookups take the Ibis path."""

    name = "other"

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "con":
            raise AttributeError(attribute)
        return getattr(self._backend, attribute)


def _id(person: str) -> str:
    return f"52272719800101{person[-1]}01X"


@pytest.fixture(scope="module")
def backend() -> Any:
    """k1..k5 in g1 by the January extract; later months carry changes only.

    k3 dies in 2024-03; k4 moves to g2 in 2024-04 (a change row); k5 moves out of the
    county in 2024-02 and registers again in g1 in 2024-05; k6 is born into g1 in 2024-03.
    """
    con = ibis.duckdb.connect()
    persons = ["k1", "k2", "k3", "k4", "k5", "k6"]
    con.create_table(
        "persons",
        ibis.memtable({"person_id": persons, "id_number": [_id(p) for p in persons]}),
    )
    rows = [("2024-01", "g1", p) for p in persons[:5]]
    rows += [("2024-04", "g2", "k4"), ("2024-05", "g1", "k5"), ("2024-03", "g1", "k6")]
    con.create_table(
        "household_membership",
        ibis.memtable(
            {
                "period": [r[0] for r in rows],
                "household_id": [r[1] for r in rows],
                "person_id": [r[2] for r in rows],
                "relation_to_head": ["member"] * len(rows),
            }
        ),
    )
    exits = [("k3", "deceased", date(2024, 3, 5)), ("k5", "moved_out", date(2024, 2, 10))]
    con.create_table(
        "staging_household_registration",
        ibis.memtable(
            {
                "id_number": [_id(p) for p, _, _ in exits] + [_id("k1")],
                "registration_status": [s for _, s, _ in exits] + ["normal"],
                "status_date": [d for _, _, d in exits] + [None],
                "_is_current": [True] * 3,
            },
            schema={
                "id_number": "string",
                "registration_status": "string",
                "status_date": "date",
                "_is_current": "boolean",
            },
        ),
    )
    prepare_lookups(con)
    return con


@pytest.mark.parametrize("path", ["duckdb", "ibis"])
def test_members_as_at_a_period(backend: Any, path: str) -> None:
    engine = backend if path == "duckdb" else _OtherEngine(backend)
    # June: k1, k2; k5 came back in May; k6 born in March; k3 died, k4 left for g2.
    june = members_of(engine, "g1", "2024-06")
    assert set(june.values()) == {"k1", "k2", "k5", "k6"}
    assert june[_id("k1")] == "k1"
    # March: k3 still counted in the month of the death, k5 gone since February.
    assert set(members_of(engine, "g1", "2024-03").values()) == {"k1", "k2", "k3", "k4", "k6"}
    assert set(members_of(engine, "g2", "2024-06").values()) == {"k4"}


@pytest.mark.parametrize("path", ["duckdb", "ibis"])
def test_declared_rows_are_reused_and_households_found(backend: Any, path: str) -> None:
    engine = backend if path == "duckdb" else _OtherEngine(backend)
    rows = memberships_of(engine, [_id("k1"), _id("k4")], "2024-06")
    # k4's latest row is g2 (April), k1's is g1 (January): a tie, each in their own.
    assert current_households(rows, "2024-06") == {"k1": "g1", "k4": "g2"}
    assert current_households(rows, "2024-03") == {"k1": "g1", "k4": "g1"}
    known = {str(r["person_id"]): str(r["id_number"]) for r in rows}
    members = members_of(engine, "g1", "2024-06", known=known, known_rows=rows)
    assert set(members.values()) == {"k1", "k2", "k5", "k6"}
