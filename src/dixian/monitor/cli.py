"""`dixian monitor train|score|alerts` and `dixian evaluate monitor`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dixian.cli_options import JsonOption, WorkspaceOption, evaluate_group
from dixian.config import Workspace
from dixian.console import info, print_summary, stdout_console
from dixian.errors import UserError
from dixian.monitor._defaults import (
    ALLOCATION_HELP,
    DEFAULT_TRIGGER_WEIGHT,
    TRIGGER_SCOPE_HELP,
    TRIGGER_WEIGHT_HELP,
)

monitor_app = typer.Typer(
    help="Early warning (部门筛查预警): train the risk model, score, build alerts.",
    no_args_is_help=True,
)

PeriodOption = Annotated[
    str | None, typer.Option("--period", "-p", help="Period YYYY-MM (default: the latest).")
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Model id (default: the latest trained).")
]


def _parse_monotone(values: list[str]) -> dict[str, int]:
    result = {}
    for item in values:
        name, _, direction = item.partition("=")
        if direction not in {"+1", "1", "-1", "0"} or not name:
            raise UserError(f"--monotone '{item}': expected COLUMN=+1, COLUMN=-1 or COLUMN=0")
        result[name] = int(direction)
    return result


def _card_figures(card: dict[str, Any], folder: Path) -> dict[str, Any]:
    metrics = card["metrics"]
    at5 = metrics["at_budget"].get("5%", {})
    return {
        "model_id": folder.name,
        "model_folder": str(folder),
        "rows_train": card["rows"]["train"],
        "rows_validation": card["rows"]["validation"],
        "positives_validation": card["positives"]["validation"],
        "calibration": card["calibration"]["method"],
        "auc": metrics["auc"],
        "pr_auc": metrics["pr_auc"],
        "ece": metrics["ece"],
        "recall_at_5pct": at5.get("recall"),
        "precision_at_5pct": at5.get("precision"),
        "fairness_gaps": sum(1 for row in card.get("fairness", []) if row["gap"]),
    }


@monitor_app.command("train")
def train(
    workspace: WorkspaceOption = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Bring your own labels: a CSV/Parquet household table."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="With --table: the 0/1 outcome column.")
    ] = None,
    features: Annotated[
        str | None, typer.Option("--features", help="With --table: comma-separated columns.")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id-column")] = None,
    period_column: Annotated[
        str | None, typer.Option("--period-column", help="Validate on its latest period.")
    ] = None,
    monotone: Annotated[
        list[str] | None, typer.Option("--monotone", help="COLUMN=+1 or COLUMN=-1 (repeat).")
    ] = None,
    horizon: Annotated[int, typer.Option(help="Months ahead the label looks.")] = 12,
    step: Annotated[int, typer.Option(help="Months between training snapshots.")] = 3,
    validation_period: Annotated[str | None, typer.Option("--validation-period")] = None,
    as_json: JsonOption = False,
) -> None:
    """Train the risk model on the panel, or on your own labelled table (--table --target)."""
    opened = Workspace.open(workspace)
    if table is not None:
        from dixian.monitor.byol import train_from_table
        from dixian.monitor.card import frame_fingerprint, new_model_id, save_model

        if not target:
            raise UserError("--table needs --target COLUMN (the 0/1 outcome)")
        info(f"训练 training on {table} …")
        trained = train_from_table(
            table,
            target=target,
            features=[c.strip() for c in features.split(",")] if features else None,
            id_column=id_column,
            period_column=period_column,
            monotone=_parse_monotone(monotone or []),
        )
        model_id = new_model_id("table")
        trained.card.update({"model_id": model_id, "kind": "table"})
        folder = opened.artifacts_dir / "models" / model_id
        manifest = {
            "model_id": model_id,
            "data": {"file": str(table), "validation_fingerprint": frame_fingerprint(
                trained.validation)},
            "parameters": trained.model.get_params(),
        }  # fmt: skip
        save_model(trained.model, folder=folder, card=trained.card, manifest=manifest)
    else:
        if target or features:
            raise UserError("--target and --features go with --table")
        from dixian.monitor.pipeline import train_workspace

        trained, folder = train_workspace(
            opened, horizon=horizon, step=step, validation_period=validation_period
        )
    print_summary("风险模型 risk model", _card_figures(trained.card, folder), as_json=as_json)


@monitor_app.command("score")
def score(
    workspace: WorkspaceOption = None,
    period: PeriodOption = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every household of a period (table monitor_scores)."""
    from dixian.monitor.pipeline import score_workspace

    scored, model_id = score_workspace(Workspace.open(workspace), period=period, model_id=model)
    risk = scored["risk"]
    print_summary(
        "风险评分 scores",
        {
            "period": str(scored["period"].iloc[0]),
            "model_id": model_id,
            "households": len(scored),
            "mean_risk": float(risk.mean()),
            "risk_over_0.3": int((risk > 0.3).sum()),
            "risk_over_0.5": int((risk > 0.5).sum()),
        },
        as_json=as_json,
    )


