"""A small hand-built registry (persons, memberships, registration exits) for lookup tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from dixian.verify.lookup import prepare_lookups

# (period, household_id, person_id)
Membership = tuple[str, str, str]
# (person_id, registration_status, status_date, is_current)
Exit = tuple[str, str, date | None, bool]


def id_number(person: str) -> str:
    """The ID number of test person `k<n>`."""
    return f"5227271980010{int(person[1:]):02d}01X"


class OtherEngine:
    """A DuckDB backend seen as a non-DuckDB engine: lookups take the Ibis path."""

    name = "other"

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "con":
            raise AttributeError(attribute)
        return getattr(self._backend, attribute)


def registry_warehouse(
    persons: list[str],
    memberships: list[Membership],
    exits: list[Exit],
    *,
    without_id: tuple[str, ...] = (),
    ledgers: bool = False,
) -> Any:
    """An in-memory DuckDB warehouse with `persons`, `household_membership` and the
    registration rows of `exits`; with `ledgers`, one link run and one ingest batch (so that
    `prepare_lookups`, run here, also writes the prepared member lookup)."""
    con = ibis.duckdb.connect()
    con.create_table(
        "persons",
        ibis.memtable(
            {
                "person_id": persons,
                "id_number": [None if p in without_id else id_number(p) for p in persons],
            },
            schema={"person_id": "string", "id_number": "string"},
        ),
    )
    con.create_table(
        "household_membership",
        ibis.memtable(
            {
                "period": [m[0] for m in memberships],
                "household_id": [m[1] for m in memberships],
                "person_id": [m[2] for m in memberships],
                "relation_to_head": ["member"] * len(memberships),
            }
        ),
    )
    con.create_table(
        "staging_household_registration",
        ibis.memtable(
            {
                "id_number": [id_number(e[0]) for e in exits],
                "registration_status": [e[1] for e in exits],
                "status_date": [e[2] for e in exits],
                "_is_current": [e[3] for e in exits],
            },
            schema={
                "id_number": "string",
                "registration_status": "string",
                "status_date": "date",
                "_is_current": "boolean",
            },
        ),
    )
    if ledgers:
        con.con.execute("CREATE TABLE link_runs AS SELECT 'run1' AS run_id")
        con.con.execute("CREATE TABLE ingest_batches AS SELECT 7::BIGINT AS batch_seq")
    prepare_lookups(con)
    return con
