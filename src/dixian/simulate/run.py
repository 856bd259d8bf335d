"""Simulating a county into a workspace: reference data, department feeds, truth and the
calibration report, in one call shared by the CLI and the tests."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dixian.config import Workspace
from dixian.errors import UserError
from dixian.policy import EXAMPLES_DIR
from dixian.simulate.calibration import Statistic, calibration_statistics, write_report
from dixian.simulate.feeds import write_feeds
from dixian.simulate.geography import write_reference
from dixian.simulate.noise import NoiseProfile
from dixian.simulate.params import SimulationParams
from dixian.simulate.truth import write_truth
from dixian.simulate.world import PlantingRates, run_world
from dixian.standards import load_catalog

MAX_PERSONS = 20_000_000


@dataclass
class SimulationResult:
    """Figures of one simulation run."""

    persons: int
    households: int
    villages: int
    feed_files: int
    feed_rows: int
    rows_by_dataset: dict[str, int]
    truth_rows: dict[str, int]
    calibration: list[Statistic] = field(default_factory=list)
    report_paths: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def reference_dir(workspace: Workspace) -> Path:
    """W/reference: public reference data (regions, village polygons)."""
    return workspace.root / "reference"


COUNTY_POLICY_FILE = "simulated-county.yaml"


def write_county_policy(workspace: Workspace, *, replace: bool) -> Path | None:
    """Put the simulated county's own rules into W/policies, as its province publishes them.

    The shipped policy is a generic province's; the simulated county's registers differ from
    it (its real-estate register holds purchased flats only), so verification of a simulated
    county needs the county's file just as a real county needs its own. A file of the same
    name that the user placed there is kept unless `replace`.

    Returns:
        The path written, or None when an existing file was kept.
    """
    target = workspace.policies_dir / COUNTY_POLICY_FILE
    if target.exists() and not replace:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLES_DIR / COUNTY_POLICY_FILE, target)
    return target


def simulation_report_dir(workspace: Workspace) -> Path:
    """Where the calibration report is written."""
    return workspace.reports_dir / "simulation"


def simulate(
    workspace: Workspace,
    *,
    persons: int,
    years: int,
    seed: int,
    start_year: int,
    params: SimulationParams,
    noise: NoiseProfile,
    planting: PlantingRates,
    replace: bool = False,
    progress: Callable[[int, str], None] | None = None,
) -> SimulationResult:
    """Simulate a county into the workspace.

    Args:
        workspace: the target workspace (its county code places the geography).
        persons: residents at the start.
        years: visible years of feeds (one more hidden year gives next-year outcomes).
        seed: the root seed; same seed and arguments give byte-identical files.
        start_year: first simulated year.
        params: the county's parameters (see `params_for_county_type`).
        noise: the noise profile of the feeds.
        planting: rates of planted ineligibility.
        replace: delete feeds, truth and reference data of an earlier simulation first (and
            rewrite the county policy file, `simulated-county.yaml`, in W/policies).
        progress: called with (steps done, description).

    Returns:
        Counts and the calibration statistics.

    Raises:
        UserError: bad sizes, or earlier feeds present without `replace`.
    """
    if not 100 <= persons <= MAX_PERSONS:
        raise UserError(f"--persons {persons}: expected between 100 and {MAX_PERSONS:,}")
    if not 1 <= years <= 10:
        raise UserError(f"--years {years}: expected between 1 and 10")
    if not 2015 <= start_year <= 2030:
        raise UserError(f"--start-year {start_year}: expected a year between 2015 and 2030")
    targets = (workspace.feeds_dir, workspace.truth_dir, reference_dir(workspace))
    occupied = [p for p in targets if p.exists() and any(p.iterdir())]
    if occupied and not replace:
        raise UserError(
            f"{occupied[0]} is not empty; pass --replace to overwrite an earlier simulation"
        )
    for folder in occupied:
        shutil.rmtree(folder)
    catalog = load_catalog()

    def step(done: int, what: str) -> None:
        if progress is not None:
            progress(done, what)

    started = time.perf_counter()
    seconds: dict[str, float] = {}
    state = run_world(
        seed=seed,
        persons=persons,
        years=years,
        start_year=start_year,
        county_code=workspace.config.region.county,
        county_name=workspace.config.region.county_name,
        params=params,
        planting=planting,
        progress=lambda n: step(n, "world"),
    )
    seconds["world"] = round(time.perf_counter() - started, 2)
    write_reference(state.geography, reference_dir(workspace))
    write_county_policy(workspace, replace=replace)
    summary = write_feeds(
        state,
        years=years,
        feeds_dir=workspace.feeds_dir,
        catalog=catalog,
        profile=noise,
        seed=seed,
        feed_rows_path=workspace.truth_dir / "feed_rows.parquet",
        progress=lambda n, what: step(n, f"feeds {what}"),
    )
    seconds["feeds"] = round(time.perf_counter() - started - sum(seconds.values()), 2)
    truth_rows = write_truth(state, years=years, truth_dir=workspace.truth_dir)
    truth_rows["feed_rows"] = summary.rows
    seconds["truth"] = round(time.perf_counter() - started - sum(seconds.values()), 2)
    step(1, "truth")
    stats = calibration_statistics(state, years=years)
    paths = list(write_report(stats, simulation_report_dir(workspace)))
    manifest: dict[str, Any] = {
        "seed": seed,
        "persons": persons,
        "years": years,
        "start_year": start_year,
        "county_code": workspace.config.region.county,
        "county_type": params.county_type,
        "params": asdict(params),
        "noise": asdict(noise),
        "planting": asdict(planting),
        "feed_files": summary.files,
        "feed_rows": summary.rows,
        "rows_by_dataset": summary.rows_by_dataset,
        "truth_rows": truth_rows,
    }
    (workspace.truth_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )
    seconds["report"] = round(time.perf_counter() - started - sum(seconds.values()), 2)
    step(1, "report")
    return SimulationResult(
        persons=persons,
        households=state.n_households,
        villages=state.geography.n_villages,
        feed_files=summary.files,
        feed_rows=summary.rows,
        rows_by_dataset=summary.rows_by_dataset,
        truth_rows=truth_rows,
        calibration=stats,
        report_paths=paths,
        seconds=seconds,
    )
