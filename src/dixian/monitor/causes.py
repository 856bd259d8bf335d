"""Cause attribution: the model's per-feature contributions grouped into the cause taxonomy.

LightGBM's native contributions (`pred_contrib=True`, TreeSHAP) split each household's raw
log-odds into one term per feature plus a bias. Summing the terms of the features mapped to the
same cause (code list `cause` of the data standard) gives one contribution per cause; the cause
sums plus the bias equal the raw log-odds exactly.

The primary cause is the specific cause (not `other`) with the largest positive contribution,
when it reaches `min_logodds`; otherwise `other`. Income level and income change are mapped to
`other`: they say *that* a household is falling, not *why*, and a caseworker needs the why.
A secondary cause is the next specific cause whose contribution is at least `secondary_ratio`
of the primary's.

Risk events come first when the household's own data show them (`CAUSE_EVIDENCE`): a cause
such as illness, disaster or job loss is preferred as primary only if the household spent on
it, lost by it or shows it (medical spending, a disaster loss, a job loss or falling wages, an
overdue project loan…),
and then before a structural cause (lack of labour, of capital…) or an event the data do not
show; among those events the costliest in yuan comes first (`dixian.monitor.costs`), and the
costliest event of at least a quarter of the household's income is primary whatever the
contributions say. Contributions alone named 因病 for households with a chronically ill
member and no spending, whose fall came from elsewhere; the household needs to hear about the
event that happened to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from dixian.errors import UserError
from dixian.monitor.costs import MATERIAL_SHARE, event_costs, primary_by_cost
from dixian.monitor.model import RiskModel

RESIDUAL_CAUSE = "other"

# Event causes and the feature values that show the event happened to the household:
# (feature, "positive") holds when the value is > 0, (feature, "negative") when it is < 0.
CAUSE_EVIDENCE: dict[str, tuple[tuple[str, str], ...]] = {
    "illness": (
        ("medical_oop_12m", "positive"),
        ("medical_oop_share", "positive"),
        ("outpatient_oop_3m", "positive"),
    ),
    "disaster": (("disaster_loss_12m", "positive"), ("disaster_affected", "positive")),
    "schooling": (("schooling_cost_12m", "positive"), ("schooling_share", "positive")),
    "unstable_employment": (
        ("job_loss", "positive"),
        ("job_loss_wages", "positive"),
        ("wage_pc_change", "negative"),
    ),
    "accident": (("labourer_shock", "positive"), ("injury_oop_12m", "positive")),
    "failed_project": (
        ("operating_pc_change", "negative"),
        ("microcredit_overdue", "positive"),
        ("microcredit_overdue_principal", "positive"),
    ),
    "disability": (("new_disabled_members", "positive"),),
}


@cache
def cause_labels() -> dict[str, str]:
    """Cause code → Chinese label, from the data standard's code list `cause`."""
    from dixian.standards import load_catalog

    return {code.code: code.zh for code in load_catalog().code_list("cause").codes}


@dataclass
class CauseAttribution:
    """Per-household contributions by cause.

    Attributes:
        by_cause: one column per cause (log-odds), aligned with the input rows.
        bias: the model's bias term (the same for every row).
        primary: primary cause code per row.
        secondary: secondary cause code per row, or None.
    """

    by_cause: pd.DataFrame
    bias: pd.Series
    primary: pd.Series
    secondary: pd.Series


def group_contributions(
    contributions: pd.DataFrame, feature_causes: Mapping[str, str]
) -> pd.DataFrame:
    """Sum per-feature contributions into per-cause contributions (a matrix product).

    Raises:
        UserError: a feature has no cause, or a cause is not in the data standard.
    """
    features = [column for column in contributions.columns if column != "_bias"]
    unmapped = [name for name in features if name not in feature_causes]
    if unmapped:
        raise UserError(f"features without a cause in the feature→cause map: {unmapped}")
    known = cause_labels()
    unknown = sorted({feature_causes[name] for name in features} - set(known))
    if unknown:
        raise UserError(f"cause code(s) {unknown} are not in the data standard's code list 'cause'")
    causes = sorted({feature_causes[name] for name in features})
    membership = np.zeros((len(features), len(causes)))
    for row, name in enumerate(features):
        membership[row, causes.index(feature_causes[name])] = 1.0
    grouped = contributions[features].to_numpy() @ membership
    return pd.DataFrame(grouped, columns=causes, index=contributions.index)


def cause_evidence(
    X: pd.DataFrame, evidence: Mapping[str, Sequence[tuple[str, str]]] = CAUSE_EVIDENCE
) -> pd.DataFrame:
    """Per household, whether its own values show each event cause (one boolean column each).

    Only causes with at least one evidence feature in `X` get a column.
    """
    shown: dict[str, pd.Series] = {}
    for cause, checks in evidence.items():
        present = [(name, sign) for name, sign in checks if name in X.columns]
        if not present:
            continue
        hit = pd.Series(False, index=X.index)
        for name, sign in present:
            values = pd.to_numeric(X[name], errors="coerce")
            hit |= (values > 0) if sign == "positive" else (values < 0)
        shown[cause] = hit.fillna(False).astype(bool)
    return pd.DataFrame(shown, index=X.index)


