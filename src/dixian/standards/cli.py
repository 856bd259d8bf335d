"""`dixian standards`: print the data dictionary."""

from __future__ import annotations

from typing import Annotated

import typer

from dixian.cli_options import JsonOption
from dixian.console import print_summary
from dixian.standards.catalog import load_catalog
from dixian.standards.dictionary import DictionaryFormat, render_dictionary


def summary_figures() -> dict[str, object]:
    """Counts of the data standard, for summaries."""
    catalog = load_catalog()
    return {
        "datasets": len(catalog.datasets),
        "departments": len({dataset.department for dataset in catalog.datasets}),
        "fields": sum(len(dataset.fields) for dataset in catalog.datasets),
        "code_lists": len(catalog.code_lists),
        "codes": sum(len(code_list.codes) for code_list in catalog.code_lists),
    }


def standards(
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Print the whole dictionary: md, html or json."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the data dictionary (数据字典) of the data standard, or its summary."""
    if fmt is None:
        print_summary("data standard 数据标准", summary_figures(), as_json=as_json)
        return
    if fmt not in ("md", "html", "json"):
        raise typer.BadParameter(f"--format must be md, html or json, not '{fmt}'")
    chosen: DictionaryFormat = fmt  # type: ignore[assignment]
    typer.echo(render_dictionary(load_catalog(), fmt=chosen))


def register(app: typer.Typer) -> None:
    app.command("standards")(standards)
