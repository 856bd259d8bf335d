"""Resident ID numbers (居民身份证号码, GB 11643-1999): normalise, validate, parse, repair, mask.

An 18-character number is a 6-digit address code (GB/T 2260), an 8-digit birth date
(YYYYMMDD), a 3-digit sequence (odd for men, even for women) and a check character computed
by ISO 7064 MOD 11-2. Legacy 15-digit numbers (GB 11643-1989) have a 6-digit birth date
without the century and no check character; they are upgraded to 18 characters.

Error messages never contain the number itself (security checklist ID-05): at most its
masked form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from dixian.errors import InvalidIdentifier
from dixian.ids.region import ID_PROVINCE_CODES

Sex = Literal["M", "F"]

# ISO 7064 MOD 11-2 weights of the 17 body digits: 2**(17 - i) mod 11.
WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
# Check character for S mod 11 = 0..10.
_CHECK_CHARS = "10X98765432"
# Birth dates before this year are taken as keying errors (checklist ID-01).
EARLIEST_BIRTH_YEAR = 1890

# Spaces and dashes people type inside numbers; after NFKC the full-width forms are ASCII.
# An explicit class, not `\s`, so that the scalar and the vectorised paths agree exactly.
_SEPARATORS = re.compile(r"[ \t\n\r\f\v\-]")
_DIGITS = frozenset("0123456789")

# Errors a single typing error can cause; the others are not worth searching repairs for.
_REPAIRABLE = frozenset({"check_character", "characters"})

ErrorCode = Literal["empty", "length", "characters", "check_character", "birth_date", "region"]


@dataclass(frozen=True, slots=True)
class IdError:
    """Why a number is not a valid resident ID number.

    Attributes:
        code: machine code: empty, length, characters, check_character, birth_date, region.
        message_zh: the reason in Chinese, for users.
        message_en: the reason in English.
    """

    code: ErrorCode
    message_zh: str
    message_en: str


_MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("身份证号码为空", "the ID number is empty"),
    "length": (
        "身份证号码应为18位（或旧版15位）",
        "an ID number has 18 characters (or 15 for the old format)",
    ),
    "characters": (
        "身份证号码前17位应为数字，最后一位为数字或X",
        "an ID number is 17 digits followed by a digit or X",
    ),
    "check_character": (
        "身份证号码校验位错误，可能有录入错误",
        "the check character does not match (ISO 7064 MOD 11-2); probably a typing error",
    ),
    "birth_date": (
        f"身份证号码中的出生日期无效（须为{EARLIEST_BIRTH_YEAR}年以后、不晚于今天的真实日期）",
        f"the birth date in the ID number is not a real date between {EARLIEST_BIRTH_YEAR} "
        "and today",
    ),
    "region": (
        "身份证号码前两位不是有效的省级行政区划代码",
        "the first two digits are not a province code of GB/T 2260",
    ),
}


def id_error(code: ErrorCode) -> IdError:
    """The `IdError` with the standard messages for an error code."""
    zh, en = _MESSAGES[code]
    return IdError(code=code, message_zh=zh, message_en=en)


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The result of checking one resident ID number.

    Attributes:
        valid: whether the number is a valid 18-character number (after normalising and,
            for a 15-digit number, upgrading).
        normalised: the normalised text; the 18-character form when the input had 15 digits.
        birth_date: the birth date, when valid.
        sex: 'M' or 'F' from the sequence parity, when valid.
        region: the 6-digit address code, when valid.
        error: why the number is invalid, else None.
        repairs: valid numbers one substitution or one adjacent swap away (only when the
            check character or a single character is wrong).
        converted_from_15: the input was a legacy 15-digit number.
    """

    valid: bool
    normalised: str
    birth_date: date | None = None
    sex: Sex | None = None
    region: str | None = None
    error: IdError | None = None
    repairs: tuple[str, ...] = field(default=())
    converted_from_15: bool = False

    def to_dict(self) -> dict[str, object]:
        """The check as plain JSON-ready values (dates as ISO strings)."""
        return {
            "valid": self.valid,
            "normalised": self.normalised,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "region": self.region,
            "error": (
                None
                if self.error is None
                else {
                    "code": self.error.code,
                    "message_zh": self.error.message_zh,
                    "message_en": self.error.message_en,
                }
            ),
            "repairs": list(self.repairs),
            "converted_from_15": self.converted_from_15,
        }


