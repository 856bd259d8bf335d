"""Calibrating the booster's log-odds into probabilities: Platt or isotonic, chosen on validation.

Both calibrators are plain parameter sets (saved as JSON, never pickled). The choice is made by
cross-fitting on the validation period: each method is fitted on one half and scored on the
other (log-loss), both ways; the method with the lower out-of-fold log-loss wins and is then
refitted on the whole validation period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from dixian.errors import UserError

Method = Literal["platt", "isotonic"]
# Probabilities are kept inside (EPS, 1 − EPS): an isotonic step at exactly 0 or 1 would give an
# infinite log-loss for one contrary case and claim a certainty no model has.
EPS = 1e-4


@dataclass
class Calibrator:
    """A fitted calibration map from raw log-odds to probability."""

    method: Method
    platt_coef: float = 1.0
    platt_intercept: float = 0.0
    iso_x: list[float] = field(default_factory=list)
    iso_y: list[float] = field(default_factory=list)

    def transform(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated probabilities for raw log-odds."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "platt":
            prob = 1.0 / (1.0 + np.exp(-(self.platt_coef * raw + self.platt_intercept)))
        else:
            prob = np.interp(raw, np.asarray(self.iso_x), np.asarray(self.iso_y))
        return np.clip(prob, EPS, 1.0 - EPS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {
            "method": self.method,
            "platt_coef": self.platt_coef,
            "platt_intercept": self.platt_intercept,
            "iso_x": self.iso_x,
            "iso_y": self.iso_y,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild a calibrator from `to_dict` output."""
        return cls(
            method=data["method"],
            platt_coef=float(data["platt_coef"]),
            platt_intercept=float(data["platt_intercept"]),
            iso_x=[float(value) for value in data["iso_x"]],
            iso_y=[float(value) for value in data["iso_y"]],
        )


def fit_calibrator(
    raw: NDArray[np.float64], labels: NDArray[np.int_], *, method: Method
) -> Calibrator:
    """Fit one calibration method on raw log-odds and 0/1 labels."""
    raw = np.asarray(raw, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    if len(np.unique(labels)) < 2:
        raise UserError("calibration needs both outcomes (0 and 1) in the validation period")
    if method == "platt":
        # Large C: Platt scaling is a 2-parameter fit, it needs no regularisation.
        logistic = LogisticRegression(C=1e6, max_iter=1000)
        logistic.fit(raw.reshape(-1, 1), labels)
        return Calibrator(
            method="platt",
            platt_coef=float(logistic.coef_[0, 0]),
            platt_intercept=float(logistic.intercept_[0]),
        )
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(raw, labels)
    return Calibrator(
        method="isotonic",
        iso_x=[float(value) for value in iso.X_thresholds_],
        iso_y=[float(value) for value in iso.y_thresholds_],
    )


def cross_fit_probabilities(
    raw: NDArray[np.float64],
    labels: NDArray[np.int_],
    *,
    method: Method,
    folds: int = 2,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Out-of-fold calibrated probabilities (each row calibrated by a map fitted without it)."""
    raw = np.asarray(raw, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    order = np.random.default_rng(seed).permutation(len(raw))
    assignment = np.empty(len(raw), dtype=int)
    assignment[order] = np.arange(len(raw)) % folds
    out = np.empty(len(raw), dtype=np.float64)
    for fold in range(folds):
        held = assignment == fold
        calibrator = fit_calibrator(raw[~held], labels[~held], method=method)
        out[held] = calibrator.transform(raw[held])
    return out


def choose_calibrator(
    raw: NDArray[np.float64],
    labels: NDArray[np.int_],
    *,
    methods: tuple[Method, ...] = ("platt", "isotonic"),
    seed: int = 0,
) -> tuple[Calibrator, dict[str, float], NDArray[np.float64]]:
    """Pick the calibration method with the lower out-of-fold log-loss on validation.

    Returns:
        The chosen calibrator refitted on all rows, the out-of-fold log-loss of each method,
        and the chosen method's out-of-fold probabilities (honest validation predictions).
    """
    losses: dict[str, float] = {}
    oof: dict[str, NDArray[np.float64]] = {}
    for method in methods:
        oof[method] = cross_fit_probabilities(raw, labels, method=method, seed=seed)
        losses[method] = float(log_loss(labels, oof[method], labels=[0, 1]))
    best: Method = min(methods, key=lambda method: losses[method])
    return fit_calibrator(raw, labels, method=best), losses, oof[best]
