"""Building the household-period panel (一户一档) from linked department records.

For each household and period (month) the builder sums what the departments say about the
household's members over the 12 months ending with the period (the income period official
identification uses), takes assets and statuses as at the period's end, and keeps the
`_record_id` of every source row behind a value in `evidence`. Every step is an Ibis
expression, so the same code runs on DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from dixian.features import _columns as cols
from dixian.features import _derived as derived
from dixian.features import _estate as estate
from dixian.features import _income_model as income_model
from dixian.features import _job_loss as job_loss
from dixian.features import _microcredit as microcredit
from dixian.features import _shocks as shocks
from dixian.features import _status as status
from dixian.features import _wages as wages
from dixian.features._evidence_json import evidence_in_steps
from dixian.features._grid import (
    in_window,
    member_grid,
    membership_periods,
    period_index,
    period_name,
    period_table,
)
from dixian.features._intermediates import INTERMEDIATE_PREFIX, drop_intermediates, materialise
from dixian.features.panel_schema import PANEL_COLUMNS

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

# The builder's names, with those that moved to `_grid` and `_intermediates` (the store and
# tests import them from here).
__all__ = [
    "EVIDENCE_HOUSEHOLD_PERIODS_PER_STEP",
    "INTERMEDIATE_PREFIX",
    "KEYS",
    "FeatureSettings",
    "build_household_period",
    "drop_intermediates",
    "membership_periods",
    "period_index",
    "period_name",
    "period_table",
]

KEYS = ["household_id", "period"]


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
    grid = materialise(backend, "grid", member_grid(backend, period_rows))
    done("成员 member grid")
    holders = materialise(backend, "holders", estate.asset_holders(backend, grid))
    done("资产持有人 asset holders")
    members = materialise(backend, "members", cols.members(backend, grid))
    done("户 households")
    parts: list[_Part] = [
        part
        for part in (
            _household_type(grid),
            cols.labour(backend, grid, settings),
            income_model.farm_labour(backend, grid, settings, in_window),
            cols.incomes(backend, grid, settings, in_window),
            wages.employment_wages(backend, grid, settings),
            job_loss.job_loss_wages(backend, grid, settings),
            microcredit.microcredit(backend, grid, settings),
            cols.assistance(backend, grid, settings, in_window),
            status.assets(backend, holders, settings, in_window),
            status.spending(backend, grid, settings, in_window),
            status.flags(backend, grid, settings, in_window),
            status.registry(backend, grid, settings, in_window),
            shocks.shocks(backend, grid, settings, in_window),
        )
        if part is not None
    ]
    panel = members
    for index, part in enumerate(parts):
        # Two names taken in turn: a county's panel is gigabytes, and keeping every
        # step's copy in the connection's temporary storage ran a build out of memory.
        values = materialise(backend, "part", part.values)
        panel = panel.left_join(values, KEYS).drop("household_id_right", "period_right")
        panel = materialise(backend, f"panel{index % 2}", panel)
        done(f"字段 columns {index + 1}/{len(parts)}")
    panel = _no_record_means_none(panel)
    if "land_area_mu" in panel.columns:
        panel = materialise(backend, "land", income_model.with_land(panel))
    model = income_model.fit_income_model(panel, settings)
    if report is not None:
        report["income_model"] = model.as_report()
    panel = derived.derived(panel, model, settings)
    panel = derived.year_on_year(panel)
    panel = materialise(backend, "derived", panel)
    done("收入与变化 income and change")
    for name in ("part", "panel0", "panel1", "land"):
        backend.drop_table(f"{INTERMEDIATE_PREFIX}{name}", force=True)
    # Not materialised whole: each step computes its own periods' evidence rows.
    evidence_rows = [row for part in parts for row in part.evidence]
    evidence = evidence_in_steps(
        backend,
        evidence_rows,
        members,
        sorted(set(periods)),
        per_step=EVIDENCE_HOUSEHOLD_PERIODS_PER_STEP,
        step=done,
    )
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
    "schooling_cost_entering",
    "disaster_loss_12m",
    "public_payroll_count",
    "payments_after_death_count",
    "payments_after_death_amount",
    "times_monitored",
    "job_loss_wages_12m",
    "job_loss_months_out",
    "microcredit_overdue_principal",
)
_FALSE_WHEN_INGESTED = (
    "is_dibao",
    "is_tekun",
    "disaster_affected_12m",
    "labourer_shock_12m",
    "job_loss_12m",
    "microcredit_overdue_12m",
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


# The evidence JSON is aggregated a few periods at a time (see `_evidence_json`): about this
# many household-periods per step.
EVIDENCE_HOUSEHOLD_PERIODS_PER_STEP = 100_000


def _no_step(name: str) -> None:
    del name


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
