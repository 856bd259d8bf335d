"""Training the risk model: temporal split of a panel, fitting, and the model card's figures.

`train_on_panel` turns the household-period panel into snapshots (features as of P, label over
(P, P + horizon]) every `step` months; the latest labelled snapshot is the validation period,
and only snapshots whose whole label window ends by the validation period are used for
training, so no training label overlaps what validation tries to predict. Households already
below the line at P are left out: they have fallen already, the model is about who falls next.

`fit_and_describe` is shared with bring-your-own-labels training (`byol`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dixian.console import progress_bar
from dixian.errors import UserError
from dixian.monitor import metrics
from dixian.monitor.costs import COST_COLUMNS
from dixian.monitor.features import (
    DEFAULT_FEATURES,
    FeatureSpec,
    build_features,
    check_panel,
    feature_monotone,
    labelled_periods,
    panel_periods,
    parse_period,
)
from dixian.monitor.labels import Target, build_labels, combine_labels, monitoring_object_target
from dixian.monitor.model import RiskModel
from dixian.monitor.triggers import TriggerRule, evaluate_triggers

ALERT_SHARES = (0.02, 0.05, 0.10)
FAIRNESS_SHARE = 0.05


@dataclass
class TrainedModel:
    """A fitted model with its card and the validation frame it was judged on."""

    model: RiskModel
    card: dict[str, Any]
    validation: pd.DataFrame


def household_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """Fairness groupings of households: township and household types present in the frame.

    Household types come from panel columns as of the period: elderly-only (every member 60
    or over), with disabled members, child-headed (the head is under 18, or every member is
    under 16) and single-parent (the panel's `single_parent`: a head without a spouse in the
    household living with a son or daughter under 18, from the registered relations). A panel
    without that column falls back to an age approximation: exactly one member aged 16 or over
    living with members under 16.
    """
    groups = pd.DataFrame(index=frame.index)
    columns = set(frame.columns)
    if "region_code" in columns:
        groups["township"] = frame["region_code"].astype("string").str[:9]
    if {"elderly_members", "members"} <= columns:
        groups["elderly_only"] = _yes_no(
            (frame["members"] > 0) & (frame["elderly_members"] >= frame["members"])
        )
    if "disabled_members" in columns:
        groups["with_disabled"] = _yes_no(frame["disabled_members"] > 0)
    if {"members_under_16", "members"} <= columns:
        children = frame["members_under_16"].fillna(0)
        all_children = (frame["members"] > 0) & (children >= frame["members"])
        head_minor = frame["head_age"] < 18 if "head_age" in columns else False
        groups["child_headed"] = _yes_no(all_children | head_minor)
        if "single_parent" not in columns:
            groups["single_parent"] = _yes_no((children > 0) & (frame["members"] - children == 1))
    if "single_parent" in columns:
        groups["single_parent"] = _yes_no(frame["single_parent"].astype("boolean"))
    return groups


def _yes_no(condition: pd.Series) -> np.ndarray:
    return np.where(condition.fillna(False).astype(bool), "yes", "no")


def validation_figures(
    labels: np.ndarray, probabilities: np.ndarray, groups: pd.DataFrame
) -> dict[str, Any]:
    """Metrics, calibration curve and fairness table of validation predictions."""
    budgets = {f"{share:.0%}": max(1, round(share * len(labels))) for share in ALERT_SHARES}
    summary = metrics.score_summary(labels, probabilities, budgets=list(budgets.values()))
    summary["at_budget"] = {
        name: {**summary["at_budget"][str(k)], "budget": k} for name, k in budgets.items()
    }
    fairness_k = max(1, round(FAIRNESS_SHARE * len(labels)))
    alerted = metrics.top_k_mask(probabilities, fairness_k)
    return {
        "metrics": summary,
        "calibration_curve": metrics.calibration_curve(labels, probabilities),
        "fairness": metrics.fairness_table(labels, alerted, groups) if not groups.empty else [],
        "fairness_budget": fairness_k,
    }


def fit_and_describe(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    features: Sequence[FeatureSpec],
    label: str = "label",
    model_params: Mapping[str, Any] | None = None,
    groups: pd.DataFrame | None = None,
) -> TrainedModel:
    """Fit a RiskModel on `train`, calibrate and judge it on `valid`, and describe it.

    Args:
        train: training rows with the feature columns and `label`.
        valid: validation rows (a later period, or a held-out share) likewise.
        features: the features to use.
        label: the 0/1 label column.
        model_params: RiskModel hyper-parameters (monotone defaults to the features' own).
        groups: fairness groupings aligned with `valid` (default: `household_groups(valid)`).
    """
    names = [spec.name for spec in features]
    params = {"monotone": feature_monotone(features), **(model_params or {})}
    model = RiskModel(**params).fit(
        train[names], train[label], X_valid=valid[names], y_valid=valid[label]
    )
    probabilities = model.validation_probabilities_
    labels = valid[label].to_numpy().astype(int)
    figures = validation_figures(
        labels, probabilities, household_groups(valid) if groups is None else groups
    )
    card: dict[str, Any] = {
        "rows": {"train": len(train), "validation": len(valid)},
        "positives": {"train": int(train[label].sum()), "validation": int(labels.sum())},
        "features": [
            {
                "name": spec.name,
                "source": spec.source,
                "aggregation": spec.aggregation,
                "window": spec.window,
                "denominator": spec.denominator,
                "label_zh": spec.label_zh,
                "cause": spec.cause,
                "monotone": spec.monotone,
            }
            for spec in features
        ],
        "feature_importance": model.feature_importance(),
        "calibration": {
            "method": model.calibrator_.method,
            "losses": model.calibration_losses_,
        },
        "best_iteration": model.best_iteration_,
        "parameters": model.get_params(),
        **figures,
    }
    scored = valid.assign(risk=probabilities)
    return TrainedModel(model=model, card=card, validation=scored)


# Panel columns carried beside the features: jurisdiction, registry status (alerts skip
# monitoring objects) and what the fairness groupings need.
SNAPSHOT_KEEP = (
    "region_code",
    "registry_status",
    "head_age",
    "members_under_16",
    "single_parent",
    *COST_COLUMNS,
)


def snapshot(
    panel: ir.Table,
    *,
    period: str,
    target: Target,
    features: Sequence[FeatureSpec],
    horizon: int,
    identified: Target | None = monitoring_object_target,
) -> pd.DataFrame:
    """Features as of `period` joined with the forward labels (pandas, every household)."""
    feats = build_features(panel, period=period, features=features, keep=SNAPSHOT_KEEP)
    labels = build_labels(
        panel, period=period, target=target, horizon=horizon, identified=identified
    )
    frame = feats.to_pandas().merge(
        labels.to_pandas().drop(columns=["period"]), on="household_id", how="inner"
    )
    # The backend returns rows in any order (DuckDB with several threads); training picks its
    # early-stopping rows by position, so a fixed order makes a model repeatable.
    return frame.sort_values("household_id", kind="stable").reset_index(drop=True)


def train_on_panel(
    panel: ir.Table,
    *,
    target: Target,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
    horizon: int = 12,
    step: int = 3,
    validation_period: str | None = None,
    model_params: Mapping[str, Any] | None = None,
    identified: Target | None = monitoring_object_target,
) -> TrainedModel:
    """Train on the panel's earlier snapshots, validate on the latest labelled one.

    The label is `combine_labels`: the department data's inclusion test or the official
    identification as a monitoring object within the horizon; monitoring objects at P are
    left out (alerts skip them).

    Args:
        panel: the household-period panel.
        target: the 0/1 column or boolean expression that defines "fallen" in a month.
        features: feature specifications.
        horizon: months ahead the label looks.
        step: months between training snapshots.
        validation_period: override the validation period (default: the latest labelled).
        model_params: RiskModel hyper-parameters.
        identified: the identification target (None: the department test alone, and
            households already meeting it at P are left out).

    Raises:
        UserError: the panel is too short for a training and a validation snapshot.
    """
    check_panel(panel, features, name="household_period")
    periods = panel_periods(panel)
    labelled = labelled_periods(periods, horizon=horizon, step=step)
    if validation_period is None:
        if not labelled:
            raise UserError(
                f"the panel covers {len(periods)} month(s); labels need {horizon} more months "
                "after a period"
            )
        validation_period = labelled[-1]
    valid_index = parse_period(validation_period)
    train_periods = [p for p in labelled if parse_period(p) + horizon <= valid_index]
    if not train_periods:
        raise UserError(
            f"no training period ends its {horizon}-month label window by the validation "
            f"period {validation_period}; the panel needs at least {2 * horizon + 1} months"
        )
    frames = []
    with progress_bar("特征与标签 features and labels", len(train_periods) + 1) as advance:
        for period in [*train_periods, validation_period]:
            frame = snapshot(
                panel,
                period=period,
                target=target,
                features=features,
                horizon=horizon,
                identified=identified,
            )
            frames.append(combine_labels(frame))
            advance()
    train = pd.concat(frames[:-1], ignore_index=True)
    valid = frames[-1].reset_index(drop=True)
    trained = fit_and_describe(train, valid, features=features, model_params=model_params)
    trained.card["periods"] = {"train": train_periods, "validation": validation_period}
    trained.card["horizon_months"] = horizon
    trained.card["label"] = (
        "department test or identified as a monitoring object"
        if identified is not None
        else "department test"
    )
    return trained


def record_trigger_lift(
    trained: TrainedModel, panel: ir.Table, rules: Sequence[TriggerRule]
) -> dict[str, float]:
    """Each trigger's lift on the validation period, kept in the model card (`trigger_lift`).

    The alert ranking weighs only informative triggers (`AlertPolicy.trigger_scope`); whether
    a trigger is informative is judged on the validation period's labels, never on a later one.
    """
    from dixian.monitor.alerts import trigger_lifts

    lifts: dict[str, float] = {}
    if rules:
        period = trained.card["periods"]["validation"]
        hits = evaluate_triggers(panel, rules, period=period)
        labels = trained.validation.set_index("household_id")["label"]
        lifts = trigger_lifts(labels, hits)
    trained.card["trigger_lift"] = lifts
    return lifts
