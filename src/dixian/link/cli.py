"""`dixian link`, `dixian match` and `dixian evaluate link`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dixian.cli_options import JsonOption
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


def register(app: typer.Typer) -> None:
    """Add the linkage commands to the `dixian` app."""
    app.command("match")(match)
