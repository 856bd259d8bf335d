"""Evaluation measures for the risk model and the alert list.

All take plain arrays, so they are used alike by the model card (validation period), by
`dixian evaluate monitor` (held-out year against the simulator's truth) and by tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

# A group whose recall falls below this share of the overall recall is flagged as a gap
# (the target: no township below 0.8× the county's recall).
FAIRNESS_RATIO_FLOOR = 0.8
# Groups smaller than this (positives) give a recall too noisy to flag.
FAIRNESS_MIN_POSITIVES = 10


def _arrays(labels: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.int_], NDArray[np.float64]]:
    return np.asarray(labels).astype(int), np.asarray(scores, dtype=np.float64)


def auc(labels: ArrayLike, scores: ArrayLike) -> float | None:
    """ROC AUC, or None when only one outcome is present."""
    y, s = _arrays(labels, scores)
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, s))


def pr_auc(labels: ArrayLike, scores: ArrayLike) -> float | None:
    """Area under the precision-recall curve (average precision), or None without positives."""
    y, s = _arrays(labels, scores)
    if y.sum() == 0:
        return None
    return float(average_precision_score(y, s))


def calibration_curve(
    labels: ArrayLike, probabilities: ArrayLike, *, bins: int = 10
) -> list[dict[str, float]]:
    """Equal-mass bins of predicted probability: mean prediction, observed rate, count."""
    y, p = _arrays(labels, probabilities)
    if len(y) == 0:
        return []
    order = np.argsort(p, kind="stable")
    curve = []
    for chunk in np.array_split(order, min(bins, len(order))):
        if len(chunk) == 0:
            continue
        curve.append(
            {
                "mean_predicted": float(p[chunk].mean()),
                "observed_rate": float(y[chunk].mean()),
                "count": len(chunk),
            }
        )
    return curve


def expected_calibration_error(
    labels: ArrayLike, probabilities: ArrayLike, *, bins: int = 10
) -> float:
    """ECE: count-weighted mean |observed rate − mean prediction| over equal-mass bins.

    Equal-mass bins, because risk is concentrated near zero: equal-width bins would put almost
    every household in the first bin and hide miscalibration among the risky ones.
    """
    curve = calibration_curve(labels, probabilities, bins=bins)
    total = sum(item["count"] for item in curve)
    if total == 0:
        return 0.0
    return float(
        sum(item["count"] * abs(item["observed_rate"] - item["mean_predicted"]) for item in curve)
        / total
    )


def top_k_mask(scores: ArrayLike, k: int) -> NDArray[np.bool_]:
    """A mask of the k highest scores (ties broken by position, deterministically)."""
    s = np.asarray(scores, dtype=np.float64)
    mask = np.zeros(len(s), dtype=bool)
    if k <= 0:
        return mask
    order = np.lexsort((np.arange(len(s)), -s))
    mask[order[: min(k, len(s))]] = True
    return mask


def recall_precision_at(labels: ArrayLike, alerted: ArrayLike) -> dict[str, float | int]:
    """Recall and precision of a set of alerts (a boolean mask) against labels."""
    y = np.asarray(labels).astype(int)
    mask = np.asarray(alerted).astype(bool)
    hits = int((y[mask] == 1).sum())
    positives = int(y.sum())
    return {
        "alerts": int(mask.sum()),
        "true_alerts": hits,
        "positives": positives,
        "recall": hits / positives if positives else 0.0,
        "precision": hits / int(mask.sum()) if mask.sum() else 0.0,
    }


def recall_precision_at_budget(
    labels: ArrayLike, scores: ArrayLike, *, budget: int
) -> dict[str, float | int]:
    """Recall and precision when the `budget` highest-scored households are alerted."""
    return recall_precision_at(labels, top_k_mask(scores, budget))


def rule_baseline_mask(
    hit_counts: ArrayLike, *, budget: int, tie_break: ArrayLike
) -> NDArray[np.bool_]:
    """The rule-only baseline's alerts: households with at least one trigger hit, most hits
    first, at most `budget` of them.

    Ties among equal hit counts are broken by `tie_break` (e.g. a seeded random draw), never by
    the model, so the baseline owes nothing to it.
    """
    counts = np.asarray(hit_counts, dtype=np.float64)
    # tie_break is scaled into [0, 0.5] so it only orders households with equal hit counts.
    key = counts + 0.5 * np.asarray(tie_break, dtype=np.float64).clip(0.0, 1.0)
    key = np.where(counts > 0, key, -np.inf)
    return top_k_mask(key, min(budget, int((counts > 0).sum())))


def lead_time_summary(months_to_event: ArrayLike, alerted: ArrayLike) -> dict[str, Any]:
    """Lead time of alerted true positives: months between the alert and the true fall."""
    months = pd.Series(np.asarray(months_to_event, dtype=np.float64))
    mask = np.asarray(alerted).astype(bool)
    caught = months[mask & months.notna().to_numpy()]
    if caught.empty:
        return {"count": 0, "median_months": None, "mean_months": None}
    return {
        "count": len(caught),
        "median_months": float(caught.median()),
        "mean_months": float(caught.mean()),
        "share_3_months_or_more": float((caught >= 3).mean()),
    }


def fairness_table(
    labels: ArrayLike,
    alerted: ArrayLike,
    groups: pd.DataFrame,
    *,
    floor: float = FAIRNESS_RATIO_FLOOR,
    min_positives: int = FAIRNESS_MIN_POSITIVES,
) -> list[dict[str, Any]]:
    """Recall by group for each grouping column, with gaps flagged.

    Args:
        labels: true outcome per household.
        alerted: alert mask per household.
        groups: one column per grouping (e.g. township, household type), aligned with labels.
        floor: flag a group whose recall is below floor × overall recall.
        min_positives: groups with fewer positives are reported but not flagged.
    """
    y = np.asarray(labels).astype(int)
    mask = np.asarray(alerted).astype(bool)
    overall = recall_precision_at(y, mask)["recall"]
    rows: list[dict[str, Any]] = []
    for column in groups.columns:
        values = groups[column].astype("string").fillna("(missing)").to_numpy()
        for value in sorted(set(values)):
            member = values == value
            figures = recall_precision_at(y[member], mask[member])
            ratio = figures["recall"] / overall if overall else None
            rows.append(
                {
                    "grouping": column,
                    "group": str(value),
                    "households": int(member.sum()),
                    "positives": figures["positives"],
                    "recall": figures["recall"],
                    "precision": figures["precision"],
                    "recall_ratio": ratio,
                    "gap": bool(
                        ratio is not None
                        and figures["positives"] >= min_positives
                        and ratio < floor
                    ),
                }
            )
    return rows


def recall_ratio_intervals(
    labels: ArrayLike,
    alerted: ArrayLike,
    groups: pd.DataFrame,
    *,
    reps: int = 1000,
    level: float = 0.9,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Bootstrap interval of each group's recall ratio (group recall / overall recall).

    Households are resampled with replacement, the alerts held fixed, so the interval shows how
    much of a group's gap the small number of its falls alone could make.

    Args:
        labels: true outcome per household.
        alerted: alert mask per household.
        groups: one column per grouping, aligned with labels.
        reps: bootstrap resamples.
        level: central coverage of the interval.
        seed: seed of the resampling.
    """
    y = np.asarray(labels).astype(np.float64)
    caught = y * np.asarray(alerted).astype(bool)
    n = len(y)
    if n == 0 or y.sum() == 0:
        return []
    codes = {
        column: pd.factorize(groups[column].astype("string").fillna("(missing)"), sort=True)
        for column in groups.columns
    }
    ratios = {column: np.full((reps, len(names)), np.nan) for column, (_, names) in codes.items()}
    rng = np.random.default_rng(seed)
    for rep in range(reps):
        index = rng.integers(0, n, n)
        positives, found = y[index], caught[index]
        overall = found.sum() / positives.sum() if positives.sum() else np.nan
        for column, (code, names) in codes.items():
            group_positives = np.bincount(code[index], weights=positives, minlength=len(names))
            group_found = np.bincount(code[index], weights=found, minlength=len(names))
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios[column][rep] = group_found / group_positives / overall
    tail = (1.0 - level) / 2.0
    rows = []
    for column, (_, names) in codes.items():
        for position, name in enumerate(names):
            values = ratios[column][:, position]
            values = values[np.isfinite(values)]
            if len(values) == 0:
                continue
            low, high = np.quantile(values, [tail, 1.0 - tail])
            rows.append(
                {
                    "grouping": column,
                    "group": str(name),
                    "level": level,
                    "recall_ratio_low": float(low),
                    "recall_ratio_high": float(high),
                    "share_below_floor": float((values < FAIRNESS_RATIO_FLOOR).mean()),
                }
            )
    return rows


