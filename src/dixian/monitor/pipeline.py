"""The monitoring run on a workspace: train on the panel, score a period, build its alerts.

Reads `household_period` (the panel) and the policy files; writes the model under
`W/artifacts/models/`, the tables `monitor_scores` and `monitor_alerts` in the warehouse (the
rows of one period replaced at a time, so a re-run is idempotent), the XLSX for townships, and
the alerts as discoveries of the department-screening channel in the case database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dixian.config import Workspace
from dixian.engine import open_backend, overwrite_table
from dixian.errors import UserError
from dixian.monitor.alerts import (
    AlertPolicy,
    alert_status,
    export_alerts_xlsx,
    rank_alerts,
    with_card_lift,
)
from dixian.monitor.card import frame_fingerprint, new_model_id, resolve_model, save_model
from dixian.monitor.causes import attribute_causes, cause_labels
from dixian.monitor.costs import COST_COLUMNS
from dixian.monitor.features import (
    FeatureSpec,
    below_line_target,
    build_features,
    feature_causes,
    panel_periods,
)
from dixian.monitor.model import RiskModel
from dixian.monitor.reasons import render_reason
from dixian.monitor.training import TrainedModel, record_trigger_lift, train_on_panel
from dixian.monitor.treeshap import tree_contributions
from dixian.monitor.triggers import TriggerRule, collect_hits, rules_from_policy, trigger_table

PANEL_TABLE = "household_period"
SCORES_TABLE = "monitor_scores"
ALERTS_TABLE = "monitor_alerts"


def open_panel(workspace: Workspace) -> tuple[Any, ir.Table]:
    """The workspace's backend and its panel table.

    Raises:
        UserError: the panel has not been built yet.
    """
    backend = open_backend(workspace)
    if PANEL_TABLE not in backend.list_tables():
        raise UserError(
            f"{workspace.warehouse_path}: no table '{PANEL_TABLE}' (build the panel first: "
            "dixian features --workspace W)"
        )
    return backend, backend.table(PANEL_TABLE)


def load_policies(workspace: Workspace) -> Any:
    from dixian.policy import load_policy_set

    return load_policy_set([workspace.policies_dir])


def monitoring_lines(workspace: Workspace, years: list[int]) -> dict[int, float]:
    """The monitoring line (yuan per person per year) of each year, from the policy files."""
    policy_set = load_policies(workspace)
    province = workspace.config.region.province
    lines = {}
    for year in years:
        value = policy_set.resolve_parameters(province=province, year=year).get("monitoring_line")
        if value is None:
            raise UserError(f"policy parameter 'monitoring_line' has no value for {year}")
        lines[year] = float(value)
    return lines


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


def features_of_card(card: dict[str, Any]) -> list[FeatureSpec]:
    """The feature specifications a model was trained with, from its card."""
    return [
        FeatureSpec(
            name=item["name"],
            source=item["source"],
            aggregation=item["aggregation"],
            cause=item["cause"],
            monotone=int(item["monotone"]),
            window=int(item.get("window", 12)),
            denominator=item.get("denominator"),
            label_zh=item.get("label_zh", ""),
        )
        for item in card["features"]
    ]


def score_panel(
    panel: ir.Table, model: RiskModel, *, period: str, features: list[FeatureSpec]
) -> pd.DataFrame:
    """Risk of every household present at `period`, with its feature values."""
    # Arrow's own conversion: Ibis's pandas conversion cost seconds more at a million rows and
    # gives the same frame for these string and float columns.
    keep = ("region_code", "registry_status", *COST_COLUMNS)
    frame = build_features(panel, period=period, features=features, keep=keep)
    frame = frame.to_pyarrow().to_pandas()
    if frame.empty:
        raise UserError(f"table '{PANEL_TABLE}' has no rows for period {period}")
    frame["raw_logodds"] = model.decision_function(frame)
    frame["risk"] = model.calibrator_.transform(frame["raw_logodds"].to_numpy())
    return frame


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


def _contributions(model: RiskModel, frame: pd.DataFrame) -> pd.DataFrame:
    """`model.contributions(frame)` (TreeSHAP), computed once per decision pattern of each tree.

    Equal to LightGBM's `pred_contrib` up to the order of floating-point additions (about
    1e-14); see `dixian.monitor.treeshap`.
    """
    raw = frame["raw_logodds"].to_numpy(dtype="float64") if "raw_logodds" in frame else None
    values = tree_contributions(
        model.booster_,
        frame[model.feature_names_in_].to_numpy(dtype="float64", na_value=np.nan),
        iterations=model.best_iteration_,
        raw_score=raw,
    )
    return pd.DataFrame(values, columns=[*model.feature_names_in_, "_bias"], index=frame.index)


def explain(alerts: pd.DataFrame, model: RiskModel, *, features: list[FeatureSpec]) -> pd.DataFrame:
    """Primary and secondary causes and the Chinese reason of each alert."""
    out = alerts.copy()
    if out.empty:
        for column in ("primary_cause", "secondary_cause", "reason"):
            out[column] = pd.Series(dtype="object")
        return out
    causes = feature_causes(features)
    contributions = _contributions(model, out)
    attribution = attribute_causes(model, out, feature_causes=causes, contributions=contributions)
    labels = cause_labels()
    names = np.asarray([name for name in contributions.columns if name != "_bias"])
    matrix = contributions[list(names)].to_numpy()
    # Per cause, the feature columns of that cause ordered by each row's contribution.
    order_of = {}
    for cause in set(causes.values()):
        columns = np.flatnonzero([causes.get(name) == cause for name in names])
        if len(columns):
            ranked = np.argsort(-matrix[:, columns], axis=1, kind="stable")[:, :2]
            order_of[cause] = names[columns][ranked]
    # Reasons may quote the panel values carried beside the features (e.g. months out of work).
    carried = [name for name in COST_COLUMNS if name in out.columns]
    feature_names = [spec.name for spec in features] + carried
    values_matrix = out[feature_names].to_numpy(dtype="float64", na_value=np.nan)
    records = [dict(zip(feature_names, row, strict=True)) for row in values_matrix.tolist()]
    reasons = []
    for row, (values, primary, secondary) in enumerate(
        zip(records, attribution.primary, attribution.secondary, strict=True)
    ):
        parts = [
            render_reason(cause, values, features=features, top=list(order_of[cause][row]))
            for cause in (primary, secondary)
            if cause is not None and cause in order_of
        ]
        reasons.append("。".join(parts))
    out["primary_cause"] = attribution.primary.to_numpy()
    out["secondary_cause"] = attribution.secondary.to_numpy()
    out["primary_cause_zh"] = out["primary_cause"].map(labels)
    out["secondary_cause_zh"] = out["secondary_cause"].map(labels)
    out["reason"] = reasons
    return out


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
class AlertList:
    """A period's alert list before it is stored: what `build_alert_list` produced.

    Attributes:
        scored: every household present at the period, with its features and risk.
        alerts: the alerts (and last period's that ended, `resolved`), ranked, with causes,
            reasons, status and the evidence of their trigger hits (JSON list).
        trigger_hits: number of trigger hits over all households.
        seconds: wall seconds of each step (features_and_risk, triggers, rank, explain,
            evidence), for benchmarks.
        cpu_seconds: CPU seconds of the process (all threads) in each step.
    """

    scored: pd.DataFrame
    alerts: pd.DataFrame
    trigger_hits: int
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def build_alert_list(
    panel: ir.Table,
    model: RiskModel,
    *,
    period: str,
    features: list[FeatureSpec],
    rules: list[TriggerRule],
    policy: AlertPolicy,
    previous: pd.DataFrame | None = None,
) -> AlertList:
    """Score every household of `period`, evaluate the triggers and build the alert list.

    Args:
        panel: the household-period panel.
        model: the risk model.
        period: the period ('YYYY-MM').
        features: the model's feature specifications.
        rules: the triggers.
        policy: budgets and weights.
        previous: the previous period's alerts (for new / continuing / resolved), or None.
    """
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal started, cpu
        now, cpu_now = time.perf_counter(), time.process_time()
        seconds[name], cpu_seconds[name] = now - started, cpu_now - cpu
        started, cpu = now, cpu_now

    scored = score_panel(panel, model, period=period, features=features)
    lap("features_and_risk")
    table = trigger_table(panel, rules, period=period)
    # Evidence is built below for the listed households only (a few percent of the hits).
    hits = collect_hits(table, rules, evidence=False)
    lap("triggers")
    # Rank on the columns ranking reads; the feature columns join the alerts afterwards, so
    # a million rows of features are not merged and sorted.
    narrow = [
        c
        for c in ("household_id", "region_code", "risk", "raw_logodds", "registry_status")
        if c in scored
    ]
    ranked = rank_alerts(scored[narrow].assign(_row=np.arange(len(scored))), hits, policy=policy)
    chosen = ranked[ranked["alerted"]]
    rows = chosen["_row"].to_numpy()
    alerts = pd.concat(
        [
            scored.iloc[rows].reset_index(drop=True),
            chosen.drop(columns=[*narrow, "_row"]).reset_index(drop=True),
        ],
        axis=1,
    )
    lap("rank")
    alerts = explain(alerts, model, features=features)
    lap("explain")
    alerts = alert_status(alerts, previous)
    listed = collect_hits(table, rules, households=set(alerts["household_id"].astype(str)))
    # Each hit's evidence is a JSON object already: the household's list is their JSON array.
    by_household = listed.groupby("household_id")["evidence"].agg(", ".join)
    alerts["evidence"] = [f"[{by_household.get(hid, '')}]" for hid in alerts["household_id"]]
    lap("evidence")
    return AlertList(scored, alerts, len(hits), seconds, cpu_seconds)


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
