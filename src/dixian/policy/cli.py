"""`dixian policy check FILE` (every error with line, column and expected form) and
`dixian policy params` (the parameter values in force)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import print_summary, stderr_console
from dixian.errors import PolicyError
from dixian.policy.files import read_policy_document
from dixian.policy.policyset import check_policy_file, load_policy_set
from dixian.policy.problems import ExpressionError

policy_app = typer.Typer(help="Policy files: check rules and parameters.", no_args_is_help=True)


@policy_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A policy YAML file.")],
    as_json: JsonOption = False,
) -> None:
    """Check a policy file; list every error with line, column and the expected form."""
    problems = check_policy_file(file)
    figures: dict[str, object] = {"file": str(file), "valid": not problems, "errors": len(problems)}
    if not problems:
        try:
            spec = read_policy_document(file).spec
        except ExpressionError:  # pragma: no cover - already checked above
            spec = None
        if spec is not None:
            figures.update(
                parameters=len(spec.parameters),
                programs=len(spec.programs),
                triggers=len(spec.triggers),
            )
    if as_json:
        figures["problems"] = [
            {"line": p.line, "column": p.column, "message": p.message} for p in problems
        ]
    else:
        for problem in problems:
            stderr_console.print(
                f"{file}:{problem.line}:{problem.column}: {problem.message}",
                markup=False,
                soft_wrap=True,
            )
    print_summary("policy check / 策略检查", figures, as_json=as_json)
    if problems:
        raise PolicyError(f"{file}: {len(problems)} error(s) in the policy file")


@policy_app.command("params")
def params(
    workspace: WorkspaceOption = None,
    year: Annotated[int, typer.Option(help="The year whose values apply.")] = 2024,
    as_json: JsonOption = False,
) -> None:
    """List the parameters in force for the workspace's province and a year, with units."""
    opened = Workspace.open(workspace)
    policy_set = load_policy_set([opened.policies_dir])
    province = opened.config.region.province
    values = policy_set.resolve_parameters(province=province, year=year)
    figures: dict[str, object] = {"province": province, "year": year if as_json else str(year)}
    if as_json:
        figures["parameters"] = {
            name: {
                "value": value,
                "label_zh": policy_set.parameters[name].label_zh,
                "unit": policy_set.parameters[name].unit,
            }
            for name, value in values.items()
        }
    else:
        figures["parameters"] = {
            f"{name} {policy_set.parameters[name].label_zh}": (
                f"{value} {policy_set.parameters[name].unit}".strip()
            )
            for name, value in values.items()
        }
    figures["sources"] = [str(path) for path in policy_set.sources]
    print_summary(f"参数 parameters {province} {year}", figures, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add `dixian policy ...` to the CLI."""
    app.add_typer(policy_app, name="policy")
