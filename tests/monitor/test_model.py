"""The risk model: calibration on held-out data, monotone constraints, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dixian.errors import UserError
from dixian.monitor import RiskModel, choose_calibrator
from dixian.monitor.metrics import auc, expected_calibration_error

from .conftest import TABLE_FEATURES, TableData

NAMES = [spec.name for spec in TABLE_FEATURES]


def test_fit_follows_estimator_conventions(fitted: RiskModel) -> None:
    assert fitted.feature_names_in_ == NAMES
    assert 0 < fitted.best_iteration_ <= 200
    assert fitted.get_params()["n_estimators"] == 200
    assert fitted.calibrator_.method in {"platt", "isotonic"}
    assert set(fitted.calibration_losses_) == {"platt", "isotonic"}


def test_calibrated_on_held_out_data(
    fitted: RiskModel, table_data: tuple[TableData, TableData, TableData]
) -> None:
    _, _, test = table_data
    risk = fitted.predict_proba(test.frame[NAMES])[:, 1]
    assert risk.shape == (len(test.frame),)
    assert expected_calibration_error(test.frame.label, risk) < 0.03
    # Close to the true probabilities of the generating process, not only to the labels.
    assert np.mean(np.abs(risk - test.true_probability)) < 0.05
    assert abs(risk.mean() - test.frame.label.mean()) < 0.02
    assert auc(test.frame.label, risk) > 0.75


def test_uncalibrated_scores_would_fail_the_same_check(
    fitted: RiskModel, table_data: tuple[TableData, TableData, TableData]
) -> None:
    # The check above can fail: a deliberately shifted probability breaks it.
    _, _, test = table_data
    risk = fitted.predict_proba(test.frame[NAMES])[:, 1]
    assert expected_calibration_error(test.frame.label, np.clip(risk * 1.8, 0, 1)) > 0.03


def test_monotone_constraints_hold(fitted: RiskModel) -> None:
    grid = np.linspace(0.0, 2.0, 41)
    base = dict.fromkeys(NAMES, 0.0) | {"income_pc": 12000.0}
    import pandas as pd

    frame = pd.DataFrame([base | {"medical_oop_share": value} for value in grid])
    raw = fitted.decision_function(frame)
    assert np.all(np.diff(raw) >= -1e-12)
    incomes = np.linspace(2000, 40000, 41)
    frame = pd.DataFrame([base | {"income_pc": value} for value in incomes])
    assert np.all(np.diff(fitted.decision_function(frame)) <= 1e-12)


def test_save_and_load_give_the_same_scores(
    fitted: RiskModel, table_data: tuple[TableData, TableData, TableData], tmp_path: Path
) -> None:
    _, _, test = table_data
    fitted.save(tmp_path / "m")
    loaded = RiskModel.load(tmp_path / "m")
    np.testing.assert_allclose(
        loaded.predict_proba(test.frame[NAMES]), fitted.predict_proba(test.frame[NAMES])
    )
    assert not list((tmp_path / "m").glob("*.pkl"))


def test_choose_calibrator_prefers_the_right_shape() -> None:
    rng = np.random.default_rng(5)
    raw = rng.normal(size=20000)
    # True probability is a step in the raw score: isotonic can represent it, Platt cannot.
    prob = np.where(raw > 0.5, 0.6, 0.05)
    labels = (rng.random(raw.size) < prob).astype(int)
    chosen, losses, oof = choose_calibrator(raw, labels)
    assert chosen.method == "isotonic"
    assert losses["isotonic"] < losses["platt"]
    assert oof.shape == raw.shape
    # A logistic truth: Platt is as good (within noise) and is chosen or nearly tied.
    prob = 1 / (1 + np.exp(-(1.5 * raw - 2)))
    labels = (rng.random(raw.size) < prob).astype(int)
    chosen, losses, _ = choose_calibrator(raw, labels)
    assert losses["platt"] <= losses["isotonic"] + 1e-3
    assert chosen.transform(np.array([0.0]))[0] == pytest.approx(1 / (1 + np.exp(2)), abs=0.03)


def test_labels_must_be_binary(table_data: tuple[TableData, TableData, TableData]) -> None:
    train, valid, _ = table_data
    bad = train.frame.label.astype(object).copy()
    bad.iloc[7] = "yes"
    with pytest.raises(UserError, match="row 8"):
        RiskModel().fit(
            train.frame[NAMES], bad, X_valid=valid.frame[NAMES], y_valid=valid.frame.label
        )
