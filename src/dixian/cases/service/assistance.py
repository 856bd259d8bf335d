"""Records attached to a case: assistance plans and measures, follow-ups, notes, attachments.

Each change bumps the case's version, so two caseworkers editing the same case's records
conflict just as they would editing the case itself.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.case_models import (
    AssistancePlan,
    Attachment,
    Case,
    FollowUp,
    Measure,
    Note,
)
from dixian.cases.codes import measure_codes
from dixian.cases.enums import CLOSED_STATES, PRE_DECISION_STATES, CaseState, MeasureStatus
from dixian.cases.service._common import (
    CASE_WRITER_ROLES,
    check_version,
    load_case,
    record,
    require_roles,
    today_or,
    touch,
)
from dixian.errors import NotFound, TransitionRefused, UserError

_ASSISTED_STATES = frozenset(
    {
        CaseState.MONITORING,
        CaseState.ELIMINATION_PROPOSED,
        CaseState.ELIMINATION_VILLAGE_REVIEWED,
        CaseState.ELIMINATION_TOWNSHIP_REVIEWED,
        CaseState.LONG_TERM_PROTECTION,
    }
)


def _writable_case(
    session: Session, actor: Actor, case_id: int, expected_version: int, *, what: str
) -> Case:
    require_roles(session, actor, CASE_WRITER_ROLES, what=what)
    case = load_case(session, actor, case_id, for_update=True)
    check_version(case, expected_version)
    return case


def _require_assisted(case: Case, what: str) -> None:
    if case.state not in _ASSISTED_STATES:
        raise TransitionRefused(
            f"case {case.id} in state '{case.state}': cannot {what} before the household is "
            "confirmed as a monitoring object"
        )


def add_plan(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    expected_version: int,
    summary: str,
    created_on: date | None = None,
) -> AssistancePlan:
    """Add an assistance plan (帮扶计划) to a monitored household's case."""
    case = _writable_case(session, actor, case_id, expected_version, what="add plans")
    _require_assisted(case, "add an assistance plan")
    if not summary.strip():
        raise UserError("an assistance plan needs a summary")
    plan = AssistancePlan(
        case=case, created_on=today_or(created_on), author_id=actor.user_id, summary=summary
    )
    session.add(plan)
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="PLAN_ADDED", object_type="assistance_plan",
        object_id=plan.id, new_values={"case_id": case.id, "summary": summary,
                                       "case_version": case.version},
    )  # fmt: skip
    return plan


def add_measure(
    session: Session,
    *,
    actor: Actor,
    plan_id: int,
    expected_version: int,
    measure_type: str,
    provider: str | None = None,
    cost: float | None = None,
    description: str | None = None,
    status: MeasureStatus = MeasureStatus.PLANNED,
    on: date | None = None,
) -> Measure:
    """Add a measure (帮扶措施, a code of the data standard's `measure` list) to a plan."""
    plan = session.get(AssistancePlan, plan_id)
    if plan is None:
        raise NotFound(f"assistance plan {plan_id} not found")
    case = _writable_case(session, actor, plan.case_id, expected_version, what="add measures")
    _require_assisted(case, "add a measure")
    if measure_type not in measure_codes():
        raise UserError(f"measure type '{measure_type}' is not a code of the data standard")
    if cost is not None and cost < 0:
        raise UserError(f"measure cost {cost} is negative")
    status = MeasureStatus(status)
    day = today_or(on)
    measure = Measure(
        plan=plan, measure_type=measure_type, provider=provider, cost=cost,
        description=description, status=status,
        started_on=day if status is not MeasureStatus.PLANNED else None,
        delivered_on=day if status is MeasureStatus.DELIVERED else None,
    )  # fmt: skip
    session.add(measure)
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="MEASURE_ADDED", object_type="measure",
        object_id=measure.id,
        new_values={"case_id": case.id, "measure_type": measure_type, "provider": provider,
                    "cost": cost, "status": status, "case_version": case.version},
    )  # fmt: skip
    return measure


