"""Region codes (统计用区划代码): 12 digits = province 2, city 2, county 2, township 3, village 3.

Trailing zero segments mean "not below this level": `522799000000` is a county,
`522799101000` a township, `522799101201` a village. A zero segment may sit between two
non-zero ones: cities without counties (东莞 4419, 中山 4420, 儋州 4604) have townships directly
under the city, e.g. `441900003000`; the parent of a code is the code with its lowest
non-zero segment zeroed. Jurisdiction is a prefix of the significant digits: a county user
sees every code that starts with its 6 digits.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from dixian.errors import InvalidIdentifier

RegionLevel = Literal["province", "city", "county", "township", "village"]

LEVELS: tuple[RegionLevel, ...] = ("province", "city", "county", "township", "village")
# Length of the significant prefix at each level.
PREFIX_LENGTHS: dict[RegionLevel, int] = {
    "province": 2,
    "city": 4,
    "county": 6,
    "township": 9,
    "village": 12,
}
_SEGMENTS: tuple[tuple[int, int], ...] = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))
_DIGITS = frozenset("0123456789")

# Province-level divisions of GB/T 2260.
PROVINCE_CODES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}
# Residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证) use the
# 18-character ID format with address codes 810000, 820000 and 830000.
ID_PROVINCE_CODES: frozenset[str] = frozenset(PROVINCE_CODES) | {"83"}


def _invalid(text: str, reason_zh: str, reason_en: str) -> InvalidIdentifier:
    return InvalidIdentifier(f"区划代码 {text!r}: {reason_zh} ({reason_en})")


def normalise_region_code(text: str) -> str:
    """The 12-digit form of a region code written with 2, 4, 6, 9 or 12 digits.

    Full-width digits and surrounding spaces are accepted; short forms are padded with zeros
    (`522799` → `522799000000`).

    Raises:
        InvalidIdentifier: not digits, a length other than 2/4/6/9/12, or an unknown province.

    Example:
        >>> normalise_region_code("522799101")
        '522799101000'
    """
    code = unicodedata.normalize("NFKC", text).strip()
    if not code or not _DIGITS.issuperset(code):
        raise _invalid(text, "应为数字", "expected digits")
    if len(code) not in PREFIX_LENGTHS.values():
        raise _invalid(text, "应为2、4、6、9或12位", "expected 2, 4, 6, 9 or 12 digits")
    code = code.ljust(12, "0")
    if code[:2] not in PROVINCE_CODES:
        raise _invalid(text, "省级代码无效", "the first two digits are not a province code")
    return code


def is_valid_region_code(text: str) -> bool:
    """Whether `normalise_region_code` accepts the text."""
    try:
        normalise_region_code(text)
    except InvalidIdentifier:
        return False
    return True


def region_level(code: str) -> RegionLevel:
    """The level of a region code, from its trailing zero segments.

    Example:
        >>> region_level("522799101000")
        'township'
    """
    full = normalise_region_code(code)
    level: RegionLevel = "province"
    for name, (start, end) in zip(LEVELS, _SEGMENTS, strict=True):
        if set(full[start:end]) != {"0"}:
            level = name
    return level


def significant_prefix(code: str) -> str:
    """The digits of a code that matter for its level (`522799000000` → `522799`)."""
    full = normalise_region_code(code)
    return full[: PREFIX_LENGTHS[region_level(full)]]


def region_parent(code: str) -> str | None:
    """The 12-digit code of the level above, or None for a province.

    Example:
        >>> region_parent("522799101201")
        '522799101000'
    """
    full = normalise_region_code(code)
    level = region_level(full)
    if level == "province":
        return None
    start = _SEGMENTS[LEVELS.index(level)][0]
    return full[:start].ljust(12, "0")


def region_ancestors(code: str) -> list[str]:
    """The 12-digit codes above a code, province first, the code itself excluded.

    Example:
        >>> region_ancestors("522799101000")
        ['520000000000', '522700000000', '522799000000']
    """
    ancestors: list[str] = []
    parent = region_parent(code)
    while parent is not None:
        ancestors.append(parent)
        parent = region_parent(parent)
    return ancestors[::-1]


def in_jurisdiction(code: str, prefix: str) -> bool:
    """Whether a region lies within a jurisdiction (a prefix test on significant digits).

    Args:
        code: the region code to test, in any accepted form (padded to 12 digits first).
        prefix: the jurisdiction as a 2/4/6/9/12-digit code, read as a region code and
            cut to its significant digits: `522799`, `522799000000` both mean the county,
            `520000` the province.

    Raises:
        InvalidIdentifier: either code is malformed.

    Example:
        >>> in_jurisdiction("522799101201", "522799")
        True
    """
    return normalise_region_code(code).startswith(significant_prefix(prefix))


@dataclass(frozen=True, slots=True)
class RegionCode:
    """A validated 12-digit region code with its parts.

    Example:
        >>> RegionCode.parse("522799").level
        'county'
    """

    code: str

    @classmethod
    def parse(cls, text: str) -> RegionCode:
        """Validate and pad a region code; raises InvalidIdentifier when malformed."""
        return cls(normalise_region_code(text))

    @property
    def level(self) -> RegionLevel:
        """province, city, county, township or village."""
        return region_level(self.code)

    @property
    def parent(self) -> RegionCode | None:
        """The region one level up, or None for a province."""
        parent = region_parent(self.code)
        return None if parent is None else RegionCode(parent)

    @property
    def ancestors(self) -> list[RegionCode]:
        """The regions above, province first."""
        return [RegionCode(code) for code in region_ancestors(self.code)]

    @property
    def prefix(self) -> str:
        """The significant digits (2, 4, 6, 9 or 12)."""
        return significant_prefix(self.code)

    @property
    def province(self) -> str:
        """The 2-digit province code."""
        return self.code[:2]

    @property
    def county(self) -> str:
        """The 6-digit county code (zeros above county level)."""
        return self.code[:6]

    def contains(self, other: str | RegionCode) -> bool:
        """Whether `other` lies within this region (itself included)."""
        other_code = other.code if isinstance(other, RegionCode) else other
        return in_jurisdiction(other_code, self.prefix)
