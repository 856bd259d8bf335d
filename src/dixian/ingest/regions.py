"""The county's region table as the lookup that validation resolves village names with.

`W/reference/regions.csv` (region_code, name, level, parent_code; supplied by the county or
written by the simulator) becomes a small table of name keys -> 12-digit region code, with
the keys that name more than one region marked ambiguous (`validate.region_lookup_rows`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from dixian.config import Workspace
from dixian.errors import FeedValidationError
from dixian.ingest.validate import region_lookup_rows

REGIONS_FILE = Path("reference") / "regions.csv"
REGIONS_VIEW = "_ingest_regions"


def _read_regions(workspace: Workspace) -> list[dict[str, str]] | None:
    path = workspace.root / REGIONS_FILE
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    needed = {"region_code", "name", "level", "parent_code"}
    if rows and not needed <= set(rows[0]):
        raise FeedValidationError(
            f"{REGIONS_FILE}: expected columns {sorted(needed)}, found {sorted(rows[0])}"
        )
    return rows


def regions_lookup(
    workspace: Workspace, backend: Any, spool_dir: Path
) -> tuple[ir.Table | None, str | None]:
    """The region lookup as view `REGIONS_VIEW` of `backend`, and every character of its keys.

    Returns:
        (None, None) when the workspace has no region table.

    Raises:
        FeedValidationError: the region table lacks one of its columns.
    """
    rows = _read_regions(workspace)
    if rows is None:
        return None, None
    lookup_rows = region_lookup_rows(rows)
    chars = "".join(sorted({c for row in lookup_rows for c in row["key"]}))
    lookup = pa.Table.from_pylist(
        lookup_rows,
        schema=pa.schema([("key", pa.string()), ("code", pa.string()), ("ambiguous", pa.bool_())]),
    )
    path = spool_dir / "regions.parquet"
    pq.write_table(lookup, path)
    return backend.read_parquet(str(path), table_name=REGIONS_VIEW), chars
