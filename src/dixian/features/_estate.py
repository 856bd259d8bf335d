"""Assets of a deceased member stay with the household.

A car, a flat or a deposit registered in the name of a member who died belongs to the family
until the registers transfer it, and 低保 verification counts it as the family's property. The
member grid holds only the living, so asset columns join on the *holders* grid: the living
members plus each deceased member in their household at death, for the periods after the death.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features.sources import death_dates, membership_months, month_index

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

_HOLDER_COLUMNS = ("household_id", "period", "period_end", "p_month", "person_id", "age")


def asset_holders(backend: BaseBackend, grid: ir.Table) -> ir.Table:
    """The grid's living members and, after their death, the deceased in their last household.

    Takes the member grid (household_id, period, period_end, p_month, person_id, age, ...) and
    gives a table with those six columns; age is NULL for the deceased.
    """
    living = grid.select(*_HOLDER_COLUMNS)
    deaths = death_dates(backend)
    if deaths is None:
        return living
    deaths = deaths.select("person_id", d_month=month_index(deaths.death_date))
    rows = membership_months(backend).select("person_id", "household_id", "m_month")
    before = rows.inner_join(deaths, "person_id").filter(lambda t: t.m_month <= t.d_month)
    last = before.group_by(["person_id", "d_month"]).aggregate(
        last_household=before.household_id.argmax(before.m_month)
    )
    households = grid.select("household_id", "period", "period_end", "p_month").distinct()
    after = last.inner_join(
        households,
        [last.last_household == households.household_id, households.p_month > last.d_month],
    )
    deceased = after.select(
        "household_id", "period", "period_end", "p_month", "person_id", age=ibis.null("int64")
    )
    return living.union(deceased.cast(living.schema()))