@monitor_app.command("alerts")
def alerts(
    workspace: WorkspaceOption = None,
    period: PeriodOption = None,
    model: ModelOption = None,
    budget: Annotated[
        int, typer.Option(help="Alerts per jurisdiction (caseworker capacity).")
    ] = 50,
    jurisdiction_digits: Annotated[
        int, typer.Option(help="Region-code prefix of a jurisdiction (9: township).")
    ] = 9,
    trigger_weight: Annotated[
        float, typer.Option(help=TRIGGER_WEIGHT_HELP, min=0.0, max=0.99)
    ] = DEFAULT_TRIGGER_WEIGHT,
    trigger_scope: Annotated[str, typer.Option(help=TRIGGER_SCOPE_HELP)] = "informative",
    allocation: Annotated[str, typer.Option(help=ALLOCATION_HELP)] = "equal",
    xlsx: Annotated[
        Path | None, typer.Option(help="XLSX to write (default: W/reports/alerts-PERIOD.xlsx).")
    ] = None,
    cases: Annotated[
        bool, typer.Option("--cases/--no-cases", help="Record alerts in the case database.")
    ] = True,
    top: Annotated[int, typer.Option(help="Alerts to print.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Build the period's ranked alert list with causes, reasons and evidence."""
    from dixian.monitor.alerts import AlertPolicy
    from dixian.monitor.pipeline import alerts_workspace

    opened = Workspace.open(workspace)
    policy = AlertPolicy(
        budget=budget,
        jurisdiction_digits=jurisdiction_digits,
        trigger_weight=trigger_weight,
        trigger_scope=trigger_scope,  # type: ignore[arg-type]  # checked by AlertPolicy
        allocation=allocation,  # type: ignore[arg-type]
    )
    run = alerts_workspace(
        opened,
        period=period,
        policy=policy,
        model_id=model,
        xlsx=xlsx,
        record_cases=cases,
    )
    frame = run.alerts
    active = frame[frame["status"] != "resolved"]
    if not as_json and top > 0:
        shown = active.sort_values("priority", ascending=False).head(top)
        for row in shown.itertuples():
            triggers = "、".join(row.trigger_labels) if row.trigger_labels else "无"
            stdout_console.print(
                f"[bold]{row.household_id}[/] {row.region_code} 风险 {row.risk:.0%} "
                f"[{row.status}] {row.reason}；触发：{triggers}",
                highlight=False,
            )
    print_summary(
        "预警 alerts",
        {
            "period": run.period,
            "model_id": run.model_id,
            "households_scored": run.scored,
            "trigger_hits": run.trigger_hits,
            "alerts": len(active),
            "new": int((frame["status"] == "new").sum()),
            "continuing": int((frame["status"] == "continuing").sum()),
            "resolved": int((frame["status"] == "resolved").sum()),
            "always_alert": int(active["always_alert"].sum()),
            "xlsx": str(run.xlsx) if run.xlsx else "",
            "cases": run.discoveries,
        },
        as_json=as_json,
    )


def register(app: typer.Typer) -> None:
    """Add `dixian monitor ...` and `dixian evaluate monitor` to the app."""
    app.add_typer(monitor_app, name="monitor")
    from dixian.monitor.evaluate_cli import evaluate_monitor

    evaluate_group(app).command("monitor")(evaluate_monitor)
