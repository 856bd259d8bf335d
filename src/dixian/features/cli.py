"""`dixian features`: build the household-period panel (一户一档)."""

from __future__ import annotations

from typing import Annotated

import typer

from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import info, print_summary
from dixian.engine import open_backend
from dixian.features.store import update_household_period


def features(
    workspace: WorkspaceOption = None,
    period: Annotated[
        list[str] | None, typer.Option("--period", help="Period YYYY-MM to (re)build; repeatable.")
    ] = None,
    rebuild: Annotated[bool, typer.Option(help="Rebuild every period.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the household-period panel from linked department records (new periods only)."""
    opened = Workspace.open(workspace)
    backend = open_backend(opened)
    info("building the household-period panel 一户一档 ...")
    figures = update_household_period(backend, periods=period, rebuild=rebuild)
    print_summary("household-period panel 一户一档", figures, as_json=as_json)


def register(app: typer.Typer) -> None:
    app.command("features")(features)
