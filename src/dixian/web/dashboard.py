"""Figures for the dashboard, computed in SQL within the user's jurisdiction.

Read-only aggregate queries over the case database. Every query goes through `_scoped`,
which adds the jurisdiction condition (`households.region_code LIKE '<prefix>%'`) to the
WHERE clause (AC-03), the same rule the case service applies to single records.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.case_models import Case, Discovery
from dixian.cases.enums import CLOSED_STATES, PRE_DECISION_STATES, CaseState
from dixian.cases.models import Household

OPEN_MONITORING_STATES = frozenset(
    {
        CaseState.MONITORING,
        CaseState.ELIMINATION_PROPOSED,
        CaseState.ELIMINATION_VILLAGE_REVIEWED,
        CaseState.ELIMINATION_TOWNSHIP_REVIEWED,
    }
)


_Q = TypeVar("_Q")


def _scoped(query: _Q, actor: Actor) -> _Q:
    condition = Household.region_code.startswith(actor.jurisdiction, autoescape=True)
    return cast(_Q, cast(Any, query).where(condition))


@dataclass(frozen=True)
class DashboardFigures:
    """Everything the dashboard shows."""

    kpis: dict[str, int]
    months: list[str]
    period: str
    period_source: str
    discoveries_by_month: list[int]
    monitored_by_month: list[int]
    # "warehouse": registry status per data period; "cases": case monitoring dates.
    monitored_source: str
    causes: list[tuple[str, int]]
    by_village: dict[str, int]
    townships: list[dict[str, Any]]


def _month(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def _last_months(end: str, count: int) -> list[str]:
    months = []
    year, month = int(end[:4]), int(end[5:7])
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(months))


def latest_case_month(session: Session, *, actor: Actor) -> str | None:
    """The latest month of case activity for the actor: clue period, monitoring start, closure."""
    found: list[str] = []
    clue_period = session.scalar(
        _scoped(select(func.max(Discovery.period)).join(Discovery.household), actor)
    )
    if clue_period:
        found.append(str(clue_period)[:7])
    for column in (Case.monitoring_started_on, Case.closed_on):
        day = session.scalar(
            _scoped(select(func.max(column)).select_from(Case).join(Case.household), actor)
        )
        if day is not None:
            found.append(_month(day))
    return max(found) if found else None


def dashboard_figures(
    session: Session,
    *,
    actor: Actor,
    today: date,
    end_month: str | None = None,
    monitored_by_period: dict[str, int] | None = None,
) -> DashboardFigures:
    """KPIs, monthly trend, causes, per-village and per-township counts for the actor.

    The 12-month window ends at `end_month` (the latest period in the warehouse, when the
    caller found one), else at the latest case activity, else at today's month: data lags,
    and a window ending today would show a county whose feeds end earlier as all zeros.
    Monitoring objects per month come from `monitored_by_period` (the registry's status in
    each data period, from the warehouse) when given, else from the cases' monitoring dates.
    """
    by_state: dict[CaseState, int] = dict(
        session.execute(
            _scoped(select(Case.state, func.count()).join(Case.household), actor).group_by(
                Case.state
            )
        ).all()
    )
    overdue = session.scalar(
        _scoped(select(func.count()).select_from(Case).join(Case.household), actor).where(
            Case.state.in_(PRE_DECISION_STATES), Case.decision_due < today
        )
    )
    kpis = {
        "cases_total": int(sum(by_state.values())),
        "pending_decision": int(sum(by_state.get(s, 0) for s in PRE_DECISION_STATES)),
        "overdue": int(overdue or 0),
        "monitoring": int(sum(by_state.get(s, 0) for s in OPEN_MONITORING_STATES)),
        "risk_eliminated": int(by_state.get(CaseState.RISK_ELIMINATED, 0)),
        "long_term_protection": int(by_state.get(CaseState.LONG_TERM_PROTECTION, 0)),
    }
    if end_month is not None:
        period, source = end_month[:7], "warehouse"
    else:
        case_month = latest_case_month(session, actor=actor)
        period, source = (case_month, "cases") if case_month else (_month(today), "today")
    months = _last_months(period, 12)
    # Clues count in the data period they were found for, not the day the case was opened:
    # a lagging feed imported today still lands in its own month of the window.
    discovered: dict[str, int] = dict.fromkeys(months, 0)
    for clue_period, count in session.execute(
        _scoped(select(Discovery.period, func.count()).join(Discovery.household), actor)
        .where(Discovery.period.in_(months))
        .group_by(Discovery.period)
    ).all():
        discovered[str(clue_period)] += int(count)
    if monitored_by_period is not None:
        monitored = [monitored_by_period.get(m, 0) for m in months]
        monitored_source = "warehouse"
    else:
        monitored = _monitored_by_month(session, actor=actor, months=months)
        monitored_source = "cases"
    causes = [
        (str(cause), int(count))
        for cause, count in session.execute(
            _scoped(select(Case.primary_cause, func.count()).join(Case.household), actor)
            .where(Case.primary_cause.is_not(None))
            .group_by(Case.primary_cause)
            .order_by(func.count().desc())
        ).all()
    ]
    by_village: dict[str, int] = {}
    townships: dict[str, dict[str, Any]] = {}
    for region, state, count in session.execute(
        _scoped(
            select(Household.region_code, Case.state, func.count()).join(Case.household), actor
        ).group_by(Household.region_code, Case.state)
    ).all():
        row = townships.setdefault(
            region[:9], {"code": region[:9], "cases": 0, "open": 0, "monitoring": 0}
        )
        row["cases"] += int(count)
        if state not in CLOSED_STATES:
            row["open"] += int(count)
            by_village[region] = by_village.get(region, 0) + int(count)
        if state in OPEN_MONITORING_STATES:
            row["monitoring"] += int(count)
    return DashboardFigures(
        kpis=kpis,
        months=months,
        period=period,
        period_source=source,
        discoveries_by_month=[discovered[m] for m in months],
        monitored_by_month=monitored,
        monitored_source=monitored_source,
        causes=causes,
        by_village=by_village,
        townships=sorted(townships.values(), key=lambda r: r["code"]),
    )


def _monitored_by_month(session: Session, *, actor: Actor, months: list[str]) -> list[int]:
    """Monitoring objects at the end of each month: started on or before it, not closed then."""
    rows = session.execute(
        _scoped(
            select(Case.monitoring_started_on, Case.closed_on).join(Case.household), actor
        ).where(Case.monitoring_started_on.is_not(None))
    ).all()
    spans = [
        (_month(started), _month(closed) if closed is not None else None)
        for started, closed in rows
        if started is not None
    ]
    counts: list[int] = []
    for month in months:
        alive = [start <= month and (end is None or end > month) for start, end in spans]
        counts.append(sum(alive))
    return counts


def region_names(reference_dir: Path) -> dict[str, str]:
    """Region code → name from `reference/regions.csv`, when the simulator or county supplied it."""
    path = reference_dir / "regions.csv"
    if not path.is_file():
        return {}
    return _read_region_names(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _read_region_names(path: str, mtime_ns: int) -> dict[str, str]:
    # Cached per file version: a county's list has thousands of rows and changes rarely.
    with open(path, encoding="utf-8", newline="") as handle:
        return {
            row["region_code"]: row["name"]
            for row in csv.DictReader(handle)
            if row.get("region_code")
        }
