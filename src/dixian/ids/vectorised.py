"""Resident ID checks on whole columns with Arrow and NumPy, equal to the scalar checks.

`validate_id_numbers` gives, row for row, the same `valid`, `normalised`, `birth_date`,
`sex`, `region` and error code as `validate_id_number` (without repair candidates, which
only the few invalid rows need: call `repair_candidates` on those). It works in chunks of
about a million rows so that memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dixian.ids.gb11643 import EARLIEST_BIRTH_YEAR, WEIGHTS
from dixian.ids.region import ID_PROVINCE_CODES

# Error labels by code; index 0 (valid) is null.
ERROR_LABELS: tuple[str | None, ...] = (
    None,
    "empty",
    "length",
    "characters",
    "check_character",
    "birth_date",
    "region",
)
_EMPTY, _LENGTH, _CHARACTERS, _CHECK, _BIRTH, _REGION = range(1, 7)
_CHUNK_ROWS = 1 << 20
_SEPARATOR_PATTERN = r"[ \t\n\r\f\x0b\-]"
_CHECK_BYTES = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_PROVINCE_TABLE = np.zeros(100, dtype=bool)
_PROVINCE_TABLE[[int(code) for code in ID_PROVINCE_CODES]] = True
_ZERO = ord("0")
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[_ZERO : _ZERO + 10] = True
_IS_DIGIT_OR_X = _IS_DIGIT.copy()
_IS_DIGIT_OR_X[ord("X")] = True
_SEPARATOR_BYTES = np.zeros(256, dtype=bool)
_SEPARATOR_BYTES[list(b" \t\n\r\f\x0b-x")] = True  # and x, to upper-case
_NON_ASCII_BYTES = np.zeros(256, dtype=bool)
_NON_ASCII_BYTES[128:] = True

RESULT_SCHEMA = pa.schema(
    [
        ("valid", pa.bool_()),
        ("normalised", pa.string()),
        ("birth_date", pa.date32()),
        ("sex", pa.string()),
        ("region", pa.string()),
        ("error", pa.string()),
        ("converted_from_15", pa.bool_()),
    ]
)

IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]


def _as_string_array(values: pa.Array | pa.ChunkedArray | Iterable[Any]) -> pa.StringArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    if array.type != pa.string():
        array = array.cast(pa.string())
    result: pa.StringArray = array
    return result


def _used_bytes(array: pa.StringArray) -> npt.NDArray[np.uint8]:
    """The bytes of an array's strings, concatenated (a view, no copy)."""
    if len(array) == 0:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    start, end = int(offsets[array.offset]), int(offsets[array.offset + len(array)])
    return np.frombuffer(array.buffers()[2], dtype=np.uint8)[start:end]


def _rows_containing(array: pa.StringArray, table: npt.NDArray[np.bool_]) -> BoolArray:
    """Which strings contain a byte marked in `table` (one pass over the bytes)."""
    data = _used_bytes(array)
    hits = np.flatnonzero(table[data])
    rows = np.zeros(len(array), dtype=bool)
    if hits.size:
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
        offsets = offsets[array.offset : array.offset + len(array) + 1]
        rows[np.searchsorted(offsets, hits + offsets[0], side="right") - 1] = True
    return rows


def _rewrite_rows(
    array: pa.StringArray, rows: BoolArray, rewrite: Callable[[pa.StringArray], pa.StringArray]
) -> pa.StringArray:
    """Apply a string function to the marked rows only: most numbers need no rewriting."""
    if not rows.any():
        return array
    mask = pa.array(rows)
    result: pa.StringArray = pc.replace_with_mask(array, mask, rewrite(pc.filter(array, mask)))
    return result


def _nfkc(array: pa.StringArray) -> pa.StringArray:
    result: pa.StringArray = pc.utf8_normalize(array, form="NFKC")
    return result


def _strip_separators(array: pa.StringArray) -> pa.StringArray:
    array = pc.replace_substring_regex(array, pattern=_SEPARATOR_PATTERN, replacement="")
    result: pa.StringArray = pc.replace_substring(array, pattern="x", replacement="X")
    return result


