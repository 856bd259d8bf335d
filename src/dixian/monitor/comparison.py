"""The alert list against the rule-only baseline at the same policy: masks, allocations, ties.

`evaluate_held_out` (`evaluation.py`) judges both lists on the held-out outcomes; this module
builds them: the list's and the baseline's alerts at a period and in the months before it, both
budget allocations at the same total, and how much each list's count of true alerts owes to the
order of its ties (equal priorities for the list, equal hit counts for the baseline).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dixian.monitor import metrics
from dixian.monitor.alert_runs import MonthlyScores, alerted_sets, household_draws
from dixian.monitor.alerts import AlertPolicy, rank_alerts


def alerted_mask(
    scores: pd.DataFrame,
    hits: pd.DataFrame,
    *,
    policy: AlertPolicy,
    need: NDArray[np.float64] | None = None,
) -> NDArray[np.bool_]:
    """The alert list's mask over `scores` rows (monitoring objects left out are not alerted)."""
    ranked = rank_alerts(scores, hits, policy=policy, need=need)
    # Households the ranking leaves out (already monitoring objects) are not alerted.
    ranked = ranked.set_index("household_id").reindex(scores["household_id"])
    return np.asarray(ranked["alerted"].fillna(False).to_numpy(), dtype=bool)


def earlier_alerted(
    earlier: MonthlyScores, *, name: str, policy: AlertPolicy, seed: int
) -> list[set[str]]:
    """The households the alert list (or the rule baseline) alerted in each earlier month."""
    if name == "alerts":
        return alerted_sets(earlier, lambda scored, hits: alerted_mask(scored, hits, policy=policy))

    def rules(scored: pd.DataFrame, hits: pd.DataFrame) -> NDArray[np.bool_]:
        draws = household_draws(scored["household_id"], seed=seed)
        return rule_policy_baseline(scored, hits, policy=policy, tie_break=draws)

    return alerted_sets(earlier, rules)


def allocation_figures(
    test: pd.DataFrame,
    hits: pd.DataFrame,
    labels: NDArray[np.int_],
    groups: pd.DataFrame,
    *,
    policy: AlertPolicy,
    seed: int,
) -> dict[str, Any]:
    """Recall, ratio and township fairness of both lists under one budget allocation."""
    alerted = alerted_mask(test, hits, policy=policy)
    draws = household_draws(test["household_id"], seed=seed)
    baseline = rule_policy_baseline(test, hits, policy=policy, tie_break=draws)
    out: dict[str, Any] = {}
    for name, mask in (("alerts", alerted), ("rule_baseline", baseline)):
        table = metrics.fairness_table(labels, mask, groups[["township"]])
        ratios = [row["recall_ratio"] for row in table if row["recall_ratio"] is not None]
        out[name] = {
            **metrics.recall_precision_at(labels, mask),
            "lowest_township_ratio": min(ratios) if ratios else None,
            "townships": {row["group"]: row["recall_ratio"] for row in table},
            "budgets": _township_alerts(test, mask),
        }
    rules_recall = out["rule_baseline"]["recall"]
    out["recall_ratio_vs_rules"] = out["alerts"]["recall"] / rules_recall if rules_recall else None
    return out


TIE_DRAWS = 50


def baseline_over_draws(
    test: pd.DataFrame, hits: pd.DataFrame, labels: NDArray[np.int_], *, policy: AlertPolicy
) -> dict[str, float]:
    """True alerts of the rule baseline over `TIE_DRAWS` seeds of its tie-break."""
    found = [
        int(labels[rule_policy_baseline(test, hits, policy=policy, tie_break=draws)].sum())
        for draws in (household_draws(test["household_id"], seed=seed) for seed in range(TIE_DRAWS))
    ]
    return _draw_summary(found)


def alerts_over_tie_draws(
    test: pd.DataFrame, hits: pd.DataFrame, labels: NDArray[np.int_], *, policy: AlertPolicy
) -> dict[str, float]:
    """True alerts of the alert list when equal priorities are ordered at random instead."""
    found = [
        int(labels[alerted_mask(test.assign(raw_logodds=draws), hits, policy=policy)].sum())
        for draws in (household_draws(test["household_id"], seed=seed) for seed in range(TIE_DRAWS))
    ]
    return _draw_summary(found)


def _draw_summary(found: list[int]) -> dict[str, float]:
    return {
        "draws": TIE_DRAWS,
        "mean_true_alerts": float(np.mean(found)),
        "p5_true_alerts": float(np.percentile(found, 5)),
        "p95_true_alerts": float(np.percentile(found, 95)),
    }


def _township_alerts(test: pd.DataFrame, mask: NDArray[np.bool_]) -> dict[str, int]:
    township = test["region_code"].astype(str).str[:9]
    counts = township[mask].value_counts()
    return {str(name): int(counts.get(name, 0)) for name in sorted(township.unique())}


def always_alert_mask(scores: pd.DataFrame, hits: pd.DataFrame) -> pd.Series:
    """Rows of `scores` with an always-alert trigger hit."""
    always = hits.loc[hits["always_alert"].astype(bool), "household_id"]
    return scores["household_id"].isin(set(always))


_BASELINE_TRIGGER_WEIGHT = 0.5


def rule_policy_baseline(
    scores: pd.DataFrame,
    hits: pd.DataFrame,
    *,
    policy: AlertPolicy,
    tie_break: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """The rule-only baseline: the same alert policy with the official triggers alone.

    Each jurisdiction gets the same budget and the same always-alert households; the budget is
    filled by trigger hits, most first, ties in a seeded random order (the model's risk plays
    no part). Rules alert nobody without a hit, so where too few households have one the
    baseline alerts fewer.
    """
    kept = [c for c in ("household_id", "region_code", "registry_status") if c in scores]
    rule_only = scores[kept].assign(risk=tie_break * 1e-9)
    # Ranked by hits whatever weight the alert list gives them (at weight 0 every household's
    # priority would be its tie-break alone).
    # Every official trigger counts: the rules know no lift.
    by_hits = replace(policy, trigger_weight=_BASELINE_TRIGGER_WEIGHT, trigger_scope="all")
    flagged = np.asarray(scores["household_id"].isin(set(hits["household_id"])), dtype=bool)
    # Allocated by need, the rules' own need is the households they flag.
    alerted = alerted_mask(rule_only, hits, policy=by_hits, need=flagged.astype(np.float64))
    baseline: NDArray[np.bool_] = alerted & flagged
    return baseline