@dataclass(frozen=True, slots=True)
class ResidentId:
    """The parts of a valid 18-character resident ID number."""

    number: str
    region: str
    birth_date: date
    sequence: int
    sex: Sex
    check: str


def normalise_id_number(text: str) -> str:
    """Normalise the way an ID number was typed, without judging it.

    NFKC turns full-width digits, letters and spaces into ASCII; spaces and dashes are
    removed; a lower-case x becomes X.

    Example:
        >>> normalise_id_number("１１０１０５ 19491231-002x")
        '11010519491231002X'
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).replace("x", "X")


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a 17-digit body.

    Raises:
        InvalidIdentifier: the body is not 17 ASCII digits.

    Example:
        >>> check_character("11010519491231002")
        'X'
    """
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise InvalidIdentifier("check_character: expected the 17 digits of an ID number body")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(yyyymmdd: str, today: date) -> date | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    if born.year < EARLIEST_BIRTH_YEAR or born > today:
        return None
    return born


def _upgrade_15(number15: str) -> str | None:
    """The 18-character form of 15 digits (century 19), or None if not 15 digits."""
    if len(number15) != 15 or not _DIGITS.issuperset(number15):
        return None
    body = number15[:6] + "19" + number15[6:]
    return body + check_character(body)


def _check18(number: str, today: date) -> IdCheck:
    """Check an already normalised 18-character string (no repairs)."""
    if not _DIGITS.issuperset(number[:17]) or number[17] not in "0123456789X":
        return IdCheck(valid=False, normalised=number, error=id_error("characters"))
    if check_character(number[:17]) != number[17]:
        return IdCheck(valid=False, normalised=number, error=id_error("check_character"))
    born = _birth_date(number[6:14], today)
    if born is None:
        return IdCheck(valid=False, normalised=number, error=id_error("birth_date"))
    if number[:2] not in ID_PROVINCE_CODES:
        return IdCheck(valid=False, normalised=number, error=id_error("region"))
    return IdCheck(
        valid=True,
        normalised=number,
        birth_date=born,
        sex="M" if int(number[16]) % 2 else "F",
        region=number[:6],
    )


def validate_id_number(
    text: str | None, *, today: date | None = None, accept_15: bool = True, repairs: bool = True
) -> IdCheck:
    """Check a resident ID number as typed, in the order of checklist ID-01.

    Steps: normalise; length (18, or 15 for a legacy number, which is upgraded with century
    19); characters; check character; birth date (a real date from 1890 to today); province
    code. Unknown county codes are accepted (checklist ID-02): divisions get abolished.

    Args:
        text: the number as found in a feed or typed by a user (None counts as empty).
        today: the date birth dates may not be after (default: today).
        accept_15: upgrade 15-digit legacy numbers instead of rejecting them.
        repairs: list repair candidates when the check character or one character is wrong.

    Returns:
        An `IdCheck`; never raises for bad input.

    Example:
        >>> validate_id_number("11010519491231002x").sex
        'F'
    """
    today = today or date.today()
    number = normalise_id_number(text or "")
    if not number:
        return IdCheck(valid=False, normalised=number, error=id_error("empty"))
    if len(number) == 15 and accept_15:
        upgraded = _upgrade_15(number)
        if upgraded is None:
            return IdCheck(valid=False, normalised=number, error=id_error("characters"))
        result = _check18(upgraded, today)
        return IdCheck(
            valid=result.valid,
            normalised=upgraded,
            birth_date=result.birth_date,
            sex=result.sex,
            region=result.region,
            error=result.error,
            converted_from_15=True,
        )
    if len(number) != 18:
        return IdCheck(valid=False, normalised=number, error=id_error("length"))
    result = _check18(number, today)
    error = result.error
    if repairs and error is not None and error.code in _REPAIRABLE:
        candidates = tuple(repair_candidates(number, today=today))
        return IdCheck(valid=False, normalised=number, error=error, repairs=candidates)
    return result


def is_valid_id_number(text: str | None, *, today: date | None = None) -> bool:
    """Whether `validate_id_number` accepts the text (without computing repairs)."""
    return validate_id_number(text, today=today, repairs=False).valid


