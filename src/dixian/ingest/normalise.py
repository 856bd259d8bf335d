"""Normalisation of feed text as Ibis expressions, so it runs vectorised on DuckDB and on Spark.

`compact`, `clean_text` and `match_key` take a raw text column; the parsers take a column
already passed through `compact` (pass a column reference, not an expression: Ibis inlines
expressions, and the parsers refer to their input many times). A value that cannot be
parsed becomes null, and the validator turns "present but null after parsing" into a reason.
Only functions both engines compile are used: translate, regexp extract/replace, substr,
ascii, try_cast, CASE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import ibis
import ibis.expr.types as ir

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map to their half-width forms;
# no-break space becomes a plain space. Chinese feeds type digits and letters either way.
_FULL_WIDTH = "".join(chr(code) for code in range(0xFF01, 0xFF5F)) + "\u3000\u00a0"
_HALF_WIDTH = "".join(chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)) + "  "

# Excel's day zero for serial dates (1900 date system, after the 1900-02-29 bug).
_EXCEL_EPOCH = date(1899, 12, 30)
# Serials from 1900-03-01 to 2173: five-digit numbers, never confused with yyyymmdd.
_EXCEL_SERIAL = r"^[1-9]\d{4}(\.0+)?$"

_UNIT_FACTORS = {"万": 10_000.0, "千": 1_000.0, "百": 100.0}
UNIT_FACTORS = {"万元": 10_000.0, "千元": 1_000.0, "元": 1.0}

_TRUE_WORDS = ("是", "有", "y", "yes", "true", "t", "1", "√", "对")
_FALSE_WORDS = ("否", "无", "n", "no", "false", "f", "0", "×", "不是", "没有")


@cache
def _traditional_to_simplified() -> tuple[str, str]:
    """Character pairs of OpenCC's TSCharacters table (first simplified form of each)."""
    text = (
        resources.files("opencc")
        .joinpath("dictionary/TSCharacters.txt")
        .read_text(encoding="utf-8")
    )
    source, target = [], []
    for line in text.splitlines():
        parts = line.split()
        single = len(parts) >= 2 and len(parts[0]) == 1 and len(parts[1]) == 1
        # Only BMP characters, so the table is safe for both engines' translate.
        if single and parts[0] != parts[1] and max(ord(parts[0]), ord(parts[1])) < 0x10000:
            source.append(parts[0])
            target.append(parts[1])
    return "".join(source), "".join(target)


@cache
def _python_tables() -> tuple[dict[int, int], dict[int, int]]:
    source, target = _traditional_to_simplified()
    return (
        str.maketrans(_FULL_WIDTH, _HALF_WIDTH),
        str.maketrans(source, target),
    )


def traditional_table() -> dict[int, int]:
    """OpenCC's traditional → simplified character table for `str.translate`."""
    return _python_tables()[1]


def python_match_key(text: str) -> str:
    """The same key as `match_key`, computed in Python (for small lookup tables)."""
    width, simplified = _python_tables()
    return "".join(text.translate(width).split()).translate(simplified).upper()


def _guarded_translate(value: ir.StringValue, source: str, target: str) -> ir.StringValue:
    # DuckDB's translate() costs ~10 µs per row even for short tables, so it runs only on
    # the (few) values that contain a character to translate; a regex test is cheap.
    needs = value.re_search("[" + re.escape(source) + "]").fill_null(False)
    return ibis.ifelse(needs, value.translate(source, target), value)


def half_width(value: ir.StringValue) -> ir.StringValue:
    """Full-width letters, digits, punctuation and spaces to half-width."""
    return _guarded_translate(value, _FULL_WIDTH, _HALF_WIDTH)


def clean_text(value: ir.StringValue) -> ir.StringValue:
    """Half-width, trimmed, inner runs of whitespace collapsed; empty becomes null."""
    cleaned = half_width(value).re_replace(r"\s+", " ").strip()
    return ibis.ifelse(cleaned == "", ibis.null("string"), cleaned)


def compact(value: ir.StringValue) -> ir.StringValue:
    """Half-width with every whitespace removed; empty becomes null."""
    cleaned = half_width(value).re_replace(r"\s+", "")
    return ibis.ifelse(cleaned == "", ibis.null("string"), cleaned)


def to_simplified(value: ir.StringValue, *, only: Iterable[str] | None = None) -> ir.StringValue:
    """Traditional characters to simplified, character by character (for matching keys).

    Args:
        value: a text column.
        only: if given, convert only to these simplified characters (the characters of a
            lookup table's keys): a far shorter SQL literal, the same matches.
    """
    source, target = _traditional_to_simplified()
    if only is not None:
        wanted = set("".join(only))
        pairs = [(s, t) for s, t in zip(source, target, strict=True) if t in wanted]
        if not pairs:
            return value
        source, target = "".join(s for s, _ in pairs), "".join(t for _, t in pairs)
    return _guarded_translate(value, source, target)


