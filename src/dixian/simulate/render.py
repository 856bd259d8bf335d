"""Writing department files the way departments send them.

Values become text in the batch's style (code labels or synonyms, date formats, 元 or 万元,
是/否), column names come from the field's Chinese aliases (chosen per batch), and the file
is CSV (UTF-8, UTF-8 with BOM, or GBK), XLSX (plain, with a title row, or with a title row
and merged two-row header; sometimes one sheet per township) or Parquet. Output is
byte-identical for the same input: fixed Parquet options, no timestamps, XLSX with fixed
document dates.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dixian.standards import Catalog, Dataset

XLSX_MAX_ROWS = 3_000
_FIXED_DATE = dt.datetime(2000, 1, 1)
DEPARTMENT_FORMATS = {
    "public_security": "csv_gbk",
    "rural_revitalisation": "xlsx_merged",
    "civil_affairs": "xlsx_title",
    "human_resources": "csv_utf8",
    "medical_insurance": "parquet",
    "health": "xlsx",
    "education": "xlsx_title",
    "disabled_federation": "csv_gbk",
    "housing": "xlsx_merged",
    "water": "xlsx",
    "emergency": "xlsx_title",
    "natural_resources": "csv_bom",
    "traffic_police": "csv_gbk",
    "market_regulation": "csv_utf8",
    "tax": "parquet",
    "finance": "xlsx",
    "banking": "csv_utf8",
}
FORMATS = ("csv_utf8", "csv_bom", "csv_gbk", "xlsx", "xlsx_title", "xlsx_merged", "parquet")
DATE_STYLES = ("iso", "slash", "compact", "chinese")


@dataclass
class BatchStyle:
    """How one batch is written."""

    file_format: str
    columns: dict[str, str]  # standard name -> header used
    date_style: str
    amount_wan: bool
    village_names: bool
    code_style: int  # 0: Chinese label, 1: first synonym where there is one
    bool_style: int  # 0: 是/否, 1: 1/0
    split_sheets: bool


def choose_style(
    dataset: Dataset,
    rows: int,
    rng: np.random.Generator,
    *,
    date_variant: float,
    amount_wan: float,
    village_names: float,
) -> BatchStyle:
    """Draw the style of a batch: format, column aliases, date and amount formats."""
    file_format = DEPARTMENT_FORMATS.get(dataset.department, "csv_utf8")
    if rng.uniform() < 0.2:
        file_format = FORMATS[int(rng.integers(0, len(FORMATS)))]
    if file_format.startswith("xlsx") and rows > XLSX_MAX_ROWS:
        file_format = "csv_gbk"
    columns = {}
    for spec in dataset.fields:
        options = (spec.label_zh, *[a for a in spec.aliases if a != spec.label_zh])
        columns[spec.name] = options[int(rng.integers(0, len(options)))]
    date_style = "iso"
    if rng.uniform() < date_variant:
        date_style = DATE_STYLES[int(rng.integers(1, len(DATE_STYLES)))]
    return BatchStyle(
        file_format=file_format,
        columns=columns,
        date_style=date_style,
        amount_wan=bool(rng.uniform() < amount_wan),
        village_names=bool(rng.uniform() < village_names),
        code_style=int(rng.uniform() < 0.3),
        bool_style=int(rng.uniform() < 0.3),
        split_sheets=file_format.startswith("xlsx") and bool(rng.uniform() < 0.3),
    )


def code_labels(catalog: Catalog, list_name: str, style: int) -> dict[str, str]:
    """Map code -> the text a department writes for it."""
    labels = {}
    for code in catalog.code_list(list_name).codes:
        text = code.zh
        if style and code.synonyms:
            text = code.synonyms[0]
        labels[code.code] = text
    return labels


def write_table(
    path: Path,
    headers: list[str],
    columns: list[pa.Array],
    *,
    style: BatchStyle,
    title: str,
    sheets: np.ndarray | None,
    sheet_names: list[str],
) -> list[tuple[str, int]]:
    """Write one batch file; returns (sheet, rows) per sheet in row order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(columns[0]) if columns else 0
    fmt = style.file_format
    if fmt == "parquet":
        table = pa.table(dict(zip(headers, columns, strict=True)))
        pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=False)
        return [("", n)]
    if fmt.startswith("csv"):
        table = pa.table(dict(zip(headers, columns, strict=True)))
        sink = io.BytesIO()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
        data = sink.getvalue()
        if fmt == "csv_gbk":
            data = data.decode("utf-8").encode("gb18030")
        elif fmt == "csv_bom":
            data = b"\xef\xbb\xbf" + data
        path.write_bytes(data)
        return [("", n)]
    return _write_xlsx(
        path, headers, columns, style=style, title=title, sheets=sheets, sheet_names=sheet_names
    )


def _write_xlsx(
    path: Path,
    headers: list[str],
    columns: list[pa.Array],
    *,
    style: BatchStyle,
    title: str,
    sheets: np.ndarray | None,
    sheet_names: list[str],
) -> list[tuple[str, int]]:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "in_memory": True,
        },
    )
    workbook.set_properties({"created": _FIXED_DATE, "author": "", "title": title})
    bold = workbook.add_format({"bold": True, "align": "center"})
    rows_out: list[tuple[str, int]] = []
    n = len(columns[0]) if columns else 0
    if sheets is None or not style.split_sheets:
        groups = [("Sheet1", np.arange(n))]
    else:
        groups = [(sheet_names[k], np.flatnonzero(sheets == k)) for k in np.unique(sheets)]
    text_columns = [c.to_numpy(zero_copy_only=False).astype(object) for c in columns]
    for sheet_name, rows in groups:
        ws = workbook.add_worksheet(sheet_name)
        r0 = 0
        width = max(len(headers) - 1, 0)
        if style.file_format in ("xlsx_title", "xlsx_merged"):
            ws.merge_range(0, 0, 0, width, title, bold) if width else ws.write(0, 0, title, bold)
            r0 = 1
        if style.file_format == "xlsx_merged":
            split = max(1, min(len(headers) - 1, len(headers) // 2))
            if split - 1 > 0:
                ws.merge_range(r0, 0, r0, split - 1, "基本信息", bold)
            else:
                ws.write(r0, 0, "基本信息", bold)
            if width - split > 0:
                ws.merge_range(r0, split, r0, width, "业务信息", bold)
            elif width >= split:
                ws.write(r0, split, "业务信息", bold)
            r0 += 1
        ws.write_row(r0, 0, headers, bold)
        r0 += 1
        block = (
            np.stack([c[rows] for c in text_columns], axis=1)
            if rows.size
            else np.zeros((0, len(headers)))
        )
        for i, values in enumerate(block.tolist()):
            ws.write_row(r0 + i, 0, values)
        rows_out.append((sheet_name, int(rows.size)))
    workbook.close()
    return rows_out
