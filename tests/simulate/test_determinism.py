"""Same seed and arguments: byte-identical feeds, truth and reference data."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.simulate.conftest import simulate_into


def _digests(root: Path) -> dict[str, str]:
    out = {}
    for folder in ("feeds", "truth", "reference", "reports/simulation"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return out


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    args = ("--persons", "400", "--years", "1", "--seed", "5", "--noise", "messy")
    first = simulate_into(tmp_path / "a", *args)
    second = simulate_into(tmp_path / "b", *args)
    a, b = _digests(first.root), _digests(second.root)
    assert len(a) > 50
    assert a == b


def test_another_seed_gives_another_county(tmp_path: Path) -> None:
    first = simulate_into(tmp_path / "a", "--persons", "400", "--years", "1", "--seed", "5")
    second = simulate_into(tmp_path / "b", "--persons", "400", "--years", "1", "--seed", "6")
    a, b = _digests(first.root), _digests(second.root)
    assert a.keys() & b.keys()
    assert sum(a[k] != b.get(k) for k in a) > len(a) // 2
