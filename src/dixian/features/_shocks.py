"""Shocks to a household (the panel's shock columns, as at the period's end): loss of a
labourer (death, serious illness, severe disability), job loss, disasters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features._columns import KEYS, Window, _evidence, _outer, _part, _with_month
from dixian.features.sources import MEMBERSHIP_TABLE, linked_rows, month_index

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part


def shocks(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """Loss of a labourer (death, serious illness, severe disability), job loss, disasters."""
    events: list[ir.Table] = []
    illness = linked_rows(backend, "chronic_illness", ["illness_kind", "diagnosis_date"])
    if illness is not None:
        serious = illness.filter(illness.illness_kind == "serious")
        events.append(_shock_events(serious, serious.diagnosis_date, labourer=True, job=False))
    disability = linked_rows(backend, "disability", ["disability_grade", "issue_date"])
    if disability is not None:
        severe = disability.filter(disability.disability_grade.isin(["1", "2"]))
        events.append(_shock_events(severe, severe.issue_date, labourer=True, job=False))
    jobs = linked_rows(backend, "employment", ["employment_status", "end_date", "report_month"])
    if jobs is not None:
        lost = jobs.filter(jobs.employment_status.isin(["unemployed", "ended"]))
        ended = ibis.coalesce(lost.end_date, lost.report_month)
        events.append(_shock_events(lost, ended, labourer=False, job=True))
    disasters = linked_rows(backend, "disaster_losses", ["event_date"])
    if disasters is not None:
        events.append(_shock_events(disasters, disasters.event_date, labourer=False, job=False))
    if not events:
        return None
    union = events[0]
    for more in events[1:]:
        union = union.union(more)
    joined = window(_with_month(union, "shock_date"), grid, "e_month", 0, point_in_time=True)
    recent = joined.e_month > joined.p_month - settings.window_months
    working_age = (joined.age >= 16) & (joined.age <= 59)
    values = joined.group_by(KEYS).aggregate(
        labourer_shock_12m=(recent & joined.labourer & working_age).any(),
        job_loss_12m=(recent & joined.job).any(),
        last_shock_date=joined.shock_date.max(),
    )
    evidence = [_evidence(joined, "last_shock_date", recent)]
    deaths = _labourer_deaths(backend, grid, settings)
    if deaths is not None:
        values = _outer(values, deaths)
        values = values.mutate(
            labourer_shock_12m=values.labourer_shock_12m.fill_null(False)
            | values.death_12m.fill_null(False),
            last_shock_date=ibis.greatest(values.last_shock_date, values.death_date),
        ).drop("death_12m", "death_date")
    return _part(values, evidence)


def _shock_events(rows: ir.Table, shock_date: ir.Value, *, labourer: bool, job: bool) -> ir.Table:
    """One shock event per linked row: (person_id, _record_id, shock_date, labourer, job)."""
    return rows.select(
        "person_id",
        "_record_id",
        shock_date=shock_date,
        labourer=ibis.literal(labourer),
        job=ibis.literal(job),
    )


def _labourer_deaths(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings
) -> ir.Table | None:
    """Deaths of working-age members, charged to the household they last belonged to."""
    rows = linked_rows(
        backend, "household_registration", ["registration_status", "status_date", "birth_date"]
    )
    if rows is None:
        return None
    dead = rows.filter((rows.registration_status == "deceased") & rows.status_date.notnull())
    age = dead.status_date.year() - dead.birth_date.year()
    dead = dead.filter((age >= 16) & (age <= 59)).mutate(e_month=month_index(dead.status_date))
    membership = backend.table(MEMBERSHIP_TABLE)
    last = membership.group_by("person_id").aggregate(
        d_household=membership.household_id.argmax(membership.period)
    )
    dead = dead.inner_join(last, "person_id")
    households = grid.select("household_id", "period", "p_month").distinct()
    joined = dead.inner_join(
        households,
        [dead.d_household == households.household_id, dead.e_month <= households.p_month],
    )
    recent = joined.e_month > joined.p_month - settings.window_months
    return joined.group_by(KEYS).aggregate(
        death_12m=recent.any(), death_date=joined.status_date.max()
    )
