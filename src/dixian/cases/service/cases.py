"""Discoveries and cases: recording risk clues, listing, reading, editing, overdue lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.audit import plain_json
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
    items = list(discoveries)
    for item in items:
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
    # Batched: a monitoring run records thousands of alerts; three lookups and three
    # flushes per call instead of several queries per alert.
    households = _households_for(session, actor, items)
    pks = [h.id for h in households.values()]
    seen = _existing_discovery_keys(session, pks)
    open_cases = _open_cases(session, pks)
    settings = settings_of(session)
    existing = joined = 0
    new_cases: list[Case] = []
    new_discoveries: list[Discovery] = []
    for item in items:
        channel = Channel(item.channel)
        household = households[item.household_id]
        key = (household.id, item.period, str(channel))
        if key in seen:
            existing += 1
            continue
        seen.add(key)
        case = open_cases.get(household.id)
        if case is None:
            case = Case(
                household_pk=household.id, household=household, state=CaseState.DISCOVERED,
                opened_on=item.discovered_on, causes=[],
                decision_due=item.discovered_on + timedelta(days=settings.decision_deadline_days),
            )  # fmt: skip
            session.add(case)
            open_cases[household.id] = case
            new_cases.append(case)
        else:
            joined += 1
        discovery = Discovery(
            household_pk=household.id, period=item.period, channel=channel,
            discovered_on=item.discovered_on, risk_score=item.risk_score,
            evidence=plain_json(dict(item.evidence)), source=item.source,
            reported_by=actor.user_id,
            case=case,
        )  # fmt: skip
        session.add(discovery)
        new_discoveries.append(discovery)
    session.flush()
    for case in new_cases:
        record(
            session, actor=actor, event_code="CASE_OPENED", object_type="case",
            object_id=case.id,
            new_values={"household_id": case.household.household_id, "state": case.state,
                        "decision_due": case.decision_due},
        )  # fmt: skip
    for discovery in new_discoveries:
        record(
            session, actor=actor, event_code="DISCOVERY_RECORDED", object_type="discovery",
            object_id=discovery.id,
            new_values={"household_id": discovery.household.household_id,
                        "period": discovery.period, "channel": discovery.channel,
                        "risk_score": discovery.risk_score, "case_id": discovery.case_id,
                        "evidence": discovery.evidence},
        )  # fmt: skip
    return DiscoveryResult(
        created=len(new_discoveries),
        already_recorded=existing,
        cases_opened=len(new_cases),
        joined_open_case=joined,
        case_ids=tuple(d.case_id for d in new_discoveries if d.case_id is not None),
    )


def _chunks(values: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _households_for(
    session: Session, actor: Actor, items: Sequence[DiscoveryInput]
) -> dict[str, Household]:
    wanted = list(dict.fromkeys(item.household_id for item in items))
    found: dict[str, Household] = {}
    for chunk in _chunks(wanted):
        for household in session.scalars(
            select(Household).where(Household.household_id.in_(chunk))
        ):
            if not actor.covers(household.region_code):
                raise PermissionDenied(
                    f"household {household.household_id} lies outside your jurisdiction "
                    f"{actor.jurisdiction}"
                )
            found[household.household_id] = household
    created = []
    for item in items:
        if item.household_id not in found:
            household = Household(
                household_id=item.household_id, region_code=item.region_code,
                head_name=item.head_name, member_count=item.member_count,
                has_labour=item.has_labour,
            )  # fmt: skip
            session.add(household)
            found[item.household_id] = household
            created.append(household)
    session.flush()
    for household in created:
        record(
            session, actor=actor, event_code="HOUSEHOLD_CREATED", object_type="household",
            object_id=household.household_id,
            new_values={"region_code": household.region_code,
                        "member_count": household.member_count,
                        "has_labour": household.has_labour},
        )  # fmt: skip
    return found


def _existing_discovery_keys(session: Session, pks: Sequence[int]) -> set[tuple[int, str, str]]:
    keys: set[tuple[int, str, str]] = set()
    for chunk in _chunks(pks):
        rows = session.execute(
            select(Discovery.household_pk, Discovery.period, Discovery.channel).where(
                Discovery.household_pk.in_(chunk)
            )
        )
        keys.update((pk, period, str(channel)) for pk, period, channel in rows)
    return keys


def _open_cases(session: Session, pks: Sequence[int]) -> dict[int, Case]:
    cases: dict[int, Case] = {}
    for chunk in _chunks(pks):
        query = (
            select(Case)
            .where(Case.household_pk.in_(chunk), Case.state.not_in(CLOSED_STATES))
            .order_by(Case.id)
        )
        for case in session.scalars(query):
            cases[case.household_pk] = case  # the newest open case wins
    return cases


def _check_period(period: str) -> None:
    ok = len(period) in (4, 7) and period[:4].isdigit()
    if len(period) == 7:
        ok = ok and period[4] == "-" and period[5:].isdigit() and 1 <= int(period[5:]) <= 12
    if not ok:
        raise UserError(f"period '{period}': expected YYYY-MM or YYYY")


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
