"""What every reader yields: a `RawSheet` whose rows are Arrow batches of text cells.

A batch has one string column per cell (`c0`, `c1`, ...) plus `_row_number` (1-based among
the data rows) and `_parse_error` (why a row could not be split into cells, else null). Cell
values of any type are turned into the text a department meant (`cell_text`), so feeds of every
format normalise alike downstream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa

from dixian.ingest.headers import HeaderLayout


@dataclass
class RawSheet:
    """One table of a feed: a CSV or Parquet file, an XLSX sheet, or a database table.

    Attributes:
        source_file: path relative to the feeds folder (POSIX), or `db:<name>`.
        sheet: the XLSX sheet name, else "".
        columns: the flattened header labels, one per cell column.
        encoding: the text encoding used (CSV), else None.
        header: where the header was found (rows before the data).
    """

    source_file: str
    sheet: str
    columns: list[str]
    encoding: str | None
    header: HeaderLayout | None
    _batches: Callable[[], Iterator[pa.RecordBatch]] = field(repr=False)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The data rows as record batches of text cells with `_row_number`, `_parse_error`."""
        return self._batches()


def cell_text(value: Any) -> str | None:
    """The text of a spreadsheet or database cell, as a department meant it.

    Integral floats lose their ".0" (Excel stores 12000 as 12000.0); dates become ISO text;
    empty strings become None.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta | time):
        return str(value)
    return str(value)


def batch_schema(width: int) -> pa.Schema:
    """The schema of a sheet's batches: `width` text cells, `_row_number`, `_parse_error`."""
    fields = [pa.field(f"c{index}", pa.string()) for index in range(width)]
    fields += [pa.field("_row_number", pa.int64()), pa.field("_parse_error", pa.string())]
    return pa.schema(fields)


def rows_to_batch(
    rows: Sequence[Sequence[str | None]],
    numbers: Sequence[int],
    width: int,
    errors: Sequence[str | None] | None = None,
) -> pa.RecordBatch:
    """Rows of text cells (short rows padded with nulls) as one batch of `batch_schema(width)`."""
    columns: list[pa.Array] = []
    for index in range(width):
        columns.append(
            pa.array([row[index] if index < len(row) else None for row in rows], pa.string())
        )
    columns.append(pa.array(numbers, pa.int64()))
    columns.append(pa.array(errors if errors is not None else [None] * len(rows), pa.string()))
    return pa.RecordBatch.from_arrays(columns, schema=batch_schema(width))
