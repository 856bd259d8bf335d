"""Columns computed from the assembled panel: income by source and per capita, financial assets
per member, months since the last shock, and the change on the same period a year earlier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features._income_model import IncomeModel, estimated_income, reported_income
from dixian.features.sources import month_index, optional_column

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dixian.features.builder import FeatureSettings


def derived(panel: ir.Table, model: IncomeModel, settings: FeatureSettings) -> ir.Table:
    """Income by source (reported plus the model's estimate of what is not reported),
    per-capita values, financial assets per member, months since the last shock."""
    reported = reported_income(panel, settings)
    estimated = estimated_income(panel, model)
    size = panel.member_count.cast("float64")
    wages = reported["wages"]
    operating = estimated["operating"]
    property_income = reported["property"] + estimated["property"]
    transfers = reported["transfers"] + estimated["transfers"]
    total = wages + operating + property_income + transfers
    financial = optional_column(panel, "deposits_total", default=0.0) + optional_column(
        panel, "securities_total", default=0.0
    )
    months = panel.p_month - month_index(optional_column(panel, "last_shock_date", "date"))
    return panel.mutate(
        income_wages_pc=wages / size,
        income_operating_pc=operating / size,
        income_property_pc=property_income / size,
        income_transfers_pc=transfers / size,
        income_estimated_pc=sum(estimated.values(), ibis.literal(0.0)) / size,
        income_net_total=total,
        income_net_pc=total / size,
        financial_assets_pc=financial / size,
        months_since_last_shock=months,
    )


def year_on_year(panel: ir.Table) -> ir.Table:
    """Per-capita income of the same period a year earlier, and the change."""
    last = panel.select(
        y_household=panel.household_id, y_month=panel.p_month + 12, last_pc=panel.income_net_pc
    )
    joined = panel.left_join(
        last, [panel.household_id == last.y_household, panel.p_month == last.y_month]
    ).drop("y_household", "y_month")
    change = (joined.last_pc > 0).ifelse(
        joined.income_net_pc / joined.last_pc - 1, ibis.null("float64")
    )
    return joined.mutate(income_net_pc_last_year=joined.last_pc, income_change_yoy=change).drop(
        "last_pc"
    )
