"""`dixian simulate`: the digital-twin county into a workspace."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import info, print_summary, progress_bar
from dixian.errors import UserError
from dixian.simulate.noise import noise_profile
from dixian.simulate.params import COUNTY_TYPES, params_for_county_type
from dixian.simulate.run import simulate, simulation_report_dir
from dixian.simulate.world import PlantingRates


def _parse_rates(items: list[str], option: str) -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            rates[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise UserError(f"{option} '{item}': expected NAME=RATE, e.g. name_typo=0.02")
    return rates


def register(app: typer.Typer) -> None:
    """Add `dixian simulate` to the CLI."""

    @app.command("simulate")
    def simulate_command(
        workspace: WorkspaceOption = None,
        persons: Annotated[int, typer.Option(help="Residents at the start.")] = 20_000,
        years: Annotated[int, typer.Option(help="Years of department feeds.")] = 3,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 1,
        start_year: Annotated[int, typer.Option(help="First simulated year.")] = 2021,
        noise: Annotated[
            str, typer.Option(help="Noise profile: clean, default, messy.")
        ] = "default",
        noise_rate: Annotated[
            list[str] | None, typer.Option(help="Override a noise rate, NAME=RATE (repeatable).")
        ] = None,
        plant_rate: Annotated[
            list[str] | None,
            typer.Option(help="Override a planted-ineligibility rate, NAME=RATE (repeatable)."),
        ] = None,
        county_type: Annotated[
            str, typer.Option(help=f"County type: {', '.join(COUNTY_TYPES)}.")
        ] = "poor_western",
        replace: Annotated[
            bool, typer.Option(help="Overwrite feeds and truth of an earlier simulation.")
        ] = False,
        report: Annotated[
            bool,
            typer.Option(
                "--report",
                help="Print the calibration report (of this run, or of the workspace's "
                "simulation when there is one and --replace is not given).",
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Simulate a county (模拟县): department feeds, reference data and the ground truth."""
        ws = Workspace.open(workspace)
        stored = simulation_report_dir(ws) / "calibration.json"
        if report and not replace and stored.is_file():
            # The workspace is simulated already: show its report rather than refuse.
            rows = json.loads(stored.read_text(encoding="utf-8"))
            if not as_json:
                info((stored.parent / "calibration.md").read_text(encoding="utf-8"))
            print_summary(
                "模拟县 calibration",
                {
                    "report": [str(stored), str(stored.parent / "calibration.md")],
                    "calibration_within_tolerance": sum(1 for r in rows if r["within_tolerance"]),
                    "calibration_checked": sum(
                        1 for r in rows if r["within_tolerance"] is not None
                    ),
                    **({"calibration": {r["name"]: r for r in rows}} if as_json else {}),
                },
                as_json=as_json,
            )
            return
        params = params_for_county_type(county_type)
        profile = noise_profile(noise, _parse_rates(noise_rate or [], "--noise-rate"))
        plant = _parse_rates(plant_rate or [], "--plant-rate")
        known = set(PlantingRates.__dataclass_fields__)
        unknown = sorted(set(plant) - known)
        if unknown:
            raise UserError(f"--plant-rate: unknown pattern(s) {unknown}; expected {sorted(known)}")
        planting = PlantingRates(**plant)
        from dixian.standards import load_catalog

        steps = 12 * (years + 1) + len(load_catalog().datasets) + 2
        with progress_bar("模拟县 simulating", steps) as advance:
            result = simulate(
                ws,
                persons=persons,
                years=years,
                seed=seed,
                start_year=start_year,
                params=params,
                noise=profile,
                planting=planting,
                replace=replace,
                progress=lambda n, what: advance(n, description=f"模拟 {what}"),
            )
        figures = {
            "persons": result.persons,
            "households": result.households,
            "villages": result.villages,
            "feed_files": result.feed_files,
            "feed_rows": result.feed_rows,
            "rows_by_dataset": result.rows_by_dataset,
            "noise": profile.name,
            "county_type": county_type,
            "calibration_within_tolerance": sum(1 for s in result.calibration if s.within),
            "calibration_checked": sum(1 for s in result.calibration if s.within is not None),
            "report": [str(p) for p in result.report_paths],
        }
        if report and as_json:
            figures["calibration"] = {
                s.name: {"simulated": s.simulated, "target": s.target, "difference": s.difference}
                for s in result.calibration
            }
        elif report:
            info(result.report_paths[1].read_text(encoding="utf-8"))
        print_summary("模拟县 simulated county", figures, as_json=as_json)
