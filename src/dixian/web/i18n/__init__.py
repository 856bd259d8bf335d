"""UI strings: Chinese (zh_CN) first, English second, kept in YAML message catalogs.

Templates call `t("nav.dashboard")`; Python code that reports to users returns message keys.
Both catalogs must hold the same keys (a test checks it); a key missing at run time falls
back to Chinese, then to the key itself so that a gap is visible rather than silent.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix=f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@lru_cache(maxsize=len(LOCALES))
def catalog(locale: str) -> dict[str, str]:
    """All messages of one locale, with dotted keys."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    text = resources.files("dixian.web.i18n").joinpath(f"{locale}.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text) or {}
    return _flatten(loaded)


def translate(locale: str, key: str, **values: Any) -> str:
    """The message for `key` in `locale`, with `{name}` placeholders filled in."""
    message = catalog(locale).get(key) or catalog(DEFAULT_LOCALE).get(key) or key
    if values:
        try:
            return message.format(**values)
        except (KeyError, IndexError, ValueError):
            return message
    return message


def pick_locale(requested: str | None, *, default: str = DEFAULT_LOCALE) -> str:
    """A supported locale from a cookie or query value."""
    if requested in LOCALES:
        return str(requested)
    if requested and requested.lower().startswith("en"):
        return "en"
    return default
