"""Discoveries and cases: recording risk clues, listing, reading, editing, overdue lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.case_models import Case, Discovery
from dixian.cases.enums import CLOSED_STATES, PRE_DECISION_STATES, CaseState, Channel, Role
from dixian.cases.models import Household
from dixian.cases.service._common import (
    CASE_WRITER_ROLES,
    check_version,
    in_jurisdiction,
    load_case,
    record,
    require_case_reader,
    require_roles,
    settings_of,
    today_or,
    touch,
)
from dixian.cases.workflow import Transition, transitions_from
from dixian.errors import PermissionDenied, UserError

# Who may record a discovery from each channel ("system" is the local pipeline principal).
_CHANNEL_ROLES: Mapping[Channel, frozenset[Role]] = {
    Channel.DEPARTMENT_SCREENING: frozenset({Role.COUNTY_ANALYST}),
    Channel.CADRE_CANVASS: CASE_WRITER_ROLES,
    Channel.SELF_REPORT: CASE_WRITER_ROLES,
}


@dataclass(frozen=True)
class DiscoveryInput:
    """One risk clue to record: which household, which period and channel, and why."""

    household_id: str
    region_code: str
    period: str
    channel: Channel
    discovered_on: date
    evidence: Mapping[str, Any] = field(default_factory=dict)
    risk_score: float | None = None
    source: str | None = None
    head_name: str | None = None
    member_count: int | None = None
    has_labour: bool | None = None


@dataclass(frozen=True)
class DiscoveryResult:
    """What `record_discoveries` did."""

    created: int
    already_recorded: int
    cases_opened: int
    joined_open_case: int
    case_ids: tuple[int, ...]


def record_discoveries(
    session: Session, *, actor: Actor, discoveries: Sequence[DiscoveryInput]
) -> DiscoveryResult:
    """Record risk clues and open a case for each household without an open one.

    Idempotent per (household, period, channel): a clue already recorded is skipped, so the
    monitoring stage can re-run a period safely. A household with an open case gets the
    clue attached to that case instead of a second case.

    Raises:
        PermissionDenied: the actor may not use a channel, or a household lies outside the
            actor's jurisdiction.
    """
    settings = settings_of(session)
    created = existing = opened = joined = 0
    case_ids: list[int] = []
    for item in discoveries:
        channel = Channel(item.channel)
        require_roles(
            session, actor, _CHANNEL_ROLES[channel], what=f"record {channel} discoveries",
            system_ok=True,
        )  # fmt: skip
        _check_period(item.period)
        if not actor.covers(item.region_code):
            raise PermissionDenied(
                f"household {item.household_id}: region {item.region_code} is outside "
                f"your jurisdiction {actor.jurisdiction}"
            )
        household = _upsert_household(session, actor, item)
        duplicate = session.scalar(
            select(Discovery.id).where(
                Discovery.household_pk == household.id,
                Discovery.period == item.period,
                Discovery.channel == channel,
            )
        )
        if duplicate is not None:
            existing += 1
            continue
        case = _open_case_of(session, household)
        if case is None:
            case = Case(
                household_pk=household.id,
                household=household,
                state=CaseState.DISCOVERED,
                opened_on=item.discovered_on,
                decision_due=item.discovered_on + timedelta(days=settings.decision_deadline_days),
                causes=[],
            )
            session.add(case)
            session.flush()
            opened += 1
            record(
                session, actor=actor, event_code="CASE_OPENED", object_type="case",
                object_id=case.id,
                new_values={"household_id": household.household_id, "state": case.state,
                            "decision_due": case.decision_due, "channel": channel},
            )  # fmt: skip
        else:
            joined += 1
        discovery = Discovery(
            household_pk=household.id,
            period=item.period,
            channel=channel,
            discovered_on=item.discovered_on,
            risk_score=item.risk_score,
            evidence=dict(item.evidence),
            source=item.source,
            reported_by=actor.user_id,
            case_id=case.id,
        )
        session.add(discovery)
        session.flush()
        created += 1
        case_ids.append(case.id)
        record(
            session, actor=actor, event_code="DISCOVERY_RECORDED", object_type="discovery",
            object_id=discovery.id,
            new_values={"household_id": household.household_id, "period": item.period,
                        "channel": channel, "risk_score": item.risk_score, "case_id": case.id,
                        "evidence": dict(item.evidence)},
        )  # fmt: skip
    return DiscoveryResult(created, existing, opened, joined, tuple(case_ids))


def _check_period(period: str) -> None:
    ok = len(period) in (4, 7) and period[:4].isdigit()
    if len(period) == 7:
        ok = ok and period[4] == "-" and period[5:].isdigit() and 1 <= int(period[5:]) <= 12
    if not ok:
        raise UserError(f"period '{period}': expected YYYY-MM or YYYY")


def _upsert_household(session: Session, actor: Actor, item: DiscoveryInput) -> Household:
    household = session.scalar(select(Household).where(Household.household_id == item.household_id))
    if household is None:
        household = Household(
            household_id=item.household_id,
            region_code=item.region_code,
            head_name=item.head_name,
            member_count=item.member_count,
            has_labour=item.has_labour,
        )
        session.add(household)
        session.flush()
        record(
            session, actor=actor, event_code="HOUSEHOLD_CREATED", object_type="household",
            object_id=household.household_id,
            new_values={"region_code": item.region_code, "member_count": item.member_count,
                        "has_labour": item.has_labour},
        )  # fmt: skip
    elif not actor.covers(household.region_code):
        raise PermissionDenied(
            f"household {item.household_id} lies outside your jurisdiction {actor.jurisdiction}"
        )
    return household


def _open_case_of(session: Session, household: Household) -> Case | None:
    return session.scalar(
        select(Case)
        .where(Case.household_pk == household.id, Case.state.not_in(CLOSED_STATES))
        .order_by(Case.id.desc())
        .limit(1)
    )


def list_cases(
    session: Session,
    *,
    actor: Actor,
    states: Sequence[CaseState] | None = None,
    region_prefix: str | None = None,
    overdue_on: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Case]:
    """Cases within the actor's jurisdiction (filtered in SQL), newest first.

    Args:
        session: an open session.
        actor: who asks.
        states: only these states.
        region_prefix: narrow to a region inside the jurisdiction.
        overdue_on: only cases still undecided after their deadline on this day.
        limit: at most this many (1..1000).
        offset: skip this many.
    """
    require_case_reader(session, actor, what="list cases")
    query = select(Case).join(Case.household).where(in_jurisdiction(actor))
    if region_prefix:
        query = query.where(Household.region_code.startswith(region_prefix, autoescape=True))
    if states:
        query = query.where(Case.state.in_([CaseState(s) for s in states]))
    if overdue_on is not None:
        query = query.where(Case.state.in_(PRE_DECISION_STATES), Case.decision_due < overdue_on)
    limit = max(1, min(limit, 1000))
    cases = list(session.scalars(query.order_by(Case.id.desc()).limit(limit).offset(offset)))
    record(
        session, actor=actor, event_code="CASES_LISTED", object_type="case",
        new_values={"states": list(states or []), "region_prefix": region_prefix,
                    "overdue_on": overdue_on, "rows": len(cases)},
    )  # fmt: skip
    return cases


def list_overdue(session: Session, *, actor: Actor, today: date | None = None) -> list[Case]:
    """Cases past their decision deadline (≤ 15 days from discovery by default)."""
    return list_cases(session, actor=actor, overdue_on=today_or(today), limit=1000)


def count_cases_by_state(session: Session, *, actor: Actor) -> dict[str, int]:
    """Number of cases per state within the actor's jurisdiction."""
    require_case_reader(session, actor, what="count cases")
    rows = session.execute(
        select(Case.state, func.count())
        .join(Case.household)
        .where(in_jurisdiction(actor))
        .group_by(Case.state)
    ).all()
    return {str(state): int(count) for state, count in rows}


def get_case(session: Session, *, actor: Actor, case_id: int) -> Case:
    """One case; outside the jurisdiction it does not exist (NotFound), and that is audited."""
    require_case_reader(session, actor, what="read cases")
    case = load_case(session, actor, case_id, for_update=False)
    record(session, actor=actor, event_code="CASE_VIEWED", object_type="case", object_id=case_id)
    return case


def available_actions(case: Case, *, actor: Actor) -> list[Transition]:
    """The workflow actions this actor may take on the case in its current state."""
    return [t for t in transitions_from(case.state) if actor.has_role(*t.roles)]


def update_case(
    session: Session, *, actor: Actor, case_id: int, expected_version: int, summary: str
) -> Case:
    """Edit a case's summary text, guarded by optimistic locking.

    Raises:
        ConflictError: the case's version is no longer `expected_version`.
    """
    require_roles(session, actor, CASE_WRITER_ROLES, what="edit cases")
    case = load_case(session, actor, case_id, for_update=True)
    check_version(case, expected_version)
    old = {"summary": case.summary, "version": case.version}
    case.summary = summary
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="CASE_UPDATED", object_type="case", object_id=case.id,
        old_values=old, new_values={"summary": summary, "version": case.version},
    )  # fmt: skip
    return case
