"""Wages a household loses when a member loses a job (因务工就业不稳), from the employment feed.

The year-on-year change of wage income shows a job loss only once the months without work have
passed: a migrant worker who lost a job two months before the period has cost the family two
months' wages so far, though the family will lose more before the next job. A caseworker
reckons the loss as the lost job's monthly wage times the months without work, and for a
member still without work counts on the time the county's workers usually take to find the
next job. This module computes that from the employment records:

- a *spell* starts with a record whose status is unemployed or ended (in the month of its
  `end_date`, else its report month), at the monthly wage of the member's latest employed
  record before it (within a year), and ends with the member's next employed record;
- the county's usual spell, as known at the period: the mean length of the spells that ended
  by then (`job_search_months`), `FeatureSettings.job_search_months_default` before any has;
- per household and period: `job_loss_wages_12m`, the sum over spells begun in the 12 months
  of wage × months without work (until the next job, or while still without work at least the
  usual spell, at most the 12 months), and `job_loss_months_out`, the longest spell so far.

Only records of months up to the period are read: a job found after the period is unknown then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features._columns import KEYS, _evidence, _part
from dixian.features._grid import in_window
from dixian.features.sources import linked_rows, month_index

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part

LOSS_STATUSES = ("unemployed", "ended")
# A wage older than this says little about the job that was lost.
PRIOR_WAGE_MONTHS = 12


def _spells(rows: ir.Table) -> ir.Table:
    """One row per job loss: person, record, loss month, prior wage, month of the next job."""
    dated = rows.filter(rows.report_month.notnull())
    employed = dated.filter(dated.employment_status == "employed").select(
        w_person=dated.person_id,
        w_month=month_index(dated.report_month),
        w_wage=dated.monthly_wage,
    )
    losses = dated.filter(dated.employment_status.isin(list(LOSS_STATUSES))).select(
        "person_id",
        "_record_id",
        loss_month=month_index(ibis.coalesce(dated.end_date, dated.report_month)),
    )
    before = losses.left_join(
        employed,
        [
            losses.person_id == employed.w_person,
            employed.w_month <= losses.loss_month,
            employed.w_month > losses.loss_month - PRIOR_WAGE_MONTHS,
            employed.w_wage.notnull(),
        ],
    )
    # The latest wage before the loss; two records of one month resolve to the higher wage,
    # the same on every engine.
    latest_first = before.w_month.cast("float64") * 1e7 + before.w_wage
    priced = before.group_by(["person_id", "_record_id", "loss_month"]).aggregate(
        wage=before.w_wage.argmax(latest_first)
    )
    after = priced.left_join(
        employed,
        [priced.person_id == employed.w_person, employed.w_month > priced.loss_month],
    )
    return after.group_by(["person_id", "_record_id", "loss_month", "wage"]).aggregate(
        back_month=after.w_month.min()
    )


def _usual_spell(spells: ir.Table, grid: ir.Table, settings: FeatureSettings) -> ir.Table:
    """(p_month, job_search_months): mean length of the spells ended by each period."""
    months = grid.select("p_month").distinct()
    ended = spells.filter(spells.back_month.notnull())
    pairs = months.inner_join(ended, ended.back_month <= months.p_month)
    usual = pairs.group_by("p_month").aggregate(
        usual=(pairs.back_month - pairs.loss_month).cast("float64").mean()
    )
    joined = months.left_join(usual, months.p_month == usual.p_month)
    return joined.select(
        p_month=months.p_month,
        job_search_months=joined.usual.fill_null(float(settings.job_search_months_default)),
    )


def job_loss_wages(backend: BaseBackend, grid: ir.Table, settings: FeatureSettings) -> _Part | None:
    """`job_loss_wages_12m` and `job_loss_months_out` per household and period, with the
    loss records as evidence; None when the employment dataset is not ingested."""
    rows = linked_rows(
        backend, "employment", ["report_month", "monthly_wage", "employment_status", "end_date"]
    )
    if rows is None:
        return None
    spells = _spells(rows)
    usual = _usual_spell(spells, grid, settings)
    joined = in_window(spells, grid, "loss_month", settings.window_months)
    joined = joined.inner_join(usual, "p_month")
    back_by_now = joined.back_month.notnull() & (joined.back_month <= joined.p_month)
    end = ibis.ifelse(back_by_now, joined.back_month, joined.p_month + 1)
    so_far = (end - joined.loss_month).cast("float64")
    expected = ibis.ifelse(back_by_now, so_far, ibis.greatest(so_far, joined.job_search_months))
    months_lost = ibis.least(expected, float(settings.window_months))
    joined = joined.mutate(
        lost=joined.wage.fill_null(0.0) * months_lost, so_far=so_far.cast("int64")
    )
    values = joined.group_by(KEYS).aggregate(
        job_loss_wages_12m=joined.lost.sum(), job_loss_months_out=joined.so_far.max()
    )
    return _part(values, [_evidence(joined, "job_loss_wages_12m")])
