"""Service rules: optimistic locking, jurisdiction, three powers, idempotent discoveries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dixian.cases import Actor, AuditEntry, CasesDatabase, Channel, Role
from dixian.cases.service import (
    DiscoveryInput,
    PersonInput,
    add_note,
    change_role,
    count_cases_by_state,
    create_user,
    get_case,
    get_household,
    list_cases,
    record_discoveries,
    reveal_id_number,
    update_case,
    upsert_household,
)
from dixian.errors import ConflictError, NotFound, PermissionDenied, TransitionRefused, UserError
from tests.cases.conftest import VILLAGE_A, VILLAGE_B, People, open_case
from tests.cases.flow import act, drive

ID_NUMBER = "11010519491231002X"


def _events(db: CasesDatabase, code: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.event_code == code)))


def test_second_writer_gets_a_conflict_with_the_current_version(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    with db.session() as session:
        seen = get_case(session, actor=people.caseworker, case_id=case_id).version
    with db.session() as session:
        update_case(session, actor=people.caseworker, case_id=case_id, expected_version=seen,
                    summary="first")  # fmt: skip
    expected = f"version {seen}, the current version is {seen + 1}"
    with pytest.raises(ConflictError, match=expected), db.session() as session:
        update_case(session, actor=people.township, case_id=case_id, expected_version=seen,
                    summary="second")  # fmt: skip
    with pytest.raises(ConflictError), db.session() as session:
        add_note(session, actor=people.township, case_id=case_id, expected_version=seen,
                 text="stale note")  # fmt: skip
    with db.session() as session:
        case = get_case(session, actor=people.county, case_id=case_id)
        assert case.summary == "first" and case.version == seen + 1 and case.notes == []
    assert len(_events(db, "CASE_UPDATED")) == 1


def test_other_village_sees_nothing_and_the_attempt_is_audited(
    db: CasesDatabase, people: People
) -> None:
    case_a = open_case(db, household_id="HA", region_code=VILLAGE_A)
    case_b = open_case(db, household_id="HB", region_code=VILLAGE_B)
    with db.session() as session:
        assert [c.id for c in list_cases(session, actor=people.caseworker_b)] == [case_b]
        assert {c.id for c in list_cases(session, actor=people.township)} == {case_a, case_b}
        assert count_cases_by_state(session, actor=people.caseworker_b) == {"discovered": 1}
    with pytest.raises(NotFound, match=f"case {case_a} not found"), db.session() as session:
        get_case(session, actor=people.caseworker_b, case_id=case_a)
    with pytest.raises(NotFound), db.session() as session:
        get_household(session, actor=people.caseworker_b, household_id="HA")
    with pytest.raises(NotFound):
        act(db, people, case_a, "record_visit", {}, who="caseworker_b")
    denials = _events(db, "ACCESS_DENIED")
    assert [(d.actor_name, d.object_type, d.object_id) for d in denials] == [
        ("caseworker_b", "case", str(case_a)),
        ("caseworker_b", "household", "HA"),
        ("caseworker_b", "case", str(case_a)),
    ]
    assert all(d.outcome == "denied" for d in denials)


def test_a_missing_case_and_a_foreign_case_look_the_same(db: CasesDatabase, people: People) -> None:
    case_a = open_case(db)
    messages = []
    for case_id in (case_a, 9999):
        with pytest.raises(NotFound) as missing, db.session() as session:
            get_case(session, actor=people.caseworker_b, case_id=case_id)
        messages.append(str(missing.value).replace(str(case_id), "N"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "helper"])
def test_admins_and_helpers_cannot_read_cases(db: CasesDatabase, people: People, who: str) -> None:
    case_id = open_case(db)
    with pytest.raises(PermissionDenied), db.session() as session:
        get_case(session, actor=getattr(people, who), case_id=case_id)
    with pytest.raises(PermissionDenied), db.session() as session:
        list_cases(session, actor=getattr(people, who))
    assert _events(db, "PERMISSION_DENIED")[-1].actor_name == who


def test_leader_reads_but_cannot_act(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    with db.session() as session:
        assert get_case(session, actor=people.leader, case_id=case_id).id == case_id
    with pytest.raises(TransitionRefused, match="not leader"):
        act(db, people, case_id, "record_visit", {}, who="leader")
    with pytest.raises(PermissionDenied), db.session() as session:
        update_case(session, actor=people.leader, case_id=case_id, expected_version=1,
                    summary="x")  # fmt: skip


def test_refused_transitions_are_audited(db: CasesDatabase, people: People) -> None:
    case_id = open_case(db)
    with pytest.raises(TransitionRefused):
        act(db, people, case_id, "county_confirm", {}, who="county")
    refused = _events(db, "TRANSITION_REFUSED")
    assert len(refused) == 1 and "county_confirm" in (refused[0].reason or "")


def test_usernames_are_unique_after_normalisation(db: CasesDatabase, people: People) -> None:
    system = Actor.system()
    with db.session() as session:
        create_user(session, actor=system, username="Zhang3", display_name="张三",
                    role=Role.VILLAGE_CASEWORKER, jurisdiction=VILLAGE_A)  # fmt: skip
    with pytest.raises(ConflictError, match="zhang3"), db.session() as session:
        create_user(session, actor=system, username="ＺＨＡＮＧ３", display_name="张三",
                    role=Role.VILLAGE_CASEWORKER, jurisdiction=VILLAGE_A)  # fmt: skip
    with pytest.raises(PermissionDenied), db.session() as session:
        create_user(session, actor=people.county, username="x", display_name="x",
                    role=Role.LEADER, jurisdiction=VILLAGE_A)  # fmt: skip


def test_one_person_cannot_hold_two_admin_roles(db: CasesDatabase, people: People) -> None:
    with db.session() as session:
        security = create_user(session, actor=Actor.system(), username="sec", display_name="s",
                               role=Role.SECURITY_ADMIN, jurisdiction="522799")  # fmt: skip
        security_actor = Actor.from_user(security)
    with pytest.raises(PermissionDenied, match="two admin roles"), db.session() as session:
        change_role(session, actor=security_actor, username="sysadmin", role=Role.AUDIT_ADMIN)
    with pytest.raises(PermissionDenied), db.session() as session:
        change_role(session, actor=people.sysadmin, username="leader", role=Role.COUNTY_ANALYST)
    with db.session() as session:
        user = change_role(session, actor=security_actor, username="leader",
                           role=Role.COUNTY_ANALYST)  # fmt: skip
        assert user.role == Role.COUNTY_ANALYST


def test_discoveries_are_idempotent_and_join_the_open_case(
    db: CasesDatabase, people: People
) -> None:
    monitor = Actor.system(name="monitor")
    item = DiscoveryInput(
        household_id="H9", region_code=VILLAGE_A, period="2025-03",
        channel=Channel.DEPARTMENT_SCREENING, discovered_on=date(2025, 3, 5),
        evidence={"trigger": "disaster"}, risk_score=0.7,
    )  # fmt: skip
    with db.session() as session:
        first = record_discoveries(session, actor=monitor, discoveries=[item])
    with db.session() as session:
        again = record_discoveries(session, actor=monitor, discoveries=[item])
    canvass = DiscoveryInput(
        household_id="H9", region_code=VILLAGE_A, period="2025-03",
        channel=Channel.CADRE_CANVASS, discovered_on=date(2025, 3, 6),
    )  # fmt: skip
    with db.session() as session:
        joined = record_discoveries(session, actor=people.caseworker, discoveries=[canvass])
    assert (first.created, first.cases_opened) == (1, 1)
    assert (again.created, again.already_recorded, again.cases_opened) == (0, 1, 0)
    assert (joined.created, joined.cases_opened, joined.joined_open_case) == (1, 0, 1)
    assert joined.case_ids == first.case_ids
    with pytest.raises(PermissionDenied), db.session() as session:
        record_discoveries(session, actor=people.caseworker, discoveries=[item])
    foreign = DiscoveryInput(
        household_id="HX", region_code=VILLAGE_B, period="2025-03",
        channel=Channel.CADRE_CANVASS, discovered_on=date(2025, 3, 6),
    )  # fmt: skip
    with pytest.raises(PermissionDenied, match="outside"), db.session() as session:
        record_discoveries(session, actor=people.caseworker, discoveries=[foreign])


def test_a_closed_case_lets_a_new_discovery_open_a_new_case(
    db: CasesDatabase, people: People
) -> None:
    case_id = open_case(db)
    drive(db, people, case_id, "not_identified")
    with db.session() as session:
        result = record_discoveries(
            session, actor=Actor.system(),
            discoveries=[DiscoveryInput(
                household_id="H001", region_code=VILLAGE_A, period="2025-06",
                channel=Channel.DEPARTMENT_SCREENING, discovered_on=date(2025, 6, 3),
            )],
        )  # fmt: skip
    assert result.cases_opened == 1 and result.case_ids[0] != case_id


def test_id_numbers_are_revealed_only_with_a_reason(db: CasesDatabase, people: People) -> None:
    with db.session() as session:
        upsert_household(
            session, actor=people.county, household_id="HP", region_code=VILLAGE_A,
            persons=[PersonInput(person_id="P1", name="张三", id_number=ID_NUMBER)],
        )  # fmt: skip
    with pytest.raises(UserError, match="查看事由"), db.session() as session:
        reveal_id_number(session, actor=people.caseworker, person_id="P1", reason=" ")
    with pytest.raises(NotFound), db.session() as session:
        reveal_id_number(session, actor=people.caseworker_b, person_id="P1", reason="核对身份")
    with db.session() as session:
        assert (
            reveal_id_number(
                session, actor=people.caseworker, person_id="P1", reason="入户核对身份"
            )
            == ID_NUMBER
        )
    (unmasked,) = _events(db, "PI_UNMASKED")
    assert unmasked.reason == "入户核对身份" and unmasked.actor_name == "caseworker"


def test_evidence_from_pandas_is_stored_as_plain_json(db: CasesDatabase, people: People) -> None:
    import numpy as np

    evidence = {
        "triggers": np.array(["medical_oop", "disaster"]),
        "amount": np.float64(23000.5),
        "missing": float("nan"),
        "count": np.int64(3),
        "when": date(2025, 3, 1),
    }
    with db.session() as session:
        result = record_discoveries(
            session, actor=Actor.system(),
            discoveries=[DiscoveryInput(
                household_id="HN", region_code=VILLAGE_A, period="2025-03",
                channel=Channel.DEPARTMENT_SCREENING, discovered_on=date(2025, 3, 5),
                evidence=evidence,
            )],
        )  # fmt: skip
    with db.session() as session:
        from dixian.cases import Discovery

        stored = session.scalars(select(Discovery)).one().evidence
    assert result.created == 1
    assert stored == {"triggers": ["medical_oop", "disaster"], "amount": 23000.5,
                      "missing": None, "count": 3, "when": "2025-03-01"}  # fmt: skip
