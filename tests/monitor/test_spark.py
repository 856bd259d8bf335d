"""Scoring on Spark gives the same features and scores as on DuckDB."""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from dixian.monitor import DEFAULT_FEATURES, RiskModel, build_features
from dixian.monitor.pipeline import write_period_rows
from dixian.monitor.synthetic import synthetic_panel

NAMES = [spec.name for spec in DEFAULT_FEATURES]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_scores_equal_duckdb(spark_backend: Any) -> None:
    panel = synthetic_panel(60, start="2024-01", months=14, seed=2).panel
    duck_table = ibis.duckdb.connect().create_table("hp_monitor", panel)
    spark_table = spark_backend.create_table("hp_monitor", panel, overwrite=True)
    duck = build_features(duck_table, period="2025-02").to_pandas()
    spark = spark_backend.to_pandas(build_features(spark_table, period="2025-02"))
    duck = duck.sort_values("household_id").reset_index(drop=True)
    spark = spark.sort_values("household_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(duck[NAMES], spark[NAMES], check_dtype=False, atol=1e-9)
    assert duck.household_id.tolist() == spark.household_id.tolist()
    # One model scores both feature tables: equal features give equal scores.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.normal(size=400) for name in NAMES})
    frame["label"] = (frame["medical_oop_12m"] + rng.normal(size=400) > 1).astype(int)
    model = RiskModel(n_estimators=20, min_child_samples=10).fit(
        frame[NAMES], frame.label, X_valid=frame[NAMES], y_valid=frame.label
    )
    np.testing.assert_allclose(model.predict_proba(duck), model.predict_proba(spark))


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_period_rows_are_replaced_on_spark_as_on_duckdb(spark_backend: Any) -> None:
    def rows(period: str, risk: float) -> pd.DataFrame:
        return pd.DataFrame({"household_id": ["h1", "h2"], "period": period, "risk": risk})

    for backend in (ibis.duckdb.connect(), spark_backend):
        if "scores_replaced" in backend.list_tables():
            backend.drop_table("scores_replaced")
        write_period_rows(backend, "scores_replaced", rows("2025-01", 0.1), period="2025-01")
        write_period_rows(backend, "scores_replaced", rows("2025-02", 0.2), period="2025-02")
        write_period_rows(backend, "scores_replaced", rows("2025-02", 0.3), period="2025-02")
        table = backend.to_pandas(backend.table("scores_replaced"))
        by_period = table.groupby("period").risk.agg(["count", "max"]).to_dict("index")
        assert by_period == {
            "2025-01": {"count": 2, "max": 0.1},
            "2025-02": {"count": 2, "max": 0.3},
        }
        assert "scores_replaced__next" not in backend.list_tables()