def normalise_id_numbers(values: pa.Array | pa.ChunkedArray | Iterable[Any]) -> pa.StringArray:
    """`normalise_id_number` on a column; nulls become empty strings."""
    array: pa.StringArray = pc.fill_null(_as_string_array(values), "")
    array = _rewrite_rows(array, _rows_containing(array, _NON_ASCII_BYTES), _nfkc)
    return _rewrite_rows(array, _rows_containing(array, _SEPARATOR_BYTES), _strip_separators)


def _strings_from_columns(columns: npt.NDArray[np.uint8]) -> pa.StringArray:
    width, rows = columns.shape
    offsets = np.arange(rows + 1, dtype=np.int32) * width
    data = np.ascontiguousarray(columns.T).tobytes()
    result: pa.StringArray = pa.Array.from_buffers(
        pa.string(), rows, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )
    return result


def _columns(array: pa.StringArray, width: int) -> npt.NDArray[np.uint8]:
    """Column-major bytes (`width` rows of len(array)) of strings of exactly `width` bytes.

    Column-major so that every step below works on contiguous vectors.
    """
    rows = len(array)
    if rows == 0:
        return np.zeros((width, 0), dtype=np.uint8)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    start = int(offsets[array.offset])
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    return np.ascontiguousarray(data[start : start + rows * width].reshape(rows, width).T)


