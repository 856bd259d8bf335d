"""Helpers that drive a case through the workflow, step by step, as the real roles."""

from __future__ import annotations

from datetime import date
from typing import Any

from dixian.cases import CasesDatabase, MeasureStatus
from dixian.cases.service import (
    add_measure,
    add_plan,
    get_case,
    record_follow_up,
    set_measure_status,
    transition_case,
)
from tests.cases.conftest import People

VISIT = {
    "visited_on": "2025-01-08",
    "per_capita_income": 5200,
    "labour_count": 2,
    "food_clothing_secure": True,
    "education_secure": True,
    "medical_secure": False,
    "housing_secure": True,
    "water_secure": True,
    "authorisation_signed_on": "2025-01-08",
}
NOTICE = {"notice_start": "2025-01-09", "notice_end": "2025-01-13", "decided_on": "2025-01-13"}
CONFIRM = {
    "decided_on": "2025-01-18",
    "object_type": "sudden_hardship",
    "causes": ["illness", "lack_of_skills"],
    "primary_cause": "illness",
}


def version_of(db: CasesDatabase, people: People, case_id: int) -> int:
    with db.session() as session:
        return get_case(session, actor=people.county, case_id=case_id).version


def act(
    db: CasesDatabase,
    people: People,
    case_id: int,
    action: str,
    payload: dict[str, Any] | None = None,
    *,
    who: str = "caseworker",
    today: date | None = None,
) -> str:
    """Take an action as one of the people; returns the new state."""
    version = version_of(db, people, case_id)
    with db.session() as session:
        case = transition_case(
            session, actor=getattr(people, who), case_id=case_id, action=action,
            expected_version=version, payload=payload, today=today,
        )  # fmt: skip
        return str(case.state)


def to_monitoring(
    db: CasesDatabase, people: People, case_id: int, visit: dict[str, Any] | None = None
) -> None:
    act(db, people, case_id, "record_visit", visit or VISIT)
    act(db, people, case_id, "village_review", NOTICE)
    act(db, people, case_id, "township_review", {"decided_on": "2025-01-15"}, who="township")
    act(db, people, case_id, "county_confirm", CONFIRM, who="county")


def deliver_measure_and_follow_ups(
    db: CasesDatabase, people: People, case_id: int, *, months: int, income: float = 9000
) -> None:
    with db.session() as session:
        version = get_case(session, actor=people.caseworker, case_id=case_id).version
        plan = add_plan(
            session, actor=people.caseworker, case_id=case_id, expected_version=version,
            summary="医疗救助 + 公益岗位", created_on=date(2025, 1, 20),
        )  # fmt: skip
        plan_id = plan.id
        version = plan.case.version
    with db.session() as session:
        measure = add_measure(
            session, actor=people.caseworker, plan_id=plan_id, expected_version=version,
            measure_type="public_welfare_job", provider="镇政府", cost=6000.0,
        )  # fmt: skip
        measure_id, version = measure.id, measure.plan.case.version
    with db.session() as session:
        measure = set_measure_status(
            session, actor=people.caseworker, measure_id=measure_id, expected_version=version,
            status=MeasureStatus.DELIVERED, on=date(2025, 3, 1),
        )  # fmt: skip
        version = measure.plan.case.version
    for index in range(months):
        period = f"2025-{2 + index:02d}"
        with db.session() as session:
            follow_up = record_follow_up(
                session, actor=people.caseworker, case_id=case_id, expected_version=version,
                period=period, per_capita_income=income, monitoring_line=7000.0,
            )  # fmt: skip
            version = follow_up.case.version


ELIMINATION_DAY = date(2025, 9, 1)
PAYLOADS: dict[str, dict[str, Any]] = {
    "record_visit": VISIT,
    "village_review": NOTICE,
    "township_review": {"decided_on": "2025-01-15"},
    "county_confirm": CONFIRM,
    "reject": {"decided_on": "2025-01-16", "reason": "核实后收入高于监测线"},
    "propose_elimination": {"proposed_on": "2025-09-01"},
    "village_review_elimination": {
        "notice_start": "2025-09-02", "notice_end": "2025-09-08", "decided_on": "2025-09-08",
    },
    "township_review_elimination": {"decided_on": "2025-09-10"},
    "county_confirm_elimination": {"decided_on": "2025-09-12"},
    "reject_elimination": {"decided_on": "2025-09-12", "reason": "收入尚不稳定"},
    "transfer_to_long_term_protection": {"decided_on": "2025-03-01", "reason": "家中无劳动力"},
}  # fmt: skip
WHO = {"village_caseworker": "caseworker", "township_reviewer": "township",
       "county_analyst": "county"}  # fmt: skip

_PATHS: dict[str, list[str]] = {
    "discovered": [],
    "visited": ["record_visit"],
    "village_reviewed": ["record_visit", "village_review"],
    "township_reviewed": ["record_visit", "village_review", "township_review"],
    "monitoring": ["record_visit", "village_review", "township_review", "county_confirm"],
}
_ELIMINATION_STEPS = [
    "propose_elimination", "village_review_elimination", "township_review_elimination",
    "county_confirm_elimination",
]  # fmt: skip
_ELIMINATION_STATES = [
    "elimination_proposed", "elimination_village_reviewed", "elimination_township_reviewed",
    "risk_eliminated",
]  # fmt: skip


def drive(
    db: CasesDatabase, people: People, case_id: int, state: str, *, stop_before_last: bool = False
) -> None:
    """Take a new case to `state` the way the real roles would (or to one step before it)."""
    from dixian.cases.workflow import find_transition

    no_labour = state == "long_term_protection"
    visit = {**VISIT, "labour_count": 0} if no_labour else VISIT
    if state in _PATHS:
        steps = _PATHS[state]
    elif state == "not_identified":
        steps = ["reject"]
    elif state == "long_term_protection":
        steps = [*_PATHS["monitoring"], "transfer_to_long_term_protection"]
    else:
        steps = _PATHS["monitoring"] + _ELIMINATION_STEPS[: _ELIMINATION_STATES.index(state) + 1]
    if stop_before_last:
        steps = steps[:-1]
    for step in steps:
        if step == "propose_elimination":
            deliver_measure_and_follow_ups(db, people, case_id, months=6)
        with db.session() as session:
            current = get_case(session, actor=people.county, case_id=case_id).state
        who = WHO[str(sorted(find_transition(current, step).roles)[0])]
        payload = visit if step == "record_visit" else PAYLOADS[step]
        act(db, people, case_id, step, payload, who=who, today=ELIMINATION_DAY)
