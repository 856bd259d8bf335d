"""A prepared member lookup for single applications: one row per membership row, with its ID.

An application needs, for its declared ID numbers, their households, and for the household
found, its members now (each with their ID number and whether they died or moved out). Read
from `persons`, `household_membership` and the registration feed that takes five or six point
queries. `dixian verify` therefore writes `verify_member_lookup` once (DuckDB only): each
membership row with the person's ID number, the period of the person's next membership row
(`next_period`: the row is the person's latest up to P exactly when `period <= P < next_period`)
and the months of the person's registered deaths and moves out. An application then asks two
indexed queries, one by ID number and one by household.

The table is derived: it records the newest linkage run and ingest batch it was built from
(`verify_member_lookup_meta`), every lookup compares that stamp with the warehouse, and a stale
or missing table makes the caller fall back to the source tables (same answers, more queries).
"""

from __future__ import annotations

from typing import Any

from dixian.verify.lookup import (
    MEMBERSHIP_TABLE,
    PERSONS_TABLE,
    REGISTRATION_TABLE,
    MissingTable,
    _fetch,
    _placeholders,
    existing_tables,
)

LOOKUP_TABLE = "verify_member_lookup"
LOOKUP_META_TABLE = "verify_member_lookup_meta"
# What a re-run of linkage or ingestion changes: a new run id, a new batch number.
_STAMP_TABLES = {"link_runs", "ingest_batches"}
_STAMP_SQL = (
    "coalesce((SELECT max(run_id) FROM link_runs), '') || '|' "
    "|| coalesce(CAST((SELECT max(batch_seq) FROM ingest_batches) AS VARCHAR), '')"
)
_FRESH_SQL = f"coalesce((SELECT max(stamp) FROM {LOOKUP_META_TABLE}) = ({_STAMP_SQL}), false)"
_COLUMNS = "person_id, household_id, period, id_number, next_period, exit_months"

_BUILD_SQL = f"""
CREATE OR REPLACE TABLE {LOOKUP_TABLE} AS
WITH periods AS (
    SELECT DISTINCT person_id, period FROM {MEMBERSHIP_TABLE}
), following AS (
    SELECT person_id, period,
           lead(period) OVER (PARTITION BY person_id ORDER BY period) AS next_period
    FROM periods
)
SELECT m.person_id, m.household_id, m.period, p.id_number, f.next_period,
       {{exits}} AS exit_months
FROM {MEMBERSHIP_TABLE} m
JOIN following f ON f.person_id = m.person_id AND f.period = m.period
LEFT JOIN {PERSONS_TABLE} p ON p.person_id = m.person_id
{{exits_join}}
"""
# Deaths and moves out as `lookup._exited` reads them: current rows with a status date.
_EXITS_JOIN = f"""
LEFT JOIN (
    SELECT id_number, list(DISTINCT substr(CAST(status_date AS VARCHAR), 1, 7)) AS months
    FROM {REGISTRATION_TABLE}
    WHERE registration_status IN ('deceased', 'moved_out') AND status_date IS NOT NULL
      AND _is_current IS DISTINCT FROM false
    GROUP BY id_number
) e ON e.id_number = p.id_number
"""


def _connection(backend: Any) -> Any | None:
    if getattr(backend, "name", "") == "duckdb" and hasattr(backend, "con"):
        return backend.con
    return None


def _is_fresh(connection: Any) -> bool:
    try:
        rows = _fetch(connection, f"SELECT {_FRESH_SQL} AS fresh", [])
    except MissingTable:
        return False
    return bool(rows and rows[0]["fresh"])


def lookup_is_fresh(backend: Any) -> bool:
    """Whether `verify_member_lookup` exists and is as new as linkage and ingestion."""
    connection = _connection(backend)
    return connection is not None and _is_fresh(connection)


def build_member_lookup(backend: Any) -> bool:
    """Write `verify_member_lookup` and its indexes unless an up-to-date one exists.

    Returns:
        Whether a usable lookup is there afterwards (False on other engines, or when the
        warehouse lacks linkage's tables or the linkage and ingestion ledgers).
    """
    import duckdb

    connection = _connection(backend)
    if connection is None:
        return False
    present = existing_tables(
        backend, {PERSONS_TABLE, MEMBERSHIP_TABLE, REGISTRATION_TABLE, *_STAMP_TABLES}
    )
    if not {PERSONS_TABLE, MEMBERSHIP_TABLE, *_STAMP_TABLES} <= present:
        return False
    if _is_fresh(connection):
        return True
    stamp = connection.execute(f"SELECT {_STAMP_SQL}").fetchone()[0]
    exits = ("e.months", _EXITS_JOIN) if REGISTRATION_TABLE in present else ("NULL", "")
    try:
        connection.execute(_BUILD_SQL.format(exits=exits[0], exits_join=exits[1]))
    except duckdb.BinderException:
        # A county's own registration feed without status columns: no exits, as before.
        connection.execute(_BUILD_SQL.format(exits="CAST(NULL AS VARCHAR[])", exits_join=""))
    connection.execute(f"CREATE INDEX {LOOKUP_TABLE}_id ON {LOOKUP_TABLE} (id_number)")
    connection.execute(f"CREATE INDEX {LOOKUP_TABLE}_household ON {LOOKUP_TABLE} (household_id)")
    connection.execute(f"CREATE OR REPLACE TABLE {LOOKUP_META_TABLE} (stamp VARCHAR)")
    connection.execute(f"INSERT INTO {LOOKUP_META_TABLE} VALUES (?)", [stamp])
    return True


def declared_rows(backend: Any, id_numbers: list[str]) -> list[dict[str, Any]] | None:
    """Membership rows (with `id_number`) of the declared ID numbers, from the lookup.

    Returns:
        The rows, or None when the lookup is missing or older than the warehouse (the caller
        then reads the source tables).
    """
    connection = _connection(backend)
    if connection is None or not id_numbers:
        return None
    try:
        # The stamp comparison rides along as a column: one round-trip, not two.
        rows = _fetch(
            connection,
            f"SELECT {_COLUMNS}, {_FRESH_SQL} AS fresh FROM {LOOKUP_TABLE} "
            f"WHERE id_number IN ({_placeholders(len(id_numbers))})",
            list(id_numbers),
        )
    except MissingTable:
        return None
    if not rows or not rows[0]["fresh"]:
        return None  # nothing found may mean a stale table: the source tables decide
    return rows


def household_members(backend: Any, household_id: str, period: str) -> dict[str, str]:
    """ID number → person_id of a household's members in a period, from the lookup.

    The same rule as `lookup.members_of`: the person's latest membership row up to the period
    is in the household, and no death or move out registered from that row's month to before
    the period's month. Call only after `declared_rows` found the lookup up to date.
    """
    connection = _connection(backend)
    if connection is None:
        raise MissingTable(LOOKUP_TABLE)
    rows = _fetch(
        connection,
        f"SELECT {_COLUMNS} FROM {LOOKUP_TABLE} WHERE household_id = ?",
        [household_id],
    )
    members: dict[str, str] = {}
    for row in rows:
        joined, following = str(row["period"]), row["next_period"]
        if joined > period or (following is not None and str(following) <= period):
            continue  # not the person's latest row up to the period
        id_number = row["id_number"]
        if not id_number:
            continue
        if any(joined <= month < period for month in row["exit_months"] or ()):
            continue
        members[str(id_number)] = str(row["person_id"])
    return members


__all__ = [
    "LOOKUP_TABLE",
    "build_member_lookup",
    "declared_rows",
    "household_members",
    "lookup_is_fresh",
]
