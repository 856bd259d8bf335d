"""Alerts: budget per jurisdiction, always-alert triggers, status against last period, XLSX."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dixian.errors import UserError
from dixian.monitor import AlertPolicy, alert_status, export_alerts_xlsx, rank_alerts
from dixian.monitor.triggers import HIT_COLUMNS, empty_hits


def _scores() -> pd.DataFrame:
    rows = []
    for township in ("001", "002"):
        for i in range(10):
            rows.append(
                {
                    "household_id": f"T{township}-{i}",
                    "region_code": f"522799{township}{i % 3 + 1:03d}",
                    "risk": 0.9 - 0.08 * i,
                }
            )
    return pd.DataFrame(rows)


def _hit(household: str, trigger: str, *, always: bool) -> dict[str, object]:
    return {
        "household_id": household,
        "trigger_id": trigger,
        "label_zh": trigger,
        "cause": "illness",
        "always_alert": always,
        "expression": "x",
        "evidence": json.dumps({"values": {}}),
    }


def test_budget_per_jurisdiction_is_respected() -> None:
    ranked = rank_alerts(_scores(), empty_hits(), policy=AlertPolicy(budget=3))
    counts = ranked[ranked.alerted].groupby("jurisdiction").size()
    assert counts.to_dict() == {"522799001": 3, "522799002": 3}
    top = ranked[ranked.alerted & (ranked.jurisdiction == "522799001")]
    assert sorted(top.household_id) == ["T001-0", "T001-1", "T001-2"]


def test_budget_override_for_one_jurisdiction() -> None:
    policy = AlertPolicy(budget=3, budgets={"522799002": 1})
    ranked = rank_alerts(_scores(), empty_hits(), policy=policy)
    counts = ranked[ranked.alerted].groupby("jurisdiction").size()
    assert counts.to_dict() == {"522799001": 3, "522799002": 1}


def test_always_alert_triggers_alert_beyond_the_budget() -> None:
    hits = pd.DataFrame([_hit("T001-9", "unsafe_house", always=True)], columns=HIT_COLUMNS)
    ranked = rank_alerts(_scores(), hits, policy=AlertPolicy(budget=2)).set_index("household_id")
    assert ranked.loc["T001-9", "alerted"]
    assert ranked.loc["T001-9", "rank"] == 1
    # By default the always-alert household comes on top of the two budgeted places.
    township = ranked[(ranked.jurisdiction == "522799001") & ranked.alerted]
    assert sorted(township.index) == ["T001-0", "T001-1", "T001-9"]
    # Counted toward the budget, it takes one of the two places.
    policy = AlertPolicy(budget=2, always_counts_toward_budget=True)
    ranked = rank_alerts(_scores(), hits, policy=policy).set_index("household_id")
    township = ranked[(ranked.jurisdiction == "522799001") & ranked.alerted]
    assert sorted(township.index) == ["T001-0", "T001-9"]


def test_always_alert_beyond_a_zero_budget() -> None:
    hits = pd.DataFrame([_hit("T002-5", "unsafe_water", always=True)], columns=HIT_COLUMNS)
    ranked = rank_alerts(_scores(), hits, policy=AlertPolicy(budget=0))
    assert ranked[ranked.alerted].household_id.tolist() == ["T002-5"]


def test_trigger_hits_raise_priority() -> None:
    hits = pd.DataFrame(
        [
            _hit("T001-8", "inpatient_oop", always=False),
            _hit("T001-8", "income_drop", always=False),
        ],
        columns=HIT_COLUMNS,
    )
    ranked = rank_alerts(_scores(), hits, policy=AlertPolicy(budget=3, trigger_weight=0.5))
    row = ranked.set_index("household_id").loc["T001-8"]
    assert row.trigger_count == 2
    assert row.priority == pytest.approx(1 - (1 - (0.9 - 0.64)) * 0.5**2)
    assert row["rank"] == 3
    assert row.alerted


def test_status_new_continuing_resolved() -> None:
    ranked = rank_alerts(_scores(), empty_hits(), policy=AlertPolicy(budget=2))
    current = ranked[ranked.alerted]
    previous = pd.DataFrame(
        {
            "household_id": ["T001-1", "T002-7"],
            "region_code": ["522799001002", "522799002002"],
            "jurisdiction": ["522799001", "522799002"],
        }
    )
    status = alert_status(current, previous).set_index("household_id")["status"]
    assert status["T001-1"] == "continuing"
    assert status["T001-0"] == "new"
    assert status["T002-7"] == "resolved"
    assert (alert_status(current, None)["status"] == "new").all()


def test_policy_is_validated() -> None:
    with pytest.raises(UserError):
        AlertPolicy(budget=-1)
    with pytest.raises(UserError):
        AlertPolicy(trigger_weight=1.0)


def test_xlsx_has_one_sheet_per_township(tmp_path: Path) -> None:
    ranked = rank_alerts(_scores(), empty_hits(), policy=AlertPolicy(budget=2))
    alerts = alert_status(ranked[ranked.alerted], None)
    alerts["reason"] = "因病：医疗自付 2.3 万元，占家庭纯收入 85%"
    path = tmp_path / "alerts.xlsx"
    assert export_alerts_xlsx(alerts, path, title="2025-12 预警名单") == 2
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["522799001", "522799002"]
    sheet = book["522799001"]
    assert sheet.cell(2, 1).value == "排名"
    assert sheet.cell(3, 2).value == "新增"
    assert sheet.cell(3, 8).value.startswith("因病")
    assert sheet.max_row == 4


def test_need_allocation_splits_the_same_total_by_largest_remainder() -> None:
    from dixian.monitor.alerts import allocate_by_need

    budgets = allocate_by_need({"a": 2.0, "b": 1.0, "c": 1.0}, total=10)
    # Quotas 5, 2.5, 2.5: one place left for the equal remainders, the first name takes it.
    assert budgets == {"a": 5, "b": 3, "c": 2}
    assert sum(allocate_by_need({"a": 0.33, "b": 0.33, "c": 0.34}, total=7).values()) == 7
    assert allocate_by_need({"a": 0.0, "b": 0.0}, total=4) == {"a": 2, "b": 2}


def test_need_allocation_moves_places_to_the_needier_township() -> None:
    scores = _scores()
    # Township 002 is much riskier: under `need` it gets more of the same 6 places.
    scores.loc[scores.household_id.str.startswith("T002"), "risk"] = 0.95
    equal = rank_alerts(scores, empty_hits(), policy=AlertPolicy(budget=3))
    need = rank_alerts(scores, empty_hits(), policy=AlertPolicy(budget=3, allocation="need"))
    assert equal[equal.alerted].groupby("jurisdiction").size().to_dict() == {
        "522799001": 3,
        "522799002": 3,
    }
    counts = need[need.alerted].groupby("jurisdiction").size().to_dict()
    assert sum(counts.values()) == 6
    assert counts["522799002"] > counts["522799001"]
    with pytest.raises(UserError):
        AlertPolicy(allocation="biggest")  # type: ignore[arg-type]


def test_equal_priorities_follow_the_raw_log_odds() -> None:
    scores = _scores()
    # Isotonic calibration gives a band of households one probability.
    scores["risk"] = 0.4
    scores["raw_logodds"] = [float(i % 10) for i in range(len(scores))]
    ranked = rank_alerts(scores, empty_hits(), policy=AlertPolicy(budget=2))
    top = ranked[ranked.alerted & (ranked.jurisdiction == "522799001")]
    assert sorted(top.household_id) == ["T001-8", "T001-9"]
    # Without raw scores the household id decides.
    plain = rank_alerts(
        scores.drop(columns="raw_logodds"), empty_hits(), policy=AlertPolicy(budget=2)
    )
    top = plain[plain.alerted & (plain.jurisdiction == "522799001")]
    assert sorted(top.household_id) == ["T001-0", "T001-1"]


def test_only_informative_triggers_weigh() -> None:
    from dixian.monitor.alerts import trigger_lifts, with_card_lift

    hits = pd.DataFrame(
        [_hit("T001-8", "disaster", always=False), _hit("T001-9", "income_drop", always=False)],
        columns=HIT_COLUMNS,
    )
    lift = {"disaster": 0.9, "income_drop": 2.4}
    policy = with_card_lift(AlertPolicy(budget=1, trigger_weight=0.9), {"trigger_lift": lift})
    ranked = rank_alerts(_scores(), hits, policy=policy).set_index("household_id")
    assert ranked.loc["T001-8", "priority"] == pytest.approx(0.9 - 0.64)
    assert ranked.loc["T001-9", "priority"] == pytest.approx(1 - (1 - (0.9 - 0.72)) * 0.1)
    assert ranked.loc["T001-9", "alerted"]
    # Between lift 1 and 2 the weight grows with the lift: half of it at 1.5.
    graded = replace(policy, trigger_lift={"disaster": 1.5, "income_drop": 1.0})
    assert graded.weight_of("disaster") == pytest.approx(0.45)
    assert graded.weight_of("income_drop") == 0.0
    assert graded.weight_of("unknown") == 0.0
    # Scope `all`: the disaster weighs too.
    every = rank_alerts(
        _scores(), hits, policy=AlertPolicy(trigger_weight=0.9, trigger_scope="all")
    )
    assert every.set_index("household_id").loc["T001-8", "priority"] > 0.9
    # Lift: the fall rate of households with the hit over the overall rate.
    labels = pd.Series([1, 0, 0, 0], index=["T001-8", "T001-9", "T001-1", "T001-2"])
    assert trigger_lifts(labels, hits) == {"disaster": 4.0, "income_drop": 0.0}
