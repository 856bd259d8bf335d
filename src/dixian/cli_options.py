"""Options every command shares, as `Annotated` aliases for Typer signatures."""

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
