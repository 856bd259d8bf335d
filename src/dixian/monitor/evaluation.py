"""Held-out evaluation: train on earlier years, judge the alerts of a later period.

The test period T is the latest period whose 12 months ahead are in the panel; the model is
trained and calibrated only on snapshots whose labels end by T (validation at T − horizon), so
T's outcome is never seen. At T the same alert policy as production ranks households; the
rule-only baseline alerts the same number of households from the official triggers alone
(most hits first, ties broken at random), and both are judged on who actually fell.

Lead time counts from the start of each alerted household's run of monthly alerts up to T
(`alert_runs`), for the alert list and the baseline alike; the months from T alone to the fall
are kept as `lead_time_snapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dixian.console import progress_bar
from dixian.errors import UserError
from dixian.monitor import metrics
from dixian.monitor.alert_runs import (
    household_draws,
    lead_summary,
    lookback_limit,
    run_lead_times,
    score_earlier_months,
)
from dixian.monitor.alerts import ALLOCATIONS, AlertPolicy
from dixian.monitor.causes import attribute_causes
from dixian.monitor.comparison import (
    alerted_mask,
    alerts_over_tie_draws,
    allocation_figures,
    always_alert_mask,
    baseline_over_draws,
    earlier_alerted,
    rule_policy_baseline,
)
from dixian.monitor.features import (
    DEFAULT_FEATURES,
    FeatureSpec,
    feature_causes,
    labelled_periods,
    panel_periods,
    shift_period,
)
from dixian.monitor.labels import Target, combine_labels, monitoring_object_target
from dixian.monitor.training import (
    household_groups,
    record_trigger_lift,
    snapshot,
    train_on_panel,
)
from dixian.monitor.triggers import TriggerRule, empty_hits, evaluate_triggers, summarise_hits


def evaluate_held_out(
    panel: ir.Table,
    *,
    target: Target,
    rules: Sequence[TriggerRule] = (),
    validation_rules: Sequence[TriggerRule] | None = None,
    policy: AlertPolicy | None = None,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
    horizon: int = 12,
    step: int = 3,
    test_period: str | None = None,
    true_causes: Mapping[str, str] | None = None,
    truth: pd.DataFrame | None = None,
    model_params: Mapping[str, Any] | None = None,
    seed: int = 0,
    identified: Target | None = monitoring_object_target,
    lead_lookback: int | None = None,
) -> dict[str, Any]:
    """Train before the test period, alert at it, and score alerts and baseline on outcomes.

    Args:
        panel: the household-period panel.
        target: what "fallen" means in a month (column or expression).
        rules: the official triggers (rule-only baseline, and trigger hits in the ranking).
        validation_rules: the triggers with the validation year's parameters, for the
            triggers' lift (default: `rules`); production resolves a period's parameters by
            its year, so the lift at T − 12 uses that year's monitoring line.
        policy: the alert policy (budget per jurisdiction).
        features: feature specifications.
        horizon: months ahead.
        step: months between training snapshots.
        test_period: the held-out period (default: the latest labelled one).
        true_causes: household_id → true cause code, for primary-cause accuracy.
        truth: true outcomes per household_id (at_period, label, months_to_event, cause), e.g.
            from the simulator's truth; replaces the panel's own outcomes and causes.
        model_params: RiskModel hyper-parameters.
        seed: seed of the baseline's tie-breaking.
        identified: the identification target of the training label (None: the department
            test alone, as before issue 7's county measurement; for comparisons).
        lead_lookback: months before T scored for the alert runs (default: as far as the
            model allows, `alert_runs.lookback_limit`; 0: the snapshot lead only).

    Returns:
        Nested figures: model metrics, alerts vs baseline, lead time, fairness, causes.
    """
    periods = panel_periods(panel)
    labelled = labelled_periods(periods, horizon=horizon, step=1)
    if not labelled:
        raise UserError(f"the panel covers {len(periods)} month(s); too short to evaluate")
    test_period = test_period or labelled[-1]
    validation_period = shift_period(test_period, -horizon)
    if validation_period not in periods:
        raise UserError(
            f"held-out period {test_period} needs a validation period {validation_period} "
            f"in the panel; it needs at least {3 * horizon + 1} months"
        )
    trained = train_on_panel(
        panel,
        target=target,
        features=features,
        horizon=horizon,
        step=step,
        validation_period=validation_period,
        model_params=model_params,
        identified=identified,
    )
    record_trigger_lift(trained, panel, rules if validation_rules is None else validation_rules)
    test = snapshot(
        panel,
        period=test_period,
        target=target,
        features=features,
        horizon=horizon,
        identified=monitoring_object_target,
    )
    if truth is not None:
        # Judged on the true outcome, among households truly above the line at T that are not
        # monitoring objects yet (alerts skip those; the baseline is judged on the same ones).
        outcome_columns = ["household_id", "at_period", "label", "months_to_event"]
        test = test.drop(columns=outcome_columns[1:]).merge(
            truth[outcome_columns], on="household_id", how="inner"
        )
        test = test[(test["at_period"] == 0) & (test["identified_at_period"] == 0)]
        causes_known = truth.dropna(subset=["cause"])
        true_causes = dict(zip(causes_known["household_id"], causes_known["cause"], strict=True))
    else:
        test = combine_labels(test)
    test = test.reset_index(drop=True)
    if test.empty or test["label"].nunique() < 2:
        raise UserError(f"held-out period {test_period}: no households that fell and stayed")
    model = trained.model
    test["raw_logodds"] = model.decision_function(test)
    test["risk"] = model.calibrator_.transform(test["raw_logodds"].to_numpy())
    labels = test["label"].to_numpy()
    hits = evaluate_triggers(panel, rules, period=test_period) if rules else empty_hits()
    hits = hits[hits["household_id"].isin(set(test["household_id"]))]
    policy = policy or AlertPolicy()
    if policy.trigger_lift is None:
        policy = replace(policy, trigger_lift=trained.card["trigger_lift"])
    alerted = alerted_mask(test, hits, policy=policy)
    count = int(alerted.sum())
    summary = summarise_hits(hits).set_index("household_id")
    hit_counts = test["household_id"].map(summary["trigger_count"]).fillna(0).to_numpy()
    tie_break = household_draws(test["household_id"], seed=seed)
    baseline = rule_policy_baseline(test, hits, policy=policy, tie_break=tie_break)
    always = always_alert_mask(test, hits).to_numpy(dtype=bool)
    county_wide = metrics.rule_baseline_mask(hit_counts, budget=count, tie_break=tie_break)
    model_only = metrics.top_k_mask(test["risk"].to_numpy(), count)
    ours = metrics.recall_precision_at(labels, alerted)
    rules_only = metrics.recall_precision_at(labels, baseline)
    groups = household_groups(test)
    train_periods = trained.card["periods"]["train"]
    limit = lookback_limit(test_period=test_period, train_periods=train_periods, horizon=horizon)
    lookback = limit if lead_lookback is None else min(lead_lookback, limit)
    with progress_bar("此前各月预警 earlier months' alerts", lookback) as advance:
        earlier = score_earlier_months(
            panel,
            model,
            test_period=test_period,
            lookback=lookback,
            features=features,
            target=target,
            horizon=horizon,
            rules=rules,
            progress=advance,
        )
    months_to_event = test["months_to_event"]
    figures: dict[str, Any] = {
        "periods": {
            "train": train_periods,
            "validation": validation_period,
            "test": test_period,
            "lead_lookback": earlier.months,
        },
        "households": len(test),
        "policy": {
            "budget": policy.budget,
            "trigger_weight": policy.trigger_weight,
            "trigger_scope": policy.trigger_scope,
            "weighing_triggers": sorted(
                trigger for trigger in (policy.trigger_lift or {}) if policy.weight_of(trigger) > 0
            ),
            "allocation": policy.allocation,
        },
        "trigger_lift_validation": trained.card["trigger_lift"],
        "outcomes": "truth" if truth is not None else "panel",
        "label": trained.card.get("label"),
        "model": metrics.score_summary(labels, test["risk"].to_numpy(), budgets=[count]),
        "alerts": {**ours, "always_alert": int(always.sum())},
        # The part the model chooses: alerts beyond the always-alert households, both lists.
        "budgeted_part": {
            "alerts": metrics.recall_precision_at(labels, alerted & ~always),
            "rule_baseline": metrics.recall_precision_at(labels, baseline & ~always),
        },
        "model_only_at_same_count": metrics.recall_precision_at(labels, model_only),
        "rule_baseline": {**rules_only, "households_with_hits": int((hit_counts > 0).sum())},
        "rule_baseline_county_wide": metrics.recall_precision_at(labels, county_wide),
        # The baseline's ties (equal hit counts) are drawn at random: its recall over many draws.
        "rule_baseline_over_draws": baseline_over_draws(test, hits, labels, policy=policy),
        # Isotonic calibration gives bands of equal risk; the list orders them by raw log-odds.
        # How many falls other orders within those bands would have found:
        "alerts_over_tie_draws": alerts_over_tie_draws(test, hits, labels, policy=policy),
        "recall_ratio_vs_rules": (
            ours["recall"] / rules_only["recall"] if rules_only["recall"] else None
        ),
        "fairness": metrics.fairness_table(labels, alerted, groups),
        "fairness_intervals": metrics.recall_ratio_intervals(labels, alerted, groups, seed=seed),
        # The lowest township's ratio if every township had the same recall but for chance.
        "fairness_township_by_chance": metrics.lowest_ratio_by_chance(
            pd.Series(labels).groupby(groups["township"].to_numpy()).sum().to_numpy()
            if "township" in groups
            else [],
            recall=ours["recall"],
            seed=seed,
        ),
        "fairness_township_homogeneity": _township_homogeneity(labels, alerted, groups),
        "calibration": trained.card["calibration"],
        "calibration_curve": metrics.calibration_curve(labels, test["risk"].to_numpy()),
    }
    lists = {"alerts": alerted, "rule_baseline": baseline}
    for name, mask in lists.items():
        suffix = "" if name == "alerts" else "_rule_baseline"
        runs = run_lead_times(
            test["household_id"],
            mask,
            months_to_event,
            earlier=earlier_alerted(earlier, name=name, policy=policy, seed=seed),
        )
        figures[f"lead_time{suffix}"] = lead_summary(runs, lookback=lookback)
        figures[f"lead_time_snapshot{suffix}"] = metrics.lead_time_summary(months_to_event, mask)
    figures["allocations"] = {
        allocation: allocation_figures(
            test, hits, labels, groups, policy=replace(policy, allocation=allocation), seed=seed
        )
        for allocation in ALLOCATIONS
    }
    draws = figures["rule_baseline_over_draws"]["mean_true_alerts"]
    figures["recall_ratio_vs_rules_mean_draw"] = ours["true_alerts"] / draws if draws else None
    # Neither list's luck in ties: both averaged over random orders of their equal priorities.
    figures["recall_ratio_vs_rules_ties_averaged"] = (
        figures["alerts_over_tie_draws"]["mean_true_alerts"] / draws if draws else None
    )
    figures["fairness_gaps"] = [row for row in figures["fairness"] if row["gap"]]
    if true_causes is not None:
        causes = feature_causes(features)
        fell = test[labels == 1]
        known = fell[fell["household_id"].isin(set(true_causes))]
        if not known.empty:
            attribution = attribute_causes(model, known, feature_causes=causes)
            right = attribution.primary.to_numpy() == known["household_id"].map(true_causes)
            was_alerted = pd.Series(alerted, index=test.index).loc[known.index].to_numpy()
            if was_alerted.any():
                figures["primary_cause_accuracy"] = float(right[was_alerted].mean())
            figures["primary_cause_checked"] = int(was_alerted.sum())
            # Every true fall with a known cause, alerted or not: a larger sample.
            figures["primary_cause_accuracy_all_falls"] = float(right.mean())
            figures["primary_cause_checked_all_falls"] = len(known)
            figures["primary_cause_confusion"] = (
                pd.crosstab(known["household_id"].map(true_causes), attribution.primary.to_numpy())
                .stack()
                .loc[lambda counts: counts > 0]
                .rename_axis(["true", "primary"])
                .reset_index(name="households")
                .to_dict(orient="records")
            )
    return figures


def _township_homogeneity(
    labels: NDArray[np.int_], alerted: NDArray[np.bool_], groups: pd.DataFrame
) -> dict[str, float]:
    if "township" not in groups:
        return metrics.recall_homogeneity([], [])
    by = (
        pd.DataFrame(
            {"fell": labels, "caught": labels.astype(bool) & alerted, "g": groups["township"]}
        )
        .groupby("g")[["fell", "caught"]]
        .sum()
    )
    return metrics.recall_homogeneity(by["fell"].to_numpy(), by["caught"].to_numpy())


def true_causes_from_shocks(
    shocks: pd.DataFrame, *, test_period: str, horizon: int, cause_of: Mapping[str, str]
) -> dict[str, str]:
    """Household → cause of its latest shock in the 12 months up to the test period.

    Shocks after the test period are left out: the alert could not have seen them, so naming
    their cause is not something to score.

    Args:
        shocks: household_id, period, shock (one row per shock start).
        test_period: the held-out period.
        horizon: months before the test period to look back.
        cause_of: shock kind → cause code.
    """
    start = shift_period(test_period, -horizon)
    window = shocks[(shocks["period"] > start) & (shocks["period"] <= test_period)]
    latest = window.sort_values("period").groupby("household_id").tail(1)
    return {
        str(row.household_id): cause_of.get(str(row.shock), "other") for row in latest.itertuples()
    }
