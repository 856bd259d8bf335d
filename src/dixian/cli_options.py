"""Options every command shares, as `Annotated` aliases for Typer signatures, and the
shared `dixian evaluate` group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dixian.config import WORKSPACE_ENV_VAR

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar=WORKSPACE_ENV_VAR,
        help="Workspace folder (default: $DIXIAN_WORKSPACE or ./workspace).",
        show_default=False,
    ),
]

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the figures as one JSON object on stdout."),
]


def evaluate_group(app: typer.Typer) -> typer.Typer:
    """The `dixian evaluate` group, created by the first stage that registers an evaluation."""
    for group in app.registered_groups:
        if group.name == "evaluate" and group.typer_instance is not None:
            return group.typer_instance
    group_app = typer.Typer(
        help="Score a stage against the simulator's truth.", no_args_is_help=True
    )
    app.add_typer(group_app, name="evaluate")
    return group_app
