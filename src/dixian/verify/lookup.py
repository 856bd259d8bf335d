"""Point lookups for one application: the household, its members, its panel rows.

A single application must be answered in well under 100 ms. Compiling an Ibis expression costs
more than that on a loaded machine, so on DuckDB the lookups are parameterised SQL on the
DuckDB connection (the one place this stage uses engine-specific SQL; values are bound, never
formatted into the text). Other engines use the equivalent Ibis expressions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ibis

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
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        # Asking forgiveness: a catalog query per lookup costs more than the lookup itself.
        # A table without the column asked for is as good as missing.
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


_EXITS = ("deceased", "moved_out")
REGISTRATION_TABLE = "staging_household_registration"


def prepare_lookups(backend: Any) -> list[str]:
    """Create the indexes that make application lookups point queries (DuckDB only).

    Without them a lookup scans a million-row table (≈ 100 ms); with them it takes a few ms.
    Indexes do not change the tables' content; a stage that replaces a table drops its index,
    and the next `dixian verify` run creates it again.

    First writes the prepared member lookup (`member_lookup`) when it is missing or stale.
    When it is usable, applications read memberships from it alone, so the indexes that only
    the fallback reads are not built (an unknown ID number is still looked up in `persons`):
    on the real 1M county they were 19.5 of the 44 s a cold preparation took.

    Returns:
        The indexes created or already present, and the member lookup when it is usable.
    """
    connection = _duckdb(backend)
    if connection is None:
        return []
    from dixian.verify.member_lookup import LOOKUP_TABLE, build_member_lookup

    prepared = build_member_lookup(backend)
    wanted = {
        "verify_idx_panel_household": (PANEL_TABLE, "household_id"),
        "verify_idx_persons_id_number": (PERSONS_TABLE, "id_number"),
    }
    if not prepared:
        wanted |= {
            "verify_idx_persons_person_id": (PERSONS_TABLE, "person_id"),
            "verify_idx_membership_person": (MEMBERSHIP_TABLE, "person_id"),
            "verify_idx_membership_household": (MEMBERSHIP_TABLE, "household_id"),
            "verify_idx_registration_id_number": (REGISTRATION_TABLE, "id_number"),
        }
    present = existing_tables(backend, {table for table, _ in wanted.values()})
    created = []
    import duckdb

    for name, (table, column) in wanted.items():
        if table not in present:
            continue
        try:
            connection.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
        except duckdb.BinderException:
            continue  # a table without that column (a county's own registration feed)
        created.append(name)
    if prepared:
        created.append(LOOKUP_TABLE)
    return created


def _rows_where_in(
    backend: Any, table: str, column: str, values: list[Any], columns: list[str]
) -> list[dict[str, Any]]:
    """Rows of `table` whose `column` is one of `values` (a point query on DuckDB).

    Raises:
        MissingTable: the table does not exist.
    """
    if not values:
        return []
    connection = _duckdb(backend)
    if connection is None:
        rows = _table(backend, table)
        found = rows.filter(rows[column].isin(values)).select(*columns)
        return list(backend.to_pyarrow(found).to_pylist())
    return _fetch(
        connection,
        f"SELECT {', '.join(columns)} FROM {table} "
        f"WHERE {column} IN ({_placeholders(len(values))})",
        list(values),
    )


def memberships_of(backend: Any, id_numbers: list[str], period: str | None) -> list[dict[str, Any]]:
    """(id_number, person_id, household_id, period) for those ID numbers, up to a period.

    Raises:
        MissingTable: `persons` or `household_membership` does not exist.
    """
    # Two point queries instead of a join: a join hashes the whole membership table.
    persons = _rows_where_in(
        backend, PERSONS_TABLE, "id_number", list(id_numbers), ["person_id", "id_number"]
    )
    if not persons:
        return []
    id_of = {row["person_id"]: row["id_number"] for row in persons}
    rows = _rows_where_in(
        backend, MEMBERSHIP_TABLE, "person_id", list(id_of), ["person_id", "household_id", "period"]
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


def current_households(rows: list[dict[str, Any]], period: str | None) -> dict[str, str]:
    """person_id → household of each person's latest membership row up to the period.

    Registration arrives as a yearly extract and monthly changes, so a person belongs to
    the household of their latest row, not only in the periods that have one.
    """
    return {person: household for person, (_period, household) in _latest(rows, period).items()}


def _latest(rows: list[dict[str, Any]], period: str | None) -> dict[str, tuple[str, str]]:
    """person_id → (period, household_id) of each person's latest row up to the period."""
    latest: dict[str, tuple[str, str]] = {}
    for row in rows:
        row_period = str(row["period"])
        if period is not None and row_period > period:
            continue
        person = str(row["person_id"])
        if person not in latest or row_period > latest[person][0]:
            latest[person] = (row_period, str(row["household_id"]))
    return latest


