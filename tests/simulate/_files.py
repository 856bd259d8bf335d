"""Reading the simulator's feed files back, as a test oracle independent of ingestion."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
from python_calamine import CalamineWorkbook

from dixian.standards import Dataset


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_feed(path: Path, dataset: Dataset) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Sheets of a feed file: sheet name ('' unless XLSX) -> (header, data rows)."""
    names = {name for spec in dataset.fields for name in spec.all_names()}
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        rows = [list(map(str, r.values())) for r in table.to_pylist()]
        return {"": (table.column_names, rows)}
    if path.suffix == ".csv":
        reader = csv.reader(io.StringIO(_decode(path.read_bytes())))
        lines = list(reader)
        return {"": (lines[0], lines[1:])}
    workbook = CalamineWorkbook.from_path(str(path))
    out = {}
    for sheet in workbook.sheet_names:
        grid = [[str(c) for c in row] for row in workbook.get_sheet_by_name(sheet).to_python()]
        # The header is the first row whose cells are all column names of the dataset.
        at = next(
            i for i, row in enumerate(grid) if row and all(c in names for c in row if c != "")
        )
        out[sheet] = (grid[at], grid[at + 1 :])
    return out
