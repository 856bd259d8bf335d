"""Terminal output shared by every command: summaries, JSON figures and progress bars.

Progress and human-readable text go to stderr so that `--json` leaves exactly one JSON
object on stdout for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

stderr_console = Console(stderr=True, highlight=False)
stdout_console = Console(highlight=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(payload: Any) -> str:
    """Serialise figures to JSON with stable key order and UTF-8 text."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=_json_default)


def print_json(payload: Any) -> None:
    """Write one JSON object as a line on stdout."""
    sys.stdout.write(to_json(payload) + "\n")
    sys.stdout.flush()


def _flatten(figures: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, prefix=f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def print_summary(title: str, figures: Mapping[str, Any], *, as_json: bool = False) -> None:
    """Print a command's figures: a readable table on stdout, or one JSON object.

    Args:
        title: a heading for the table (ignored with as_json).
        figures: nested mapping of stable keys to values.
        as_json: print the figures as one JSON object instead.
    """
    if as_json:
        print_json(dict(figures))
        return
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for key, value in _flatten(figures):
        table.add_row(key, _format_value(value))
    stdout_console.print(table)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Any]:
    """A progress bar on stderr; yields a function `advance(n=1, description=None)`."""
    columns = [
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=stderr_console, transient=False) as progress:
        task = progress.add_task(description, total=total)

        def advance(step: int = 1, description: str | None = None) -> None:
            if description is not None:
                progress.update(task, description=description)
            progress.advance(task, step)

        yield advance


def info(message: str) -> None:
    """A line of progress text on stderr."""
    stderr_console.print(message)
