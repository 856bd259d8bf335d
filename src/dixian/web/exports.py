"""XLSX exports with formula-injection protection (WEB-12).

A cell whose text starts with `= + - @`, a tab or a carriage return would be run as a formula
by Excel or WPS; such text is prefixed with an apostrophe, and every value is written as a
string so that nothing is interpreted.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import xlsxwriter

from dixian.web.i18n import translate

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")

CASE_COLUMNS: tuple[str, ...] = (
    "id",
    "household_id",
    "region_code",
    "head_name",
    "state",
    "object_type",
    "primary_cause",
    "opened_on",
    "decision_due",
    "overdue",
)


def safe_cell(value: Any) -> str:
    """The text of a cell, neutralised if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value.value) if hasattr(value, "value") else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def workbook_bytes(
    columns: Sequence[str], headers: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> bytes:
    """An XLSX file with one sheet: a header row and one row per mapping."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("export")
    bold = book.add_format({"bold": True})
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    for row_index, row in enumerate(rows, start=1):
        for col, name in enumerate(columns):
            sheet.write_string(row_index, col, safe_cell(row.get(name)))
    book.close()
    return buffer.getvalue()


def cases_workbook(rows: Sequence[Mapping[str, Any]], *, locale: str) -> bytes:
    """The case list as XLSX, with headers in the UI language."""
    headers = [translate(locale, f"case.col.{name}") for name in CASE_COLUMNS]
    return workbook_bytes(CASE_COLUMNS, headers, rows)
