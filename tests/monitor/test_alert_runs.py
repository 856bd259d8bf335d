"""Alert runs: lead time from the first month of a household's run of monthly alerts."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from dixian.monitor import DEFAULT_FEATURES, below_line_target, train_on_panel
from dixian.monitor.alert_runs import (
    household_draws,
    lead_summary,
    lookback_limit,
    run_lead_times,
    run_months,
    score_earlier_months,
)
from dixian.monitor.synthetic import synthetic_panel
from dixian.policy import load_policy_set


def test_run_months_count_the_unbroken_months_before_now() -> None:
    earlier = [{"a", "b", "c"}, {"a", "c"}, {"a"}, set()]
    assert run_months({"a", "b", "d"}, earlier) == {"a": 3, "b": 1, "d": 0}
    # A gap ends the run: "c" was listed at T − 1 and T − 2, "b" only at T − 1.
    assert run_months({"c"}, [{"c"}, set(), {"c"}]) == {"c": 1}


def test_lead_adds_the_run_to_the_months_until_the_fall() -> None:
    households = pd.Series(["a", "b", "c", "d"])
    alerted = np.array([True, True, True, False])
    to_event = pd.Series([2.0, np.nan, 1.0, 4.0])
    leads = run_lead_times(households, alerted, to_event, earlier=[{"a", "c"}, {"a"}])
    by_household = leads.set_index("household_id")
    assert by_household.loc["a", "lead_months"] == 4.0
    assert bool(by_household.loc["a", "censored"])  # listed in every scored month
    assert by_household.loc["c", "lead_months"] == 2.0
    assert not bool(by_household.loc["c", "censored"])
    assert np.isnan(by_household.loc["b", "lead_months"])
    summary = lead_summary(leads, lookback=2)
    assert summary["count"] == 2
    assert summary["median_months"] == 3.0
    assert summary["censored"] == 1


def test_lookback_stops_where_calibration_would_reuse_a_training_snapshot() -> None:
    train = ["2021-12", "2022-03", "2022-12"]
    # Month M needs M − 12 after 2022-12: M ≥ 2024-01, i.e. 11 months before 2024-12.
    assert lookback_limit(test_period="2024-12", train_periods=train, horizon=12) == 11
    assert lookback_limit(test_period="2024-06", train_periods=train, horizon=12) == 5
    assert lookback_limit(test_period="2024-12", train_periods=[], horizon=12) == 0


def test_household_draws_do_not_depend_on_row_order() -> None:
    ids = pd.Series([f"H{i}" for i in range(50)])
    draws = pd.Series(household_draws(ids, seed=3), index=ids)
    shuffled = ids.sample(frac=1.0, random_state=1)
    again = pd.Series(household_draws(shuffled, seed=3), index=shuffled)
    assert again.reindex(ids).to_numpy() == pytest.approx(draws.to_numpy())
    assert ((draws >= 0) & (draws < 1)).all()
    assert not np.allclose(household_draws(ids, seed=4), draws.to_numpy())


def test_earlier_months_see_nothing_after_themselves() -> None:
    generated = synthetic_panel(600, start="2022-01", months=40, seed=5)
    policy_set = load_policy_set()
    lines = {
        year: float(policy_set.resolve_parameters(province="52", year=year)["monitoring_line"])
        for year in range(2022, 2026)
    }
    target = below_line_target(lines)
    test_period = "2024-04"
    trained = train_on_panel(
        ibis.duckdb.connect().create_table("household_period", generated.panel),
        target=target,
        validation_period="2023-04",
        model_params={"n_estimators": 40},
    )
    train_periods = trained.card["periods"]["train"]
    lookback = lookback_limit(test_period=test_period, train_periods=train_periods, horizon=12)
    assert lookback == 11

    def scored(panel: pd.DataFrame) -> dict[str, pd.DataFrame]:
        table = ibis.duckdb.connect().create_table("household_period", panel)
        months = score_earlier_months(
            table,
            trained.model,
            test_period=test_period,
            lookback=2,
            features=DEFAULT_FEATURES,
            target=target,
            horizon=12,
        )
        # Each month's calibrator is fitted on the snapshot a horizon earlier.
        assert months.calibration_periods == {"2024-03": "2023-03", "2024-02": "2023-02"}
        return {
            month: frame.sort_values("household_id").reset_index(drop=True)
            for month, frame in months.scored.items()
        }

    before = scored(generated.panel)
    changed = generated.panel.copy()
    later = changed["period"] > "2024-02"
    for column in ("income_net_pc", "medical_oop_12m"):
        changed.loc[later, column] = changed.loc[later, column] * 0.2
    after = scored(changed)
    # 2024-02 and its calibration (labels up to 2024-02) see no row after it.
    pd.testing.assert_frame_equal(before["2024-02"], after["2024-02"])
    # 2024-03 does (so the comparison can fail).
    assert not before["2024-03"]["risk"].equals(after["2024-03"]["risk"])
