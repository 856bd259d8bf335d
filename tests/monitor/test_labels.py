"""Training labels from the pipeline's own later data: the department test and identification."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from dixian.monitor import build_labels, combine_labels, monitoring_object_target
from dixian.monitor.training import household_groups

PERIODS = ["2024-01", "2024-02", "2024-03", "2024-04"]


def _labels(frame: pd.DataFrame, *, horizon: int = 3) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    table = con.create_table("p", frame)
    out = build_labels(
        table,
        period="2024-01",
        target="below",
        horizon=horizon,
        identified=monitoring_object_target,
    )
    return con.to_pandas(out).set_index("household_id")


def _panel() -> pd.DataFrame:
    # below: the department data's inclusion test per month; status: the poverty registry.
    rows: dict[str, tuple[list[int], list[str | None]]] = {
        "a": ([0, 0, 1, 1], [None, None, None, None]),  # falls by department data in month 2
        "b": ([1, 1, 1, 1], [None, None, None, None]),  # below by department data all along
        "c": ([1, 1, 1, 1], [None, None, "monitored", "monitored"]),  # below, then identified
        "d": ([0, 0, 0, 0], [None, None, None, "monitored"]),  # identified, data never saw it
        "e": ([0, 1, 1, 1], ["monitored"] * 4),  # a monitoring object already
        "f": ([0, 0, 0, 0], ["exited_poverty"] * 4),  # stays above
    }
    return pd.DataFrame(
        [
            {"household_id": h, "period": p, "below": below[i], "registry_status": status[i]}
            for h, (below, status) in rows.items()
            for i, p in enumerate(PERIODS)
        ]
    )


def test_build_labels_reports_both_outcomes() -> None:
    labels = _labels(_panel())
    assert labels.loc["a", "label"] == 1 and labels.loc["a", "months_to_event"] == 2
    assert labels.loc["a", "identified_label"] == 0
    assert labels.loc["c", "at_period"] == 1 and labels.loc["c", "identified_months"] == 2
    assert labels.loc["d", "identified_label"] == 1 and labels.loc["d", "label"] == 0
    assert labels.loc["e", "identified_at_period"] == 1
    # A horizon that ends before the identification does not see it.
    assert _labels(_panel(), horizon=2).loc["d", "identified_label"] == 0


def test_combined_label_rule() -> None:
    rows = combine_labels(_labels(_panel()).reset_index()).set_index("household_id")
    # Monitoring objects at P are not trained on (alerts skip them).
    assert "e" not in rows.index
    assert rows["label"].to_dict() == {"a": 1, "b": 0, "c": 1, "d": 1, "f": 0}
    # Already below by department data: only the identification counts, with its timing.
    assert rows.loc["c", "months_to_event"] == 2
    assert rows.loc["d", "months_to_event"] == 3
    assert np.isnan(rows.loc["b", "months_to_event"])


def test_combined_label_without_identification_keeps_the_old_rule() -> None:
    frame = pd.DataFrame({"household_id": ["a", "b"], "label": [1, 0], "at_period": [0, 1]})
    assert combine_labels(frame)["household_id"].tolist() == ["a"]


def test_monitoring_object_target_without_a_registry_column() -> None:
    con = ibis.duckdb.connect()
    table = con.create_table("p", pd.DataFrame({"household_id": ["a"], "period": ["2024-01"]}))
    assert not con.to_pandas(table.select(t=monitoring_object_target(table)))["t"].any()


def test_household_type_groups() -> None:
    frame = pd.DataFrame(
        {
            "members": [3, 2, 2, 4, 1],
            "members_under_16": [2, 1, 2, 2, 0],
            "elderly_members": [0, 1, 0, 0, 1],
            "disabled_members": [0, 0, 0, 1, 0],
            "head_age": [34, 67, 15, 40, 70],
            "region_code": ["522799101001"] * 5,
        }
    )
    groups = household_groups(frame)
    # A mother with two children; a grandparent with a grandchild; two orphans, the elder
    # the head; a couple with two children; an elderly person alone.
    assert groups["single_parent"].tolist() == ["yes", "yes", "no", "no", "no"]
    assert groups["child_headed"].tolist() == ["no", "no", "yes", "no", "no"]
    assert groups["elderly_only"].tolist() == ["no", "no", "no", "no", "yes"]
    assert groups["with_disabled"].tolist() == ["no", "no", "no", "yes", "no"]
    assert groups["township"].unique().tolist() == ["522799101"]


def test_panel_single_parent_column_replaces_the_age_approximation() -> None:
    frame = pd.DataFrame(
        {
            "members": [3, 2, 3],
            "members_under_16": [2, 1, 1],
            "head_age": [34, 67, 30],
            # A mother with two children; a grandparent with a grandchild (not a single
            # parent by relations); a father living with his own mother and his son.
            "single_parent": pd.array([True, False, True], dtype="boolean"),
        }
    )
    groups = household_groups(frame)
    assert groups["single_parent"].tolist() == ["yes", "no", "yes"]
