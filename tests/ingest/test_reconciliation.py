"""Property: whatever corruptions a feed carries, every row ends staged or quarantined, once."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dixian.config import init_workspace
from dixian.engine import open_backend
from dixian.ingest import ingest_feeds
from tests.ingest.feeds import CIVIL_HEADER, add_regions, civil_path, civil_rows

_CORRUPTIONS = [
    "none",
    "bad_amount",
    "empty_name",
    "garbage_id",
    "lower_x",
    "extra_cell",
    "missing_cells",
    "bad_month",
    "unknown_code",
    "quoted_comma",
    "full_width",
    "future",
]


def _corrupt(row: list[str], kind: str) -> str:
    cells = list(row)
    if kind == "bad_amount":
        cells[4] = "一百"
    elif kind == "empty_name":
        cells[1] = ""
    elif kind == "garbage_id":
        cells[0] = "ID?" + cells[0][:5]
    elif kind == "lower_x":
        cells[0] = cells[0][:-1] + "x"
    elif kind == "extra_cell":
        cells.append("多余")
    elif kind == "missing_cells":
        cells = cells[:3]
    elif kind == "bad_month":
        cells[5] = "2024-13"
    elif kind == "unknown_code":
        cells[3] = "未知救助"
    elif kind == "quoted_comma":
        cells[1] = '"张,三"'
    elif kind == "full_width":
        cells[4] = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in cells[4])
    elif kind == "future":
        cells[5] = "2099-01"
    return ",".join(cells)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    kinds=st.lists(st.sampled_from(_CORRUPTIONS), min_size=1, max_size=25),
    encoding=st.sampled_from(["utf-8", "gbk"]),
)
def test_random_corruptions_never_lose_a_row(kinds: list[str], encoding: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace = init_workspace(Path(folder) / "ws")
        add_regions(workspace)
        base = civil_rows(len(kinds))
        lines = [",".join(CIVIL_HEADER)] + [
            _corrupt(row, kind) for row, kind in zip(base, kinds, strict=True)
        ]
        path = civil_path(workspace, "2024-01")
        path.parent.mkdir(parents=True)
        path.write_bytes(("\n".join(lines) + "\n").encode(encoding))

        result = ingest_feeds(workspace, as_of=date(2026, 1, 1))
        (batch,) = result.batches
        assert batch.rows_read == len(kinds)
        assert batch.rows_accepted + batch.rows_quarantined == batch.rows_read

        backend = open_backend(workspace)
        staged = backend.to_pyarrow(backend.table("staging_civil_affairs_assistance"))
        quarantined = backend.to_pyarrow(backend.table("quarantine"))
        numbers = staged.column("_row_number").to_pylist()
        numbers += quarantined.column("_row_number").to_pylist()
        assert sorted(numbers) == list(range(1, len(kinds) + 1))
        record_ids = staged.column("_record_id").to_pylist()
        record_ids += quarantined.column("_record_id").to_pylist()
        assert len(set(record_ids)) == len(kinds)
        backend.disconnect()