def match_key(value: ir.StringValue) -> ir.StringValue:
    """A matching key: half-width, whitespace removed, simplified, Latin upper-cased."""
    return to_simplified(compact(value)).upper()


def strip_time(value: ir.StringValue) -> ir.StringValue:
    """Drop a trailing time of day (`2020-01-02 00:00:00` → `2020-01-02`)."""
    return value.re_replace(r"[T]?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")


def parse_date(value: ir.StringValue) -> ir.DateValue:
    """A date from the variants departments write; null when it is not a real date.

    Accepted: `2020-01-02`, `2020/1/2`, `2020.1.2`, `20200102`, `2020年1月2日`, full-width
    digits, a trailing time (after `strip_time`), Excel serial numbers (`43832`), and
    months (`2020-01`, `2020年1月`, `202001`) as their first day.
    """
    text = value
    separated = r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"
    year = text.re_extract(separated, 1)
    month_only = r"^(\d{4})[-/.年](\d{1,2})月?$"
    month_year = text.re_extract(month_only, 1)
    iso = ibis.cases(
        (
            month_year != "",
            month_year.concat("-", text.re_extract(month_only, 2).lpad(2, "0"), "-01"),
        ),
        (text.re_search(r"^\d{6}$"), text.substr(0, 4).concat("-", text.substr(4, 2), "-01")),
        (
            year != "",
            year.concat("-", text.re_extract(separated, 2).lpad(2, "0"), "-").concat(
                text.re_extract(separated, 3).lpad(2, "0")
            ),
        ),
        (
            text.re_search(r"^\d{8}$"),
            text.substr(0, 4).concat("-", text.substr(4, 2), "-").concat(text.substr(6, 2)),
        ),
        else_=ibis.null("string"),
    )
    parsed = iso.try_cast("date")
    serial = text.re_search(_EXCEL_SERIAL)
    serial_days = text.re_extract(r"^(\d+)", 1).try_cast("int64")
    from_serial = ibis.literal(_EXCEL_EPOCH) + serial_days.as_interval("D")
    return ibis.ifelse(serial.fill_null(False), from_serial.cast("date"), parsed)


def parse_amount(
    value: ir.StringValue, *, default_factor: float | ir.FloatingValue = 1.0
) -> ir.FloatingValue:
    """An amount in yuan from text with a unit: `12000`, `1.2万元`, `3千元`, `1,200.50元`.

    Args:
        value: the cell text.
        default_factor: yuan per unit of a bare number (10000 under a header "金额（万元）").
    """
    text = value.replace(",", "").replace("￥", "").replace("¥", "")
    pattern = r"^([-+]?\d+(?:\.\d+)?|[-+]?\.\d+)((万|千|百)?元?)(/月|/年|每月|每年)?$"
    number = text.re_extract(pattern, 1)
    unit = text.re_extract(pattern, 2)
    factor = ibis.cases(
        *[(unit.startswith(key), ibis.literal(f)) for key, f in _UNIT_FACTORS.items()],
        (unit == "元", ibis.literal(1.0)),
        else_=default_factor
        if not isinstance(default_factor, float)
        else ibis.literal(default_factor),
    )
    amount = ibis.ifelse(number == "", ibis.null("float64"), number.try_cast("float64"))
    return (amount * factor).round(2)


