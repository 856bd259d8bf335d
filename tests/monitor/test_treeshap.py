"""TreeSHAP by decision pattern equals LightGBM's own `pred_contrib`."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from dixian.monitor.treeshap import tree_contributions


def _data(rows: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.normal(size=rows),
            np.where(rng.random(rows) < 0.3, np.nan, rng.normal(size=rows)),  # missing: NaN
            np.where(rng.random(rows) < 0.4, 0.0, rng.exponential(size=rows)),  # zeros
            rng.integers(0, 4, rows).astype(float),
        ]
    )
    logit = X[:, 0] + np.nan_to_num(X[:, 1]) * 0.8 + X[:, 2] - 0.5 * X[:, 3]
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _booster(X: np.ndarray, y: np.ndarray, **params: object) -> lgb.Booster:
    settings = {"objective": "binary", "num_leaves": 15, "min_child_samples": 20, "verbose": -1}
    return lgb.train({**settings, **params}, lgb.Dataset(X, y), num_boost_round=40)


@pytest.mark.parametrize("params", [{}, {"zero_as_missing": True}, {"use_missing": False}])
def test_equals_pred_contrib_with_missing_values(params: dict[str, object]) -> None:
    X, y = _data(3000, seed=1)
    booster = _booster(X, y, **params)
    test, _ = _data(2000, seed=2)
    test[:50, 0] = np.nan  # missing where training never saw a missing value
    expected = booster.predict(test, pred_contrib=True)
    found = tree_contributions(booster, test, iterations=booster.current_iteration())
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-10)
    # Far fewer distinct patterns than rows is what makes it fast; the values still match.
    np.testing.assert_allclose(found.sum(axis=1), booster.predict(test, raw_score=True), atol=1e-9)


def test_first_iterations_only_and_wrong_raw_score_is_recomputed() -> None:
    X, y = _data(2000, seed=3)
    booster = _booster(X, y)
    expected = booster.predict(X[:300], pred_contrib=True, num_iteration=25)
    raw = booster.predict(X[:300], raw_score=True, num_iteration=25)
    found = tree_contributions(booster, X[:300], iterations=25, raw_score=raw)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-10)
    # A raw score the contributions do not add up to sends the row to LightGBM itself.
    raw[7] += 1.0
    again = tree_contributions(booster, X[:300], iterations=25, raw_score=raw)
    np.testing.assert_array_equal(again[7], expected[7])


def test_categorical_splits_fall_back_to_lightgbm() -> None:
    X, y = _data(2000, seed=4)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "verbose": -1},
        lgb.Dataset(X, y, categorical_feature=[3]),
        num_boost_round=10,
    )
    expected = booster.predict(X[:100], pred_contrib=True)
    found = tree_contributions(booster, X[:100], iterations=10)
    np.testing.assert_array_equal(found, expected)
    assert tree_contributions(booster, X[:0], iterations=10).shape == (0, 5)
