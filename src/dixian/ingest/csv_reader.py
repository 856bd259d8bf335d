"""Reading a CSV feed: its text encoding detected, its header located, its rows streamed.

pyarrow reads the file in blocks; rows with more or fewer cells than the header are set aside
while streaming and yielded last with a `_parse_error`, under the row numbers they had in the
file, so they end in quarantine and are never lost.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from dixian.errors import FeedValidationError
from dixian.ingest.headers import HEADER_SCAN_ROWS, HeaderLayout, LabelTest, locate_header
from dixian.ingest.raw_sheet import RawSheet, batch_schema, rows_to_batch

_ENCODING_SAMPLE_BYTES = 1 << 20
_CSV_BLOCK_BYTES = 16 << 20
_GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936", "hz", "hz_gb_2312", "euc_cn", "big5", "cp950"}


def detect_encoding(path: Path) -> str:
    """Detect the text encoding of a CSV file: UTF-8 (with or without BOM) or GB18030.

    GBK and GB2312 are read as GB18030, their superset. UTF-8 is tried strictly first because
    statistical detectors misjudge short Chinese samples.

    Raises:
        FeedValidationError: no encoding fits; the message asks for an explicit override.
    """
    with path.open("rb") as handle:
        sample = handle.read(_ENCODING_SAMPLE_BYTES)
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    complete = sample
    if len(sample) == _ENCODING_SAMPLE_BYTES and b"\n" in sample:
        complete = sample[: sample.rindex(b"\n") + 1]
    try:
        complete.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        complete.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(complete).best()
    if best is None:
        raise FeedValidationError(
            f"{path}: cannot detect the text encoding (expected UTF-8 or GBK/GB18030); "
            "give it with --encoding"
        )
    name = best.encoding.lower().replace("-", "_")
    return "gb18030" if name in _GB_FAMILY else best.encoding


def _csv_head(path: Path, encoding: str) -> list[list[str]]:
    with path.open("rb") as handle:
        sample = handle.read(1 << 16)
    text = sample.decode(encoding, errors="replace")
    lines = text.splitlines(keepends=True)
    if len(sample) == 1 << 16 and lines:
        lines = lines[:-1]  # the last line may be cut
    rows = list(csv.reader(io.StringIO("".join(lines[:HEADER_SCAN_ROWS]))))
    return [[cell if cell.strip() else "" for cell in row] for row in rows]


def _arrow_encoding(encoding: str) -> str:
    # pyarrow's CSV reader strips a UTF-8 BOM itself and decodes UTF-8 natively (fast path).
    return "utf8" if encoding.lower().replace("-", "") in {"utf8", "utf8sig"} else encoding


def read_csv(
    path: Path, *, source_file: str, encoding: str | None = None, is_label: LabelTest | None = None
) -> RawSheet:
    """Open a CSV feed: detect its encoding, locate its header, stream its rows.

    Rows with more or fewer cells than the header are kept with a `_parse_error` (so they end
    in quarantine, never lost).

    Args:
        path: the file.
        source_file: its path relative to the feeds folder (lineage).
        encoding: override the detected encoding.
        is_label: tells known column labels apart, to find the header below title rows.
    """
    used = encoding or detect_encoding(path)
    head = _csv_head(path, used)
    if not head:
        layout = HeaderLayout(0, 1, [])
        return RawSheet(source_file, "", [], used, layout, lambda: iter(()))
    layout = locate_header([[c or None for c in row] for row in head], is_label=is_label)
    width = max(len(head[layout.first_row + k]) for k in range(layout.n_rows))
    columns = layout.columns + [""] * (width - len(layout.columns))
    columns = columns[:width]

    def batches() -> Iterator[pa.RecordBatch]:
        bad: list[tuple[int, str, int]] = []

        def on_invalid(row: Any) -> str:
            bad.append(
                (
                    int(row.number) if row.number and row.number > 0 else -1,
                    row.text,
                    row.actual_columns,
                )
            )
            return "skip"

        names = [f"c{index}" for index in range(width)]
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=_arrow_encoding(used),
                skip_rows=layout.data_start,
                column_names=names,
                block_size=_CSV_BLOCK_BYTES,
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
        good_seen = 0
        for batch in reader:
            if batch.num_rows == 0:
                continue
            skipped = np.array(
                sorted(n - layout.data_start - 1 for n, _, _ in bad if n > 0), dtype=np.int64
            )
            ordinal = np.arange(good_seen, good_seen + batch.num_rows, dtype=np.int64)
            if skipped.size:
                # The k-th good row sits at k plus the number of bad rows before it.
                before = skipped - np.arange(skipped.size)
                ordinal = ordinal + np.searchsorted(before, ordinal, side="right")
            good_seen += batch.num_rows
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(ordinal + 1), pa.nulls(batch.num_rows, pa.string())],
                schema=batch_schema(width),
            )
        if bad:
            yield _malformed_batch(bad, width, layout.data_start, good_seen)

    return RawSheet(source_file, "", columns, used, layout, batches)


def _malformed_batch(
    bad: list[tuple[int, str, int]], width: int, data_start: int, good_rows: int
) -> pa.RecordBatch:
    rows, numbers, errors = [], [], []
    unknown = good_rows + len(bad)
    for line, text, found in bad:
        cells = next(csv.reader([text]), [])
        rows.append([cell if cell.strip() else None for cell in cells[:width]])
        if line > 0:
            numbers.append(line - data_start)
        else:
            numbers.append(unknown)
            unknown -= 1
        errors.append(f"expected {width} cells, found {found}")
    return rows_to_batch(rows, numbers, width, errors)
