"""Point lookups for one application: the household, its members, its panel rows.

A single application must be answered in well under 100 ms. Compiling an Ibis expression costs
more than that on a loaded machine, so on DuckDB the lookups are parameterised SQL on the
DuckDB connection (the one place this stage uses engine-specific SQL; values are bound, never
formatted into the text). Other engines use the equivalent Ibis expressions.
"""

from __future__ import annotations

from typing import Any

from dixian.features.panel_schema import PANEL_TABLE

PERSONS_TABLE = "persons"
MEMBERSHIP_TABLE = "household_membership"


def _duckdb(backend: Any) -> Any | None:
    if getattr(backend, "name", "") == "duckdb" and hasattr(backend, "con"):
        return backend.con
    return None


def _fetch(connection: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return list(connection.execute(sql, params).fetch_arrow_table().to_pylist())


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


def memberships_of(backend: Any, id_numbers: list[str], period: str | None) -> list[dict[str, Any]]:
    """(id_number, household_id, period) for persons with those ID numbers, up to a period."""
    connection = _duckdb(backend)
    if connection is None:
        persons = backend.table(PERSONS_TABLE)
        membership = backend.table(MEMBERSHIP_TABLE)
        if period is not None:
            membership = membership.filter(membership.period <= period)
        found = persons.filter(persons.id_number.isin(id_numbers)).select("person_id", "id_number")
        joined = found.inner_join(membership, "person_id")
        return list(
            backend.to_pyarrow(joined.select("id_number", "household_id", "period")).to_pylist()
        )
    return _fetch(
        connection,
        f"SELECT p.id_number, m.household_id, m.period FROM {PERSONS_TABLE} p "
        f"JOIN {MEMBERSHIP_TABLE} m ON m.person_id = p.person_id "
        "WHERE p.id_number IN (SELECT unnest(?)) AND (? IS NULL OR m.period <= ?)",
        [id_numbers, period, period],
    )


def members_of(backend: Any, household_id: str, period: str) -> dict[str, str]:
    """ID number → person_id of a household's registered members in a period."""
    connection = _duckdb(backend)
    if connection is None:
        persons = backend.table(PERSONS_TABLE)
        membership = backend.table(MEMBERSHIP_TABLE)
        members = membership.filter(
            (membership.household_id == household_id) & (membership.period == period)
        ).select("person_id")
        rows = backend.to_pyarrow(
            persons.semi_join(members, "person_id").select("person_id", "id_number")
        ).to_pylist()
    else:
        rows = _fetch(
            connection,
            f"SELECT p.person_id, p.id_number FROM {PERSONS_TABLE} p "
            f"JOIN {MEMBERSHIP_TABLE} m ON m.person_id = p.person_id "
            "WHERE m.household_id = ? AND m.period = ?",
            [household_id, period],
        )
    return {row["id_number"]: row["person_id"] for row in rows}


def panel_history(backend: Any, household_id: str, period: str | None) -> list[dict[str, Any]]:
    """A household's panel rows up to a period, oldest first."""
    connection = _duckdb(backend)
    if connection is None:
        panel = backend.table(PANEL_TABLE)
        rows = panel.filter(panel.household_id == household_id)
        if period is not None:
            rows = rows.filter(rows.period <= period)
        return list(backend.to_pyarrow(rows.order_by("period")).to_pylist())
    return _fetch(
        connection,
        f"SELECT * FROM {PANEL_TABLE} WHERE household_id = ? AND (? IS NULL OR period <= ?) "
        "ORDER BY period",
        [household_id, period, period],
    )
