"""The same feeds give the same staging tables, quarantine and ledger counts on Spark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.ingest import ingest_feeds
from tests.ingest.feeds import AS_OF, civil_rows, id_number, write_civil, write_registration
from tests.ingest.warehouse import backend_rows, comparable

_VOLATILE = {"_ingested_at"}


def _feeds(workspace: Workspace) -> None:
    rows = civil_rows(8)
    rows[1][4] = "abc"
    rows[2][0] = rows[2][0].lower()[:-1] + "x"
    rows[3][0] = ""
    rows[5][4] = "1.2万元"
    rows[6][2] = "新村"
    write_civil(workspace, "2024-01", rows, encoding="gbk")
    write_registration(
        workspace,
        "2024-01",
        [
            [id_number("19800101", 11), "張偉", "男", "1980-01-01", "H1", "户主", "河东村",
             "正常", None],
            [id_number("19820202", 22), "李娜", "女", "1982/2/3", "H1", "妻", "河东村",
             "正常", None],
        ],
    )  # fmt: skip


def _rows(backend: Any, name: str) -> list[dict[str, Any]]:
    return comparable(backend_rows(backend, name), _VOLATILE)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_ingests_like_duckdb(
    new_county: Callable[[str], Workspace], spark_backend: Any
) -> None:
    duck_ws = new_county("duck")
    spark_ws = new_county("spark")
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
