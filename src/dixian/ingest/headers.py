"""Locating the header of a department sheet: title rows skipped, merged two-row headers flattened.

Departments export tables with a title row ("2024年1月低保发放名册") above the header, and often a
two-row header where a merged cell groups the columns below it ("户主信息" over "姓名" and
"身份证号") while other columns are merged vertically over both rows. This module finds the
header row(s) among the first rows of a sheet and flattens them into one label per column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# How many leading rows are examined for a header; a title block is never longer in practice.
HEADER_SCAN_ROWS = 30

# A merged range as python-calamine reports it: ((first_row, first_col), (last_row, last_col)).
MergedRange = tuple[tuple[int, int], tuple[int, int]]

# Tells whether a cell is a known column label (the readers pass it on to `locate_header`).
LabelTest = Callable[[str], bool]

_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class HeaderLayout:
    """Where the header is and what the flattened column labels are.

    Attributes:
        first_row: 0-based index of the first header row.
        n_rows: 1 or 2 header rows.
        columns: one flattened label per column ("" for a column without a label).
    """

    first_row: int
    n_rows: int
    columns: list[str]

    @property
    def data_start(self) -> int:
        """0-based index of the first data row."""
        return self.first_row + self.n_rows


def _filled(row: Sequence[str | None]) -> list[int]:
    return [index for index, cell in enumerate(row) if cell not in (None, "")]


def _label_like(cell: str) -> bool:
    # Header labels carry no digits; data rows almost always do (IDs, dates, amounts).
    return not _DIGIT.search(cell) and len(cell) <= 40


def _pick_header_row(
    rows: Sequence[Sequence[str | None]], is_label: Callable[[str], bool] | None
) -> int:
    width = max((len(_filled(row)) for row in rows), default=0)
    if width == 0:
        return 0
    if is_label is not None:
        best, best_hits = -1, 0
        for index, row in enumerate(rows):
            hits = sum(1 for c in _filled(row) if is_label(str(row[c])))
            if hits > best_hits:
                best, best_hits = index, hits
        if best >= 0:
            return best
    needed = max(1, min(width, max(2, math.ceil(0.5 * width))))
    for index, row in enumerate(rows):
        cells = [str(row[c]) for c in _filled(row)]
        if len(cells) >= needed and all(_label_like(cell) for cell in cells):
            return index
    for index, row in enumerate(rows):
        if len(_filled(row)) >= needed:
            return index
    return 0


def _is_second_header_row(
    rows: Sequence[Sequence[str | None]],
    first: int,
    merged: Sequence[MergedRange] | None,
    is_label: Callable[[str], bool] | None,
) -> bool:
    if first + 1 >= len(rows):
        return False
    upper, lower = rows[first], rows[first + 1]
    lower_cells = [str(lower[c]) for c in _filled(lower)]
    if not lower_cells or not all(_label_like(cell) for cell in lower_cells):
        return False
    if merged:
        touches = [
            (start, end)
            for start, end in merged
            if start[0] == first and (end[0] > first or end[1] > start[1])
        ]
        if touches:
            return True
    if is_label is not None and any(is_label(cell) for cell in lower_cells):
        upper_filled = set(_filled(upper))
        # The lower row labels columns the upper row leaves blank (under a merged group).
        if any(c not in upper_filled for c in _filled(lower)):
            return True
    upper_filled_list = _filled(upper)
    if not upper_filled_list:
        return False
    span = range(upper_filled_list[0], max(upper_filled_list[-1], _filled(lower)[-1]) + 1)
    upper_gaps = [c for c in span if c not in set(upper_filled_list)]
    lower_gaps = [c for c in span if c not in set(_filled(lower))]
    return bool(upper_gaps) and bool(lower_gaps)


def _flatten(
    upper: Sequence[str | None],
    lower: Sequence[str | None],
    width: int,
    merged: Sequence[MergedRange] | None,
    first: int,
) -> list[str]:
    top = [(str(upper[c]).strip() if c < len(upper) and upper[c] else "") for c in range(width)]
    bottom = [(str(lower[c]).strip() if c < len(lower) and lower[c] else "") for c in range(width)]
    group = list(top)
    if merged:
        for (r0, c0), (r1, c1) in merged:
            if r0 == first and r1 == first and c1 > c0:
                for column in range(c0 + 1, min(c1, width - 1) + 1):
                    group[column] = top[c0]
    else:
        # Without merge information a blank upper cell over a labelled lower cell belongs to
        # the nearest group on its left, if that column also has a lower label.
        for column in range(1, width):
            if not group[column] and bottom[column] and bottom[column - 1] and group[column - 1]:
                group[column] = group[column - 1]
    columns = []
    for column in range(width):
        if group[column] and bottom[column]:
            columns.append(f"{group[column]}/{bottom[column]}")
        else:
            columns.append(group[column] or bottom[column])
    return columns


def locate_header(
    rows: Sequence[Sequence[str | None]],
    *,
    merged: Sequence[MergedRange] | None = None,
    is_label: Callable[[str], bool] | None = None,
) -> HeaderLayout:
    """Find the header row(s) among the first rows of a sheet and flatten them.

    Args:
        rows: the first rows of the sheet (up to HEADER_SCAN_ROWS), cells as text or None.
        merged: merged cell ranges of the sheet (XLSX), if known.
        is_label: tells whether a cell is a known column label (from the data standard);
            without it the header is found by shape (the first row of text-only labels).

    Returns:
        The header layout: first row, number of header rows, flattened column labels.

    Example:
        >>> locate_header([["名册", None], ["姓名", "身份证号"], ["张三", "5227..."]]).columns
        ['姓名', '身份证号']
    """
    rows = list(rows[:HEADER_SCAN_ROWS])
    if not rows:
        return HeaderLayout(0, 1, [])
    first = _pick_header_row(rows, is_label)
    two_rows = _is_second_header_row(rows, first, merged, is_label)
    width = max((len(row) for row in rows[first : first + 2]), default=0)
    while width > 0 and all(
        (len(row) <= width - 1 or row[width - 1] in (None, "")) for row in rows[first : first + 2]
    ):
        width -= 1
    if two_rows:
        return HeaderLayout(first, 2, _flatten(rows[first], rows[first + 1], width, merged, first))
    header = rows[first]
    return HeaderLayout(
        first,
        1,
        [(str(header[c]).strip() if c < len(header) and header[c] else "") for c in range(width)],
    )
