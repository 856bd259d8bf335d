"""The same feeds give the same staging tables, quarantine and ledger counts on Spark."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dixian.config import Workspace, init_workspace
from dixian.engine import open_backend
from dixian.ingest import ingest_feeds
from tests.ingest.feeds import (
    CIVIL_HEADER,
    add_regions,
    civil_path,
    civil_rows,
    id_number,
    write_csv,
    write_registration_xlsx,
)

AS_OF = date(2026, 1, 1)
_VOLATILE = {"_ingested_at"}


def _feeds(workspace: Workspace) -> None:
    add_regions(workspace)
    rows = civil_rows(8)
    rows[1][4] = "abc"
    rows[2][0] = rows[2][0].lower()[:-1] + "x"
    rows[3][0] = ""
    rows[5][4] = "1.2万元"
    rows[6][2] = "新村"
    write_csv(civil_path(workspace, "2024-01"), CIVIL_HEADER, rows, encoding="gbk")
    write_registration_xlsx(
        workspace.feeds_dir / "public_security" / "household_registration" / "2024-01.xlsx",
        [
            [id_number("19800101", 11), "張偉", "男", "1980-01-01", "H1", "户主", "河东村",
             "正常", None],
            [id_number("19820202", 22), "李娜", "女", "1982/2/3", "H1", "妻", "河东村",
             "正常", None],
        ],
    )  # fmt: skip


def _rows(backend: Any, name: str) -> list[dict[str, Any]]:
    rows = backend.to_pyarrow(backend.table(name)).to_pylist()
    cleaned = [{k: v for k, v in row.items() if k not in _VOLATILE} for row in rows]
    return sorted(cleaned, key=lambda row: str(row.get("_record_id") or row.get("batch_id")))


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_ingests_like_duckdb(tmp_path: Path, spark_backend: Any) -> None:
    duck_ws = init_workspace(tmp_path / "duck")
    spark_ws = init_workspace(tmp_path / "spark")
    _feeds(duck_ws)
    _feeds(spark_ws)
    ingest_feeds(duck_ws, as_of=AS_OF)
    duck = open_backend(duck_ws)

    session = spark_backend._session
    previous = session.catalog.currentDatabase()
    session.sql("CREATE DATABASE IF NOT EXISTS dixian_ingest_test")
    session.catalog.setCurrentDatabase("dixian_ingest_test")
    try:
        for table in spark_backend.list_tables():
            spark_backend.drop_table(table, force=True)
        result = ingest_feeds(spark_ws, backend=spark_backend, as_of=AS_OF)
        assert result.figures()["reconciled"] is True
        for name in (
            "staging_civil_affairs_assistance",
            "staging_household_registration",
            "quarantine",
        ):
            assert _rows(spark_backend, name) == _rows(duck, name), name
        spark_ledger = _rows(spark_backend, "ingest_batches")
        duck_ledger = _rows(duck, "ingest_batches")
        keep = ("batch_id", "rows_read", "rows_accepted", "rows_quarantined", "rows_flagged")
        assert [{k: r[k] for k in keep} for r in spark_ledger] == [
            {k: r[k] for k in keep} for r in duck_ledger
        ]
    finally:
        session.catalog.setCurrentDatabase(previous)
