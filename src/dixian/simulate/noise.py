"""Noise profiles and the row-level errors of real department records.

Every rate is configurable; `clean` has none, `default` has the rates a county analyst
sees in ordinary feeds, `messy` about three times as many. Each applied noise is named
(see `NOISE_TYPES`) and recorded per feed row in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pyarrow as pa

from dixian.errors import UserError
from dixian.simulate.names import homophone_variant, similar_shape_variant, to_traditional

NOISE_TYPES = (
    "name_typo",
    "name_homophone",
    "name_traditional",
    "name_space",
    "id_missing",
    "id_15_digit",
    "id_lower_x",
    "id_transposed",
    "id_substituted",
    "full_width_digits",
    "date_variant",
    "amount_wan",
    "village_name",
    "stale_address",
    "duplicate",
    "late",
    "corrected_later",
    "correction",
)
BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(NOISE_TYPES)}


def noise_lists(tags: np.ndarray) -> pa.Array:
    """Per-row bit masks of noise types as a list<string> column (bit order)."""
    tags = np.asarray(tags, dtype=np.uint32)
    bits = ((tags[:, None] >> np.arange(len(NOISE_TYPES), dtype=np.uint32)) & 1).astype(bool)
    rows, which = np.nonzero(bits)
    offsets = np.zeros(tags.size + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=tags.size), out=offsets[1:])
    values = pa.array(np.array(NOISE_TYPES)[which], type=pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)


@dataclass(frozen=True)
class NoiseProfile:
    """Rates of each kind of error (per row unless stated)."""

    name: str = "default"
    name_typo: float = 0.01
    name_homophone: float = 0.01
    name_traditional: float = 0.005
    name_space: float = 0.005
    id_missing: float = 0.02
    id_15_digit: float = 0.01
    id_lower_x: float = 0.5  # of IDs ending in X
    id_transposed: float = 0.005
    id_substituted: float = 0.005
    full_width_digits: float = 0.01
    date_variant_batches: float = 0.5  # share of batches with a non-ISO date format
    date_variant_rows: float = 0.0  # rows with another format than their batch
    amount_wan_batches: float = 0.15  # share of batches with amounts in 万元
    village_name_batches: float = 0.15  # share of batches with village names, not codes
    stale_address: float = 0.01
    duplicate: float = 0.01
    late: float = 0.02
    corrected: float = 0.005


PROFILES: dict[str, NoiseProfile] = {
    "clean": NoiseProfile(
        name="clean", **{f.name: 0.0 for f in fields(NoiseProfile) if f.name != "name"}
    ),
    "default": NoiseProfile(),
    "messy": NoiseProfile(
        name="messy",
        name_typo=0.03,
        name_homophone=0.03,
        name_traditional=0.02,
        name_space=0.02,
        id_missing=0.06,
        id_15_digit=0.03,
        id_lower_x=0.8,
        id_transposed=0.015,
        id_substituted=0.015,
        full_width_digits=0.03,
        date_variant_batches=0.8,
        date_variant_rows=0.05,
        amount_wan_batches=0.3,
        village_name_batches=0.3,
        stale_address=0.03,
        duplicate=0.03,
        late=0.05,
        corrected=0.015,
    ),
}


def noise_profile(name: str, overrides: dict[str, Any] | None = None) -> NoiseProfile:
    """A named profile with some rates overridden.

    Raises:
        UserError: unknown profile or rate name, or a rate outside [0, 1].
    """
    if name not in PROFILES:
        raise UserError(f"--noise: unknown profile '{name}'; expected one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    if not overrides:
        return profile
    known = {f.name for f in fields(NoiseProfile)} - {"name"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UserError(f"--noise-rate: unknown rate(s) {unknown}; expected one of {sorted(known)}")
    for key, value in overrides.items():
        if not 0.0 <= float(value) <= 1.0:
            raise UserError(f"--noise-rate {key}={value}: expected a rate between 0 and 1")
    rates: dict[str, Any] = {k: float(v) for k, v in overrides.items()}
    return replace(profile, **rates)


_FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _map_unique(values: np.ndarray, func: Any) -> np.ndarray:
    """Apply a Python function once per distinct value (vectorised over repeats)."""
    if values.size == 0:
        return values
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    mapped = np.array([func(v) for v in uniques.tolist()], dtype=object)
    return mapped[inverse]


def noisy_names(
    names: np.ndarray, profile: NoiseProfile, rng: np.random.Generator, tags: np.ndarray
) -> np.ndarray:
    """Names with typos, homophones, traditional characters and stray spaces."""
    out = names.astype(object).copy()
    for kind, rate, func in (
        ("name_homophone", profile.name_homophone, lambda s: homophone_variant(s, 0)),
        ("name_typo", profile.name_typo, lambda s: similar_shape_variant(s, len(s) - 1)),
        ("name_traditional", profile.name_traditional, to_traditional),
        ("name_space", profile.name_space, lambda s: s[0] + " " + s[1:] if len(s) > 1 else s),
    ):
        rows = np.flatnonzero(rng.uniform(0, 1, out.size) < rate)
        if rows.size == 0:
            continue
        changed = _map_unique(out[rows], func)
        real = changed != out[rows]
        out[rows] = changed
        tags[rows[real]] |= BIT[kind]
    return out


def noisy_ids(
    ids: np.ndarray, profile: NoiseProfile, rng: np.random.Generator, tags: np.ndarray
) -> np.ndarray:
    """ID numbers missing, in the old 15-digit form, with lower-case x, transposed or
    substituted digits, or full-width digits."""
    out = ids.astype(object).copy()
    n = out.size
    u = rng.uniform(0, 1, (6, n))
    text = ids.astype(str)
    born_early = np.char.startswith(text, "19", start=6)
    plan = (
        (
            "id_lower_x",
            (np.char.endswith(text, "X")) & (u[0] < profile.id_lower_x),
            lambda s: s[:-1] + "x",
        ),
        ("id_15_digit", born_early & (u[1] < profile.id_15_digit), lambda s: s[:6] + s[8:17]),
        ("id_transposed", u[2] < profile.id_transposed, _transpose),
        ("id_substituted", u[3] < profile.id_substituted, _substitute),
        ("full_width_digits", u[4] < profile.full_width_digits, lambda s: s.translate(_FULL_WIDTH)),
    )
    for kind, mask, func in plan:
        rows = np.flatnonzero(mask & (out != ""))
        if rows.size == 0:
            continue
        changed = _map_unique(out[rows], func)
        real = changed != out[rows]
        out[rows] = changed
        tags[rows[real]] |= BIT[kind]
    missing = np.flatnonzero(u[5] < profile.id_missing)
    out[missing] = ""
    tags[missing] |= BIT["id_missing"]
    return out


def _transpose(s: str) -> str:
    # Swap two adjacent different digits inside the birth date or sequence (positions 6-16).
    for i in range(10, 16):
        if s[i] != s[i + 1]:
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s


def _substitute(s: str) -> str:
    i = 14
    digit = (int(s[i]) + 3) % 10
    return s[:i] + str(digit) + s[i + 1 :]


def full_width(values: np.ndarray) -> np.ndarray:
    """Digits written full-width (as typed with a Chinese input method)."""
    return _map_unique(values, lambda s: s.translate(_FULL_WIDTH))