def parse_id_number(text: str, *, today: date | None = None) -> ResidentId:
    """The parts of a valid ID number (15-digit numbers are upgraded first).

    Raises:
        InvalidIdentifier: the number is invalid; the message names the reason, not the number.

    Example:
        >>> parse_id_number("11010519491231002X").birth_date
        datetime.date(1949, 12, 31)
    """
    result = validate_id_number(text, today=today, repairs=False)
    if not result.valid or result.birth_date is None or result.sex is None:
        assert result.error is not None
        raise InvalidIdentifier(
            f"身份证号码 {mask_id_number(text)}: {result.error.message_zh} "
            f"({result.error.code}: {result.error.message_en})"
        )
    number = result.normalised
    return ResidentId(
        number=number,
        region=number[:6],
        birth_date=result.birth_date,
        sequence=int(number[14:17]),
        sex=result.sex,
        check=number[17],
    )


def convert_15_to_18(id15: str, *, century: int = 19) -> str:
    """Upgrade a legacy 15-digit number: insert the century, append the check character.

    Args:
        id15: the 15-digit number (normalised first: spaces, full-width digits).
        century: the first two digits of the birth year; 19 for every number issued before
            the 18-character format (checklist ID-03).

    Raises:
        InvalidIdentifier: not 15 digits, or the birth date is not a real date.

    Example:
        >>> convert_15_to_18("110105491231002")
        '11010519491231002X'
    """
    number = normalise_id_number(id15)
    if len(number) != 15 or not _DIGITS.issuperset(number):
        raise InvalidIdentifier(
            f"身份证号码 {mask_id_number(id15)}: 旧版号码应为15位数字 (expected 15 digits)"
        )
    if not 10 <= century <= 99:
        raise InvalidIdentifier(f"century: expected two digits such as 19, got {century}")
    body = number[:6] + f"{century:02d}" + number[6:]
    try:
        date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise InvalidIdentifier(
            f"身份证号码 {mask_id_number(id15)}: 出生日期无效 (the birth date is not a real date)"
        ) from None
    return body + check_character(body)


def _allowed(position: int) -> str:
    return "0123456789X" if position == 17 else "0123456789"


def repair_candidates(text: str, *, today: date | None = None) -> list[str]:
    """Valid numbers one typing error away from an 18-character number.

    A typing error is one substituted character (at any position, the check character
    included) or two adjacent characters swapped. MOD 11-2 detects every such error, so a
    valid number has no candidates and a number with one such error always has its
    original among the candidates.

    Args:
        text: an 18-character number (normalised first); other lengths give no candidates.
        today: as for `validate_id_number`.

    Returns:
        The candidates that are themselves fully valid, sorted, without duplicates.

    Example:
        >>> "11010519491231002X" in repair_candidates("11010519491213002X")
        True
    """
    today = today or date.today()
    number = normalise_id_number(text)
    if len(number) != 18:
        return []
    found: set[str] = set()
    for position in range(18):
        for char in _allowed(position):
            if char != number[position]:
                candidate = number[:position] + char + number[position + 1 :]
                if _check18(candidate, today).valid:
                    found.add(candidate)
    for position in range(17):
        left, right = number[position], number[position + 1]
        if left != right:
            candidate = number[:position] + right + left + number[position + 2 :]
            if _check18(candidate, today).valid:
                found.add(candidate)
    found.discard(number)
    return sorted(found)


def make_id_number(region6: str, birth_date: date, sequence3: int) -> str:
    """Build a valid 18-character ID number (for the simulator and tests).

    Args:
        region6: the 6-digit address code.
        birth_date: the birth date.
        sequence3: the sequence number 0..999; odd for men, even for women.

    Raises:
        InvalidIdentifier: a part is out of range.

    Example:
        >>> make_id_number("110105", date(1949, 12, 31), 2)
        '11010519491231002X'
    """
    if len(region6) != 6 or not _DIGITS.issuperset(region6):
        raise InvalidIdentifier(f"region6: expected 6 digits, got {region6!r}")
    if not 0 <= sequence3 <= 999:
        raise InvalidIdentifier(f"sequence3: expected 0..999, got {sequence3}")
    if not 1000 <= birth_date.year <= 9999:
        raise InvalidIdentifier(f"birth_date: expected a four-digit year, got {birth_date}")
    body = f"{region6}{birth_date:%Y%m%d}{sequence3:03d}"
    return body + check_character(body)


def mask_id_number(text: str | None) -> str:
    """Mask an ID number for display: keep the first 6 and the last 4 characters.

    The address code and the last four are what people use to tell numbers apart; the birth
    date is hidden (checklist PI-06). The length is kept, so 15-digit numbers show 5 stars.
    Short or empty input is masked completely.

    Example:
        >>> mask_id_number("11010519491231002x")
        '110105********002X'
    """
    if not text:
        return ""
    number = normalise_id_number(text)
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
