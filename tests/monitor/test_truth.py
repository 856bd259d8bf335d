"""True outcomes from simulator-style truth files: the same definition as the model's target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dixian.monitor.features import shift_period
from dixian.monitor.truth import true_causes, true_outcomes, truth_last_period


def _monthly(tmp_path: Path) -> Path:
    periods = [shift_period("2023-01", k) for k in range(36)]
    rows = []
    for household, fall_at in (("a", None), ("b", "2025-04"), ("c", "2024-06")):
        for period in periods:
            fallen = fall_at is not None and period >= fall_at
            rows.append(
                {
                    "period": period,
                    "true_household_id": household,
                    "members": 2,
                    "wages": 0.0 if fallen else 1500.0,
                    "business": 0.0,
                    "property": 0.0,
                    "transfers": 100.0,
                    "assistance": 0.0,
                    "medical_oop": 0.0,
                    "schooling": 0.0,
                    "disaster_loss": 0.0,
                }
            )
    truth = tmp_path / "truth"
    truth.mkdir()
    pd.DataFrame(rows).to_parquet(truth / "household_income_monthly.parquet")
    shocks = pd.DataFrame(
        {
            "true_household_id": ["b", "b", "c", "c", "c"],
            "date": pd.to_datetime(
                ["2023-05-01", "2025-03-10", "2024-05-02", "2024-08-15", "2024-09-01"]
            ),
            "cause": ["disaster", "illness", "unstable_employment", "disaster", "disability"],
            "amount": [9000.0, 30000.0, 23000.0, 800.0, 0.0],
        }
    )
    shocks.to_parquet(truth / "shocks.parquet")
    return truth


def test_true_outcomes_follow_the_rolling_line(tmp_path: Path) -> None:
    truth = _monthly(tmp_path)
    # Yearly per-capita income 9,600 when working; line 8,000: b falls once enough months of
    # lost wages enter the 12-month window.
    outcomes = true_outcomes(truth, period="2024-12", horizon=12, lines={2024: 8000, 2025: 8000})
    by = outcomes.set_index("true_household_id")
    assert by.loc["a", "label"] == 0 and by.loc["a", "at_period"] == 0
    assert by.loc["b", "label"] == 1 and by.loc["b", "at_period"] == 0
    # Each month without wages takes 750 from the rolling per-capita income (1,500 / 2):
    # 9,600 − 3 × 750 < 8,000 after April, May and June 2025, the 6th month after December.
    assert by.loc["b", "months_to_event"] == 6
    assert by.loc["c", "at_period"] == 1
    assert np.isnan(by.loc["a", "months_to_event"])
    # The truth's months go past the feeds: the held-out period can be the panel's last.
    assert truth_last_period(truth) == "2025-12"


def test_true_cause_is_the_costliest_shock_in_the_window(tmp_path: Path) -> None:
    truth = _monthly(tmp_path)
    causes = true_causes(truth, period="2024-12", horizon=12)
    # b's illness (2025-03) comes after the period; its 2023 disaster is too old. c lost a job
    # (23,000 yuan), then a small crop loss and a disability onset came later: the job counts.
    assert causes == {"c": "unstable_employment"}
    assert true_causes(truth, period="2025-06", horizon=12) == {"b": "illness", "c": "disaster"}
    # c's crop loss (800 yuan against 1,200 of income) is not material when a shock must cost
    # a whole year's income; the disability onset (no money) still counts.
    strict = true_causes(truth, period="2025-06", horizon=12, material_share=1.0)
    assert strict == {"b": "illness", "c": "disability"}
    with pytest.raises(Exception, match="no simulator truth"):
        true_outcomes(tmp_path, period="2024-12", horizon=12, lines={2024: 8000})
