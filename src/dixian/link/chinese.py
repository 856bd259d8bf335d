"""Matching keys for Chinese (and Latin) person names and addresses.

DuckDB's string distances count UTF-8 bytes, not characters: ``levenshtein('张伟', '张玮')``
is 3 there (each Han character is 3 bytes) and 1 by characters, and Jaro-Winkler is skewed
the same way. Rather than depend on one engine's string functions, every character-level
comparison is turned into precomputed keys that plain equality and array intersection can
compare on any engine (DuckDB and Spark alike):

- ``key``: traditional folded to simplified, full-width to half-width, whitespace removed,
  Latin lower-cased (the ingestion contract's ``name_key``);
- ``pinyin``: toneless pinyin of each character, joined (张伟 and 章伟 are both ``zhangwei``);
  ASCII, so any engine's Levenshtein or Jaro-Winkler on it is character-aware;
- ``pinyin_fuzzy``: pinyin with the initials and finals that dialect speakers merge folded
  (zh/z, ch/c, sh/s, -ng/-n, l/n);
- ``masks``: the name with each character position in turn replaced by ``*``; two names of
  the same length differ in exactly one character iff their masks intersect. This is the
  character-level "edit distance 1 by substitution" without a character-aware Levenshtein.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

# Two-character surnames (复姓) that are still in use; without this list 欧阳娜娜 would be
# split as surname 欧 + given name 阳娜娜.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "万俟",
        "闻人",
        "西门",
        "百里",
        "呼延",
        "东郭",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "赫连",
        "钟离",
        "濮阳",
        "淳于",
        "单于",
        "拓跋",
        "第五",
        "公羊",
        "左丘",
        "谷梁",
        "梁丘",
        "宗政",
        "仲孙",
        "羊舌",
        "微生",
        "乐正",
        "司空",
        "司寇",
        "亓官",
        "巫马",
        "漆雕",
        "壤驷",
        "公良",
        "夹谷",
        "宰父",
        "段干",
        "百里",
        "东门",
        "呼延",
        "归海",
        "羊舌",
        "梁丘",
        "左丘",
        "东方",
        "南门",
        "西门",
    ]
)

_WHITESPACE = re.compile(r"[\s\u3000·•・.]+")
_FUZZY_RULES: tuple[tuple[str, str], ...] = (
    ("zh", "z"),
    ("ch", "c"),
    ("sh", "s"),
    ("ng", "n"),
)


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1 << 20)
def name_key(text: str | None) -> str | None:
    """Matching key of a name: simplified, half-width, no whitespace or dots, lower-case.

    Args:
        text: the name as written in a feed.

    Returns:
        The key, or None for a missing or blank name.

    Example:
        >>> name_key("張　偉")
        '张伟'
    """
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", str(text))
    folded = _WHITESPACE.sub("", folded)
    if not folded:
        return None
    converted: str = _t2s().convert(folded)
    return converted.lower()


@lru_cache(maxsize=65536)
def _char_pinyin(char: str) -> str:
    if char.isascii():
        return char
    syllables = lazy_pinyin(char, style=Style.NORMAL, errors="default")
    return syllables[0] if syllables else char


@lru_cache(maxsize=1 << 20)
def pinyin(key: str | None) -> str | None:
    """Toneless pinyin of a (normalised) name, one syllable per character, joined.

    Characters are read one at a time, so a name's reading never depends on the
    characters next to it (张伟 and 章伟 read the same).
    """
    if not key:
        return None
    return "".join(_char_pinyin(char) for char in key)


def fuzzy_syllable(syllable: str) -> str:
    """Fold the sounds that many southern and western speakers merge (zh/z, -ng/-n, n/l)."""
    folded = syllable
    for old, new in _FUZZY_RULES:
        folded = folded.replace(old, new)
    if folded.startswith("n"):
        folded = "l" + folded[1:]
    return folded


def pinyin_fuzzy(key: str | None) -> str | None:
    """Pinyin with dialect-merged sounds folded, for near-homophones (张/詹 stay apart)."""
    if not key:
        return None
    return "".join(char if char.isascii() else fuzzy_syllable(_char_pinyin(char)) for char in key)


def substitution_masks(key: str | None) -> list[str] | None:
    """The key with each character position in turn replaced by '*'.

    Two keys of equal length (two characters or more) differ in exactly one position iff
    their masks intersect (identical keys share every mask).
    """
    if not key or len(key) < 2:
        # A one-character key has no informative substitution: every other
        # one-character key would "differ in one position".
        return None
    return [key[:index] + "*" + key[index + 1 :] for index in range(len(key))]


def split_name(key: str | None) -> tuple[str | None, str | None]:
    """Split a normalised Chinese name into surname and given name.

    Latin names ("john smith" normalised to "johnsmith") cannot be split without the
    original spacing, so they return (None, None); callers map surname and given name
    columns directly when a file has them.
    """
    if not key or key.isascii():
        return None, None
    if len(key) >= 3 and key[:2] in COMPOUND_SURNAMES:
        return key[:2], key[2:] or None
    return key[:1], key[1:] or None


def char_bigrams(key: str | None) -> list[str] | None:
    """Overlapping character bigrams of an address key (character, not byte, grams)."""
    if not key:
        return None
    if len(key) < 2:
        return [key]
    return sorted({key[index : index + 2] for index in range(len(key) - 1)})


@dataclass(frozen=True)
class NameFeatures:
    """All matching keys derived from one name."""

    key: str | None
    surname: str | None
    given: str | None
    pinyin: str | None
    pinyin_fuzzy: str | None
    surname_pinyin: str | None
    given_pinyin: str | None
    given_pinyin_fuzzy: str | None
    masks: list[str] | None
    given_masks: list[str] | None


def name_features(
    text: str | None, *, surname: str | None = None, given: str | None = None
) -> NameFeatures:
    """Derive the matching keys of a name (or of a surname and given name given apart)."""
    if surname is not None or given is not None:
        surname_key, given_key = name_key(surname), name_key(given)
        key = name_key(f"{surname or ''}{given or ''}")
    else:
        key = name_key(text)
        surname_key, given_key = split_name(key)
    return NameFeatures(
        key=key,
        surname=surname_key,
        given=given_key,
        pinyin=pinyin(key),
        pinyin_fuzzy=pinyin_fuzzy(key),
        surname_pinyin=pinyin(surname_key),
        given_pinyin=pinyin(given_key),
        given_pinyin_fuzzy=pinyin_fuzzy(given_key),
        masks=substitution_masks(key),
        given_masks=substitution_masks(given_key),
    )
