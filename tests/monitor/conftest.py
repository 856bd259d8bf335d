"""Shared synthetic data for the monitor tests: a known generating process."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from dixian.monitor import FeatureSpec

# Features of the table-level process; each belongs to one cause.
TABLE_FEATURES = (
    FeatureSpec("income_pc", "income_pc", "last", "other", -1, label_zh="人均纯收入"),
    FeatureSpec("medical_oop_share", "medical_oop_share", "last", "illness", 1),
    FeatureSpec("job_loss", "job_loss", "last", "unstable_employment", 1),
    FeatureSpec("disaster_loss_12m", "disaster_loss_12m", "last", "disaster", 1),
    FeatureSpec("noise", "noise", "last", "other", 0),
)


@dataclass
class TableData:
    frame: pd.DataFrame
    true_probability: np.ndarray


def make_table(rows: int, *, seed: int) -> TableData:
    """Households with a logistic truth: risk rises with medical share, job loss, disaster loss,
    falls with income; `noise` is unrelated."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(np.log(12000), 0.4, rows)
    ill = rng.random(rows) < 0.15
    share = np.where(ill, rng.uniform(0.2, 1.5, rows), rng.uniform(0.0, 0.05, rows))
    job = (rng.random(rows) < 0.1).astype(float)
    disaster = np.where(rng.random(rows) < 0.08, rng.lognormal(np.log(15000), 0.5, rows), 0.0)
    logit = (
        -2.2
        - 1.6 * (np.log(income) - np.log(12000)) / 0.4 * 0.6
        + 2.0 * np.minimum(share, 1.2)
        + 1.4 * job
        + 1.2 * (disaster > 0)
    )
    probability = 1.0 / (1.0 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "household_id": [f"H{seed}-{i:06d}" for i in range(rows)],
            "region_code": rng.choice(["522799001001", "522799002001", "522799003002"], rows),
            "income_pc": income,
            "medical_oop_share": share,
            "job_loss": job,
            "disaster_loss_12m": disaster,
            "noise": rng.normal(size=rows),
            "label": (rng.random(rows) < probability).astype(int),
        }
    )
    return TableData(frame, probability)


@pytest.fixture(scope="session")
def table_data() -> tuple[TableData, TableData, TableData]:
    """Training, validation and held-out test tables from the same process."""
    return make_table(6000, seed=1), make_table(4000, seed=2), make_table(6000, seed=3)


@pytest.fixture(scope="session")
def fitted(table_data: tuple[TableData, TableData, TableData]):  # type: ignore[no-untyped-def]
    from dixian.monitor import RiskModel, feature_monotone

    train, valid, _ = table_data
    names = [spec.name for spec in TABLE_FEATURES]
    model = RiskModel(monotone=feature_monotone(TABLE_FEATURES), n_estimators=200)
    return model.fit(
        train.frame[names], train.frame.label, X_valid=valid.frame[names], y_valid=valid.frame.label
    )
