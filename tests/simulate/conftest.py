"""Small simulated counties shared by the simulator tests (one simulation per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dixian.config import Workspace, init_workspace
from dixian.simulate.params import params_for_county_type
from dixian.simulate.state import WorldState
from dixian.simulate.world import PlantingRates, run_world
from tests.conftest import run_cli


def small_world(*, seed: int, years: int, planting: PlantingRates | None = None) -> WorldState:
    """A 3,000-person world of the poor western county type, simulated in memory (no feeds)."""
    return run_world(
        seed=seed,
        persons=3000,
        years=years,
        start_year=2021,
        county_code="522799",
        county_name="测试县",
        params=params_for_county_type("poor_western"),
        planting=planting or PlantingRates(),
    )


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
