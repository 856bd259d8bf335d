"""`dixian verify`: batch verification of every program, or one application."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dixian.cli_options import JsonOption, WorkspaceOption, evaluate_group
from dixian.config import Workspace
from dixian.console import print_json, print_summary, progress_bar
from dixian.engine import open_backend
from dixian.verify.results import STATUS_ZH, Status
from dixian.verify.workspace import run_application, run_batch


def verify(
    workspace: WorkspaceOption = None,
    program: Annotated[
        list[str] | None,
        typer.Option("--program", "-p", help="Program id (dibao, tekun, low_income, monitoring)."),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Period YYYY-MM (default: the newest in the panel).")
    ] = None,
    application: Annotated[
        Path | None,
        typer.Option("--application", help="Verify one application JSON file instead."),
    ] = None,
    top: Annotated[int, typer.Option(help="How many problem leads to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Verify households' economic status (核对) against program policies, with evidence."""
    opened = Workspace.open(workspace)
    backend = open_backend(opened)
    if application is not None:
        _application(opened, application, backend, as_json=as_json)
        return
    with progress_bar("核对 verifying", total=3) as advance:
        run = run_batch(
            opened,
            backend=backend,
            programs=program or None,
            period=period,
            step=lambda description: advance(1, description),
        )
    figures: dict[str, Any] = {"period": run.period, "programs": run.counts}
    figures["problem_leads"] = len(run.leads)
    top_leads = run.leads[:top]
    if as_json:
        figures["top_leads"] = [
            {
                "household_id": lead.household_id,
                "region_code": lead.region_code,
                "program": lead.program,
                "strength": lead.strength,
                "kinds": list(lead.kinds),
                "reasons_zh": list(lead.reasons_zh),
            }
            for lead in top_leads
        ]
    else:
        figures["top_leads"] = {
            f"{rank}. {lead.household_id} {lead.program}": (
                f"{lead.strength:.2f} " + "、".join(lead.reasons_zh)
            )
            for rank, lead in enumerate(top_leads, start=1)
        }
    print_summary(f"核对结果 verification {run.period}", figures, as_json=as_json)


_SEVERITY_ZH = {"major": "重要", "info": "提示"}


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


def _application(workspace: Workspace, path: Path, backend: Any, *, as_json: bool) -> None:
    result = run_application(workspace, path, backend=backend)
    if as_json:
        print_json(result.to_dict())
        return
    figures: dict[str, Any] = {
        "application": result.application_id or str(path),
        "household_id": result.household_id,
        "period": result.period,
        "members declared / registered": (
            f"{result.declared_members} / {result.registered_members}"
        ),
        "discrepancies": {
            f"{n}. {d.label_zh}（{_SEVERITY_ZH.get(d.severity, d.severity)}）": (
                f"申报 {_shown(d.declared)} / 记录 {_shown(d.recorded)}"
            )
            for n, d in enumerate(result.discrepancies, start=1)
        }
        or "无",
        "programs": {
            item.program: (
                f"{STATUS_ZH[item.status]}（按申报: "
                f"{STATUS_ZH[result.on_declaration.get(item.program, Status.NEEDS_REVIEW)]}）"
                + ("；不符: " + "、".join(c.label_zh for c in item.failed) if item.failed else "")
            )
            for item in result.on_records
        },
    }
    print_summary("申请核对 application verification", figures)


def evaluate(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Score problem leads against the simulator's planted ineligibility (评估)."""
    from dixian.verify.evaluate import evaluate_verify

    opened = Workspace.open(workspace)
    figures = evaluate_verify(opened, backend=open_backend(opened))
    print_summary("核对评估 verification evaluation", figures, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add `dixian verify` and `dixian evaluate verify` to the CLI."""
    app.command("verify")(verify)
    evaluate_group(app).command("verify")(evaluate)
