"""Calibration: the default county matches its sourced targets within stated tolerances."""

from __future__ import annotations

import json

import pytest

from dixian.config import Workspace
from dixian.simulate import calibration_statistics, params_for_county_type, run_world
from dixian.simulate.world import PlantingRates


@pytest.fixture(scope="module")
def statistics() -> list:
    state = run_world(
        seed=3,
        persons=20_000,
        years=2,
        start_year=2021,
        county_code="522799",
        county_name="示范县",
        params=params_for_county_type("poor_western"),
        planting=PlantingRates(),
    )
    return calibration_statistics(state, years=2)


def test_every_checked_statistic_is_within_its_tolerance(statistics: list) -> None:
    checked = [s for s in statistics if s.tolerance is not None]
    assert len(checked) >= 15
    outside = [(s.name, s.simulated, s.target, s.tolerance) for s in checked if not s.within]
    assert not outside


def test_income_is_that_of_a_formerly_poor_county(statistics: list) -> None:
    by_name = {s.name: s for s in statistics}
    income = by_name["income_mean_pc_first_year"]
    # 脱贫县 2021: 14,051 yuan, about 74% of the national rural 18,931.
    assert income.target == 14_051
    assert income.simulated < 0.8 * 18_931


def test_other_county_types_are_richer(statistics: list) -> None:
    state = run_world(
        seed=3,
        persons=5_000,
        years=1,
        start_year=2021,
        county_code="522799",
        county_name="示范县",
        params=params_for_county_type("suburban"),
        planting=PlantingRates(),
    )
    suburban = {s.name: s for s in calibration_statistics(state, years=1)}
    poor = {s.name: s for s in statistics}
    assert (
        suburban["income_mean_pc_first_year"].simulated
        > 1.5 * poor["income_mean_pc_first_year"].simulated
    )


def test_report_files_are_written(small_county: Workspace) -> None:
    folder = small_county.reports_dir / "simulation"
    rows = json.loads((folder / "calibration.json").read_text("utf-8"))
    assert {"name", "simulated", "target", "difference", "tolerance", "source"} <= set(rows[0])
    assert "| statistic |" in (folder / "calibration.md").read_text("utf-8")


def test_report_option_shows_the_workspace_report(small_county: Workspace) -> None:
    from tests.conftest import run_cli

    result = run_cli("simulate", "--workspace", str(small_county.root), "--report", "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["calibration_checked"] >= 15
    assert "income_mean_pc_first_year" in figures["calibration"]
