"""The member grid: one row per living member of a household and period, the periods a
build covers, and joining a member's dated events to the grid rows whose window holds them."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import ibis

from dixian.errors import UserError
from dixian.features.sources import (
    MEMBERSHIP_TABLE,
    PERSONS_TABLE,
    linked_rows,
    membership_months,
    month_index,
)
from dixian.ingest.ledger import LEDGER_TABLE

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

# The dataset whose batches say how far the register reaches.
_REGISTRATION_DATASET = "household_registration"


def period_table(periods: Sequence[str]) -> ir.Table:
    """A memtable of periods 'YYYY-MM' with their last day and month index."""
    rows = []
    for period in sorted(set(periods)):
        try:
            year, month = (int(part) for part in period.split("-"))
            end = date(year, month, calendar.monthrange(year, month)[1])
        except ValueError as exc:
            raise UserError(f"period '{period}': expected YYYY-MM") from exc
        rows.append({"period": period, "period_end": end, "p_month": year * 12 + month - 1})
    return ibis.memtable(
        rows or {"period": [], "period_end": [], "p_month": []},
        schema={"period": "string", "period_end": "date", "p_month": "int64"},
    )


def member_grid(backend: BaseBackend, periods: ir.Table) -> ir.Table:
    """One row per living member and period: household, relation, age, birth, region.

    Household registration arrives as yearly full extracts and monthly changes, so
    `household_membership` has rows only for the periods a batch covered. A person's
    membership holds from its period until their next membership row, and ends at a
    registered death or move out of the county.
    """
    tables = backend.list_tables()
    for needed in (MEMBERSHIP_TABLE, PERSONS_TABLE):
        if needed not in tables:
            raise UserError(f"table '{needed}' is missing: run 'dixian link' first")
    membership = membership_months(backend)
    following = ibis.window(group_by=membership.person_id, order_by=membership.m_month)
    spells = membership.mutate(next_month=membership.m_month.lead().over(following))
    spells = spells.select(
        "person_id",
        "household_id",
        "relation_to_head",
        "m_month",
        "next_month",
        m_region=spells.region_code if "region_code" in spells.columns else ibis.null("string"),
    )
    held = spells.inner_join(
        periods,
        [
            spells.m_month <= periods.p_month,
            spells.next_month.isnull() | (periods.p_month < spells.next_month),
        ],
    )
    persons = backend.table(PERSONS_TABLE).select("person_id", "birth_date", p_region="region_code")
    grid = held.left_join(persons, "person_id").drop("person_id_right")
    exits = linked_rows(backend, "household_registration", ["registration_status", "status_date"])
    if exits is not None:
        gone = exits.filter(exits.registration_status.isin(["deceased", "moved_out"]))
        gone = gone.group_by("person_id").aggregate(exit_date=gone.status_date.min())
        grid = grid.left_join(gone, "person_id").drop("person_id_right")
        # Gone from the month after the exit, unless registered again after it.
        exit_month = month_index(grid.exit_date)
        still_here = (
            grid.exit_date.isnull() | (exit_month >= grid.p_month) | (exit_month < grid.m_month)
        )
        grid = grid.filter(still_here)
    grid = grid.select(
        "household_id",
        "period",
        "period_end",
        "p_month",
        "person_id",
        "relation_to_head",
        "birth_date",
        region_code=ibis.coalesce(grid.m_region, grid.p_region),
    )
    end, birth = grid.period_end, grid.birth_date
    before_birthday = (end.month() * 100 + end.day()) < (birth.month() * 100 + birth.day())
    age = end.year() - birth.year() - before_birthday.ifelse(1, 0)
    return grid.mutate(age=age.cast("int64"))


def membership_periods(backend: BaseBackend) -> list[str]:
    """Every month from the first period of `household_membership` to the latest month the
    household registration covers (its latest membership period or batch, whichever is later).

    A registration batch of only deaths and moves adds no membership rows; without the batch
    ledger the panel would end months before the register does.
    """
    tables = backend.list_tables()
    if MEMBERSHIP_TABLE not in tables:
        raise UserError(f"table '{MEMBERSHIP_TABLE}' is missing: run 'dixian link' first")
    membership = backend.table(MEMBERSHIP_TABLE)
    bounds = membership.aggregate(first=membership.period.min(), last=membership.period.max())
    row = bounds.to_pyarrow().to_pylist()[0]
    if row["first"] is None:
        return []
    first, last = (period_index(str(row[key])) for key in ("first", "last"))
    if LEDGER_TABLE in tables:
        ledger = backend.table(LEDGER_TABLE)
        registered = ledger.filter(
            (ledger.dataset == _REGISTRATION_DATASET)
            & ledger.period.re_search(r"^\d{4}-\d{2}$")
            & (ledger.rows_accepted > 0)
        )
        latest = registered.period.max().to_pyarrow().as_py()
        if latest is not None:
            last = max(last, period_index(str(latest)))
    return [period_name(index) for index in range(first, last + 1)]


def period_index(period: str) -> int:
    """Months since year 0 of a period 'YYYY-MM' (the same count as `month_index`)."""
    year, month = (int(part) for part in period.split("-"))
    return year * 12 + month - 1


def period_name(index: int) -> str:
    """The period 'YYYY-MM' of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def in_window(
    events: ir.Table, grid: ir.Table, event_month: str, months: int, *, point_in_time: bool = False
) -> ir.Table:
    """Join person events to the grid rows whose 12-month window (or past) holds them."""
    g = grid.select(
        g_person=grid.person_id,
        household_id=grid.household_id,
        period=grid.period,
        period_end=grid.period_end,
        p_month=grid.p_month,
        age=grid.age,
    )
    conditions = [events.person_id == g.g_person, events[event_month] <= g.p_month]
    if not point_in_time:
        conditions.append(events[event_month] > g.p_month - months)
    return events.inner_join(g, conditions).drop("g_person")
