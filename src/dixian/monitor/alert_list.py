"""A period's alert list, built in memory: score every household, evaluate the triggers,
rank within the budgets, explain the alerts (causes and reasons) and attach the evidence of
their trigger hits. `dixian monitor alerts` stores what this builds; the benchmark times it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dixian.errors import UserError
from dixian.monitor.alert_report import alert_status
from dixian.monitor.alerts import AlertPolicy, rank_alerts
from dixian.monitor.causes import attribute_causes, cause_labels
from dixian.monitor.costs import COST_COLUMNS
from dixian.monitor.features import FeatureSpec, build_features, feature_causes
from dixian.monitor.model import RiskModel
from dixian.monitor.reasons import render_reason
from dixian.monitor.treeshap import tree_contributions
from dixian.monitor.triggers import TriggerRule, collect_hits, trigger_table
from dixian.monitor.workspace_inputs import PANEL_TABLE


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
