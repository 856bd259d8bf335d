"""The state machine: every transition allowed to its roles and refused to the others."""

from __future__ import annotations

from datetime import date

import pytest

from dixian.cases import CasesDatabase, Role
from dixian.cases.service import get_case
from dixian.cases.workflow import TRANSITIONS, Transition
from dixian.errors import TransitionRefused
from tests.cases.conftest import People, open_case
from tests.cases.flow import (
    ELIMINATION_DAY,
    PAYLOADS,
    VISIT,
    WHO,
    act,
    deliver_measure_and_follow_ups,
    drive,
)

_ROLE_PEOPLE = {
    Role.VILLAGE_CASEWORKER: "caseworker",
    Role.TOWNSHIP_REVIEWER: "township",
    Role.COUNTY_ANALYST: "county",
    Role.LEADER: "leader",
}


def _id(transition: Transition) -> str:
    return f"{transition.source}-{transition.action}"


@pytest.mark.parametrize("transition", TRANSITIONS, ids=_id)
def test_every_transition_is_refused_to_other_roles_and_allowed_to_its_own(
    db: CasesDatabase, people: People, transition: Transition
) -> None:
    no_labour = transition.action == "transfer_to_long_term_protection"
    case_id = open_case(db, has_labour=not no_labour)
    if no_labour:
        drive(db, people, case_id, "long_term_protection", stop_before_last=True)
    else:
        drive(db, people, case_id, str(transition.source))
    if transition.action == "propose_elimination":
        deliver_measure_and_follow_ups(db, people, case_id, months=6)
    payload = PAYLOADS[transition.action]
    for role in [role for role in _ROLE_PEOPLE if role not in transition.roles]:
        with pytest.raises(TransitionRefused) as refused:
            act(db, people, case_id, transition.action, payload,
                who=_ROLE_PEOPLE[role], today=ELIMINATION_DAY)  # fmt: skip
        message = str(refused.value)
        assert f"'{transition.source}'" in message and transition.action in message
        assert f"not {role}" in message
    elsewhere = sorted(
        {t.action for t in TRANSITIONS}
        - {t.action for t in TRANSITIONS if t.source == transition.source}
    )[0]
    with pytest.raises(TransitionRefused, match=rf"state '{transition.source}'.*'{elsewhere}'"):
        act(db, people, case_id, elsewhere, PAYLOADS[elsewhere], who="county")
    if transition.action == "record_visit" and no_labour:
        payload = {**VISIT, "labour_count": 0}
    new_state = act(
        db, people, case_id, transition.action, payload,
        who=WHO[str(sorted(transition.roles)[0])], today=ELIMINATION_DAY,
    )  # fmt: skip
    assert new_state == transition.target
    if not any(t.source == transition.target for t in TRANSITIONS):
        with pytest.raises(TransitionRefused, match="none: the case is closed"):
            act(db, people, case_id, "record_visit", VISIT)


def test_identification_records_reviews_and_decision(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "monitoring")
    with db.session() as session:
        case = get_case(session, actor=people.county, case_id=case_id)
        assert case.object_type == "sudden_hardship"
        assert case.causes == ["illness", "lack_of_skills"]
        assert case.primary_cause == "illness"
        assert case.decided_on == date(2025, 1, 18)
        assert [(r.level, r.approved) for r in case.reviews] == [
            ("village", True),
            ("township", True),
            ("county", True),
        ]
        assert case.reviews[0].notice_start == date(2025, 1, 9)
        assert case.visits[0].labour_count == 2
        assert case.version == 5  # opened at 1, four transitions


def test_missing_and_unexpected_fields_are_named(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    visit = {k: v for k, v in VISIT.items() if k != "water_secure"}
    with pytest.raises(TransitionRefused, match="needs field 'water_secure'"):
        act(db, people, case_id, "record_visit", visit)
    with pytest.raises(TransitionRefused, match=r"unexpected field.*is_superuser"):
        act(db, people, case_id, "record_visit", {**VISIT, "is_superuser": True})
    with pytest.raises(TransitionRefused, match="field 'visited_on'"):
        act(db, people, case_id, "record_visit", {**VISIT, "visited_on": "2025-13-40"})


def test_unknown_action_is_refused(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    with pytest.raises(TransitionRefused, match="unknown action 'approve_everything'"):
        act(db, people, case_id, "approve_everything", {})


def test_risk_elimination_records_its_evidence_and_closes_the_case(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "risk_eliminated")
    with db.session() as session:
        from sqlalchemy import select

        from dixian.cases import RiskElimination

        case = get_case(session, actor=people.county, case_id=case_id)
        proposal = session.scalars(select(RiskElimination)).one()
    assert case.closed_on == date(2025, 9, 12)
    assert (proposal.months_monitored, proposal.measures_delivered, proposal.months_above_line) == (
        7,
        1,
        6,
    )
    assert proposal.confirmed_on == date(2025, 9, 12)
