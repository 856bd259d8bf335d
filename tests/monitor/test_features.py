"""Feature windows: features for P use only data up to P; labels look forward."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from dixian.errors import UserError
from dixian.monitor import (
    DEFAULT_FEATURES,
    below_line_target,
    build_features,
    build_labels,
    labelled_periods,
    parse_period,
    shift_period,
)
from dixian.monitor.synthetic import SYNTHETIC_LINES, synthetic_panel
from dixian.monitor.training import train_on_panel

PERIOD = "2024-06"
NAMES = [spec.name for spec in DEFAULT_FEATURES]


@pytest.fixture(scope="module")
def panel_frame() -> pd.DataFrame:
    return synthetic_panel(300, start="2023-01", months=30, seed=11).panel


def _features(frame: pd.DataFrame, period: str = PERIOD) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    table = con.create_table("household_period", frame)
    out = con.to_pandas(build_features(table, period=period))
    return out.sort_values("household_id").reset_index(drop=True)


def _perturb_after(frame: pd.DataFrame, period: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy()
    later = out["period"] > period
    numeric = [c for c in out.columns if c not in ("household_id", "period", "region_code")]
    for column in numeric:
        values = out.loc[later, column].to_numpy()
        if values.dtype == bool:
            out.loc[later, column] = ~values
        elif not np.issubdtype(values.dtype, np.number):
            out.loc[later, column] = rng.permutation(values)
        else:
            scaled = rng.permutation(values) * rng.uniform(0.1, 10, values.size)
            out.loc[later, column] = scaled.astype(values.dtype)
    # Later rows also get shuffled across households and a new household appears only later.
    out.loc[later, "household_id"] = rng.permutation(out.loc[later, "household_id"].to_numpy())
    extra = out[later].head(5).assign(household_id="H_LATE")
    return pd.concat([out, extra], ignore_index=True)


def test_features_do_not_change_when_later_data_changes(panel_frame: pd.DataFrame) -> None:
    before = _features(panel_frame)
    after = _features(_perturb_after(panel_frame, PERIOD, seed=3))
    pd.testing.assert_frame_equal(before, after)
    assert "H_LATE" not in set(after.household_id)


def test_scores_do_not_change_when_later_data_changes(panel_frame: pd.DataFrame) -> None:
    con = ibis.duckdb.connect()
    table = con.create_table("household_period", panel_frame)
    trained = train_on_panel(
        table,
        target=below_line_target(SYNTHETIC_LINES),
        horizon=6,
        step=3,
        model_params={"n_estimators": 30, "min_child_samples": 10},
    )
    before = _features(panel_frame)
    after = _features(_perturb_after(panel_frame, PERIOD, seed=4))
    model = trained.model
    np.testing.assert_array_equal(
        model.predict_proba(before[NAMES]), model.predict_proba(after[NAMES])
    )
    np.testing.assert_array_equal(
        model.contributions(before[NAMES]), model.contributions(after[NAMES])
    )


def test_changing_data_at_the_period_does_change_features(panel_frame: pd.DataFrame) -> None:
    # The leakage test can fail: data at P itself is (and must be) used.
    changed = panel_frame.copy()
    changed.loc[changed["period"] == PERIOD, "medical_oop_12m"] += 5000.0
    before, after = _features(panel_frame), _features(changed)
    assert (after.medical_oop_12m - before.medical_oop_12m).round(6).eq(5000.0).all()


def test_window_aggregations_on_a_hand_built_panel() -> None:
    periods = [shift_period("2024-01", k) for k in range(13)]
    frame = pd.DataFrame(
        {
            "household_id": "h1",
            "period": periods,
            "region_code": "522799001001",
            "income_wages_pc": [1000.0] + [900.0] * 11 + [500.0],
            "medical_oop_outpatient_month": [0.0] * 10 + [300.0, 600.0, 900.0],
            "medical_oop_12m": [0.0] * 12 + [23000.0],
            "income_net_total": [0.0] * 12 + [27000.0],
        }
    )
    for column in {spec.source for spec in DEFAULT_FEATURES} - set(frame.columns):
        frame[column] = 0.0
    row = _features(frame, "2025-01").iloc[0]
    assert row.wage_pc_change == pytest.approx(-0.5)
    assert row.outpatient_oop_3m == pytest.approx(600.0)
    assert row.medical_oop_share == pytest.approx(23000 / 27000)
    assert row.region_code == "522799001001"
    # A household absent at the period has no feature row.
    assert _features(frame[frame.period < "2025-01"], "2025-01").empty


def test_labels_look_forward_only() -> None:
    frame = pd.DataFrame(
        {
            "household_id": ["a"] * 4 + ["b"] * 4,
            "period": ["2024-01", "2024-02", "2024-03", "2024-04"] * 2,
            "fallen": [1, 0, 0, 1, 0, 0, 0, 0],
        }
    )
    con = ibis.duckdb.connect()
    table = con.create_table("p", frame)
    labels = con.to_pandas(build_labels(table, period="2024-01", target="fallen", horizon=2))
    labels = labels.set_index("household_id")
    # a fell at P (not counted) and again 3 months later (beyond a 2-month horizon).
    assert labels.loc["a", "label"] == 0 and labels.loc["a", "at_period"] == 1
    labels = con.to_pandas(build_labels(table, period="2024-01", target="fallen", horizon=3))
    labels = labels.set_index("household_id")
    assert labels.loc["a", "label"] == 1 and labels.loc["a", "months_to_event"] == 3
    assert labels.loc["b", "label"] == 0 and labels.loc["b", "observed_months"] == 3


def test_periods() -> None:
    assert parse_period("2024-12") - parse_period("2024-01") == 11
    assert shift_period("2024-11", 3) == "2025-02"
    periods = [shift_period("2023-01", k) for k in range(36)]
    assert labelled_periods(periods, horizon=12, step=6) == [
        "2023-06",
        "2023-12",
        "2024-06",
        "2024-12",
    ]
    with pytest.raises(UserError, match="YYYY-MM"):
        parse_period("2024/1")


def test_default_features_read_declared_panel_columns() -> None:
    from dixian.features.panel_schema import panel_columns
    from dixian.monitor.features import required_columns

    assert set(required_columns(DEFAULT_FEATURES)) <= set(panel_columns())