def parse_float(value: ir.StringValue) -> ir.FloatingValue:
    """A plain number (thousands separators allowed); null when not a number."""
    text = value.replace(",", "")
    ok = text.re_search(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
    return ibis.ifelse(ok.fill_null(False), text.try_cast("float64"), ibis.null("float64"))


def parse_int(value: ir.StringValue) -> ir.IntegerValue:
    """A whole number (`3`, `3.0`, `３`); null when not a whole number."""
    text = value.replace(",", "")
    ok = text.re_search(r"^[-+]?\d{1,18}(\.0*)?$")
    digits = text.re_extract(r"^([-+]?\d+)", 1)
    return ibis.ifelse(ok.fill_null(False), digits.try_cast("int64"), ibis.null("int64"))


def parse_bool(value: ir.StringValue) -> ir.BooleanValue:
    """A yes/no value from 是/否, 有/无, Y/N, 1/0, true/false; null otherwise."""
    text = value.lower()
    return ibis.cases(
        (text.isin(list(_TRUE_WORDS)), ibis.literal(True)),
        (text.isin(list(_FALSE_WORDS)), ibis.literal(False)),
        else_=ibis.null("boolean"),
    )


# ------------------------------------------------------------------------------- ID numbers

# ISO 7064 MOD 11-2 (GB 11643): weights of the 17 body digits and the check characters.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Province-level codes of GB/T 2260 that appear as the first two digits of ID numbers.
ID_PROVINCES = (
    11,
    12,
    13,
    14,
    15,
    21,
    22,
    23,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    41,
    42,
    43,
    44,
    45,
    46,
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
    71,
    81,
    82,
)
EARLIEST_BIRTH_YEAR = 1890


def _digit(text: ir.StringValue, position: int) -> ir.IntegerValue:
    # ascii() never fails, unlike a cast; callers check the characters are digits first.
    return text.substr(position, 1).ascii_str() - 48


def _weighted_sum(body: ir.StringValue) -> Any:
    total: Any = _digit(body, 0) * ID_WEIGHTS[0]
    for position in range(1, 17):
        total = total + _digit(body, position) * ID_WEIGHTS[position]
    return total


def _check_char(body: ir.StringValue) -> ir.StringValue:
    remainder = _weighted_sum(body) % 11
    return remainder.cases(*((index, char) for index, char in enumerate(ID_CHECK_CHARS)))


def id_body_of_15(upper: ir.StringValue) -> ir.StringValue:
    """The 17-digit body of an old 15-digit number (century 19 inserted), else null.

    Security checklist ID-03: 15-digit numbers predate 1999, so the century is 19.
    """
    fifteen = upper.re_search(r"^\d{15}$").fill_null(False)
    body = upper.substr(0, 6).concat("19", upper.substr(6, 9))
    return ibis.ifelse(fifteen, body, ibis.null("string"))


def id_with_check(body: ir.StringValue) -> ir.StringValue:
    """A 17-digit body column with its check character appended."""
    return body.concat(_check_char(body))


def normalise_id_number(text: ir.StringValue) -> ir.StringValue:
    """The 18-character form of a compacted ID number: upper-case X, 15 → 18 digits.

    For small inputs; on tables stage it as `id_body_of_15` then `id_with_check` on
    columns (the check refers to the body 17 times).
    """
    upper = text.upper()
    body = id_body_of_15(upper)
    return ibis.ifelse(body.notnull(), id_with_check(body), upper)


def id_number_error(number: ir.StringValue, *, today: date) -> ir.StringValue:
    """Why a normalised ID number column is invalid (null when valid).

    Codes: `empty`, `length`, `characters`, `check_character`, `birth_date` (not a real date,
    before 1890 or after today), `region` (unknown province).
    """
    year = number.substr(6, 4).try_cast("int64")
    month = number.substr(10, 2).try_cast("int64")
    day = number.substr(12, 2).try_cast("int64")
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = month.cases(
        (2, ibis.ifelse(leap, 29, 28)), (4, 30), (6, 30), (9, 30), (11, 30), else_=31
    )
    today_value = today.year * 10000 + today.month * 100 + today.day
    last = number.substr(17, 1)
    check_value = ibis.ifelse(last == "X", 10, _digit(number, 17))
    date_ok = (
        (year >= EARLIEST_BIRTH_YEAR)
        & month.between(1, 12)
        & (day >= 1)
        & (day <= days)
        & (year * 10000 + month * 100 + day <= today_value)
    )
    return ibis.cases(
        (number.isnull() | (number == ""), "empty"),
        (number.length() == 15, "characters"),  # 15 long but not all digits: not upgraded
        (number.length() != 18, "length"),
        (~number.re_search(r"^\d{17}[\dX]$"), "characters"),
        # ISO 7064 MOD 11-2: the weighted body plus the check value (X = 10) is 1 mod 11;
        # integer arithmetic, so the engine evaluates the 17-term sum once.
        ((_weighted_sum(number) + check_value) % 11 != 1, "check_character"),
        (~date_ok.fill_null(False), "birth_date"),
        (~number.substr(0, 2).try_cast("int64").isin(list(ID_PROVINCES)), "region"),
        else_=ibis.null("string"),
    )


def id_birth_date(number: ir.StringValue) -> ir.DateValue:
    """The birth date coded in a well-formed 18-character ID number (null if impossible)."""
    return (
        number.substr(6, 4).concat("-", number.substr(10, 2), "-").concat(number.substr(12, 2))
    ).try_cast("date")


def id_sex(number: ir.StringValue) -> ir.StringValue:
    """The sex coded in an ID number: "M" for an odd sequence digit, else "F" (GB 11643)."""
    return ibis.ifelse(_digit(number, 16) % 2 == 1, ibis.literal("M"), ibis.literal("F"))
