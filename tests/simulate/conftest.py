"""Small simulated counties shared by the simulator tests (one simulation per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dixian.config import Workspace, init_workspace
from tests.conftest import run_cli


def simulate_into(root: Path, *args: str) -> Workspace:
    """Create a workspace and simulate a county into it through the CLI."""
    workspace = init_workspace(root, province="52", county="522799", name="sim test")
    result = run_cli("simulate", "--workspace", str(root), *args)
    assert result.exit_code == 0, result.stderr
    return workspace


@pytest.fixture(scope="package")
def small_county(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """1,500 persons, 2 years, default noise."""
    root = tmp_path_factory.mktemp("county") / "ws"
    return simulate_into(root, "--persons", "1500", "--years", "2", "--seed", "11")