def members_of(
    backend: Any,
    household_id: str,
    period: str,
    *,
    known: Mapping[str, str] | None = None,
    known_rows: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """ID number → person_id of a household's registered members in a period.

    A member is a person whose latest membership row up to the period is in the household
    and who has no registered death or move out of the county between that row and the
    period (the panel's rule, `features._grid`).

    Args:
        backend: the Ibis backend.
        household_id: the household.
        period: `YYYY-MM`.
        known: person_id → ID number already looked up (not asked again).
        known_rows: membership rows (person_id, household_id, period) already fetched; the
            persons they cover are not asked again.

    Raises:
        MissingTable: `persons` or `household_membership` does not exist.
    """
    fetched = list(known_rows or [])
    covered = {str(row["person_id"]) for row in fetched}
    in_household = _rows_where_in(
        backend, MEMBERSHIP_TABLE, "household_id", [household_id], ["person_id", "period"]
    )
    candidates = sorted({str(r["person_id"]) for r in in_household if str(r["period"]) <= period})
    others = [person for person in candidates if person not in covered]
    id_of = {person: known[person] for person in candidates if known and person in known}
    # In the common case every member is declared, and nothing more is asked.
    for row in _undeclared(backend, others):
        fetched.append(row)
        id_of[str(row["person_id"])] = row["id_number"]
    latest = _latest(fetched, period)
    members = [person for person in candidates if latest.get(person, ("", ""))[1] == household_id]
    missing = [person for person in members if person not in id_of]
    for row in _rows_where_in(
        backend, PERSONS_TABLE, "person_id", missing, ["person_id", "id_number"]
    ):
        id_of[str(row["person_id"])] = row["id_number"]
    joined = {id_of[p]: latest[p][0] for p in members if id_of.get(p)}
    gone = _exited(backend, joined, period)
    return {id_of[p]: p for p in members if id_of.get(p) and id_of[p] not in gone}


def _undeclared(backend: Any, person_ids: list[str]) -> list[dict[str, Any]]:
    """Membership rows of persons with their ID number (person_id, household_id, period)."""
    if not person_ids:
        return []
    connection = _duckdb(backend)
    if connection is None:
        rows = _rows_where_in(
            backend,
            MEMBERSHIP_TABLE,
            "person_id",
            person_ids,
            ["person_id", "household_id", "period"],
        )
        ids = _rows_where_in(
            backend, PERSONS_TABLE, "person_id", person_ids, ["person_id", "id_number"]
        )
        id_of = {row["person_id"]: row["id_number"] for row in ids}
        return [row | {"id_number": id_of.get(row["person_id"])} for row in rows]
    # The same list on both sides of the join: DuckDB then reads both through their indexes
    # (one query, ~1 ms) instead of hashing the whole persons table.
    marks = _placeholders(len(person_ids))
    return _fetch(
        connection,
        f"SELECT m.person_id, m.household_id, m.period, p.id_number "
        f"FROM {MEMBERSHIP_TABLE} m JOIN {PERSONS_TABLE} p ON p.person_id = m.person_id "
        f"WHERE m.person_id IN ({marks}) AND p.person_id IN ({marks})",
        [*person_ids, *person_ids],
    )


def _month(value: Any) -> str:
    return str(value)[:7]


def _exited(backend: Any, joined: dict[str, str], period: str) -> set[str]:
    """ID numbers registered dead or moved out after joining and before the period's month."""
    try:
        rows = _rows_where_in(
            backend,
            REGISTRATION_TABLE,
            "id_number",
            sorted(joined),
            ["id_number", "registration_status", "status_date", "_is_current"],
        )
    except MissingTable:
        return set()
    gone: set[str] = set()
    for row in rows:
        if row["registration_status"] not in _EXITS or row["status_date"] is None:
            continue
        if row.get("_is_current") is False:
            continue
        exit_month = _month(row["status_date"])
        # Gone from the month after the exit, unless registered again after it.
        if exit_month < period and exit_month >= joined[row["id_number"]]:
            gone.add(str(row["id_number"]))
    return gone


def panel_history(
    backend: Any, household_id: str, period: str | None, *, last: int | None = None
) -> list[dict[str, Any]]:
    """A household's panel rows up to a period, oldest first.

    Args:
        backend: the Ibis backend.
        household_id: the household.
        period: the latest period to return (default: the newest).
        last: return only the newest `last` rows (what the rules' `sum_over` windows read;
            a household has a row per month, so its whole history is dozens of wide rows).
    """
    connection = _duckdb(backend)
    if connection is None:
        panel = _table(backend, PANEL_TABLE)
        rows = panel.filter(panel.household_id == household_id)
        if period is not None:
            rows = rows.filter(rows.period <= period)
        rows = rows.order_by(ibis.desc("period"))
        if last is not None:
            rows = rows.limit(last)
        return list(reversed(backend.to_pyarrow(rows).to_pylist()))
    # One equality filter and nothing else: DuckDB (1.4) uses the index only then; a period
    # bound or ORDER BY ... LIMIT turns the lookup into a scan of the whole panel.
    found = _fetch(
        connection, f"SELECT * FROM {PANEL_TABLE} WHERE household_id = ?", [household_id]
    )
    found = sorted(
        (row for row in found if period is None or str(row["period"]) <= period),
        key=lambda row: str(row["period"]),
    )
    return found if last is None else found[-last:]


@contextmanager
def single_threaded(backend: Any) -> Iterator[None]:
    """Run DuckDB on the calling thread only, for a process that answers point lookups.

    A point query takes a millisecond of CPU; with a thread pool its wall time also waits
    for a worker to be scheduled, which on a loaded machine doubles it. The setting is the
    database's, shared by every connection of the process: use it where the process does
    nothing else meanwhile (`dixian verify --application`), and it is restored afterwards.
    """
    connection = _duckdb(backend)
    if connection is None:
        yield
        return
    before = connection.execute("SELECT current_setting('threads')").fetchone()[0]
    connection.execute("SET threads = 1")
    try:
        yield
    finally:
        connection.execute(f"SET threads = {int(before)}")
