"""Policy guards of the workflow, deadlines and the settings behind them."""

from __future__ import annotations

from datetime import date

import pytest

from dixian.cases import CasesDatabase, CaseSettings
from dixian.cases.service import (
    get_case,
    list_overdue,
    record_authorisation,
    record_follow_up,
)
from dixian.errors import TransitionRefused
from tests.cases.conftest import People, open_case
from tests.cases.flow import (
    CONFIRM,
    NOTICE,
    VISIT,
    act,
    deliver_measure_and_follow_ups,
    drive,
    to_monitoring,
    version_of,
)


def test_elimination_refused_before_six_months_of_monitoring(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "monitoring")
    deliver_measure_and_follow_ups(db, people, case_id, months=6)
    with pytest.raises(TransitionRefused, match="monitored for 4 months, at least 6"):
        act(db, people, case_id, "propose_elimination", {"proposed_on": "2025-06-01"},
            today=date(2025, 6, 1))  # fmt: skip
    state = act(db, people, case_id, "propose_elimination", {"proposed_on": "2025-07-18"},
                today=date(2025, 7, 18))  # fmt: skip
    assert state == "elimination_proposed"


def test_elimination_refused_without_delivered_measure_or_stable_income(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "monitoring")
    with pytest.raises(TransitionRefused) as refused:
        act(db, people, case_id, "propose_elimination", {"proposed_on": "2025-09-01"},
            today=date(2025, 9, 1))  # fmt: skip
    message = str(refused.value)
    assert "0 assistance measures delivered" in message
    assert "for 0 consecutive months" in message
    assert "state 'monitoring'" in message and "'propose_elimination'" in message


def test_income_run_must_be_consecutive_and_end_above_the_line(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "monitoring")
    deliver_measure_and_follow_ups(db, people, case_id, months=5)  # 2025-02 .. 2025-06 above
    version = version_of(db, people, case_id)
    with db.session() as session:  # a gap: July missing, August above the line
        record_follow_up(
            session, actor=people.caseworker, case_id=case_id, expected_version=version,
            period="2025-08", per_capita_income=9000, monitoring_line=7000,
        )  # fmt: skip
    with pytest.raises(TransitionRefused, match="for 1 consecutive months"):
        act(db, people, case_id, "propose_elimination", {"proposed_on": "2025-09-01"},
            today=date(2025, 9, 1))  # fmt: skip


def test_no_labour_household_goes_to_long_term_protection_not_elimination(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db, has_labour=False)
    to_monitoring(db, people, case_id, visit={**VISIT, "labour_count": 0})
    deliver_measure_and_follow_ups(db, people, case_id, months=6)
    with pytest.raises(TransitionRefused, match=r"no labour.*transfer_to_long_term_protection"):
        act(db, people, case_id, "propose_elimination", {"proposed_on": "2025-09-01"},
            today=date(2025, 9, 1))  # fmt: skip
    state = act(db, people, case_id, "transfer_to_long_term_protection",
                {"decided_on": "2025-09-02", "reason": "无劳动力"}, who="county")  # fmt: skip
    assert state == "long_term_protection"


def test_long_term_protection_refused_for_a_household_with_labour(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "monitoring")
    with pytest.raises(TransitionRefused, match="for households without labour"):
        act(db, people, case_id, "transfer_to_long_term_protection",
            {"decided_on": "2025-09-02", "reason": "x"}, who="county")  # fmt: skip


def test_visit_needs_the_households_authorisation(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    visit = {k: v for k, v in VISIT.items() if k != "authorisation_signed_on"}
    with pytest.raises(TransitionRefused, match="农户承诺授权"):
        act(db, people, case_id, "record_visit", visit)
    with db.session() as session:
        record_authorisation(
            session, actor=people.caseworker, household_id="H001", signed_on=date(2025, 1, 7),
            scope="家庭经济状况核对", form_sha256="ab" * 32,
        )  # fmt: skip
    assert act(db, people, case_id, "record_visit", visit) == "visited"


def test_public_notice_must_last_five_days_and_end_before_the_decision(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    act(db, people, case_id, "record_visit", VISIT)
    short = {**NOTICE, "notice_end": "2025-01-12"}
    with pytest.raises(TransitionRefused, match="ran 4 days, at least 5"):
        act(db, people, case_id, "village_review", short)
    early = {**NOTICE, "decided_on": "2025-01-11"}
    with pytest.raises(TransitionRefused, match="before the public notice has ended"):
        act(db, people, case_id, "village_review", early)
    assert act(db, people, case_id, "village_review", NOTICE) == "village_reviewed"


def test_confirmation_checks_cause_codes(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "township_reviewed")
    with pytest.raises(TransitionRefused, match="'bad_luck' is not a cause code"):
        act(db, people, case_id, "county_confirm", {**CONFIRM, "causes": ["bad_luck"]},
            who="county")  # fmt: skip
    with pytest.raises(TransitionRefused, match="primary cause 'disaster' is not among"):
        act(db, people, case_id, "county_confirm", {**CONFIRM, "primary_cause": "disaster"},
            who="county")  # fmt: skip
    with pytest.raises(TransitionRefused, match="field 'object_type'"):
        act(db, people, case_id, "county_confirm", {**CONFIRM, "object_type": "poor"},
            who="county")  # fmt: skip


def test_deadline_and_overdue_list(db: CasesDatabase, people: People) -> None:
    late = open_case(db, household_id="H-late", discovered_on=date(2025, 1, 6))
    decided = open_case(db, household_id="H-decided", discovered_on=date(2025, 1, 6))
    drive(db, people, decided, "monitoring")
    fresh = open_case(db, household_id="H-fresh", discovered_on=date(2025, 1, 20))
    with db.session() as session:
        assert get_case(session, actor=people.county, case_id=late).decision_due == date(
            2025, 1, 21
        )
        on_time = {
            c.id for c in list_overdue(session, actor=people.county, today=date(2025, 1, 21))
        }
        overdue = {
            c.id for c in list_overdue(session, actor=people.county, today=date(2025, 1, 22))
        }
    assert on_time == set()
    assert overdue == {late}
    assert fresh not in overdue and decided not in overdue


def test_deadline_is_a_setting(db: CasesDatabase, people: People) -> None:
    db.settings = CaseSettings(decision_deadline_days=20)
    case_id = open_case(db, discovered_on=date(2025, 1, 6))
    with db.session() as session:
        assert get_case(session, actor=people.county, case_id=case_id).decision_due == date(
            2025, 1, 26
        )
