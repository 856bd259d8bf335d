"""Building the household-period panel (一户一档) from linked department records.

For each household and period (month) the builder sums what the departments say about the
household's members over the 12 months ending with the period (the income period official
identification uses), takes assets and statuses as at the period's end, and keeps the
`_record_id` of every source row behind a value in `evidence`. Every step is an Ibis
expression, so the same code runs on DuckDB and Spark.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import ibis

from dixian.errors import UserError
from dixian.features import _columns as cols
from dixian.features import _estate as estate
from dixian.features import _income_model as income_model
from dixian.features import _job_loss as job_loss
from dixian.features import _status as status
from dixian.features import _wages as wages
from dixian.features.panel_schema import PANEL_COLUMNS
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

KEYS = ["household_id", "period"]
# The dataset whose batches say how far the register reaches.
_REGISTRATION_DATASET = "household_registration"


@dataclass(frozen=True)
class FeatureSettings:
    """Assumptions of the panel that a county may change.

    Departments report no farm income, land rent or family support, so these are estimated
    (see `_income_model`): by default with coefficients fitted on the registry's surveyed
    incomes, else at `farm_base_income` per farming household plus `farm_net_income_per_mu`;
    property income from deposits at a deposit rate.
    """

    window_months: int = 12
    farm_income_method: str = "registry_fit"
    farm_base_income: float = 0.0
    farm_net_income_per_mu: float = 600.0
    farm_fit_min_households: int = 30
    deposit_interest_rate: float = 0.015
    payroll_recent_months: int = 3
    employment_carry_months: int = 3
    # Months a member who lost a job is expected to stay without work, until the county's
    # employment records show finished spells to take the usual length from.
    job_search_months_default: int = 6


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


def _member_grid(backend: BaseBackend, periods: ir.Table) -> ir.Table:
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


def _in_window(
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


@dataclass
class _Part:
    """Columns for the panel from one source, and the evidence rows behind them."""

    values: ir.Table  # household_id, period, <columns>
    evidence: list[ir.Table]  # household_id, period, column, _record_id


def _household_type(grid: ir.Table) -> _Part:
    """Single-parent households, from the registered relations to the head.

    A head without a spouse in the household who lives with a son or daughter under 18; a
    grandparent raising grandchildren is not counted, a single parent living with their own
    parents is.
    """
    relation = grid.relation_to_head
    head = (relation == "head").fill_null(False)
    spouse = (relation == "spouse").fill_null(False)
    minor_child = (relation.isin(["son", "daughter"]) & (grid.age < 18)).fill_null(False)
    values = grid.group_by(KEYS).aggregate(
        single_parent=head.any() & ~spouse.any() & minor_child.any()
    )
    return _Part(values=values, evidence=[])


def build_household_period(
    backend: BaseBackend,
    *,
    periods: Sequence[str] | None = None,
    settings: FeatureSettings | None = None,
    report: dict[str, object] | None = None,
    step: Callable[[str], None] | None = None,
) -> ir.Table:
    """The panel as an Ibis expression (not yet executed).

    Args:
        backend: the warehouse holding staging tables, `persons`, `person_link` and
            `household_membership`.
        periods: the periods 'YYYY-MM' to build (default: every period of the membership).
        settings: assumptions; see FeatureSettings.
        report: if given, filled with figures of the build (the farm income standard used).
        step: called with a short name after each intermediate result is computed (a county's
            build takes tens of minutes; this feeds a progress bar).

    Returns:
        A table with exactly the declared panel columns, one row per household and period.
    """
    settings = settings or FeatureSettings()
    if periods is None:
        periods = membership_periods(backend)
    period_rows = period_table(periods)
    # Intermediate results are materialised: the panel's query would otherwise inline the
    # member grid dozens of times and grow beyond what a planner handles well.
    done = step or _no_step
    grid = _materialise(backend, "grid", _member_grid(backend, period_rows))
    done("成员 member grid")
    holders = _materialise(backend, "holders", estate.asset_holders(backend, grid))
    done("资产持有人 asset holders")
    members = _materialise(backend, "members", cols.members(backend, grid))
    done("户 households")
    parts: list[_Part] = [
        part
        for part in (
            _household_type(grid),
            cols.labour(backend, grid, settings),
            income_model.farm_labour(backend, grid, settings, _in_window),
            cols.incomes(backend, grid, settings, _in_window),
            wages.employment_wages(backend, grid, settings),
            job_loss.job_loss_wages(backend, grid, settings),
            cols.assistance(backend, grid, settings, _in_window),
            status.assets(backend, holders, settings, _in_window),
            status.spending(backend, grid, settings, _in_window),
            status.flags(backend, grid, settings, _in_window),
            status.registry(backend, grid, settings, _in_window),
            status.shocks(backend, grid, settings, _in_window),
        )
        if part is not None
    ]
    panel = members
    for index, part in enumerate(parts):
        # Two names taken in turn: a county's panel is gigabytes, and keeping every
        # step's copy in the connection's temporary storage ran a build out of memory.
        values = _materialise(backend, "part", part.values)
        panel = panel.left_join(values, KEYS).drop("household_id_right", "period_right")
        panel = _materialise(backend, f"panel{index % 2}", panel)
        done(f"字段 columns {index + 1}/{len(parts)}")
    panel = _no_record_means_none(panel)
    if "land_area_mu" in panel.columns:
        panel = _materialise(backend, "land", income_model.with_land(panel))
    model = income_model.fit_income_model(panel, settings)
    if report is not None:
        report["income_model"] = model.as_report()
    panel = status.derived(panel, model, settings)
    panel = status.year_on_year(panel)
    panel = _materialise(backend, "derived", panel)
    done("收入与变化 income and change")
    for name in ("part", "panel0", "panel1", "land"):
        backend.drop_table(f"{INTERMEDIATE_PREFIX}{name}", force=True)
    # Not materialised whole: each step computes its own periods' evidence rows.
    evidence_rows = [row for part in parts for row in part.evidence]
    evidence = _evidence_in_steps(backend, evidence_rows, members, sorted(set(periods)), step=done)
    # The panel now reads only `derived` and `evidence`: the member grid and holders (about
    # 25 million rows each for a 1,000,000-person county's 25 months) give back their spill
    # space before the panel is written.
    for name in ("grid", "holders", "members"):
        backend.drop_table(f"{INTERMEDIATE_PREFIX}{name}", force=True)
    panel = panel.left_join(evidence, KEYS)
    panel = panel.drop("household_id_right", "period_right")
    panel = panel.mutate(evidence=panel.evidence.fill_null("{}"))
    return _conform(panel)


# When a dataset is ingested, a household it has no record of has none of the thing: zero
# vehicles, no payments, no disaster. Columns left out stay NULL where absence means
# "unknown" (house and water ratings, registry status, dates).
_ZERO_WHEN_INGESTED = (
    "labour_capacity_count",
    "farm_labour_count",
    "dependant_count",
    "disabled_count",
    "severe_disabled_count",
    "disability_onset_12m",
    "serious_illness_count",
    "chronic_illness_count",
    "students_compulsory",
    "students_high_school",
    "students_tertiary",
    "wages_employment",
    "wages_payroll",
    "transfers_pensions",
    "transfers_temporary",
    "assistance_paid_12m",
    "vehicle_count",
    "vehicle_non_exempt_count",
    "vehicle_value_total",
    "property_count",
    "property_area_total",
    "property_purchased_12m",
    "business_count",
    "business_capital_total",
    "deposits_total",
    "securities_total",
    "provident_fund_contributions_12m",
    "medical_oop_12m",
    "medical_oop_inpatient_12m",
    "medical_oop_outpatient_month",
    "medical_oop_injury_12m",
    "schooling_cost_12m",
    "schooling_cost_noncompulsory_12m",
    "disaster_loss_12m",
    "public_payroll_count",
    "payments_after_death_count",
    "payments_after_death_amount",
    "times_monitored",
    "job_loss_wages_12m",
    "job_loss_months_out",
)
_FALSE_WHEN_INGESTED = (
    "is_dibao",
    "is_tekun",
    "disaster_affected_12m",
    "labourer_shock_12m",
    "job_loss_12m",
    "is_left_poverty",
)


def _no_record_means_none(panel: ir.Table) -> ir.Table:
    present = set(panel.columns)
    fills: dict[str, Any] = {
        name: panel[name].fill_null(0) for name in _ZERO_WHEN_INGESTED if name in present
    }
    fills.update(
        {name: panel[name].fill_null(False) for name in _FALSE_WHEN_INGESTED if name in present}
    )
    return panel.mutate(**fills) if fills else panel


INTERMEDIATE_PREFIX = "_features_"


# The evidence JSON is aggregated from every source record behind every value (about 35
# per household-period); DuckDB cannot spill those string aggregates, so a county-wide
# build runs out of memory unless the periods are aggregated a few at a time.
EVIDENCE_HOUSEHOLD_PERIODS_PER_STEP = 100_000


def _no_step(name: str) -> None:
    del name


def _evidence_in_steps(
    backend: BaseBackend,
    rows: list[ir.Table],
    members: ir.Table,
    periods: list[str],
    *,
    step: Callable[[str], None] = _no_step,
) -> ir.Table:
    """The `evidence` JSON per household-period, aggregated a group of periods at a time."""
    per_period = max(1, int(members.count().to_pyarrow().as_py()) // max(1, len(periods)))
    size = max(1, EVIDENCE_HOUSEHOLD_PERIODS_PER_STEP // per_period)
    starts = range(0, len(periods), size)
    table: ir.Table | None = None
    for number, start in enumerate(starts, start=1):
        chosen = periods[start : start + size]
        expression = status.evidence_json(
            [row.filter(row.period.isin(chosen)) for row in rows],
            members.filter(members.period.isin(chosen)),
        )
        if table is None:
            table = _materialise(backend, "evidence", expression)
        else:
            backend.insert(f"{INTERMEDIATE_PREFIX}evidence", expression)
        step(f"证据 evidence {number}/{len(starts)}")
    if table is None:
        return _materialise(backend, "evidence", status.evidence_json([], members))
    return table


def _materialise(backend: BaseBackend, name: str, expression: ir.Table) -> ir.Table:
    """Compute an intermediate result into a temporary table of this connection.

    Engines without temporary tables (Spark) get an ordinary table, dropped by
    `drop_intermediates` once the panel is stored.
    """
    table_name = f"{INTERMEDIATE_PREFIX}{name}"
    try:
        return backend.create_table(table_name, expression, temp=True, overwrite=True)
    except NotImplementedError:
        return backend.create_table(table_name, expression, overwrite=True)


def drop_intermediates(backend: BaseBackend) -> None:
    """Drop the intermediate tables a build left (temporary ones too: they hold spill space)."""
    for name in backend.list_tables():
        if name.startswith(INTERMEDIATE_PREFIX):
            backend.drop_table(name, force=True)


def _conform(panel: ir.Table) -> ir.Table:
    """Select the declared columns in order, with declared types; absent ones are NULL."""
    selected: dict[str, Any] = {}
    present = set(panel.columns)
    for column in PANEL_COLUMNS:
        dtype = column.dtype.value
        if column.name in present:
            selected[column.name] = panel[column.name].cast(dtype)
        else:
            selected[column.name] = ibis.null(dtype)
    return panel.select(**selected)
