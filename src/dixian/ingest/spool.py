"""Reading one feed file into the spool: its rows as text, one Parquet file per batch.

`read_batch` takes and returns plain, picklable values, so the run can read several files at
once in worker processes. Each batch is written to `<spool>/<dataset>/<batch_seq>.parquet`
with the dataset's raw schema (one text column per field, unit factors for amounts, name
keys, the parse error and lineage), and the engine reads a dataset's files together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dixian.errors import FeedValidationError
from dixian.ingest.ledger import BatchRecord
from dixian.ingest.mapping import Overrides, map_columns, normalise_label, recognise_dataset
from dixian.ingest.normalise import UNIT_FACTORS, python_match_key
from dixian.ingest.readers import RawSheet, open_feed
from dixian.standards import Dataset, load_catalog

# Fast to write and read back once; the spool lives only for the run.
_SPOOL_COMPRESSION = "lz4"


@dataclass(frozen=True)
class FeedTask:
    """One new feed file to read, as the run decided: its batch number and what it replaces."""

    path: Path
    source_file: str
    content_hash: str
    period: str
    dataset: str | None
    batch_seq: int
    replaces_batch: str | None
    encoding: str | None
    spool_dir: Path
    overrides: Overrides


def spool_glob(spool_dir: Path, dataset: str) -> str:
    """The pattern matching every spooled batch of a dataset."""
    return str(spool_dir / dataset / "*.parquet")


def read_batch(task: FeedTask) -> BatchRecord:
    """Read a feed file into its spool file and return its ledger record (rows read).

    Raises:
        FeedValidationError: the file holds no table, cannot be read, or cannot be mapped.
    """
    catalog = load_catalog()
    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    sheets = open_feed(
        task.path, source_file=task.source_file, encoding=task.encoding, is_label=_is_label
    )
    if not sheets:
        raise FeedValidationError(f"{task.source_file}: the file holds no table")
    if task.dataset is not None:
        dataset = catalog.dataset(task.dataset)
    else:
        dataset = recognise_dataset(
            sheets[0].columns, catalog, task.overrides, source=task.source_file
        )
    record = BatchRecord(
        batch_id=f"{dataset.name}.{task.period}.{task.content_hash[:12]}",
        batch_seq=task.batch_seq,
        dataset=dataset.name,
        department=dataset.department,
        period=task.period,
        source_file=task.source_file,
        content_hash=task.content_hash,
        encoding=sheets[0].encoding,
        started_at=started,
        replaces_batch=task.replaces_batch,
    )
    target = task.spool_dir / dataset.name / f"{task.batch_seq:08d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    writer = pq.ParquetWriter(target, raw_schema(dataset), compression=_SPOOL_COMPRESSION)
    try:
        for sheet in sheets:
            _spool_sheet(sheet, dataset, record, task.overrides, writer)
    finally:
        writer.close()
    record.finished_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return record


@cache
def _labels() -> frozenset[str]:
    return frozenset(
        normalise_label(spelling)
        for dataset in load_catalog().datasets
        for spec in dataset.fields
        for spelling in spec.all_names()
    )


def _is_label(cell: str) -> bool:
    labels = _labels()
    return normalise_label(cell) in labels or normalise_label(cell.rpartition("/")[2]) in labels


def label_test() -> Callable[[str], bool]:
    """Tells known column labels of the standard apart (to find a header below title rows)."""
    return _is_label


def raw_schema(dataset: Dataset) -> pa.Schema:
    """The spool's columns for a dataset: text per field, unit factors, name keys, lineage."""
    fields = [pa.field(name, pa.string()) for name in dataset.field_names()]
    fields += [pa.field(f"_u_{name}", pa.float64()) for name in yuan_fields(dataset)]
    fields += [pa.field(f"_nk_{name}", pa.string()) for name in name_fields(dataset)]
    fields += [
        pa.field("_parse_error", pa.string()),
        pa.field("_batch_id", pa.string()),
        pa.field("_batch_seq", pa.int64()),
        pa.field("_period", pa.string()),
        pa.field("_source_file", pa.string()),
        pa.field("_sheet", pa.string()),
        pa.field("_row_number", pa.int64()),
    ]
    return pa.schema(fields)


def name_fields(dataset: Dataset) -> list[str]:
    """Fields holding a person's name (they get a matching key)."""
    return [spec.name for spec in dataset.fields if spec.type == "name"]


def yuan_fields(dataset: Dataset) -> list[str]:
    """Amount fields in yuan (a header may state 万元 or 千元)."""
    return [spec.name for spec in dataset.fields if spec.type == "decimal" and spec.unit == "yuan"]


def _name_keys(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Matching keys of a name column, computed once per distinct name.

    DuckDB's translate() with OpenCC's 2,700-character table is far too slow per row, so the
    keys are computed here, over the distinct names of the batch only, with the same
    character table as `match_key`; both engines then read them.
    """
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    keys = [python_match_key(v) or None for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(keys, pa.string()), encoded.indices)


def _spool_sheet(
    sheet: RawSheet,
    dataset: Dataset,
    record: BatchRecord,
    overrides: Overrides,
    writer: pq.ParquetWriter,
) -> None:
    mapping = map_columns(
        sheet.columns,
        dataset,
        overrides,
        source=f"{sheet.source_file}{'#' + sheet.sheet if sheet.sheet else ''}",
    )
    record.sheets.append(sheet.sheet)
    record.column_mapping[sheet.sheet] = {f: sheet.columns[i] for f, i in mapping.fields.items()}
    if mapping.dropped or mapping.duplicates:
        record.columns_dropped[sheet.sheet] = mapping.dropped + mapping.duplicates
    schema = raw_schema(dataset)
    for batch in sheet.batches():
        n = batch.num_rows
        if n == 0:
            continue
        arrays: list[pa.Array] = []
        for name in dataset.field_names():
            index = mapping.fields.get(name)
            if index is None:
                arrays.append(pa.nulls(n, pa.string()))
                continue
            arrays.append(batch.column(f"c{index}"))
        # A bare number under a header "金额（万元）" is in 万元.
        for name in yuan_fields(dataset):
            factor = UNIT_FACTORS.get(mapping.units.get(name, "元"), 1.0)
            arrays.append(pa.array(np.full(n, factor), pa.float64()))
        for name in name_fields(dataset):
            index = mapping.fields.get(name)
            arrays.append(
                pa.nulls(n, pa.string()) if index is None else _name_keys(batch.column(f"c{index}"))
            )
        arrays += [
            batch.column("_parse_error"),
            pa.array([record.batch_id] * n, pa.string()),
            pa.array(np.full(n, record.batch_seq, dtype=np.int64)),
            pa.array([record.period] * n, pa.string()),
            pa.array([record.source_file] * n, pa.string()),
            pa.array([sheet.sheet] * n, pa.string()),
            batch.column("_row_number"),
        ]
        writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
        record.rows_read += n
