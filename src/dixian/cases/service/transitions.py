"""Moving a case through the workflow: check, apply the effect, audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dixian.cases.actor import Actor
from dixian.cases.audit import canonical_json
from dixian.cases.case_models import Case, Review, RiskElimination, Visit
from dixian.cases.enums import CaseState, Outcome, ReviewLevel, ReviewPurpose
from dixian.cases.models import HouseholdAuthorisation
from dixian.cases.service._common import (
    check_version,
    load_case,
    record,
    record_after_rollback,
    settings_of,
    today_or,
    touch,
)
from dixian.cases.workflow import (
    GuardContext,
    Transition,
    coerce_payload,
    find_transition,
    measures_delivered,
    months_above_line,
    months_monitored,
)
from dixian.errors import ConflictError, TransitionRefused


def transition_case(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    action: str,
    expected_version: int,
    payload: Mapping[str, Any] | None = None,
    today: date | None = None,
) -> Case:
    """Take a workflow action on a case.

    Args:
        session: an open session (one transaction).
        actor: who acts; the role must be allowed for this action in this state.
        case_id: the case.
        action: a transition name from `dixian.cases.workflow.TRANSITIONS`.
        expected_version: the version the actor saw (optimistic locking).
        payload: the action's fields (dates as `date` or ISO text).
        today: the date the guards use (default: today in UTC).

    Returns:
        The case in its new state, with its new version.

    Raises:
        NotFound: no such case in the actor's jurisdiction (the attempt is audited).
        ConflictError: someone changed the case since `expected_version`.
        TransitionRefused: the action is not possible, not allowed to the role, misses a
            field, or a guard refuses; the message names state, action and why.
    """
    case = load_case(session, actor, case_id, for_update=True)
    check_version(case, expected_version)
    state = case.state
    try:
        transition = find_transition(state, action)
        if not actor.has_role(*transition.roles):
            allowed = ", ".join(sorted(str(r) for r in transition.roles))
            raise TransitionRefused(
                f"case {case_id} in state '{state}': action '{action}' is for {allowed}, "
                f"not {actor.role}"
            )
        fields = coerce_payload(transition, state, payload or {})
        context = GuardContext(settings_of(session), today_or(today), fields)
        reasons = [r for guard in transition.guards if (r := guard(case, context)) is not None]
        if reasons:
            raise TransitionRefused(
                f"case {case_id} in state '{state}': action '{action}' refused: "
                + "; ".join(reasons)
            )
    except TransitionRefused as refusal:
        record_after_rollback(
            session, actor=actor, event_code="TRANSITION_REFUSED", object_type="case",
            object_id=case_id, outcome=Outcome.FAILURE, reason=str(refusal),
        )  # fmt: skip
        raise
    old = {"state": state, "version": case.version}
    _EFFECTS.get(transition.action, _no_effect)(session, case, transition, fields, actor, context)
    case.state = transition.target
    touch(case)
    try:
        session.flush()
    except StaleDataError as exc:  # a writer that bypassed the row lock got there first
        raise ConflictError(f"case {case_id} was changed by someone else; reload") from exc
    record(
        session, actor=actor, event_code="CASE_TRANSITION", object_type="case",
        object_id=case_id, old_values=old,
        new_values={"action": action, "state": case.state, "version": case.version,
                    "fields": _jsonable(fields)},
    )  # fmt: skip
    return case


def _jsonable(fields: Mapping[str, Any]) -> Any:
    import json

    return json.loads(canonical_json(dict(fields)))


Effect = Callable[[Session, Case, Transition, dict[str, Any], Actor, GuardContext], None]


def _no_effect(
    session: Session, case: Case, t: Transition, f: dict[str, Any], a: Actor, c: GuardContext
) -> None:
    return None


def _record_visit(
    session: Session, case: Case, t: Transition, f: dict[str, Any], a: Actor, c: GuardContext
) -> None:
    authorisation_id = None
    if "authorisation_signed_on" in f:
        authorisation = HouseholdAuthorisation(
            household_pk=case.household_pk,
            signed_on=f["authorisation_signed_on"],
            scope=f.get("authorisation_scope", "家庭经济状况核对及帮扶信息使用"),
            form_sha256=f.get("authorisation_form_sha256"),
            collected_by=a.user_id,
        )
        session.add(authorisation)
        session.flush()
        authorisation_id = authorisation.id
    visit = Visit(
        case=case,
        visited_on=f["visited_on"],
        visitor_id=a.user_id,
        per_capita_income=f["per_capita_income"],
        annual_expenses=f.get("annual_expenses"),
        labour_count=f["labour_count"],
        food_clothing_secure=f["food_clothing_secure"],
        education_secure=f["education_secure"],
        medical_secure=f["medical_secure"],
        housing_secure=f["housing_secure"],
        water_secure=f["water_secure"],
        findings=f.get("findings"),
        authorisation_id=authorisation_id,
    )
    session.add(visit)
    case.household.has_labour = f["labour_count"] > 0


def _review(level: ReviewLevel, purpose: ReviewPurpose, *, approved: bool) -> Effect:
    def effect(
        session: Session, case: Case, t: Transition, f: dict[str, Any], a: Actor, c: GuardContext
    ) -> None:
        session.add(
            Review(
                case=case,
                level=level,
                purpose=purpose,
                approved=approved,
                decided_on=f["decided_on"],
                opinion=f.get("opinion") or f.get("reason"),
                notice_start=f.get("notice_start"),
                notice_end=f.get("notice_end"),
                reviewer_id=a.user_id,
            )
        )
        if purpose is ReviewPurpose.IDENTIFICATION and level is ReviewLevel.COUNTY and approved:
            case.object_type = f["object_type"]
            case.causes = list(f["causes"])
            case.primary_cause = f["primary_cause"]
            case.decided_on = f["decided_on"]
            case.monitoring_started_on = f["decided_on"]
        if purpose is ReviewPurpose.ELIMINATION and level is ReviewLevel.COUNTY and approved:
            case.closed_on = f["decided_on"]
            proposal = session.scalars(
                select(RiskElimination)
                .where(RiskElimination.case_id == case.id)
                .order_by(RiskElimination.id.desc())
                .limit(1)
            ).first()
            if proposal is not None:
                proposal.confirmed_on = f["decided_on"]

    return effect


_LEVEL_OF_STATE = {
    CaseState.DISCOVERED: ReviewLevel.VILLAGE,
    CaseState.VISITED: ReviewLevel.VILLAGE,
    CaseState.VILLAGE_REVIEWED: ReviewLevel.TOWNSHIP,
    CaseState.TOWNSHIP_REVIEWED: ReviewLevel.COUNTY,
    CaseState.ELIMINATION_PROPOSED: ReviewLevel.VILLAGE,
    CaseState.ELIMINATION_VILLAGE_REVIEWED: ReviewLevel.TOWNSHIP,
    CaseState.ELIMINATION_TOWNSHIP_REVIEWED: ReviewLevel.COUNTY,
}


def _reject(
    session: Session, case: Case, t: Transition, f: dict[str, Any], a: Actor, c: GuardContext
) -> None:
    purpose = (
        ReviewPurpose.ELIMINATION
        if t.action == "reject_elimination"
        else ReviewPurpose.IDENTIFICATION
    )
    _review(_LEVEL_OF_STATE[case.state], purpose, approved=False)(session, case, t, f, a, c)
    if purpose is ReviewPurpose.IDENTIFICATION:
        case.decided_on = f["decided_on"]
        case.closed_on = f["decided_on"]


def _propose_elimination(
    session: Session, case: Case, t: Transition, f: dict[str, Any], a: Actor, c: GuardContext
) -> None:
    session.add(
        RiskElimination(
            case_id=case.id,
            proposed_on=f["proposed_on"],
            months_monitored=months_monitored(case, c.today),
            measures_delivered=measures_delivered(case),
            months_above_line=months_above_line(case),
        )
    )


def _long_term_protection(
    session: Session, case: Case, t: Transition, f: dict[str, Any], a: Actor, c: GuardContext
) -> None:
    _review(ReviewLevel.COUNTY, ReviewPurpose.ELIMINATION, approved=False)(
        session, case, t, f, a, c
    )


_EFFECTS: dict[str, Effect] = {
    "record_visit": _record_visit,
    "village_review": _review(ReviewLevel.VILLAGE, ReviewPurpose.IDENTIFICATION, approved=True),
    "township_review": _review(ReviewLevel.TOWNSHIP, ReviewPurpose.IDENTIFICATION, approved=True),
    "county_confirm": _review(ReviewLevel.COUNTY, ReviewPurpose.IDENTIFICATION, approved=True),
    "reject": _reject,
    "reject_elimination": _reject,
    "propose_elimination": _propose_elimination,
    "village_review_elimination": _review(
        ReviewLevel.VILLAGE, ReviewPurpose.ELIMINATION, approved=True
    ),
    "township_review_elimination": _review(
        ReviewLevel.TOWNSHIP, ReviewPurpose.ELIMINATION, approved=True
    ),
    "county_confirm_elimination": _review(
        ReviewLevel.COUNTY, ReviewPurpose.ELIMINATION, approved=True
    ),
    "transfer_to_long_term_protection": _long_term_protection,
}
