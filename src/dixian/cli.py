"""The `dixian` command.

Each stage contributes its commands through a `register(app)` function in its own
`cli` module, listed in `COMMAND_MODULES`; this module only assembles them and turns
user errors into one-line messages with stable exit codes.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.markup import escape

from dixian import __version__
from dixian.cli_options import JsonOption
from dixian.config import init_workspace
from dixian.console import print_summary, stderr_console
from dixian.errors import DixianError

# Stage command modules, in pipeline order. Each exposes `register(app: typer.Typer)`.
COMMAND_MODULES: tuple[str, ...] = (
    "dixian.standards.cli",
    "dixian.simulate.cli",
    "dixian.ingest.cli",
    "dixian.ids_cli",
    "dixian.link.cli",
    "dixian.features.cli",
    "dixian.policy.cli",
    "dixian.verify.cli",
    "dixian.monitor.cli",
    "dixian.cases.cli",
    "dixian.web.cli",
)

_VERBOSE_ENV = "DIXIAN_VERBOSE"

app = typer.Typer(
    name="dixian",
    help="dixian (底线): find households at risk of poverty, verify, assist, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show error details and tracebacks.")
    ] = False,
) -> None:
    if verbose:
        os.environ[_VERBOSE_ENV] = "1"


@app.command("version")
def version() -> None:
    """Print the dixian version."""
    typer.echo(__version__)


@app.command("init")
def init(
    workspace: Annotated[
        Path,
        typer.Option("--workspace", "-w", envvar="DIXIAN_WORKSPACE", help="Folder to create."),
    ] = Path("workspace"),
    province: Annotated[str, typer.Option(help="2-digit province code.")] = "52",
    county: Annotated[
        str | None, typer.Option(help="6-digit county code (default: province + '2799').")
    ] = None,
    name: Annotated[str, typer.Option(help="A name for the workspace.")] = "county",
    as_json: JsonOption = False,
) -> None:
    """Create a workspace with a commented dixian.toml."""
    created = init_workspace(workspace, province=province, county=county, name=name)
    print_summary(
        "workspace created",
        {
            "workspace": str(created.root),
            "config": str(created.config_path),
            "province": created.config.region.province,
            "county": created.config.region.county,
            "engine": created.config.engine.kind,
        },
        as_json=as_json,
    )


def _register_stage_commands() -> None:
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(app)


_register_stage_commands()


def _click_exceptions() -> tuple[type[Exception], ...]:
    """Click's usage-error class, and the copy recent Typer versions carry of click."""
    import click

    found: list[type[Exception]] = [click.exceptions.ClickException]
    try:
        from typer import _click as vendored
    except ImportError:
        return tuple(found)
    found.append(vendored.exceptions.ClickException)
    return tuple(found)


def _print_error(message: str, args: list[str]) -> None:
    """One line on stderr; the traceback too when asked for with --verbose."""
    if os.environ.get(_VERBOSE_ENV) or "--verbose" in args or "-v" in args:
        stderr_console.print_exception()
    stderr_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


# Not a user error (2) nor a crash (1): the job needs more memory than it was given.
OUT_OF_MEMORY_EXIT_CODE = 6


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (user errors: one line on stderr, code 2+)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="dixian", standalone_mode=False)
    except DixianError as exc:
        _print_error(str(exc), args)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (duckdb.OutOfMemoryException, MemoryError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        advice = (
            f"out of memory ({reason}). Raise [engine] memory_limit or lower [engine] threads "
            "in the workspace's dixian.toml, then run the command again."
        )
        _print_error(advice, args)
        return OUT_OF_MEMORY_EXIT_CODE
    except typer.Abort:
        stderr_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        if isinstance(exc, _click_exceptions()):
            exc.show()  # type: ignore[attr-defined]
            return 2
        raise
    # In non-standalone mode click returns the code of a typer.Exit raised by a command.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
