"""Held-out evaluation on a synthetic county with known shocks, and metric edge cases."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from dixian.monitor import AlertPolicy, below_line_target, rules_from_policy
from dixian.monitor.evaluation import evaluate_held_out, true_causes_from_shocks
from dixian.monitor.metrics import (
    expected_calibration_error,
    fairness_table,
    lead_time_summary,
    recall_precision_at_budget,
    rule_baseline_mask,
)
from dixian.monitor.synthetic import SHOCK_CAUSE, synthetic_panel
from dixian.policy import load_policy_set


def test_held_out_evaluation_beats_the_rule_baseline() -> None:
    generated = synthetic_panel(1500, start="2022-01", months=40, seed=17)
    panel = ibis.duckdb.connect().create_table("household_period", generated.panel)
    policy_set = load_policy_set()
    params = policy_set.resolve_parameters(province="52", year=2024)
    lines = {
        year: float(policy_set.resolve_parameters(province="52", year=year)["monitoring_line"])
        for year in range(2022, 2026)
    }
    causes = true_causes_from_shocks(
        generated.shocks, test_period="2024-04", horizon=12, cause_of=SHOCK_CAUSE
    )
    figures = evaluate_held_out(
        panel,
        target=below_line_target(lines),
        rules=rules_from_policy(policy_set, params=params),
        policy=AlertPolicy(budget=40),
        test_period="2024-04",
        true_causes=causes,
        model_params={"n_estimators": 150},
        lead_lookback=3,
    )
    assert figures["periods"]["validation"] == "2023-04"
    assert all(period <= "2022-04" for period in figures["periods"]["train"])
    assert figures["model"]["auc"] > 0.75
    # Same alert count for both (rules cannot alert more households than they flag); the model
    # finds the falls that no official trigger flags yet.
    baseline = figures["rule_baseline"]
    assert baseline["alerts"] == min(figures["alerts"]["alerts"], baseline["households_with_hits"])
    assert figures["recall_ratio_vs_rules"] > 1.2
    assert 0.0 <= figures["primary_cause_accuracy"] <= 1.0
    assert figures["primary_cause_checked"] > 0
    assert figures["lead_time"]["count"] == figures["alerts"]["true_alerts"]
    # Lead from the run's first month: never shorter than from the test month alone, and
    # scored only from months whose futures the model has not seen (validation 2023-04).
    assert figures["periods"]["lead_lookback"] == ["2024-03", "2024-02", "2024-01"]
    assert figures["lead_time"]["mean_months"] >= figures["lead_time_snapshot"]["mean_months"]
    assert figures["lead_time"]["share_alerted_before_test_month"] > 0
    assert figures["lead_time_rule_baseline"]["count"] == baseline["true_alerts"]
    # Both allocations spend the same total; the rules' list too.
    totals = {
        name: (figures["allocations"][name]["alerts"]["alerts"],
               figures["allocations"][name]["rule_baseline"]["alerts"])
        for name in ("equal", "need")
    }  # fmt: skip
    assert totals["equal"][0] == totals["need"][0] == figures["alerts"]["alerts"]
    assert totals["need"][1] <= totals["need"][0]
    # Luck of ties, both lists: spreads over random orders of equal priorities / hit counts.
    for name in ("alerts_over_tie_draws", "rule_baseline_over_draws"):
        spread = figures[name]
        assert spread["p5_true_alerts"] <= spread["mean_true_alerts"] <= spread["p95_true_alerts"]
    assert figures["recall_ratio_vs_rules_ties_averaged"] > 1.0
    township = [row for row in figures["fairness_intervals"] if row["grouping"] == "township"]
    assert township and all(row["recall_ratio_low"] <= row["recall_ratio_high"] for row in township)
    # The budgeted part and the always-alert households make up the alert list.
    budgeted = figures["budgeted_part"]["alerts"]["alerts"]
    assert budgeted + figures["alerts"]["always_alert"] == figures["alerts"]["alerts"]


def test_budget_metrics_and_baseline() -> None:
    labels = np.array([1, 0, 1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.05])
    figures = recall_precision_at_budget(labels, scores, budget=3)
    assert figures["recall"] == pytest.approx(2 / 3)
    assert figures["precision"] == pytest.approx(2 / 3)
    hits = np.array([0, 2, 1, 1, 0, 0])
    mask = rule_baseline_mask(hits, budget=5, tie_break=np.zeros(6))
    # Only households with a hit can be alerted by rules, most hits first.
    assert mask.tolist() == [False, True, True, True, False, False]
    mask = rule_baseline_mask(hits, budget=1, tie_break=np.zeros(6))
    assert mask.tolist() == [False, True, False, False, False, False]


def test_ece_and_lead_time_and_fairness() -> None:
    labels = np.array([0, 1] * 50)
    assert expected_calibration_error(labels, np.full(100, 0.5)) == pytest.approx(0.0)
    assert expected_calibration_error(labels, np.full(100, 0.9)) == pytest.approx(0.4)
    lead = lead_time_summary([3, np.nan, 6, 1], [True, True, True, False])
    assert lead == {"count": 2, "median_months": 4.5, "mean_months": 4.5,
                    "share_3_months_or_more": 1.0}  # fmt: skip
    groups = pd.DataFrame({"township": ["a"] * 20 + ["b"] * 20})
    labels = np.ones(40, dtype=int)
    alerted = np.array([True] * 20 + [True] * 5 + [False] * 15)
    table = {row["group"]: row for row in fairness_table(labels, alerted, groups)}
    assert table["a"]["recall"] == 1.0 and not table["a"]["gap"]
    assert table["b"]["recall"] == 0.25 and table["b"]["gap"]


def test_recall_ratio_interval_widens_with_fewer_falls() -> None:
    from dixian.monitor.metrics import recall_ratio_intervals

    rng = np.random.default_rng(0)
    labels = (rng.random(4000) < 0.1).astype(int)
    alerted = rng.random(4000) < 0.3
    # "small" has a tenth of the households: its ratio's interval is wider.
    groups = pd.DataFrame({"township": np.where(np.arange(4000) < 400, "small", "large")})
    rows = {row["group"]: row for row in recall_ratio_intervals(labels, alerted, groups, reps=300)}
    width = {name: row["recall_ratio_high"] - row["recall_ratio_low"] for name, row in rows.items()}
    assert width["small"] > 2 * width["large"]
    assert rows["small"]["recall_ratio_low"] < 1.0 < rows["small"]["recall_ratio_high"]


def test_lowest_group_ratio_by_chance_depends_on_counts() -> None:
    from dixian.monitor.metrics import lowest_ratio_by_chance

    # Six townships of ~250 falls at a recall of 7%: about 17 caught each, noisy.
    small = lowest_ratio_by_chance([250] * 6, recall=0.07, reps=4000)
    large = lowest_ratio_by_chance([25000] * 6, recall=0.07, reps=4000)
    assert small["share_below_floor"] > 0.5
    assert large["share_below_floor"] < 0.01
    assert small["median_lowest_ratio"] < large["median_lowest_ratio"] <= 1.0


def test_rule_baseline_ranks_by_hits_whatever_the_alert_lists_trigger_weight() -> None:
    from dixian.monitor.comparison import rule_policy_baseline

    scores = pd.DataFrame(
        {
            "household_id": [f"h{i}" for i in range(6)],
            "region_code": ["522799101001"] * 6,
            "risk": [0.9, 0.8, 0.1, 0.1, 0.1, 0.1],
        }
    )
    hits = pd.DataFrame(
        {
            "household_id": ["h2", "h2", "h3", "h4", "h4", "h4"],
            "trigger_id": ["a", "b", "a", "a", "b", "c"],
            "label_zh": ["甲", "乙", "甲", "甲", "乙", "丙"],
            "cause": ["other"] * 6,
            "always_alert": [False] * 6,
            "evidence": ["{}"] * 6,
        }
    )
    tie_break = np.linspace(0.1, 0.6, 6)
    masks = [
        rule_policy_baseline(
            scores, hits, policy=AlertPolicy(budget=2, trigger_weight=w), tie_break=tie_break
        )
        for w in (0.0, 0.2)
    ]
    # The two households with most hits, not the riskiest or the first by tie-break.
    assert masks[0].tolist() == masks[1].tolist() == [False, False, True, False, True, False]


def test_recall_homogeneity_tells_a_township_served_worse_from_luck() -> None:
    from dixian.monitor.metrics import recall_homogeneity

    # 20 of 250 falls caught everywhere but one township: 20 of 250 there too, then 2 of 250.
    equal = recall_homogeneity([250] * 6, [20, 22, 18, 21, 19, 20])
    assert equal["dof"] == 5 and equal["p_value"] > 0.5
    worse = recall_homogeneity([250] * 6, [20, 22, 18, 21, 19, 2])
    assert worse["p_value"] < 0.01
    # Nothing to compare: one group, or no falls.
    assert recall_homogeneity([250], [20])["p_value"] == 1.0
    assert recall_homogeneity([0, 0], [0, 0])["p_value"] == 1.0
