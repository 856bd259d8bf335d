"""Loading many households at once: same rows and audit entries as one at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dixian.cases import CasesDatabase
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.models import Household, Person
from dixian.cases.service import HouseholdInput, PersonInput, upsert_households
from dixian.errors import PermissionDenied
from tests.cases.conftest import VILLAGE_A, VILLAGE_B, People


def _household(hid: str, village: str, members: int) -> HouseholdInput:
    return HouseholdInput(
        household_id=hid,
        region_code=village,
        head_name=f"户主{hid}",
        member_count=members,
        has_labour=True,
        persons=[
            PersonInput(person_id=f"{hid}-{k}", name=f"成员{k}", relation_to_head="户主")
            for k in range(members)
        ],
    )


def test_bulk_upsert_creates_refreshes_and_audits_each_household(
    db: CasesDatabase, people: People
) -> None:
    with db.session() as session:
        upsert_households(
            session,
            actor=people.county,
            households=[_household("HB1", VILLAGE_A, 2), _household("HB2", VILLAGE_B, 3)],
        )
    with db.session() as session:
        # A refresh moves a member, renames the head and adds a household in one call.
        moved = HouseholdInput(
            household_id="HB2",
            region_code=VILLAGE_B,
            head_name="新户主",
            member_count=4,
            persons=[*_household("HB2", VILLAGE_B, 3).persons, PersonInput("HB1-1", "迁入")],
        )
        found = upsert_households(
            session, actor=people.county, households=[moved, _household("HB3", VILLAGE_A, 1)]
        )
        assert set(found) == {"HB2", "HB3"}
    with db.session() as session:
        heads = dict(session.execute(select(Household.household_id, Household.head_name)).all())
        assert heads == {"HB1": "户主HB1", "HB2": "新户主", "HB3": "户主HB3"}
        members = session.execute(
            select(Household.household_id, func.count())
            .join(Person, Person.household_pk == Household.id)
            .group_by(Household.household_id)
        ).all()
        assert dict(members) == {"HB1": 1, "HB2": 4, "HB3": 1}
        entries = session.scalars(
            select(AuditEntry.object_id).where(AuditEntry.event_code == "HOUSEHOLD_UPSERTED")
        ).all()
        assert sorted(entries) == ["HB1", "HB2", "HB2", "HB3"]


def test_bulk_upsert_refuses_a_household_outside_the_jurisdiction(
    db: CasesDatabase, people: People
) -> None:
    with pytest.raises(PermissionDenied), db.session() as session:
        upsert_households(
            session,
            actor=people.caseworker,
            households=[_household("HX", VILLAGE_A, 1)],
        )
    with db.session() as session:
        upsert_households(session, actor=people.county, households=[_household("HY", VILLAGE_B, 1)])
    with pytest.raises(PermissionDenied), db.session() as session:
        # A township-wide analyst of village A's area cannot take over village B's household.
        from dixian.cases import Actor

        narrow = Actor(user_id=None, username="a", role="county_analyst", jurisdiction=VILLAGE_A)
        upsert_households(session, actor=narrow, households=[_household("HY", VILLAGE_A, 1)])
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Household)) == 1