def _check_bytes(body: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Check characters of 17 body columns; garbage (not an error) for non-digit bytes."""
    total = np.zeros(body.shape[1], dtype=np.int32)
    for column, weight in zip(body, WEIGHTS, strict=True):
        total += column * np.int32(weight)
    # Bytes are ASCII codes: subtract '0' times the sum of the weights once.
    remainder = (total - _ZERO * sum(WEIGHTS)) % 11
    result: npt.NDArray[np.uint8] = _CHECK_BYTES[remainder]
    return result


def _upgrade_15(columns15: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """18 columns of the upgraded numbers, from 15 columns of 15-digit numbers."""
    century = np.empty((2, columns15.shape[1]), dtype=np.uint8)
    century[0], century[1] = ord("1"), ord("9")
    body = np.concatenate([columns15[:6], century, columns15[6:]])
    return np.concatenate([body, _check_bytes(body)[None, :]])


def _digits_value(columns: npt.NDArray[np.uint8], start: int, end: int) -> IntArray:
    value = np.zeros(columns.shape[1], dtype=np.int32)
    for column in range(start, end):
        value = value * 10 + columns[column] - _ZERO
    return value


def _errors18(columns: npt.NDArray[np.uint8], today: date) -> tuple[IntArray, IntArray]:
    """Error codes of 18-byte numbers and their birth dates as YYYYMMDD (0 where invalid)."""
    characters_ok = _IS_DIGIT[columns[0]]
    for column in columns[1:17]:
        characters_ok &= _IS_DIGIT[column]
    characters_ok &= _IS_DIGIT_OR_X[columns[17]]
    check_ok = characters_ok & (_check_bytes(columns[:17]) == columns[17])
    year = _digits_value(columns, 6, 10)
    month = _digits_value(columns, 10, 12)
    day = _digits_value(columns, 12, 14)
    month_index = np.clip(month, 0, 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _DAYS_IN_MONTH[month_index] + ((month_index == 2) & leap)
    yyyymmdd = year * 10000 + month * 100 + day
    today_value = today.year * 10000 + today.month * 100 + today.day
    date_ok = (
        (year >= EARLIEST_BIRTH_YEAR)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= days)
        & (yyyymmdd <= today_value)
    )
    province = np.clip(_digits_value(columns, 0, 2), 0, 99)
    region_ok = _PROVINCE_TABLE[province]
    codes = np.select(
        [~characters_ok, ~check_ok, ~date_ok, ~region_ok],
        [_CHARACTERS, _CHECK, _BIRTH, _REGION],
        default=0,
    ).astype(np.int32)
    return codes, np.where(codes == 0, yyyymmdd, 0).astype(np.int32)


def _dates(yyyymmdd: IntArray) -> npt.NDArray[np.int32]:
    """Days since 1970-01-01 of YYYYMMDD values (0 for 0 entries, masked later)."""
    safe = np.where(yyyymmdd > 0, yyyymmdd, 19700101)
    months = (safe // 10000 - 1970) * 12 + (safe // 100 % 100 - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    days: npt.NDArray[np.int32] = (first + (safe % 100 - 1)).astype(np.int64).astype(np.int32)
    return days


def _validate_chunk(values: pa.StringArray, today: date, accept_15: bool) -> pa.Table:
    normalised = normalise_id_numbers(values)
    rows = len(normalised)
    char_length = pc.utf8_length(normalised).to_numpy(zero_copy_only=False)
    byte_length = pc.binary_length(normalised).to_numpy(zero_copy_only=False)
    codes = np.zeros(rows, dtype=np.int32)
    codes[char_length == 0] = _EMPTY
    is15 = np.zeros(rows, dtype=bool)
    if accept_15:
        maybe15 = char_length == 15
        digits15 = np.zeros(rows, dtype=bool)
        if maybe15.any():
            candidates = pc.filter(normalised, pa.array(maybe15))
            digits15[maybe15] = pc.match_substring_regex(
                candidates, pattern="^[0-9]{15}$"
            ).to_numpy(zero_copy_only=False)
        is15 = maybe15 & digits15
        codes[maybe15 & ~digits15] = _CHARACTERS
        if is15.any():
            upgraded = _upgrade_15(_columns(pc.filter(normalised, pa.array(is15)), 15))
            normalised = pc.replace_with_mask(
                normalised, pa.array(is15), _strings_from_columns(upgraded)
            )
    has18 = is15 | (char_length == 18)
    codes[(codes == 0) & ~has18] = _LENGTH
    codes[has18 & ~is15 & (byte_length != 18)] = _CHARACTERS
    ascii18 = has18 & (codes == 0)
    yyyymmdd = np.zeros(rows, dtype=np.int32)
    male = np.zeros(rows, dtype=np.int8)
    if ascii18.any():
        columns = _columns(pc.filter(normalised, pa.array(ascii18)), 18)
        codes18, dates18 = _errors18(columns, today)
        codes[ascii18] = codes18
        yyyymmdd[ascii18] = dates18
        male[ascii18] = columns[16] % 2  # '0' is 48, so parity of the byte is the digit's
    valid = codes == 0
    invalid_mask = pa.array(~valid)
    regions = pc.if_else(invalid_mask, None, pc.utf8_slice_codeunits(normalised, 0, 6))
    sexes = pc.take(pa.array(["F", "M"]), pa.array(male, mask=~valid))
    birth = pa.array(_dates(yyyymmdd), type=pa.int32(), mask=~valid).cast(pa.date32())
    errors = pc.take(pa.array(ERROR_LABELS, type=pa.string()), pa.array(codes))
    return pa.table(
        [pa.array(valid), normalised, birth, sexes, regions, errors, pa.array(is15)],
        schema=RESULT_SCHEMA,
    )


def validate_id_numbers(
    values: pa.Array | pa.ChunkedArray | Iterable[Any],
    *,
    today: date | None = None,
    accept_15: bool = True,
) -> pa.Table:
    """`validate_id_number` on a whole column, without repair candidates.

    Args:
        values: ID numbers as an Arrow array, a NumPy/pandas column or any iterable of
            strings (None counts as empty).
        today: the date birth dates may not be after (default: today).
        accept_15: upgrade 15-digit legacy numbers instead of rejecting them.

    Returns:
        An Arrow table with one row per input and the columns `valid`, `normalised`,
        `birth_date` (date32), `sex` ('M'/'F'), `region` (6 digits), `error` (the error
        code, null when valid) and `converted_from_15`.

    Example:
        >>> validate_id_numbers(["11010519491231002x", "123"]).column("error").to_pylist()
        [None, 'length']
    """
    today = today or date.today()
    array = _as_string_array(values)
    chunks = [
        _validate_chunk(array.slice(start, _CHUNK_ROWS), today, accept_15)
        for start in range(0, len(array), _CHUNK_ROWS)
    ]
    if not chunks:
        return RESULT_SCHEMA.empty_table()
    return pa.concat_tables(chunks).combine_chunks()
