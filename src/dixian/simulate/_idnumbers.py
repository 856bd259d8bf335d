"""Resident ID numbers (GB 11643) for simulated persons, vectorised.

The check character follows ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, remainder mapped
to "10X98765432". Kept private: the pipeline's own ID code is `dixian.ids`.
"""

from __future__ import annotations

import numpy as np

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))


def check_characters(first17: np.ndarray) -> np.ndarray:
    """Check characters for an array of 17-digit strings."""
    digits = np.frombuffer(
        np.ascontiguousarray(first17.astype("S17")).tobytes(), dtype=np.uint8
    ).reshape(-1, 17)
    total = (digits.astype(np.int64) - 48) @ _WEIGHTS
    result: np.ndarray = _CHECK[total % 11]
    return result


def make_id_numbers(
    address_codes: np.ndarray, birth_yyyymmdd: np.ndarray, sequences: np.ndarray
) -> np.ndarray:
    """18-character ID numbers from 6-digit address codes, birth dates and 3-digit sequences."""
    body = np.char.add(
        np.char.add(address_codes.astype("U6"), birth_yyyymmdd.astype("U8")),
        np.char.zfill(sequences.astype("U3"), 3),
    )
    return np.char.add(body, check_characters(body))


def unique_sequences(
    group_keys: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """3-digit sequence numbers, odd for men, unique within (address, birth date, sex)."""
    n = group_keys.shape[0]
    key = group_keys.astype(np.int64) * 2 + male.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    group_index = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, n]))
    rank = np.arange(n) - starts[group_index]
    offset = rng.integers(0, 500, size=starts.size)[group_index]
    slot = np.empty(n, dtype=np.int64)
    slot[order] = (offset + rank) % 500
    return slot * 2 + male.astype(np.int64)
