"""Reading files in worker processes gives the same tables as reading them one by one; the
DuckDB in-place staging path gives the same tables as the engine-neutral one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dixian.config import Workspace
from dixian.ingest import ingest_feeds, staging
from tests.ingest.feeds import AS_OF, civil_rows, id_number, write_civil, write_registration
from tests.ingest.warehouse import comparable, table_rows

_VOLATILE = {"_ingested_at", "started_at", "finished_at", "_resolved_at"}


def _feeds(workspace: Workspace) -> None:
    for month in range(1, 6):
        rows = civil_rows(40, month=f"2024-{month:02d}", start=month)
        rows[month][4] = "abc"
        write_civil(workspace, f"2024-{month:02d}", rows)
    write_registration(
        workspace,
        "2024-01",
        [[id_number("19800101", 11), "張偉", "男", "1980-01-01", "H1", "户主", "河东村", "正常",
          None]],
    )  # fmt: skip


def _rows(workspace: Workspace, name: str) -> list[dict[str, Any]]:
    return comparable(table_rows(workspace, name), _VOLATILE)


def test_two_workers_give_the_same_tables_as_one(
    new_county: Callable[[str], Workspace],
) -> None:
    serial = new_county("serial")
    parallel = new_county("parallel")
    _feeds(serial)
    _feeds(parallel)
    one = ingest_feeds(serial, as_of=AS_OF, workers=1)
    two = ingest_feeds(parallel, as_of=AS_OF, workers=2)
    assert [b.batch_seq for b in two.batches] == list(range(1, 7))
    assert one.figures() == two.figures()
    assert two.figures()["rows_quarantined"] == 5
    for name in (
        "staging_civil_affairs_assistance",
        "staging_household_registration",
        "quarantine",
        "ingest_batches",
    ):
        assert _rows(parallel, name) == _rows(serial, name), name


def _incremental_runs(workspace: Workspace) -> None:
    january = civil_rows(6)
    january[1][4] = "abc"
    january[2][0] = january[2][0][:9]
    write_civil(workspace, "2024-01", january)
    ingest_feeds(workspace, as_of=AS_OF)
    write_civil(workspace, "2024-02", civil_rows(6, month="2024-02"))
    fixed = [list(january[1])]
    fixed[0][4] = "410"
    write_civil(workspace, "2024-01.correction", fixed)
    ingest_feeds(workspace, as_of=AS_OF)
    january[2][0] = civil_rows(3)[2][0]  # the edited file fixes the malformed ID
    january[4][4] = "999"
    write_civil(workspace, "2024-01", january)
    ingest_feeds(workspace, as_of=AS_OF)


def test_duckdb_in_place_staging_equals_the_generic_path(
    new_county: Callable[[str], Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    in_place = new_county("in_place")
    _incremental_runs(in_place)
    generic = new_county("generic")
    # The engine-neutral path (Spark's) forced on DuckDB.
    monkeypatch.setattr(staging, "_stage_in_place", staging._stage_generic)
    _incremental_runs(generic)
    rows = _rows(in_place, "staging_civil_affairs_assistance")
    assert sum(not r["_is_current"] for r in rows) == 4  # the replaced January batch
    for name in ("staging_civil_affairs_assistance", "quarantine", "ingest_batches"):
        assert _rows(generic, name) == _rows(in_place, name), name
