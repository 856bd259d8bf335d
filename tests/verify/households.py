"""Hand-built household_period rows for verification tests (2024 default parameters).

2024 defaults: 低保 line 7,850; monitoring line 8,100; low-income line 1.5 x 7,850 = 11,775;
financial assets limit 3 x 7,850 = 23,550 per person; business capital limit 50,000.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis.expr.types as ir

from dixian.features import encode_evidence, panel_memtable
from dixian.policy import load_policy_set

PERIOD = "2024-06"
DIBAO_LINE = 7850
MONITORING_LINE = 8100
LOW_INCOME_LINE = 11775.0
ASSETS_LIMIT = 23550.0


def family(household_id: str = "h1", **overrides: Any) -> dict[str, Any]:
    """A three-member family that qualifies for 低保, 低收入 and monitoring, not 特困."""
    row: dict[str, Any] = {
        "household_id": household_id,
        "period": PERIOD,
        "period_end": date(2024, 6, 30),
        "region_code": "522799001001",
        "head_person_id": f"{household_id}-p1",
        "member_count": 3,
        "members_under_16": 1,
        "members_16_59": 1,
        "members_60_plus": 1,
        "labour_capacity_count": 1,
        "dependant_count": 2,
        "income_wages_pc": 3000.0,
        "income_operating_pc": 1000.0,
        "income_property_pc": 0.0,
        "income_transfers_pc": 1000.0,
        "income_net_pc": 5000.0,
        "income_net_total": 15000.0,
        "assistance_paid_12m": 0.0,
        "vehicle_count": 0,
        "vehicle_non_exempt_count": 0,
        "vehicle_value_total": 0.0,
        "property_count": 1,
        "property_area_total": 90.0,
        "property_purchased_12m": 0,
        "business_count": 0,
        "business_capital_total": 0.0,
        "deposits_total": 3000.0,
        "securities_total": 0.0,
        "financial_assets_pc": 1000.0,
        "medical_oop_12m": 0.0,
        "schooling_cost_12m": 0.0,
        "is_dibao": True,
        "is_tekun": False,
        "severe_disabled_count": 0,
        "disabled_count": 0,
        "public_payroll_count": 0,
        "payments_after_death_count": 0,
        "payments_after_death_amount": 0.0,
        "registry_status": "monitored",
        "is_left_poverty": True,
        "evidence": encode_evidence(
            {
                "income_wages_pc": [f"emp:{household_id}:1"],
                "vehicle_non_exempt_count": [f"veh:{household_id}:1"],
                "public_payroll_count": [f"pay:{household_id}:1"],
            }
        ),
    }
    row.update(overrides)
    return row


def elder_alone(household_id: str = "e1", **overrides: Any) -> dict[str, Any]:
    """A 72-year-old living alone with no income: qualifies for 特困."""
    row = family(
        household_id,
        member_count=1,
        members_under_16=0,
        members_16_59=0,
        members_60_plus=1,
        labour_capacity_count=0,
        dependant_count=1,
        income_wages_pc=0.0,
        income_operating_pc=0.0,
        income_transfers_pc=1800.0,
        income_net_pc=1800.0,
        income_net_total=1800.0,
        financial_assets_pc=2000.0,
        deposits_total=2000.0,
        is_dibao=False,
        is_tekun=True,
        registry_status="exited_poverty",
    )
    row.update(overrides)
    return row


def table(*rows: dict[str, Any]) -> ir.Table:
    """The rows as an in-memory household_period table."""
    return panel_memtable(list(rows))


def params_2024() -> dict[str, Any]:
    """Default parameters for province 52 in 2024."""
    return dict(load_policy_set().resolve_parameters(province="52", year=2024))