def set_measure_status(
    session: Session,
    *,
    actor: Actor,
    measure_id: int,
    expected_version: int,
    status: MeasureStatus,
    on: date | None = None,
) -> Measure:
    """Move a measure to planned, in progress, delivered or cancelled."""
    measure = session.get(Measure, measure_id)
    if measure is None:
        raise NotFound(f"measure {measure_id} not found")
    case = _writable_case(
        session, actor, measure.plan.case_id, expected_version, what="change measures"
    )
    old = {"status": measure.status}
    measure.status = MeasureStatus(status)
    day = today_or(on)
    if measure.status is MeasureStatus.IN_PROGRESS and measure.started_on is None:
        measure.started_on = day
    if measure.status is MeasureStatus.DELIVERED:
        measure.started_on = measure.started_on or day
        measure.delivered_on = day
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="MEASURE_STATUS_CHANGED", object_type="measure",
        object_id=measure.id, old_values=old,
        new_values={"status": measure.status, "case_version": case.version},
    )  # fmt: skip
    return measure


def record_follow_up(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    expected_version: int,
    period: str,
    per_capita_income: float,
    monitoring_line: float,
    followed_on: date | None = None,
    notes: str | None = None,
) -> FollowUp:
    """Record a monthly follow-up (跟踪回访): annualised per-capita income against the line."""
    case = _writable_case(session, actor, case_id, expected_version, what="record follow-ups")
    _require_assisted(case, "record a follow-up")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise UserError(f"follow-up period '{period}': expected YYYY-MM")
    if monitoring_line <= 0:
        raise UserError(f"monitoring line {monitoring_line} must be positive")
    if any(f.period == period for f in case.follow_ups):
        raise UserError(f"case {case_id} already has a follow-up for {period}")
    follow_up = FollowUp(
        case=case, period=period, followed_on=today_or(followed_on),
        per_capita_income=per_capita_income, monitoring_line=monitoring_line,
        by_user_id=actor.user_id, notes=notes,
    )  # fmt: skip
    session.add(follow_up)
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="FOLLOW_UP_RECORDED", object_type="follow_up",
        object_id=follow_up.id,
        new_values={"case_id": case.id, "period": period, "per_capita_income": per_capita_income,
                    "monitoring_line": monitoring_line, "case_version": case.version},
    )  # fmt: skip
    return follow_up


def add_note(
    session: Session, *, actor: Actor, case_id: int, expected_version: int, text: str
) -> Note:
    """Add a free-text note to a case."""
    case = _writable_case(session, actor, case_id, expected_version, what="add notes")
    if not text.strip():
        raise UserError("a note cannot be empty")
    note = Note(case=case, author_id=actor.user_id, text=text)
    session.add(note)
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="NOTE_ADDED", object_type="note", object_id=note.id,
        new_values={"case_id": case.id, "text": text, "case_version": case.version},
    )  # fmt: skip
    return note


def add_attachment(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    expected_version: int,
    file_ref: str,
    sha256: str,
    content_type: str | None = None,
    description: str | None = None,
    visit_id: int | None = None,
) -> Attachment:
    """Attach a file reference (a path under the workspace, never a URL) with its SHA-256."""
    case = _writable_case(session, actor, case_id, expected_version, what="add attachments")
    if case.state in CLOSED_STATES and case.state not in PRE_DECISION_STATES:
        raise TransitionRefused(f"case {case_id} in state '{case.state}' is closed")
    if file_ref.startswith("/") or ".." in file_ref.split("/") or "://" in file_ref:
        raise UserError(f"attachment '{file_ref}': expected a relative path in the workspace")
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise UserError("attachment sha256: expected 64 lower-case hex digits")
    attachment = Attachment(
        case_id=case.id, household_pk=case.household_pk, visit_id=visit_id, file_ref=file_ref,
        sha256=sha256, content_type=content_type, description=description,
        uploaded_by=actor.user_id,
    )  # fmt: skip
    session.add(attachment)
    touch(case)
    session.flush()
    record(
        session, actor=actor, event_code="ATTACHMENT_ADDED", object_type="attachment",
        object_id=attachment.id,
        new_values={"case_id": case.id, "file_ref": file_ref, "sha256": sha256,
                    "case_version": case.version},
    )  # fmt: skip
    return attachment
