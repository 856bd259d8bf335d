"""One random-generator tree per simulation, one child per named component.

Children are keyed by a stable hash of the component's name, so adding a component does
not change the draws of the others (same seed, same world).
"""

from __future__ import annotations

import zlib

import numpy as np


def component_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one named component of the world, derived from the root seed."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(zlib.crc32(name.encode()),))
    return np.random.default_rng(sequence)