def lowest_ratio_by_chance(
    positives: ArrayLike,
    *,
    recall: float,
    floor: float = FAIRNESS_RATIO_FLOOR,
    reps: int = 20000,
    seed: int = 0,
) -> dict[str, float]:
    """How low the lowest group's recall ratio falls by chance when every group is equal.

    Each group's caught falls are drawn as Binomial(its positives, the overall recall): the
    groups differ only by the luck of small counts. Returns the share of draws in which some
    group is below `floor` × the overall recall, and the median of the lowest ratio.
    """
    counts = np.asarray(positives, dtype=np.int64)
    counts = counts[counts > 0]
    if len(counts) == 0 or not 0 < recall < 1:
        return {"share_below_floor": 0.0, "median_lowest_ratio": 1.0}
    draws = np.random.default_rng(seed).binomial(counts, recall, size=(reps, len(counts)))
    overall = draws.sum(axis=1, keepdims=True) / counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lowest = np.nanmin(draws / counts / overall, axis=1)
    return {
        "share_below_floor": float((lowest < floor).mean()),
        "median_lowest_ratio": float(np.median(lowest)),
    }


def recall_homogeneity(positives: ArrayLike, caught: ArrayLike) -> dict[str, float]:
    """Whether the groups' recalls differ by more than chance: a chi-square test of caught
    against missed falls over the groups (Pearson, no continuity correction).

    Returns chi2, degrees of freedom and the p-value (1.0 when there is nothing to compare).
    A small p-value says some group is served worse than luck explains; the lowest ratio alone
    cannot say that at a few dozen falls per group (`lowest_ratio_by_chance`).
    """
    from scipy.stats import chi2_contingency

    falls = np.asarray(positives, dtype=np.int64)
    found = np.asarray(caught, dtype=np.int64)
    keep = falls > 0
    table = np.vstack([found[keep], falls[keep] - found[keep]])
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return {"chi2": 0.0, "dof": 0.0, "p_value": 1.0}
    result = chi2_contingency(table, correction=False)
    return {"chi2": float(result[0]), "dof": float(result[2]), "p_value": float(result[1])}


def score_summary(
    labels: ArrayLike, probabilities: ArrayLike, *, budgets: Sequence[int]
) -> dict[str, Any]:
    """AUC, PR-AUC, ECE, base rate and recall/precision at each budget."""
    y, p = _arrays(labels, probabilities)
    return {
        "rows": len(y),
        "base_rate": float(y.mean()) if len(y) else 0.0,
        "mean_predicted": float(p.mean()) if len(p) else 0.0,
        "auc": auc(y, p),
        "pr_auc": pr_auc(y, p),
        "ece": expected_calibration_error(y, p),
        "at_budget": {
            str(budget): recall_precision_at_budget(y, p, budget=budget) for budget in budgets
        },
    }
