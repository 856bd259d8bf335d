"""The shipped monitoring triggers fire at and around their thresholds."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pytest

from dixian.features import panel_memtable
from dixian.policy import evaluate_triggers, load_policy_set

_POLICIES = load_policy_set()
_PARAMS = dict(_POLICIES.resolve_parameters(province="52", year=2024))


def _fired(**values: Any) -> set[str]:
    row = {
        "household_id": "h",
        "period": "2024-06",
        "period_end": date(2024, 6, 30),
        "income_net_pc": 20000.0,
        "is_left_poverty": False,
        **values,
    }
    table = evaluate_triggers(panel_memtable([row]), _POLICIES, params=_PARAMS)
    (result,) = ibis.duckdb.connect().to_pyarrow(table).to_pylist()
    return {
        key.removeprefix("trigger_")
        for key, value in result.items()
        if key.startswith("trigger_") and value
    }


@pytest.mark.parametrize(
    ("values", "trigger", "fires"),
    [
        ({"income_net_pc": 8099.0}, "income_below_line", True),
        ({"income_net_pc": 8100.0}, "income_below_line", False),
        ({"income_change_yoy": -0.3}, "income_drop", True),
        ({"income_change_yoy": -0.29}, "income_drop", False),
        ({"is_left_poverty": True, "medical_oop_inpatient_12m": 5000.0}, "inpatient_oop", True),
        ({"is_left_poverty": True, "medical_oop_inpatient_12m": 4999.0}, "inpatient_oop", False),
        ({"is_left_poverty": False, "medical_oop_inpatient_12m": 19999.0}, "inpatient_oop", False),
        ({"is_left_poverty": False, "medical_oop_inpatient_12m": 20000.0}, "inpatient_oop", True),
        ({"is_left_poverty": None, "medical_oop_inpatient_12m": 20000.0}, "inpatient_oop", True),
        ({"medical_oop_outpatient_month": 500.0}, "outpatient_oop", True),
        ({"medical_oop_outpatient_month": 499.0}, "outpatient_oop", False),
        ({"schooling_cost_noncompulsory_12m": 10000.0}, "schooling_cost", False),
        ({"schooling_cost_noncompulsory_12m": 10000.01}, "schooling_cost", True),
        ({"disaster_affected_12m": True}, "disaster", True),
        ({"labourer_shock_12m": True}, "labourer_shock", True),
        ({"job_loss_12m": True}, "job_loss", True),
        ({"house_unsafe": True}, "unsafe_house", True),
        ({"water_unsafe": True}, "unsafe_water", True),
    ],
)
def test_trigger_thresholds(values: dict[str, Any], trigger: str, fires: bool) -> None:
    assert (trigger in _fired(**values)) is fires


def test_quiet_household_fires_nothing() -> None:
    assert _fired() == set()
