"""Reading department feeds as streams of text cells: CSV, XLSX, Parquet, a database table.

Every reader yields `RawSheet`s (one per CSV/Parquet file or table, one per XLSX sheet), each
with its flattened header and an iterator of Arrow record batches whose columns are the cells
as text (`c0`, `c1`, ...) plus `_row_number` (1-based among the data rows) and `_parse_error`
(why a row could not be split into cells, else null). Nothing is held whole in memory: CSV is
streamed by pyarrow in blocks (`csv_reader`), XLSX row by row from python-calamine, Parquet by
row group, and database rows in chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dixian.errors import FeedValidationError
from dixian.ingest.csv_reader import detect_encoding, read_csv
from dixian.ingest.headers import (
    HEADER_SCAN_ROWS,
    HeaderLayout,
    LabelTest,
    MergedRange,
    locate_header,
)
from dixian.ingest.raw_sheet import RawSheet, batch_schema, cell_text, rows_to_batch

__all__ = [
    "BATCH_ROWS",
    "LabelTest",
    "RawSheet",
    "cell_text",
    "detect_encoding",
    "open_feed",
    "read_csv",
    "read_database",
    "read_parquet",
    "read_xlsx",
]

BATCH_ROWS = 65_536

# --------------------------------------------------------------------------------------- XLSX


def _cells(row: Sequence[Any]) -> list[str | None]:
    return [cell_text(value) for value in row]


def read_xlsx(path: Path, *, source_file: str, is_label: LabelTest | None = None) -> list[RawSheet]:
    """Open every non-empty sheet of an XLSX feed, each with its located, flattened header.

    Args:
        path: the workbook.
        source_file: its path relative to the feeds folder (lineage).
        is_label: tells known column labels apart, to find the header below title rows.
    """
    from python_calamine import CalamineError, load_workbook

    try:
        workbook = load_workbook(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise FeedValidationError(f"{source_file}: not a readable XLSX workbook ({exc})") from exc
    sheets: list[RawSheet] = []
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        head: list[list[str | None]] = []
        for row in sheet.iter_rows():
            head.append(_cells(row))
            if len(head) >= HEADER_SCAN_ROWS:
                break
        if not any(cell for row in head for cell in row):
            continue
        merged: list[MergedRange] | None = None
        try:
            ranges = sheet.merged_cell_ranges
            if ranges:
                offset_row, offset_col = sheet.start or (0, 0)
                merged = [
                    ((r0 - offset_row, c0 - offset_col), (r1 - offset_row, c1 - offset_col))
                    for (r0, c0), (r1, c1) in ranges
                ]
        except (AttributeError, CalamineError):
            merged = None
        layout = locate_header(head, merged=merged, is_label=is_label)
        sheets.append(
            RawSheet(
                source_file,
                name,
                layout.columns,
                None,
                layout,
                _xlsx_batches(path, name, layout, sheet),
            )
        )
    return sheets


def _xlsx_batches(
    path: Path, sheet_name: str, layout: HeaderLayout, loaded: Any = None
) -> Callable[[], Iterator[pa.RecordBatch]]:
    width = len(layout.columns)
    # The sheet parsed for the header is used once more for the data, not parsed again.
    kept = [loaded]

    def batches() -> Iterator[pa.RecordBatch]:
        from python_calamine import load_workbook

        sheet = (
            kept[0]
            if kept[0] is not None
            else load_workbook(str(path)).get_sheet_by_name(sheet_name)
        )
        kept[0] = None
        rows: list[Sequence[Any]] = []
        numbers: list[int] = []
        errors: list[str | None] = []
        number = 0
        for index, raw in enumerate(sheet.iter_rows()):
            if index < layout.data_start:
                continue
            # Short-circuits at the first filled cell, so a data row costs one conversion.
            if not any(map(cell_text, raw)):
                continue  # a blank line is not a data row
            number += 1
            extra = [c for c in map(cell_text, raw[width:]) if c] if len(raw) > width else []
            rows.append(raw[:width])
            numbers.append(number)
            errors.append(
                f"{len(extra)} cells beyond the header's {width} columns" if extra else None
            )
            if len(rows) >= BATCH_ROWS:
                yield _raw_rows_to_batch(rows, numbers, width, errors)
                rows, numbers, errors = [], [], []
        if rows:
            yield _raw_rows_to_batch(rows, numbers, width, errors)

    return batches


def _text_column(values: Sequence[Any]) -> pa.Array:
    """Spreadsheet cells of one column as text; blank cells null (see `cell_text`)."""
    try:
        # Most columns hold text only: converted in one go, blanks nulled by a kernel.
        array = pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([cell_text(value) for value in values], pa.string())
    blank = pc.equal(pc.utf8_trim_whitespace(array), "")
    return pc.if_else(blank, pa.scalar(None, pa.string()), array)


def _raw_rows_to_batch(
    rows: Sequence[Sequence[Any]],
    numbers: Sequence[int],
    width: int,
    errors: Sequence[str | None],
) -> pa.RecordBatch:
    padded = [row if len(row) == width else [*row, *[None] * (width - len(row))] for row in rows]
    columns = [_text_column(column) for column in zip(*padded, strict=True)]
    columns.append(pa.array(numbers, pa.int64()))
    columns.append(pa.array(errors, pa.string()))
    return pa.RecordBatch.from_arrays(columns, schema=batch_schema(width))


# ------------------------------------------------------------------------------------ Parquet


def _as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    kind = array.type
    if pa.types.is_string(kind):
        return array
    if pa.types.is_large_string(kind):
        return array.cast(pa.string())
    if pa.types.is_timestamp(kind):
        return pc.strftime(array, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_floating(kind):
        # 12000.0 is written as "12000", as a department would have typed it.
        integral = pc.and_(pc.equal(pc.round(array), array), pc.less(pc.abs(array), 1e15))
        as_int = pc.cast(pc.if_else(integral, array, 0), pa.int64(), safe=False)
        return pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(array, pa.string()))
    if pa.types.is_dictionary(kind):
        return _as_text(array.cast(kind.value_type))
    return pc.cast(array, pa.string())


def read_parquet(path: Path, *, source_file: str) -> RawSheet:
    """Open a Parquet feed; typed columns are turned into text so all feeds normalise alike."""
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise FeedValidationError(f"{source_file}: not a readable Parquet file ({exc})") from exc
    columns = list(parquet.schema_arrow.names)
    width = len(columns)

    def batches() -> Iterator[pa.RecordBatch]:
        handle = pq.ParquetFile(path)
        seen = 0
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            texts = [_as_text(column) for column in batch.columns]
            texts = [pc.if_else(pc.equal(pc.utf8_trim_whitespace(t), ""), None, t) for t in texts]
            numbers = pa.array(np.arange(seen + 1, seen + batch.num_rows + 1, dtype=np.int64))
            seen += batch.num_rows
            yield pa.RecordBatch.from_arrays(
                [*texts, numbers, pa.nulls(batch.num_rows, pa.string())], schema=batch_schema(width)
            )

    return RawSheet(source_file, "", columns, None, None, batches)


# ----------------------------------------------------------------------------------- Database


def read_database(url: str, *, table: str | None = None, query: str | None = None) -> RawSheet:
    """Open a table or a query of a database (SQLAlchemy URL), streamed in chunks.

    Args:
        url: SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/db`.
        table: a table name (schema-qualified with a dot if needed).
        query: a read-only SELECT, instead of a table.

    Raises:
        FeedValidationError: neither or both of table/query, or the source cannot be read.
    """
    import sqlalchemy as sa

    if (table is None) == (query is None):
        raise FeedValidationError("a database feed needs exactly one of a table or a query")
    engine = sa.create_engine(url)
    if table is not None:
        schema, _, name = table.rpartition(".")
        statement: Any = sa.select(
            sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)
        )
        label = f"db:{table}"
    else:
        statement = sa.text(query or "")
        label = "db:query"
    try:
        with engine.connect() as connection:
            columns = list(connection.execute(statement.limit(0) if table else statement).keys())
    except sa.exc.SQLAlchemyError as exc:
        raise FeedValidationError(
            f"{label}: cannot read from the database ({type(exc).__name__})"
        ) from exc
    width = len(columns)

    def batches() -> Iterator[pa.RecordBatch]:
        number = 0
        with engine.connect() as connection:
            result = connection.execution_options(
                stream_results=True, yield_per=BATCH_ROWS
            ).execute(statement)
            for chunk in result.partitions(BATCH_ROWS):
                rows = [_cells(row) for row in chunk]
                numbers = list(range(number + 1, number + len(rows) + 1))
                number += len(rows)
                yield rows_to_batch(rows, numbers, width)
        engine.dispose()

    return RawSheet(label, "", columns, None, None, batches)


def open_feed(
    path: Path,
    *,
    source_file: str,
    encoding: str | None = None,
    is_label: LabelTest | None = None,
) -> list[RawSheet]:
    """Open a feed file by its extension (csv, xlsx, parquet) into its sheets.

    Raises:
        FeedValidationError: an unsupported extension.
    """
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return [read_csv(path, source_file=source_file, encoding=encoding, is_label=is_label)]
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return read_xlsx(path, source_file=source_file, is_label=is_label)
    if suffix == ".parquet":
        return [read_parquet(path, source_file=source_file)]
    raise FeedValidationError(
        f"{source_file}: unsupported file type '{suffix}' (expected .csv, .xlsx or .parquet)"
    )
