"""Point lookups for one application: the household, its members, its panel rows.

A single application must be answered in well under 100 ms. Compiling an Ibis expression costs
more than that on a loaded machine, so on DuckDB the lookups are parameterised SQL on the
DuckDB connection (the one place this stage uses engine-specific SQL; values are bound, never
formatted into the text). Other engines use the equivalent Ibis expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dixian.features.panel_schema import PANEL_TABLE

PERSONS_TABLE = "persons"
MEMBERSHIP_TABLE = "household_membership"


def _duckdb(backend: Any) -> Any | None:
    if getattr(backend, "name", "") == "duckdb" and hasattr(backend, "con"):
        return backend.con
    return None


class MissingTable(LookupError):
    """A table the lookup needs does not exist (the stage that writes it has not run)."""


def _fetch(connection: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    import duckdb

    try:
        cursor = connection.execute(sql, params)
        # Rows as Python tuples, not Arrow: an Arrow fetch of a one-row result hands the
        # work to DuckDB's thread pool and waits for it, ~20 ms of wall time on a loaded
        # machine against ~1 ms for the tuples (same values: dates, floats, strings).
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.CatalogException as exc:
        # Asking forgiveness: a catalog query per lookup costs more than the lookup itself.
        raise MissingTable(str(exc).splitlines()[0]) from None


def _table(backend: Any, name: str) -> Any:
    import ibis.common.exceptions as ibis_exceptions

    try:
        return backend.table(name)
    except ibis_exceptions.TableNotFound as exc:
        raise MissingTable(name) from exc


def existing_tables(backend: Any, names: set[str]) -> set[str]:
    """Which of the named tables exist in the warehouse."""
    connection = _duckdb(backend)
    if connection is None:
        return names & set(backend.list_tables())
    rows = _fetch(
        connection,
        "SELECT table_name FROM duckdb_tables() WHERE table_name IN (SELECT unnest(?)) "
        "AND schema_name = current_schema() "
        "UNION SELECT view_name FROM duckdb_views() WHERE view_name IN (SELECT unnest(?)) "
        "AND schema_name = current_schema()",
        [sorted(names), sorted(names)],
    )
    return {row["table_name"] for row in rows}


def _placeholders(count: int) -> str:
    # Only "?" markers are formatted into the text; the values are bound by DuckDB.
    return ", ".join("?" for _ in range(count))


def prepare_lookups(backend: Any) -> list[str]:
    """Create the indexes that make application lookups point queries (DuckDB only).

    Without them a lookup scans a million-row table (≈ 100 ms); with them it takes a few ms.
    Indexes do not change the tables' content; a stage that replaces a table drops its index,
    and the next `dixian verify` run creates it again.

    Returns:
        The indexes created or already present.
    """
    connection = _duckdb(backend)
    if connection is None:
        return []
    wanted = {
        "verify_idx_persons_id_number": (PERSONS_TABLE, "id_number"),
        "verify_idx_persons_person_id": (PERSONS_TABLE, "person_id"),
        "verify_idx_membership_person": (MEMBERSHIP_TABLE, "person_id"),
        "verify_idx_membership_household": (MEMBERSHIP_TABLE, "household_id"),
        "verify_idx_panel_household": (PANEL_TABLE, "household_id"),
    }
    present = existing_tables(backend, {table for table, _ in wanted.values()})
    created = []
    for name, (table, column) in wanted.items():
        if table in present:
            connection.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
            created.append(name)
    return created


def memberships_of(backend: Any, id_numbers: list[str], period: str | None) -> list[dict[str, Any]]:
    """(id_number, person_id, household_id, period) for those ID numbers, up to a period.

    Raises:
        MissingTable: `persons` or `household_membership` does not exist.
    """
    connection = _duckdb(backend)
    if connection is None:
        persons = _table(backend, PERSONS_TABLE)
        membership = _table(backend, MEMBERSHIP_TABLE)
        if period is not None:
            membership = membership.filter(membership.period <= period)
        found = persons.filter(persons.id_number.isin(id_numbers)).select("person_id", "id_number")
        joined = found.inner_join(membership, "person_id")
        return list(
            backend.to_pyarrow(
                joined.select("id_number", "person_id", "household_id", "period")
            ).to_pylist()
        )
    if not id_numbers:
        return []
    # Two point queries instead of a join: a join hashes the whole membership table.
    persons = _fetch(
        connection,
        f"SELECT person_id, id_number FROM {PERSONS_TABLE} "
        f"WHERE id_number IN ({_placeholders(len(id_numbers))})",
        list(id_numbers),
    )
    if not persons:
        return []
    id_of = {row["person_id"]: row["id_number"] for row in persons}
    rows = _fetch(
        connection,
        f"SELECT person_id, household_id, period FROM {MEMBERSHIP_TABLE} "
        f"WHERE person_id IN ({_placeholders(len(id_of))})",
        list(id_of),
    )
    return [
        {
            "id_number": id_of[row["person_id"]],
            "person_id": row["person_id"],
            "household_id": row["household_id"],
            "period": row["period"],
        }
        for row in rows
        if period is None or row["period"] <= period
    ]


def members_of(
    backend: Any, household_id: str, period: str, *, known: Mapping[str, str] | None = None
) -> dict[str, str]:
    """ID number → person_id of a household's registered members in a period.

    Args:
        backend: the Ibis backend.
        household_id: the household.
        period: `YYYY-MM`.
        known: person_id → ID number already looked up (not asked again).

    Raises:
        MissingTable: `persons` or `household_membership` does not exist.
    """
    connection = _duckdb(backend)
    if connection is None:
        persons = _table(backend, PERSONS_TABLE)
        membership = _table(backend, MEMBERSHIP_TABLE)
        members = membership.filter(
            (membership.household_id == household_id) & (membership.period == period)
        ).select("person_id")
        rows = backend.to_pyarrow(
            persons.semi_join(members, "person_id").select("person_id", "id_number")
        ).to_pylist()
        return {row["id_number"]: row["person_id"] for row in rows}
    members = _fetch(
        connection,
        f"SELECT person_id, period FROM {MEMBERSHIP_TABLE} WHERE household_id = ?",
        [household_id],
    )
    person_ids = sorted({row["person_id"] for row in members if row["period"] == period})
    known = known or {}
    found = {known[pid]: pid for pid in person_ids if pid in known}
    missing = [pid for pid in person_ids if pid not in known]
    if missing:
        rows = _fetch(
            connection,
            f"SELECT person_id, id_number FROM {PERSONS_TABLE} "
            f"WHERE person_id IN ({_placeholders(len(missing))})",
            missing,
        )
        found.update({row["id_number"]: row["person_id"] for row in rows})
    return found


def panel_history(backend: Any, household_id: str, period: str | None) -> list[dict[str, Any]]:
    """A household's panel rows up to a period, oldest first."""
    connection = _duckdb(backend)
    if connection is None:
        panel = _table(backend, PANEL_TABLE)
        rows = panel.filter(panel.household_id == household_id)
        if period is not None:
            rows = rows.filter(rows.period <= period)
        return list(backend.to_pyarrow(rows.order_by("period")).to_pylist())
    rows = _fetch(
        connection,
        f"SELECT * FROM {PANEL_TABLE} WHERE household_id = ?",
        [household_id],
    )
    rows = [row for row in rows if period is None or row["period"] <= period]
    return sorted(rows, key=lambda row: str(row["period"]))
