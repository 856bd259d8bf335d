"""TreeSHAP contributions of a LightGBM model, computed once per decision pattern of each tree.

LightGBM's `pred_contrib` (path-dependent TreeSHAP) gives a row's contributions from one tree as
a function of the row's decision (left or right) at every split of that tree, and of nothing
else: the recursion follows the row's side at each split and weighs the other side by the
training cover. Rows that decide every split of a tree alike therefore get bit-for-bit the same
contributions from it. A tree of 15 leaves has 14 splits, and a few thousand alerts fall into a
few hundred patterns per tree, so this module groups the rows of each tree by their pattern,
asks LightGBM for one representative row per pattern (`start_iteration=t, num_iteration=1`)
and adds the tree's contributions to every row of the pattern. The sum differs from one
`pred_contrib` call over all trees only by the order of floating-point additions (about 1e-14).

The split decisions are replayed in NumPy with LightGBM's rules (`<=` on the threshold; NaN as
0 unless missing values have their own direction; the default direction for missing or zero
values). As a guard, each row's contributions must add up to the booster's raw score; rows that
do not (a decision replayed differently) are recomputed by LightGBM directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

# LightGBM's kZeroThreshold: |x| at or below it counts as zero for "missing is zero" splits.
_ZERO = 1e-35
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}


@dataclass(frozen=True)
class _Tree:
    """The splits of one tree (internal nodes in any fixed order)."""

    index: int
    features: NDArray[np.intp]
    thresholds: NDArray[np.float64]
    default_left: NDArray[np.bool_]
    missing: NDArray[np.int8]
    used: NDArray[np.intp]


def _splits(node: dict[str, Any], into: list[dict[str, Any]]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if "leaf_index" in current or "split_feature" not in current:
            continue
        into.append(current)
        stack.extend((current["right_child"], current["left_child"]))


def _trees(booster: lgb.Booster, iterations: int) -> list[_Tree] | None:
    """The booster's first `iterations` trees, or None if a split is not numerical."""
    dumped = booster.dump_model(num_iteration=iterations)
    if dumped.get("num_tree_per_iteration", 1) != 1:
        return None
    trees = []
    for info in dumped["tree_info"][:iterations]:
        nodes: list[dict[str, Any]] = []
        _splits(info["tree_structure"], nodes)
        if any(node["decision_type"] != "<=" for node in nodes):
            return None
        features = np.asarray([node["split_feature"] for node in nodes], dtype=np.intp)
        trees.append(
            _Tree(
                index=int(info["tree_index"]),
                features=features,
                thresholds=np.asarray([node["threshold"] for node in nodes], dtype=np.float64),
                default_left=np.asarray([node["default_left"] for node in nodes], dtype=bool),
                missing=np.asarray([_MISSING[node["missing_type"]] for node in nodes], np.int8),
                used=np.unique(features),
            )
        )
    return trees


@dataclass(frozen=True)
class _Rows:
    """The rows to explain, feature-major, with what the split rules read precomputed once."""

    as_zero: NDArray[np.float64]  # NaN replaced by 0, as LightGBM reads a missing value
    nan: NDArray[np.bool_]
    zero: NDArray[np.bool_]

    @classmethod
    def of(cls, X: NDArray[np.float64]) -> _Rows:
        by_feature = np.ascontiguousarray(X.T)
        nan = np.isnan(by_feature)
        as_zero = np.where(nan, 0.0, by_feature)
        zero = (as_zero >= -_ZERO) & (as_zero <= _ZERO)
        return cls(as_zero, nan, zero)


def _decisions(tree: _Tree, rows: _Rows) -> NDArray[np.bool_]:
    """Whether each row goes left at each split of the tree (splits × rows), as LightGBM
    decides it."""
    column = tree.thresholds[:, np.newaxis]
    left = rows.as_zero[tree.features] <= column
    kind = tree.missing[:, np.newaxis]
    special = np.where(kind == 2, rows.nan[tree.features], (kind == 1) & rows.zero[tree.features])
    result: NDArray[np.bool_] = np.where(special, tree.default_left[:, np.newaxis], left)
    return result


def _pattern_groups(left: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """One representative row per distinct decision pattern, and each row's pattern."""
    splits = left.shape[0]
    if splits > 20:
        _, first, inverse = np.unique(left.T, axis=0, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    codes = (np.int64(1) << np.arange(splits, dtype=np.int64)) @ left.astype(np.int64)
    # Patterns are small integers: a table over all 2^splits codes instead of a sort. Any row
    # of a pattern can represent it (they all get the same contributions).
    representative = np.full(1 << splits, -1, dtype=np.intp)
    representative[codes] = np.arange(len(codes))
    present = representative >= 0
    pattern_of_code = np.cumsum(present) - 1
    return representative[present], pattern_of_code[codes]


def tree_contributions(
    booster: lgb.Booster,
    X: NDArray[np.float64],
    *,
    iterations: int,
    raw_score: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Per-feature contributions plus bias, as `booster.predict(X, pred_contrib=True)`.

    Args:
        booster: a binary LightGBM booster (one tree per iteration).
        X: the rows, one column per model feature (float64).
        iterations: the trees to use (the model's best iteration).
        raw_score: the booster's raw scores of the rows if already known (the guard compares
            each row's sum of contributions with it).

    Returns:
        An array (rows, features + 1); the last column is the bias.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    rows, width = X.shape
    if not rows:
        return np.zeros((0, width + 1), dtype=np.float64)
    trees = _trees(booster, iterations)
    if trees is None:
        full = booster.predict(X, pred_contrib=True, num_iteration=iterations)
        return np.asarray(full, dtype=np.float64)
    prepared = _Rows.of(X)
    # Feature-major, so that adding a tree's few features touches contiguous rows.
    by_feature = np.zeros((width + 1, rows), dtype=np.float64)
    for tree in trees:
        columns = np.append(tree.used, width)
        if not len(tree.features):
            single = booster.predict(
                X[:1], pred_contrib=True, start_iteration=tree.index, num_iteration=1
            )
            by_feature[columns] += np.asarray(single)[0, columns][:, np.newaxis]
            continue
        first, inverse = _pattern_groups(_decisions(tree, prepared))
        per_pattern = booster.predict(
            X[first],
            pred_contrib=True,
            start_iteration=tree.index,
            num_iteration=1,
            num_threads=1,
        )
        by_feature[columns] += np.take(np.asarray(per_pattern)[:, columns].T, inverse, axis=1)
    total = np.ascontiguousarray(by_feature.T)
    if raw_score is None:
        raw_score = np.asarray(booster.predict(X, raw_score=True, num_iteration=iterations))
    wrong = np.flatnonzero(~np.isclose(total.sum(axis=1), raw_score, rtol=0.0, atol=1e-9))
    if len(wrong):
        total[wrong] = booster.predict(X[wrong], pred_contrib=True, num_iteration=iterations)
    return total
