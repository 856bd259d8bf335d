"""The risk model: LightGBM with monotone constraints, calibrated on a later validation period.

`RiskModel` follows scikit-learn's estimator conventions: hyper-parameters in `__init__` only,
`fit` returns `self`, learned attributes end in `_`, `predict_proba` returns an (n, 2) array.

Temporal validation is the caller's split: `fit(X, y, X_valid=..., y_valid=...)` takes the
training periods and the later validation period. Boosting never sees the validation period:
early stopping uses a random slice of the training rows. The validation period chooses and fits
the calibration (Platt or isotonic, cross-fitted), and its out-of-fold calibrated probabilities
are kept as honest validation predictions for the model card.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dixian.errors import UserError
from dixian.monitor.calibration import Calibrator, Method, choose_calibrator

CalibrationChoice = Literal["auto", "platt", "isotonic"]
MODEL_FILE = "booster.txt"
PARAMS_FILE = "risk_model.json"


def _predict_threads() -> int:
    # Prediction rows are independent, so threads change no result; unlike training (see
    # `n_jobs`) one short parallel call per scoring run does not suffer from OpenMP spinning.
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


class RiskModel:
    """Probability that a household falls below the line within the horizon.

    Args:
        monotone: feature name → +1 (can only raise risk), −1 (can only lower it), 0 (free).
        n_estimators: maximum boosting rounds.
        learning_rate: shrinkage per round.
        num_leaves: leaves per tree (15 by default: TreeSHAP explanations cost grows with
            leaves × depth², and household risk has few strong interactions).
        min_child_samples: minimum rows per leaf (regularises rare combinations).
        reg_lambda: L2 regularisation of leaf values.
        feature_fraction: share of features considered per tree.
        early_stopping_rounds: rounds without improvement on the early-stopping slice.
        early_stopping_fraction: share of training rows held out for early stopping.
        calibration: "auto" (chosen on validation by log-loss), "platt" or "isotonic".
        random_state: seed for every random choice.
        n_jobs: threads LightGBM may use (1 by default: on a shared 2-core machine OpenMP
            threads spinning against other processes made training ten times slower).
    """

    def __init__(
        self,
        *,
        monotone: Mapping[str, int] | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.08,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        reg_lambda: float = 1.0,
        feature_fraction: float = 0.9,
        early_stopping_rounds: int = 40,
        early_stopping_fraction: float = 0.15,
        calibration: CalibrationChoice = "auto",
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.monotone = monotone
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.feature_fraction = feature_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.early_stopping_fraction = early_stopping_fraction
        self.calibration = calibration
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters, as given to `__init__`."""
        return {
            "monotone": dict(self.monotone) if self.monotone else None,
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "reg_lambda": self.reg_lambda,
            "feature_fraction": self.feature_fraction,
            "early_stopping_rounds": self.early_stopping_rounds,
            "early_stopping_fraction": self.early_stopping_fraction,
            "calibration": self.calibration,
            "random_state": self.random_state,
            "n_jobs": self.n_jobs,
        }

    def _lgb_params(self, features: list[str]) -> dict[str, Any]:
        monotone = self.monotone or {}
        unknown = sorted(set(monotone) - set(features))
        if unknown:
            raise UserError(f"monotone constraint on unknown feature(s) {unknown}")
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "feature_fraction": self.feature_fraction,
            "monotone_constraints": [int(monotone.get(name, 0)) for name in features],
            # "intermediate" keeps constraints with less loss of accuracy than "basic".
            "monotone_constraints_method": "intermediate",
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs,
            "verbose": -1,
        }

    def fit(
        self,
        X: pd.DataFrame,
        y: ArrayLike,
        *,
        X_valid: pd.DataFrame,
        y_valid: ArrayLike,
    ) -> RiskModel:
        """Train on the earlier periods, calibrate on the later validation period.

        Args:
            X: training features (earlier periods).
            y: 0/1 training labels.
            X_valid: features of the validation period (later than every training label).
            y_valid: its 0/1 labels.

        Returns:
            self, with `booster_`, `calibrator_`, `feature_names_in_`, `best_iteration_`,
            `calibration_losses_`, `validation_probabilities_` set.
        """
        labels = _binary(y, name="training labels")
        valid_labels = _binary(y_valid, name="validation labels")
        features = [str(column) for column in X.columns]
        params = self._lgb_params(features)
        rng = np.random.default_rng(self.random_state)
        stop_mask = rng.random(len(X)) < self.early_stopping_fraction
        train_set = lgb.Dataset(
            X.loc[~stop_mask], labels[~stop_mask], feature_name=features, free_raw_data=True
        )
        stop_set = lgb.Dataset(X.loc[stop_mask], labels[stop_mask], reference=train_set)
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=self.n_estimators,
            valid_sets=[stop_set],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.booster_ = booster
        self.feature_names_in_ = features
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        raw_valid = self.decision_function(X_valid)
        if self.calibration == "auto":
            methods: tuple[Method, ...] = ("platt", "isotonic")
        else:
            methods = (self.calibration,)
        calibrator, losses, oof = choose_calibrator(
            raw_valid, valid_labels, methods=methods, seed=self.random_state
        )
        self.calibrator_ = calibrator
        self.calibration_losses_ = losses
        self.validation_probabilities_ = oof
        return self

    def _matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [name for name in self.feature_names_in_ if name not in X.columns]
        if missing:
            raise UserError(f"features missing from the table to score: {missing}")
        return X[self.feature_names_in_].astype("float64")

    def decision_function(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Raw log-odds of the booster (before calibration)."""
        raw = self.booster_.predict(
            self._matrix(X),
            raw_score=True,
            num_iteration=self.best_iteration_,
            num_threads=_predict_threads(),
        )
        return np.asarray(raw, dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Calibrated probabilities, shape (n, 2): columns P(no fall), P(fall)."""
        risk = self.calibrator_.transform(self.decision_function(X))
        return np.column_stack([1.0 - risk, risk])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """LightGBM's per-feature contributions to the raw log-odds, plus a `_bias` column.

        Each row's contributions plus its bias equal `decision_function` for that row.
        """
        contrib = self.booster_.predict(
            self._matrix(X),
            pred_contrib=True,
            num_iteration=self.best_iteration_,
            num_threads=_predict_threads(),
        )
        columns = [*self.feature_names_in_, "_bias"]
        return pd.DataFrame(np.asarray(contrib), columns=columns, index=X.index)

    def feature_importance(self) -> dict[str, float]:
        """Total gain of each feature's splits, as a share of the total."""
        gains = self.booster_.feature_importance(
            importance_type="gain", iteration=self.best_iteration_
        )
        total = float(np.sum(gains)) or 1.0
        return {
            name: float(gain) / total
            for name, gain in zip(self.feature_names_in_, gains, strict=True)
        }

    def save(self, folder: Path) -> None:
        """Write the booster (LightGBM text format) and the calibration as JSON; no pickles."""
        folder.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(folder / MODEL_FILE), num_iteration=self.best_iteration_)
        payload = {
            "params": self.get_params(),
            "feature_names_in": self.feature_names_in_,
            "best_iteration": self.best_iteration_,
            "calibrator": self.calibrator_.to_dict(),
            "calibration_losses": self.calibration_losses_,
        }
        (folder / PARAMS_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> RiskModel:
        """Read a model written by `save`."""
        params_path = folder / PARAMS_FILE
        if not params_path.is_file() or not (folder / MODEL_FILE).is_file():
            raise UserError(f"{folder}: no trained risk model here (run 'dixian monitor train')")
        payload = json.loads(params_path.read_text(encoding="utf-8"))
        model = cls(**payload["params"])
        model.booster_ = lgb.Booster(model_file=str(folder / MODEL_FILE))
        model.feature_names_in_ = list(payload["feature_names_in"])
        model.best_iteration_ = int(payload["best_iteration"])
        model.calibrator_ = Calibrator.from_dict(payload["calibrator"])
        model.calibration_losses_ = dict(payload["calibration_losses"])
        return model


def _binary(values: ArrayLike, *, name: str) -> NDArray[np.int_]:
    array = np.asarray(values)
    numeric = pd.to_numeric(pd.Series(array), errors="coerce")
    bad = ~numeric.isin([0, 1])
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"{name}: row {position + 1} has value {array[position]!r}; expected 0 or 1"
        )
    result: NDArray[np.int_] = numeric.to_numpy().astype(int)
    if len(np.unique(result)) < 2:
        raise UserError(
            f"{name}: all values are {result[0] if len(result) else 'missing'}; "
            "both outcomes (0 and 1) are needed"
        )
    return result
