"""`dixian ids`: check resident ID numbers and region codes from the command line.

Output is one JSON object per input line on stdout, so that scripts can read it with any
JSON-lines tool; the count of valid and invalid values goes to stderr. The exit code is 1
when any value is invalid.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Annotated

import typer

from dixian.console import info, print_json
from dixian.errors import InvalidIdentifier, UserError
from dixian.ids import (
    normalise_region_code,
    region_ancestors,
    region_level,
    region_parent,
    validate_id_number,
)

ids_app = typer.Typer(
    name="ids",
    help="Check resident ID numbers (身份证号码) and region codes (统计用区划代码).",
    no_args_is_help=True,
)

_ValuesArgument = Annotated[
    list[str],
    typer.Argument(
        help="Values to check; '-' reads one value per line from stdin.", show_default=False
    ),
]


def _values(arguments: Iterable[str]) -> Iterator[str]:
    for argument in arguments:
        if argument == "-":
            for line in sys.stdin:
                if line.strip():
                    yield line.rstrip("\r\n")
        else:
            yield argument


def _finish(checked: int, invalid: int, what_zh: str) -> None:
    if checked == 0:
        raise UserError(f"没有可检查的{what_zh} (nothing to check: stdin was empty)")
    info(f"{what_zh}: 共 {checked} 个，有效 {checked - invalid} 个，无效 {invalid} 个")
    if invalid:
        raise typer.Exit(1)


@ids_app.command("check")
def check(values: _ValuesArgument) -> None:
    """Check resident ID numbers: one JSON object per number; exit 1 if any is invalid."""
    checked = invalid = 0
    for value in _values(values):
        result = validate_id_number(value)
        print_json(result.to_dict())
        checked += 1
        invalid += not result.valid
    _finish(checked, invalid, "身份证号码")


@ids_app.command("region")
def region(values: _ValuesArgument) -> None:
    """Check region codes: level, parent and ancestors as JSON; exit 1 if any is invalid."""
    checked = invalid = 0
    for value in _values(values):
        checked += 1
        try:
            code = normalise_region_code(value)
        except InvalidIdentifier as exc:
            invalid += 1
            print_json({"input": value, "valid": False, "error": str(exc)})
            continue
        print_json(
            {
                "input": value,
                "valid": True,
                "code": code,
                "level": region_level(code),
                "parent": region_parent(code),
                "ancestors": region_ancestors(code),
                "error": None,
            }
        )
    _finish(checked, invalid, "区划代码")


def register(app: typer.Typer) -> None:
    """Add the `ids` command group to the dixian CLI."""
    app.add_typer(ids_app)
