"""The monitoring run on a workspace: train on the panel, score a period, build its alerts.

Reads `household_period` (the panel) and the policy files; writes the model under
`W/artifacts/models/`, the tables `monitor_scores` and `monitor_alerts` in the warehouse (the
rows of one period replaced at a time, so a re-run is idempotent), the XLSX for townships, and
the alerts as discoveries of the department-screening channel in the case database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from dixian.config import Workspace
from dixian.engine import overwrite_table
from dixian.errors import UserError
from dixian.monitor.alert_list import AlertList, build_alert_list, explain, score_panel
from dixian.monitor.alert_report import export_alerts_xlsx
from dixian.monitor.alerts import AlertPolicy, with_card_lift
from dixian.monitor.card import frame_fingerprint, new_model_id, resolve_model, save_model
from dixian.monitor.features import below_line_target, panel_periods
from dixian.monitor.model import RiskModel
from dixian.monitor.training import TrainedModel, record_trigger_lift, train_on_panel
from dixian.monitor.triggers import TriggerRule, rules_from_policy
from dixian.monitor.workspace_inputs import (
    PANEL_TABLE,
    features_of_card,
    load_policies,
    monitoring_lines,
    open_panel,
)

# Names of the run, with those that moved to `alert_list` and `workspace_inputs` (commands, the
# benchmark and tests import them from here).
__all__ = [
    "ALERTS_TABLE",
    "PANEL_TABLE",
    "SCORES_TABLE",
    "AlertList",
    "AlertRun",
    "alerts_workspace",
    "build_alert_list",
    "explain",
    "features_of_card",
    "load_policies",
    "monitoring_lines",
    "open_panel",
    "record_alerts_as_discoveries",
    "score_panel",
    "score_workspace",
    "train_workspace",
    "write_period_rows",
]

SCORES_TABLE = "monitor_scores"
ALERTS_TABLE = "monitor_alerts"


def _rules_at(workspace: Workspace, period: str) -> list[TriggerRule]:
    policy_set = load_policies(workspace)
    province = workspace.config.region.province
    params = policy_set.resolve_parameters(province=province, year=int(period[:4]))
    return rules_from_policy(policy_set, params=params)


def train_workspace(
    workspace: Workspace,
    *,
    horizon: int = 12,
    step: int = 3,
    validation_period: str | None = None,
    model_params: dict[str, Any] | None = None,
) -> tuple[TrainedModel, Path]:
    """Train on the workspace panel and save the model with its card and manifest."""
    _, panel = open_panel(workspace)
    periods = panel_periods(panel)
    if not periods:
        raise UserError(f"table '{PANEL_TABLE}' is empty")
    years = sorted({int(period[:4]) for period in periods})
    lines = monitoring_lines(workspace, years)
    trained = train_on_panel(
        panel,
        target=below_line_target(lines),
        horizon=horizon,
        step=step,
        validation_period=validation_period,
        model_params=model_params,
    )
    record_trigger_lift(trained, panel, _rules_at(workspace, trained.card["periods"]["validation"]))
    model_id = new_model_id()
    trained.card.update(
        {
            "model_id": model_id,
            "kind": "panel",
            "data": f"{workspace.warehouse_path.name}:{PANEL_TABLE}",
            "target": "per-capita net income after medical and schooling costs below the "
            f"monitoring line within {horizon} months",
            "monitoring_lines": lines,
        }
    )
    manifest = {
        "model_id": model_id,
        "data": {
            "table": PANEL_TABLE,
            "periods": [periods[0], periods[-1]],
            "validation_fingerprint": frame_fingerprint(trained.validation),
        },
        "parameters": trained.model.get_params(),
        "policy_lines": lines,
    }
    folder = workspace.artifacts_dir / "models" / model_id
    save_model(trained.model, folder=folder, card=trained.card, manifest=manifest)
    return trained, folder


def score_workspace(
    workspace: Workspace, *, period: str | None = None, model_id: str | None = None
) -> tuple[pd.DataFrame, str]:
    """Score every household of a period with a panel model; store them in `monitor_scores`."""
    from dixian.monitor.card import load_card

    backend, panel = open_panel(workspace)
    period = period or panel_periods(panel)[-1]
    folder = resolve_model(workspace.artifacts_dir, model_id)
    card = load_card(folder)
    if card.get("kind") != "panel":
        raise UserError(f"model '{folder.name}' was trained on a table, not on the panel")
    model = RiskModel.load(folder)
    scored = score_panel(panel, model, period=period, features=features_of_card(card))
    rows = scored[["household_id", "period", "region_code", "risk", "raw_logodds"]].assign(
        model_id=folder.name
    )
    write_period_rows(backend, SCORES_TABLE, rows, period=period)
    return scored, folder.name


def write_period_rows(backend: Any, name: str, frame: pd.DataFrame, *, period: str) -> None:
    """Replace the rows of `period` in table `name` by `frame` (create the table if needed)."""
    new = ibis.memtable(frame)
    if name in backend.list_tables():
        old = backend.table(name)
        if list(old.columns) == list(new.columns):
            kept = old.filter(old.period != period).cast(new.schema())
            overwrite_table(backend, name, kept.union(new))
            return
    backend.create_table(name, new, overwrite=True)


def _previous_alerts(backend: Any, period: str) -> pd.DataFrame | None:
    if ALERTS_TABLE not in backend.list_tables():
        return None
    table = backend.table(ALERTS_TABLE)
    earlier = table.filter((table.period < period) & (table.status != "resolved"))
    last = earlier.period.max().to_pyarrow().as_py()
    if last is None:
        return None
    rows = earlier.filter(earlier.period == last).to_pandas()
    rows["triggers"] = rows["triggers"].map(json.loads)
    rows["trigger_labels"] = rows["trigger_labels"].map(json.loads)
    return rows


@dataclass
class AlertRun:
    """What `alerts_workspace` produced."""

    period: str
    model_id: str
    scored: int
    alerts: pd.DataFrame
    trigger_hits: int
    xlsx: Path | None
    discoveries: dict[str, int]


def alerts_workspace(
    workspace: Workspace,
    *,
    period: str | None = None,
    policy: AlertPolicy | None = None,
    model_id: str | None = None,
    xlsx: Path | None = None,
    record_cases: bool = True,
) -> AlertRun:
    """Score a period, evaluate its triggers, and build, store and export its alert list."""
    from dixian.monitor.card import load_card

    backend, panel = open_panel(workspace)
    period = period or panel_periods(panel)[-1]
    folder = resolve_model(workspace.artifacts_dir, model_id)
    card = load_card(folder)
    if card.get("kind") != "panel":
        raise UserError(f"model '{folder.name}' was trained on a table, not on the panel")
    model = RiskModel.load(folder)
    policy_set = load_policies(workspace)
    params = policy_set.resolve_parameters(
        province=workspace.config.region.province, year=int(period[:4])
    )
    built = build_alert_list(
        panel,
        model,
        period=period,
        features=features_of_card(card),
        rules=rules_from_policy(policy_set, params=params),
        policy=with_card_lift(policy or AlertPolicy(), card),
        previous=_previous_alerts(backend, period),
    )
    scored, alerts = built.scored, built.alerts
    alerts["period"] = period
    alerts["model_id"] = folder.name
    score_rows = scored[["household_id", "period", "region_code", "risk", "raw_logodds"]].assign(
        model_id=folder.name
    )
    write_period_rows(backend, SCORES_TABLE, score_rows, period=period)
    write_period_rows(backend, ALERTS_TABLE, _alert_table(alerts), period=period)
    written = xlsx or workspace.reports_dir / f"alerts-{period}.xlsx"
    title = f"{workspace.config.region.county_name} {period} 防返贫监测预警名单"
    export_alerts_xlsx(alerts, written, title=title)
    discoveries = record_alerts_as_discoveries(workspace, alerts) if record_cases else {}
    return AlertRun(
        period, folder.name, len(scored), alerts, built.trigger_hits, written, discoveries
    )


_ALERT_COLUMNS = [
    "period", "household_id", "region_code", "jurisdiction", "rank", "status", "risk",
    "priority", "primary_cause", "secondary_cause", "reason", "triggers", "trigger_labels",
    "always_alert", "evidence", "model_id",
]  # fmt: skip


def _alert_table(alerts: pd.DataFrame) -> pd.DataFrame:
    out = alerts.reindex(columns=_ALERT_COLUMNS).copy()
    for column in ("triggers", "trigger_labels"):
        out[column] = [
            json.dumps(value if isinstance(value, list) else [], ensure_ascii=False)
            for value in out[column]
        ]
    for column in ("primary_cause", "secondary_cause", "reason", "jurisdiction", "status"):
        out[column] = out[column].astype("string")
    out["rank"] = out["rank"].fillna(0).astype("int64")
    out["always_alert"] = out["always_alert"].fillna(False).astype(bool)
    out["risk"] = out["risk"].astype(float)
    out["priority"] = out["priority"].astype(float)
    return out


def record_alerts_as_discoveries(workspace: Workspace, alerts: pd.DataFrame) -> dict[str, int]:
    """Record new and continuing alerts as department-screening discoveries (idempotent)."""
    from dixian.cases.actor import Actor
    from dixian.cases.db import CasesDatabase, upgrade_database
    from dixian.cases.enums import Channel
    from dixian.cases.service import DiscoveryInput, record_discoveries

    active = alerts[alerts["status"] != "resolved"]
    if active.empty:
        return {"created": 0, "already_recorded": 0, "cases_opened": 0}
    database = CasesDatabase.from_workspace(workspace, create_key=True)
    try:
        upgrade_database(database.engine)
        items = [
            DiscoveryInput(
                household_id=str(row.household_id),
                region_code=str(row.region_code),
                period=str(row.period),
                channel=Channel.DEPARTMENT_SCREENING,
                discovered_on=date.today(),
                evidence={
                    "primary_cause": row.primary_cause,
                    "secondary_cause": row.secondary_cause,
                    "reason": row.reason,
                    "triggers": row.triggers,
                    "model_id": row.model_id,
                },
                risk_score=float(np.round(row.risk, 4)),
                source="dixian monitor alerts",
            )
            for row in active.itertuples()
        ]
        actor = Actor.system(name="monitor", jurisdiction=workspace.config.region.county)
        with database.session() as session:
            result = record_discoveries(session, actor=actor, discoveries=items)
    finally:
        database.dispose()
    return {
        "created": result.created,
        "already_recorded": result.already_recorded,
        "cases_opened": result.cases_opened,
    }
