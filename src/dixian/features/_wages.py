"""Wages from employment records that are snapshots, not monthly payments.

An employment record says that a person was in work in its report month at a monthly wage.
Departments send such records monthly or at quarter ends, so a record stands for the months
until the person's next record, at most `employment_carry_months`. The 12-month wage income is
the sum over records of the monthly wage times the months of that span inside the window;
a record whose status is not "employed" ends the span of the one before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features._columns import KEYS, _evidence, _part, _with_month
from dixian.features.sources import linked_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part


def employment_wages(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings
) -> _Part | None:
    """`wages_employment` per household and period with its evidence rows; None when the
    employment dataset is not ingested."""
    rows = linked_rows(
        backend,
        "employment",
        ["report_month", "monthly_wage", "employment_status"],
    )
    if rows is None:
        return None
    records = _with_month(rows, "report_month")
    following = ibis.window(group_by=records.person_id, order_by=records.e_month)
    records = records.mutate(next_month=records.e_month.lead().over(following))
    limit = records.e_month + settings.employment_carry_months
    span_end = ibis.least(limit, records.next_month.fill_null(limit))  # exclusive
    spells = records.filter(records.employment_status == "employed").select(
        "person_id",
        "_record_id",
        "e_month",
        span_end=span_end,
        wage=records.monthly_wage.fill_null(0.0),
    )
    g = grid.select(
        g_person=grid.person_id,
        household_id=grid.household_id,
        period=grid.period,
        p_month=grid.p_month,
    )
    window_start = g.p_month - settings.window_months + 1
    joined = spells.inner_join(
        g,
        [
            spells.person_id == g.g_person,
            spells.e_month <= g.p_month,
            spells.span_end > window_start,
        ],
    )
    months = ibis.least(joined.span_end, joined.p_month + 1) - ibis.greatest(
        joined.e_month, window_start
    )
    joined = joined.mutate(amount=joined.wage * months.cast("float64"))
    values = joined.group_by(KEYS).aggregate(wages_employment=joined.amount.sum())
    return _part(values, [_evidence(joined, "income_wages_pc")])
