"""`dixian link`, `dixian match` and `dixian evaluate link`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dixian.cli_options import JsonOption, WorkspaceOption, evaluate_group
from dixian.console import info, print_summary


def match(
    left: Annotated[Path, typer.Argument(help="CSV or Parquet file to link (or deduplicate).")],
    right: Annotated[
        Path | None, typer.Argument(help="Second file; omit to deduplicate LEFT.")
    ] = None,
    map_path: Annotated[
        Path, typer.Option("--map", help="YAML column map: columns to comparison roles.")
    ] = Path("map.yaml"),
    out: Annotated[
        Path, typer.Option("--out", help="Output folder: pairs.csv, clusters.csv, model.json.")
    ] = Path("match-out"),
    engine: Annotated[
        str, typer.Option(help="duckdb (in memory) or spark (local session).")
    ] = "duckdb",
    as_json: JsonOption = False,
) -> None:
    """Link two files or deduplicate one (通用匹配), writing scored pairs and cluster ids."""
    from dixian.errors import ConfigError
    from dixian.link.generic import load_column_map, match_files
    from dixian.link.matcher import MatcherOptions

    if engine not in ("duckdb", "spark"):
        raise ConfigError(f"--engine: expected duckdb or spark, got '{engine}'")
    column_map = load_column_map(map_path)
    info(f"matching {left}" + (f" with {right}" if right else " (deduplication)"))
    options = MatcherOptions(engine="spark" if engine == "spark" else "duckdb")
    result = match_files(left, right, column_map=column_map, out_dir=out, options=options)
    print_summary("匹配结果 match", result.figures(), as_json=as_json)


def link(
    workspace: WorkspaceOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-link everything, not only new records.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Link every department's records to persons (人员识别) and build households per period."""
    from dixian.config import Workspace
    from dixian.console import progress_bar
    from dixian.link.households import build_households
    from dixian.link.pipeline import link_workspace

    opened = Workspace.open(workspace)
    with progress_bar("人员识别 linking", total=None) as advance:
        run = link_workspace(opened, full=full, progress=lambda text: advance(1, text))
        advance(1, "家庭组建 households")
        households = build_households(opened)
    print_summary(
        "人员识别 person linkage",
        {"run_id": run.run_id, **run.figures, "households": households},
        as_json=as_json,
    )


def evaluate_link_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Score person linkage against the simulator's truth (评估): pairwise, B-cubed, repairs."""
    from dixian.config import Workspace
    from dixian.link.evaluate import evaluate_link

    figures = evaluate_link(Workspace.open(workspace))
    print_summary("人员识别评估 linkage evaluation", figures, as_json=as_json)


def review(
    item: Annotated[str, typer.Argument(help="review_id of the queued pair.")],
    decision: Annotated[str, typer.Argument(help="match or non_match.")],
    reviewer: Annotated[str, typer.Option(help="Who decides (user name).")] = "",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide a pair of the clerical review queue (人工复核); the next link run applies it."""
    from dixian.config import Workspace
    from dixian.errors import UserError
    from dixian.link.review import decide_review

    if not reviewer:
        raise UserError("--reviewer: say who decides")
    item_row = decide_review(Workspace.open(workspace), item, decision=decision, reviewer=reviewer)
    print_summary(
        "复核结果 review decision",
        {"review_id": item, "status": item_row["status"], "decided_by": reviewer},
        as_json=as_json,
    )


def register(app: typer.Typer) -> None:
    """Add the linkage commands to the `dixian` app."""
    app.command("link")(link)
    app.command("link-review")(review)
    app.command("match")(match)
    evaluate_group(app).command("link")(evaluate_link_command)
