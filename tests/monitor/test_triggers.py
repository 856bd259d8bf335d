"""Triggers from the shipped policy files: hits and their evidence on hand-built households."""

from __future__ import annotations

import json

import ibis
import pandas as pd
import pytest

from dixian.features.panel_schema import panel_schema
from dixian.monitor import evaluate_triggers, rules_from_policy
from dixian.policy import load_policy_set


def _panel(rows: list[dict[str, object]]) -> pd.DataFrame:
    schema = panel_schema()
    frame = pd.DataFrame([dict.fromkeys(schema.names) | row for row in rows])
    return frame


@pytest.fixture(scope="module")
def rules():  # type: ignore[no-untyped-def]
    policy_set = load_policy_set()
    params = policy_set.resolve_parameters(province="52", year=2025)
    return rules_from_policy(policy_set, params=params), params


def _hits(rows: list[dict[str, object]], rules) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    con = ibis.duckdb.connect()
    frame = _panel(rows)
    table = con.create_table("household_period", ibis.memtable(frame, schema=panel_schema()))
    return evaluate_triggers(table, rules, period="2025-06")


def test_inpatient_threshold_depends_on_exit_status(rules) -> None:  # type: ignore[no-untyped-def]
    rule_list, params = rules
    exited = params["inpatient_oop_threshold_exited"]
    other = params["inpatient_oop_threshold_other"]
    base = {"period": "2025-06", "region_code": "522799001001", "is_left_poverty": False}
    rows = [
        base
        | {
            "household_id": "exited_over",
            "is_left_poverty": True,
            "medical_oop_inpatient_12m": float(exited) + 1,
            "evidence": json.dumps({"medical_oop_inpatient_12m": ["b1:claims::4"]}),
        },
        base
        | {
            "household_id": "exited_under",
            "is_left_poverty": True,
            "medical_oop_inpatient_12m": float(exited) - 1,
        },
        base | {"household_id": "other_mid", "medical_oop_inpatient_12m": float(exited) + 1},
        base | {"household_id": "other_over", "medical_oop_inpatient_12m": float(other)},
    ]
    hits = _hits(rows, rule_list)
    inpatient = hits[hits.trigger_id == "inpatient_oop"].set_index("household_id")
    assert sorted(inpatient.index) == ["exited_over", "other_over"]
    evidence = json.loads(inpatient.loc["exited_over", "evidence"])
    assert evidence["values"]["medical_oop_inpatient_12m"] == float(exited) + 1
    assert evidence["values"]["is_left_poverty"] is True
    assert evidence["records"] == {"medical_oop_inpatient_12m": ["b1:claims::4"]}
    assert inpatient.loc["other_over", "cause"] == "illness"


def test_always_alert_and_flags(rules) -> None:  # type: ignore[no-untyped-def]
    rule_list, params = rules
    base = {"period": "2025-06", "region_code": "522799001001"}
    rows = [
        base | {"household_id": "unsafe", "house_unsafe": True},
        base | {"household_id": "poor", "income_net_pc": float(params["monitoring_line"]) - 1},
        base
        | {
            "household_id": "fine",
            "income_net_pc": float(params["monitoring_line"]) + 1,
            "house_unsafe": False,
        },
        {**base, "period": "2025-05", "household_id": "other_month", "house_unsafe": True},
    ]
    hits = _hits(rows, rule_list)
    by_household = hits.groupby("household_id").trigger_id.apply(sorted).to_dict()
    assert by_household == {"poor": ["income_below_line"], "unsafe": ["unsafe_house"]}
    always = dict(zip(hits.household_id, hits.always_alert, strict=True))
    # An unsafe house bypasses the budget; income below the line is ranked within it.
    assert always == {"unsafe": True, "poor": False}
    poor = json.loads(hits[hits.household_id == "poor"].evidence.iloc[0])
    assert poor["values"] == {"income_net_pc": float(params["monitoring_line"]) - 1}


def test_summarise_hits_sorted_distinct_per_household() -> None:
    from dixian.monitor.triggers import summarise_hits

    hits = pd.DataFrame(
        {
            "household_id": ["h2", "h1", "h2", "h2", "h1", "h3"],
            "trigger_id": ["water", "medical", "house", "water", "income", "house"],
            "label_zh": ["饮水", "医疗", "住房", "饮水", "收入", "住房"],
            "always_alert": [True, False, True, True, False, False],
        }
    )
    summary = summarise_hits(hits).set_index("household_id")
    assert list(summary.index) == ["h1", "h2", "h3"]
    assert summary.loc["h1", "triggers"] == ["income", "medical"]
    assert summary.loc["h2", "triggers"] == ["house", "water"]
    assert summary.loc["h2", "trigger_labels"] == sorted(["住房", "饮水"])
    assert summary.loc["h3", "trigger_labels"] == ["住房"]
    assert summary["trigger_count"].to_dict() == {"h1": 2, "h2": 2, "h3": 1}
    assert summary["always_alert"].to_dict() == {"h1": False, "h2": True, "h3": False}


def test_collect_hits_subset_and_without_evidence(rules) -> None:  # type: ignore[no-untyped-def]
    from dixian.monitor.triggers import collect_hits, trigger_table

    rule_list, params = rules
    base = {"period": "2025-06", "region_code": "522799001001"}
    line = float(params["monitoring_line"])
    rows = [
        base | {"household_id": "a", "house_unsafe": True, "income_net_pc": line - 1},
        base | {"household_id": "b", "water_unsafe": True},
        base | {"household_id": "c", "income_net_pc": line + 1},
    ]
    con = ibis.duckdb.connect()
    table = con.create_table("household_period", ibis.memtable(_panel(rows), schema=panel_schema()))
    found = trigger_table(table, rule_list, period="2025-06")
    assert sorted(found.column("household_id").to_pylist()) == ["a", "b"]  # c has no hit
    everything = evaluate_triggers(table, rule_list, period="2025-06")
    bare = collect_hits(found, rule_list, evidence=False)
    columns = ["household_id", "trigger_id", "always_alert"]
    key = ["household_id", "trigger_id"]
    assert bare[columns].sort_values(key).values.tolist() == (
        everything[columns].sort_values(key).values.tolist()
    )
    assert bare["evidence"].isna().all()
    only_a = collect_hits(found, rule_list, households={"a"})
    assert sorted(only_a.trigger_id) == ["income_below_line", "unsafe_house"]
    expected = everything[everything.household_id == "a"].set_index("trigger_id")["evidence"]
    assert only_a.set_index("trigger_id")["evidence"].to_dict() == expected.to_dict()


def test_summarise_hits_with_many_distinct_triggers() -> None:
    from dixian.monitor.triggers import summarise_hits

    # More distinct trigger ids than a bit mask holds: the general path gives the same answer.
    ids = [f"t{index:02d}" for index in range(70)]
    hits = pd.DataFrame(
        {
            "household_id": ["h1"] * 70 + ["h2", "h2"],
            "trigger_id": [*ids[::-1], "t05", "t05"],
            "label_zh": ["x"] * 72,
            "always_alert": [False] * 72,
        }
    )
    summary = summarise_hits(hits).set_index("household_id")
    assert summary.loc["h1", "triggers"] == ids
    assert summary.loc["h2", "triggers"] == ["t05"]
    assert summary["trigger_count"].to_dict() == {"h1": 70, "h2": 1}
    assert summary.loc["h1", "trigger_labels"] == ["x"]
