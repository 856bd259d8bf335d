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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from dixian.errors import UserError
from dixian.monitor.model import RiskModel

RESIDUAL_CAUSE = "other"


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


def choose_causes(
    by_cause: pd.DataFrame, *, min_logodds: float = 0.05, secondary_ratio: float = 0.3
) -> tuple[pd.Series, pd.Series]:
    """Primary and secondary cause per row from per-cause contributions."""
    specific = [column for column in by_cause.columns if column != RESIDUAL_CAUSE]
    if not specific:
        residual = pd.Series(RESIDUAL_CAUSE, index=by_cause.index, dtype="object")
        return residual, pd.Series(None, index=by_cause.index, dtype="object")
    values = by_cause[specific].to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")
    rows = np.arange(len(values))
    first = values[rows, order[:, 0]]
    names = np.asarray(specific, dtype=object)
    primary = np.where(first >= min_logodds, names[order[:, 0]], RESIDUAL_CAUSE)
    if len(specific) > 1:
        second = values[rows, order[:, 1]]
        has_second = (first >= min_logodds) & (second >= max(min_logodds, 0.0))
        has_second &= second >= secondary_ratio * first
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

    Returns:
        The attribution; `by_cause.sum(axis=1) + bias` equals `model.decision_function(X)`.
    """
    if contributions is None:
        contributions = model.contributions(X)
    by_cause = group_contributions(contributions, feature_causes)
    primary, secondary = choose_causes(
        by_cause, min_logodds=min_logodds, secondary_ratio=secondary_ratio
    )
    return CauseAttribution(
        by_cause=by_cause,
        bias=contributions["_bias"],
        primary=primary,
        secondary=secondary,
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
