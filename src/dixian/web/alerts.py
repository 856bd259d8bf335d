"""Early-warning alerts (预警名单) from the warehouse table `monitor_alerts`, read-only.

The monitoring stage writes one row per alerted household and period (`dixian monitor
alerts`). The page appears once that table exists. Every query is parameterised and filtered
by the user's region-code prefix in its WHERE clause (AC-03).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

ALERTS_TABLE = "monitor_alerts"
ALERT_COLUMNS: tuple[str, ...] = (
    "period",
    "household_id",
    "region_code",
    "rank",
    "status",
    "risk",
    "primary_cause",
    "secondary_cause",
    "reason",
    "trigger_labels",
)
SORTS = {"risk": "risk DESC", "rank": "rank ASC", "region": "region_code ASC, risk DESC"}
STATUSES = ("new", "continuing", "resolved")


@dataclass(frozen=True)
class AlertPage:
    """One page of alerts, or why there is none."""

    available: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    has_next: bool = False
    message: str = ""


def _connect(path: Path) -> duckdb.DuckDBPyConnection | None:
    if not path.is_file():
        return None
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [ALERTS_TABLE]
    ).fetchone()
    return bool(row and row[0])


def alerts_available(path: Path) -> bool:
    """Whether the warehouse holds alerts yet."""
    con = _connect(path)
    if con is None:
        return False
    try:
        return _has_table(con)
    finally:
        con.close()


def list_alerts(
    path: Path,
    *,
    jurisdiction: str,
    period: str | None = None,
    status: str | None = None,
    region: str | None = None,
    sort: str = "risk",
    limit: int = 50,
    offset: int = 0,
) -> AlertPage:
    """Alerts within a jurisdiction, filtered, sorted and paginated.

    Args:
        path: the DuckDB warehouse file.
        jurisdiction: the user's region-code prefix (always applied).
        period: one period (default: the latest).
        status: new, continuing or resolved.
        region: a narrower region-code prefix.
        sort: a key of `SORTS`.
        limit: rows per page.
        offset: rows to skip.
    """
    con = _connect(path)
    if con is None:
        return AlertPage(available=False, message="alerts.none_yet")
    try:
        if not _has_table(con):
            return AlertPage(available=False, message="alerts.none_yet")
        like = jurisdiction + "%"
        periods = [
            str(row[0])
            for row in con.execute(
                f"SELECT DISTINCT period FROM {ALERTS_TABLE} WHERE region_code LIKE ? "
                "ORDER BY period DESC",
                [like],
            ).fetchall()
        ]
        chosen = period if period in periods else (periods[0] if periods else None)
        where = ["region_code LIKE ?", "period = ?"]
        params: list[Any] = [like, chosen]
        if status in STATUSES:
            where.append("status = ?")
            params.append(status)
        if region:
            where.append("region_code LIKE ?")
            params.append(region + "%")
        order = SORTS.get(sort, SORTS["risk"])
        cursor = con.execute(
            f"SELECT {', '.join(ALERT_COLUMNS)} FROM {ALERTS_TABLE} "
            f"WHERE {' AND '.join(where)} ORDER BY {order}, household_id LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        rows = [dict(zip(ALERT_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
        return AlertPage(True, rows[:limit], periods, len(rows) > limit)
    except duckdb.Error:
        return AlertPage(available=False, message="data_quality.unreadable")
    finally:
        con.close()


def alerts_by_period(path: Path, *, jurisdiction: str) -> dict[str, int]:
    """Alert counts per period within a jurisdiction (empty when there are no alerts)."""
    return _with_alerts(path, lambda con: alert_counts(con, jurisdiction=jurisdiction)[0], {})


def current_alert_causes(
    path: Path, *, jurisdiction: str
) -> tuple[str | None, list[tuple[str, int]]]:
    """The latest alert period within a jurisdiction and its unresolved alerts per primary cause.

    Returns (None, []) when there are no alerts yet.
    """
    empty: tuple[str | None, list[tuple[str, int]]] = (None, [])
    return _with_alerts(path, lambda con: alert_counts(con, jurisdiction=jurisdiction)[1:], empty)


_T = TypeVar("_T")


def _with_alerts(path: Path, read: Callable[[duckdb.DuckDBPyConnection], _T], empty: _T) -> _T:
    con = _connect(path)
    if con is None:
        return empty
    try:
        return read(con) if _has_table(con) else empty
    except duckdb.Error:
        return empty
    finally:
        con.close()


def alert_counts(
    con: duckdb.DuckDBPyConnection, *, jurisdiction: str
) -> tuple[dict[str, int], str | None, list[tuple[str, int]]]:
    """Unresolved alerts per period, the latest period, and its alerts per primary cause.

    On an open warehouse connection that holds `monitor_alerts`; filtered by jurisdiction.
    """
    like = jurisdiction + "%"
    rows = con.execute(
        f"SELECT CAST(period AS VARCHAR), count(*) FILTER (WHERE status <> 'resolved') "
        f"FROM {ALERTS_TABLE} WHERE region_code LIKE ? GROUP BY ALL ORDER BY 1",
        [like],
    ).fetchall()
    by_period = {str(period): int(count) for period, count in rows if count}
    if not rows:
        return by_period, None, []
    latest = str(rows[-1][0])
    causes = con.execute(
        f"SELECT primary_cause, count(*) FROM {ALERTS_TABLE} WHERE region_code LIKE ? "
        "AND CAST(period AS VARCHAR) = ? AND status <> 'resolved' AND primary_cause IS NOT NULL "
        "GROUP BY primary_cause ORDER BY count(*) DESC, primary_cause",
        [like, latest],
    ).fetchall()
    return by_period, latest, [(str(cause), int(count)) for cause, count in causes]
