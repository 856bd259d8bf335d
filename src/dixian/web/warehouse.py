"""Read-only views of the DuckDB warehouse for the data-quality page.

The web process opens the warehouse read-only for each request and shows whatever tables the
pipeline has written so far (staging_*, quarantine, ingest_batches); when the file is absent
or another process holds its write lock, the page says so instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from dixian.web.alerts import ALERTS_TABLE, alert_counts


@dataclass(frozen=True)
class WarehouseSummary:
    """Tables present, with row counts, and quarantine reasons."""

    available: bool
    message: str = ""
    tables: list[tuple[str, int]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)


def summarise_warehouse(path: Path) -> WarehouseSummary:
    """Row counts of every table, quarantine counts by dataset and reason, recent batches."""
    if not path.is_file():
        return WarehouseSummary(available=False, message="data_quality.no_warehouse")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return WarehouseSummary(available=False, message="data_quality.busy")
    try:
        names = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        tables = []
        for name in names:
            count = con.execute(f'SELECT count(*) FROM "{name.replace(chr(34), "")}"').fetchone()
            tables.append((name, int(count[0]) if count else 0))
        quarantine: list[dict[str, Any]] = []
        if "quarantine" in names:
            columns = {row[0] for row in con.execute("DESCRIBE quarantine").fetchall()}
            if {"dataset", "reasons"} <= columns:
                rows = con.execute(
                    "SELECT dataset, json_extract_string(r.value, '$.code') AS code, count(*) "
                    "FROM quarantine, json_each(quarantine.reasons) AS r "
                    "GROUP BY ALL ORDER BY 3 DESC LIMIT 50"
                ).fetchall()
                quarantine = [{"dataset": d, "code": c, "rows": int(n)} for d, c, n in rows]
        batches: list[dict[str, Any]] = []
        if "ingest_batches" in names:
            cursor = con.execute("SELECT * FROM ingest_batches LIMIT 50")
            columns_b = [d[0] for d in cursor.description or []]
            batches = [dict(zip(columns_b, row, strict=True)) for row in cursor.fetchall()]
        return WarehouseSummary(True, "", tables, quarantine, batches)
    except duckdb.Error:
        return WarehouseSummary(available=False, message="data_quality.unreadable")
    finally:
        con.close()


# Tables whose `period` column says how far the county's data reaches, with a region column
# for the jurisdiction filter.
PERIOD_TABLES: tuple[str, ...] = ("monitor_alerts", "household_period")
_MONTH = re.compile(r"^\d{4}-\d{2}")


def latest_period(path: Path, *, jurisdiction: str) -> str | None:
    """The latest month (YYYY-MM) in `monitor_alerts` or `household_period` within a jurisdiction.

    None when the warehouse is absent, busy, or holds neither table yet.
    """
    figures = dashboard_warehouse_figures(path, jurisdiction=jurisdiction)
    return figures.latest_period if figures is not None else None


@dataclass(frozen=True)
class WarehouseFigures:
    """What the dashboard takes from the warehouse for one jurisdiction.

    `monitored_by_period` counts the households the poverty and monitoring registry lists
    as monitoring objects (`household_period.registry_status = 'monitored'`) in each data
    period; None when the panel carries no registry status for the jurisdiction.
    """

    latest_period: str | None = None
    alerts_by_period: dict[str, int] = field(default_factory=dict)
    alert_period: str | None = None
    alert_causes: list[tuple[str, int]] = field(default_factory=list)
    monitored_by_period: dict[str, int] | None = None


def dashboard_warehouse_figures(path: Path, *, jurisdiction: str) -> WarehouseFigures | None:
    """The warehouse's dashboard figures in one read-only connection.

    An empty `WarehouseFigures` when there is no warehouse yet; None when it cannot be read
    now (another process is writing it), so that callers do not keep that answer.
    """
    if not path.is_file():
        return WarehouseFigures()
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        present = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        like = jurisdiction + "%"
        found: list[str] = []
        for table in PERIOD_TABLES:
            if table not in present:
                continue
            row = con.execute(
                f"SELECT max(CAST(period AS VARCHAR)) FROM {table} WHERE region_code LIKE ?",
                [like],
            ).fetchone()
            value = str(row[0]) if row and row[0] is not None else ""
            if _MONTH.match(value):
                found.append(value[:7])
        by_period, alert_period, causes = (
            alert_counts(con, jurisdiction=jurisdiction)
            if ALERTS_TABLE in present
            else ({}, None, [])
        )
        monitored = _monitored_by_period(con, like) if PANEL in present else None
        return WarehouseFigures(
            latest_period=max(found) if found else None,
            alerts_by_period=by_period,
            alert_period=alert_period,
            alert_causes=causes,
            monitored_by_period=monitored,
        )
    except duckdb.Error:
        return None
    finally:
        con.close()


PANEL = "household_period"


def _monitored_by_period(con: duckdb.DuckDBPyConnection, like: str) -> dict[str, int] | None:
    columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [PANEL]
        ).fetchall()
    }
    if "registry_status" not in columns:
        return None
    rows = con.execute(
        "SELECT substr(CAST(period AS VARCHAR), 1, 7), "
        "count(DISTINCT household_id) FILTER (WHERE registry_status = 'monitored'), "
        f"count(registry_status) FROM {PANEL} WHERE region_code LIKE ? GROUP BY ALL",
        [like],
    ).fetchall()
    if not any(known for _, _, known in rows):
        # A panel built without the registry feed says nothing about monitoring objects.
        return None
    return {str(period): int(count) for period, count, _ in rows}


def file_stamp(path: Path) -> tuple[int, ...]:
    """Size and modification time of a DuckDB file and its write-ahead log (0s when absent).

    A write to the warehouse changes one of them, so cached figures keyed by the stamp are
    recomputed after every pipeline run.
    """
    stamp: list[int] = []
    for candidate in (path, path.with_name(path.name + ".wal")):
        try:
            info = candidate.stat()
        except OSError:
            stamp.extend((0, 0))
            continue
        stamp.extend((info.st_mtime_ns, info.st_size))
    return tuple(stamp)
