"""Resident ID checks as Ibis expressions, so they run inside DuckDB or Spark.

Only engine-neutral operations are used (substr, translate, regex match/replace, try_cast,
integer arithmetic, CASE), nothing that can fail on a bad row, so every row gets an answer
on both engines. The check character is verified with the full ISO 7064 MOD 11-2 sum: for a
valid number the weighted sum of all 18 characters (X counting 10, weight 1 at the check
position) is 1 modulo 11.

Normalisation here handles what feeds contain (ASCII, full-width digits, x/X, spaces and
dashes, the ideographic space); for such text it equals the NFKC-based `normalise_id_number`.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from dixian.ids.gb11643 import EARLIEST_BIRTH_YEAR, WEIGHTS
from dixian.ids.region import ID_PROVINCE_CODES, significant_prefix

_FULL_WIDTH = "０１２３４５６７８９ｘＸ－\u3000"
_HALF_WIDTH = "0123456789xX- "
_SEPARATOR_PATTERN = r"[ \t\n\r\f\x0b-]"
_CHECK_CHARS = "10X98765432"
_CLEAN_PATTERN = "^[0-9]{17}[0-9X]$"
_PROVINCES = sorted(int(code) for code in ID_PROVINCE_CODES)


def ibis_normalise_id_number(column: ir.StringValue) -> ir.StringValue:
    """Normalise ID numbers in a column: full-width → half-width, no spaces/dashes, x → X.

    Nulls become empty strings, as in `normalise_id_number(None or "")`.
    """
    text = column.fill_null("")
    # Most numbers are already clean; translate() is slow on DuckDB (about 3 µs a row),
    # so only the others take the long way.
    clean = text.re_search(_CLEAN_PATTERN)
    cleaned = text.translate(_FULL_WIDTH, _HALF_WIDTH).re_replace(_SEPARATOR_PATTERN, "")
    return ibis.ifelse(clean, text, cleaned.replace("x", "X"))


def _upgrade_15(text: ir.StringValue) -> ir.StringValue:
    body = text.substr(0, 6) + "19" + text.substr(6, 9)
    # Body positions 0-5 are the text's first six digits, 8-16 its last nine; the inserted
    # "19" contributes a constant.
    total = (
        _weighted_sum(text.substr(0, 6).try_cast("int64"), 0, 6)
        + _weighted_sum(text.substr(6, 9).try_cast("int64"), 8, 17)
        + (1 * WEIGHTS[6] + 9 * WEIGHTS[7])
    )
    return body + ibis.literal(_CHECK_CHARS).substr(total % 11, 1)


def _weighted_sum(value: ir.IntegerValue, start: int, end: int) -> ir.IntegerValue:
    """Σ digit·weight (mod 11) of the digits `value` holds (string positions start..end-1).

    Integer division is float division on some engines, so digits are not extracted.
    With r_k = value mod 10^k, digit_k·10^k = r_{k+1} - r_k, and 10 ≡ -1 (mod 11), so
    digit_k ≡ (-1)^k (r_{k+1} - r_k): the sum is a combination of the r_k with
    coefficients computed here, all non-negative, so that SQL's % stays non-negative.
    """
    size = end - start
    coefficient = {
        size - 1 - index: WEIGHTS[start + index] * (-1) ** (size - 1 - index) % 11
        for index in range(size)
    }
    total: ir.IntegerValue = value * coefficient[size - 1]
    for power in range(1, size):
        factor = (coefficient[power - 1] - coefficient[power]) % 11
        if factor:
            total = total + (value % 10**power) * factor
    return total


def _days_in_month(year: ir.IntegerValue, month: ir.IntegerValue) -> ir.IntegerValue:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days: ir.IntegerValue = month.cases(
        (2, ibis.ifelse(leap, 29, 28)),
        (4, 30),
        (6, 30),
        (9, 30),
        (11, 30),
        else_=31,
    )
    return days


def ibis_check_id_numbers(
    table: ir.Table,
    column: str,
    *,
    today: date | None = None,
    accept_15: bool = True,
    prefix: str | None = None,
) -> ir.Table:
    """Check the ID numbers of a table column inside the engine (DuckDB or Spark).

    The work is done in a few projections, each referring to the columns of the one
    before: one expression per column would repeat the normalisation hundreds of times.

    Args:
        table: the table holding the numbers.
        column: the name of the string column of ID numbers as found in a feed.
        today: the date birth dates may not be after (default: today, fixed when the
            expression is built).
        accept_15: upgrade 15-digit legacy numbers instead of rejecting them.
        prefix: prefix of the added columns (default: the column name and `_`).

    Returns:
        The table with the columns of `validate_id_numbers` added under the prefix:
        `normalised`, `valid`, `error` (null when valid), `birth_date`, `sex`, `region`,
        `converted_from_15`; the same values as the scalar and Arrow checks.

    Example:
        >>> checked = ibis_check_id_numbers(feed, "id_number", prefix="id_")  # doctest: +SKIP
        >>> checked.filter(checked.id_valid)  # doctest: +SKIP
    """
    today = today or date.today()
    prefix = f"{column}_" if prefix is None else prefix
    original = table.columns
    text = ibis_normalise_id_number(table[column])
    step = table.mutate(__ids_text=text, __ids_length=text.length())
    is15 = (step.__ids_length == 15) & step.__ids_text.re_search("^[0-9]{15}$")
    if not accept_15:
        is15 = ibis.literal(False)
    step = step.mutate(
        __ids_is15=is15,
        __ids_number=ibis.ifelse(is15, _upgrade_15(step.__ids_text), step.__ids_text),
    )
    number = step.__ids_number
    # Two integers hold the 17 body digits (9 + 8 fit in int64); try_cast gives null on
    # non-digits, and such rows are caught by the shape test, first in the error CASE.
    # Substrings are the costly part on DuckDB, so there are only four.
    step = step.mutate(
        __ids_shape=number.re_search(_CLEAN_PATTERN),
        __ids_last=number.substr(17, 1),
        __ids_high=number.substr(0, 9).try_cast("int64"),
        __ids_low=number.substr(9, 8).try_cast("int64"),
        __ids_ymd=number.substr(6, 8).try_cast("int64"),
    )
    high, low, ymd = step.__ids_high, step.__ids_low, step.__ids_ymd
    check = ibis.ifelse(step.__ids_last == "X", 10, step.__ids_last.try_cast("int64"))
    step = step.mutate(
        __ids_sum=_weighted_sum(high, 0, 9) + _weighted_sum(low, 9, 17) + check,
        __ids_year=ymd // 10000,
        __ids_month=ymd // 100 % 100,
        __ids_day=ymd % 100,
        __ids_province=high // 10**7,
        __ids_male=low % 2 == 1,
    )
    year, month, day = step.__ids_year, step.__ids_month, step.__ids_day
    today_value = today.year * 10000 + today.month * 100 + today.day
    date_ok = (
        (year >= EARLIEST_BIRTH_YEAR)
        & month.between(1, 12)
        & (day >= 1)
        & (day <= _days_in_month(year, month))
        & (year * 10000 + month * 100 + day <= today_value)
    )
    length = step.__ids_length
    step = step.mutate(
        __ids_error=ibis.cases(
            (length == 0, "empty"),
            ((length == 15) & ~step.__ids_is15 & ibis.literal(accept_15), "characters"),
            ((length != 18) & ~step.__ids_is15, "length"),
            (~step.__ids_shape, "characters"),
            (step.__ids_sum % 11 != 1, "check_character"),
            (~date_ok, "birth_date"),
            (~step.__ids_province.isin(_PROVINCES), "region"),
            else_=ibis.null("string"),
        )
    )
    valid = step.__ids_error.isnull()
    birth = ibis.date(
        ibis.ifelse(valid, year, 2000), ibis.ifelse(valid, month, 1), ibis.ifelse(valid, day, 1)
    )
    outputs = {
        "normalised": step.__ids_number,
        "valid": valid,
        "error": step.__ids_error,
        "birth_date": ibis.ifelse(valid, birth, ibis.null("date")),
        "sex": ibis.ifelse(valid, ibis.ifelse(step.__ids_male, "M", "F"), ibis.null("string")),
        "region": ibis.ifelse(valid, number.substr(0, 6), ibis.null("string")),
        "converted_from_15": step.__ids_is15,
    }
    return step.select(*original, **{f"{prefix}{name}": value for name, value in outputs.items()})


def ibis_in_jurisdiction(column: ir.StringValue, prefix: str) -> ir.BooleanValue:
    """Whether 12-digit region codes in a column lie within a jurisdiction.

    Args:
        column: 12-digit region codes.
        prefix: a region code of 2/4/6/9/12 digits, cut to its significant digits.
    """
    return column.startswith(significant_prefix(prefix))
