"""Every benchmark runs at its tiny size and returns figures, so none of them rots."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.__main__ import available, run_one


@pytest.mark.bench
@pytest.mark.parametrize("name", available())
def test_benchmark_completes_at_tiny_size(name: str, tmp_path: Path) -> None:
    result = run_one(name, "tiny", tmp_path)
    assert result["benchmark"] == name
    assert result["wall_seconds_total"] >= 0