def choose_causes(
    by_cause: pd.DataFrame,
    *,
    min_logodds: float = 0.05,
    secondary_ratio: float = 0.3,
    evidence: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Primary and secondary cause per row from per-cause contributions.

    With `evidence` (from `cause_evidence`), an event cause the household's data show and
    whose contribution is positive ranks before every other specific cause; among such events,
    with `costs` (yuan per event cause, from `dixian.monitor.costs.event_costs`) the costliest
    comes first, else the largest contribution.
    """
    specific = [column for column in by_cause.columns if column != RESIDUAL_CAUSE]
    if not specific:
        residual = pd.Series(RESIDUAL_CAUSE, index=by_cause.index, dtype="object")
        return residual, pd.Series(None, index=by_cause.index, dtype="object")
    values = by_cause[specific].to_numpy()
    key = values.copy()
    qualified = values >= min_logodds
    if evidence is not None:
        shown = np.column_stack(
            [
                evidence[name].to_numpy(dtype=bool)
                if name in evidence.columns
                else np.zeros(len(values), dtype=bool)
                for name in specific
            ]
        )
        preferred = shown & (values > 0.0)
        spent = np.zeros_like(values)
        if costs is not None:
            spent = np.column_stack(
                [
                    costs[name].to_numpy(dtype="float64")
                    if name in costs.columns
                    else np.zeros(len(values))
                    for name in specific
                ]
            )
        # Shown events sort above everything else; among them by cost in yuan, then by
        # contribution (log-odds are a few units, so they only break ties of cost).
        key = np.where(
            preferred, 1e9 + np.nan_to_num(spent) + np.clip(values, 0.0, 10.0) / 100, values
        )
        qualified |= preferred
    order = np.argsort(-key, axis=1, kind="stable")
    rows = np.arange(len(values))
    first = values[rows, order[:, 0]]
    first_ok = qualified[rows, order[:, 0]]
    names = np.asarray(specific, dtype=object)
    primary = np.where(first_ok, names[order[:, 0]], RESIDUAL_CAUSE)
    if len(specific) > 1:
        second = values[rows, order[:, 1]]
        has_second = first_ok & (second >= min_logodds)
        has_second &= second >= secondary_ratio * np.maximum(first, min_logodds)
        secondary = np.where(has_second, names[order[:, 1]], np.full(len(values), None))
    else:
        secondary = np.full(len(values), None, dtype=object)
    return (
        pd.Series(primary, index=by_cause.index, dtype="object"),
        pd.Series(secondary, index=by_cause.index, dtype="object"),
    )


def attribute_causes(
    model: RiskModel,
    X: pd.DataFrame,
    *,
    feature_causes: Mapping[str, str],
    min_logodds: float = 0.05,
    secondary_ratio: float = 0.3,
    contributions: pd.DataFrame | None = None,
    evidence: Mapping[str, Sequence[tuple[str, str]]] | None = CAUSE_EVIDENCE,
    material_share: float | None = MATERIAL_SHARE,
) -> CauseAttribution:
    """Per-household cause contributions, primary and secondary causes.

    Args:
        model: a fitted risk model.
        X: the households' features.
        feature_causes: feature name → cause code.
        min_logodds: a specific cause below this contribution is not named primary.
        secondary_ratio: a secondary cause needs at least this share of the primary's.
        contributions: `model.contributions(X)` if already computed (TreeSHAP is the costly
            part of explaining).
        evidence: event cause → the features that show it (None: contributions alone).
        material_share: the costliest event that cost at least this share of the household's
            12-month income is primary (`dixian.monitor.costs`); the cause the contributions
            name becomes secondary. None: contributions and evidence alone.

    Returns:
        The attribution; `by_cause.sum(axis=1) + bias` equals `model.decision_function(X)`.
    """
    if contributions is None:
        contributions = model.contributions(X)
    by_cause = group_contributions(contributions, feature_causes)
    primary, secondary = choose_causes(
        by_cause,
        min_logodds=min_logodds,
        secondary_ratio=secondary_ratio,
        evidence=None if evidence is None else cause_evidence(X, evidence),
        costs=None if material_share is None else event_costs(X),
    )
    if material_share is not None:
        primary, secondary = _costliest_first(X, primary, secondary, material_share)
    return CauseAttribution(
        by_cause=by_cause,
        bias=contributions["_bias"],
        primary=primary,
        secondary=secondary,
    )


def _costliest_first(
    X: pd.DataFrame, primary: pd.Series, secondary: pd.Series, material_share: float
) -> tuple[pd.Series, pd.Series]:
    """The costliest material event as primary; the contributions' choice moves to second."""
    costly, _ = primary_by_cost(X, material_share=material_share)
    named = costly.notna().to_numpy()
    old_primary = primary.to_numpy(dtype=object)
    old_secondary = secondary.to_numpy(dtype=object)
    new_primary = np.where(named, costly.to_numpy(dtype=object), old_primary)
    runner_up = np.where(old_primary == RESIDUAL_CAUSE, old_secondary, old_primary)
    moved = np.where(runner_up == new_primary, old_secondary, runner_up)
    new_secondary = np.where(named, moved, old_secondary)
    new_secondary = np.where(new_secondary == new_primary, None, new_secondary)
    return (
        pd.Series(new_primary, index=primary.index, dtype="object"),
        pd.Series(new_secondary, index=secondary.index, dtype="object"),
    )


def top_features(
    contributions: pd.Series, feature_causes: Mapping[str, str], cause: str, *, count: int = 2
) -> list[str]:
    """The features of `cause` that raised this household's risk most, largest first."""
    members = [name for name in contributions.index if feature_causes.get(name) == cause]
    ranked = contributions[members].sort_values(ascending=False)
    return [str(name) for name in ranked.index[:count] if ranked[name] > 0]


def cause_codes_used(feature_causes: Mapping[str, str]) -> Sequence[str]:
    """The distinct cause codes of a feature→cause map, sorted."""
    return sorted(set(feature_causes.values()))
