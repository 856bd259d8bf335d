"""Users, households and persons: accounts, sensitive reads with a reason, authorisations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.enums import ADMIN_ROLES, CASE_READER_ROLES, Outcome, Role
from dixian.cases.models import (
    Household,
    HouseholdAuthorisation,
    Person,
    User,
    normalise_username,
)
from dixian.cases.service._common import (
    CASE_WRITER_ROLES,
    deny_not_found,
    record,
    require_case_reader,
    require_roles,
)
from dixian.errors import ConflictError, NotFound, PermissionDenied, UserError

_USER_ADMINS = frozenset({Role.SYSTEM_ADMIN})
_ROLE_ADMINS = frozenset({Role.SECURITY_ADMIN})
_UNMASKERS = frozenset({Role.COUNTY_ANALYST, Role.TOWNSHIP_REVIEWER, Role.VILLAGE_CASEWORKER})


def _check_jurisdiction_code(jurisdiction: str) -> None:
    if not jurisdiction.isdigit() or len(jurisdiction) not in (2, 4, 6, 9, 12):
        raise UserError(
            f"jurisdiction '{jurisdiction}': expected a region-code prefix of 2, 4, 6, 9 or 12 "
            "digits"
        )


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role,
    jurisdiction: str,
    password_hash: str | None = None,
) -> User:
    """Create an account; the username must be unique after NFKC + case-folding (AUTH-01).

    Raises:
        PermissionDenied: the actor is neither the system admin nor the local system.
        ConflictError: the normalised username exists already.
    """
    require_roles(session, actor, _USER_ADMINS, what="create users", system_ok=True)
    key = normalise_username(username)
    if not key or len(key) > 64:
        raise UserError("username: expected 1 to 64 characters")
    _check_jurisdiction_code(jurisdiction)
    if session.scalar(select(User.id).where(User.username == key)) is not None:
        raise ConflictError(f"user '{key}' exists already")
    user = User(
        username=key,
        display_name=display_name,
        role=Role(role),
        jurisdiction=jurisdiction,
        password_hash=password_hash,
        password_history=[],
    )
    session.add(user)
    session.flush()
    record(
        session, actor=actor, event_code="USER_CREATED", object_type="user", object_id=user.id,
        new_values={"username": key, "role": user.role, "jurisdiction": jurisdiction},
    )  # fmt: skip
    return user


def get_user(session: Session, *, username: str) -> User | None:
    """The account with this username (after normalisation), or None."""
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def change_role(session: Session, *, actor: Actor, username: str, role: Role) -> User:
    """Give a user another role (security admin only).

    One person cannot hold two admin roles (三员分立): an admin account is never turned
    into another admin role; a separate person needs a separate account.
    """
    require_roles(session, actor, _ROLE_ADMINS, what="change roles", system_ok=True)
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"user '{username}' not found")
    role = Role(role)
    if user.role in ADMIN_ROLES and role in ADMIN_ROLES and role != user.role:
        raise PermissionDenied(
            f"user '{user.username}' is {user.role}: one person cannot hold two admin roles"
        )
    if actor.user_id == user.id:
        raise PermissionDenied("nobody may change their own role")
    old = {"role": user.role}
    user.role = role
    session.flush()
    record(
        session, actor=actor, event_code="USER_ROLE_CHANGED", object_type="user",
        object_id=user.id, old_values=old, new_values={"role": role},
    )  # fmt: skip
    return user


def set_user_disabled(session: Session, *, actor: Actor, username: str, disabled: bool) -> User:
    """Disable (or re-enable) an account; disabling ends its web sessions."""
    require_roles(session, actor, _USER_ADMINS, what="disable users", system_ok=True)
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"user '{username}' not found")
    user.disabled = disabled
    if disabled:
        user.sessions.clear()
    session.flush()
    record(
        session, actor=actor, event_code="USER_DISABLED" if disabled else "USER_ENABLED",
        object_type="user", object_id=user.id,
    )  # fmt: skip
    return user


@dataclass(frozen=True)
class PersonInput:
    """A household member as the warehouse knows them."""

    person_id: str
    name: str
    id_number: str | None = None
    sex: str | None = None
    birth_date: date | None = None
    relation_to_head: str | None = None


@dataclass(frozen=True)
class HouseholdInput:
    """A household as the warehouse knows it, with its members."""

    household_id: str
    region_code: str
    head_name: str | None = None
    member_count: int | None = None
    has_labour: bool | None = None
    persons: Sequence[PersonInput] = ()


def upsert_household(
    session: Session,
    *,
    actor: Actor,
    household_id: str,
    region_code: str,
    head_name: str | None = None,
    member_count: int | None = None,
    has_labour: bool | None = None,
    persons: Sequence[PersonInput] = (),
) -> Household:
    """Create or refresh a household and its members from the warehouse."""
    item = HouseholdInput(
        household_id=household_id, region_code=region_code, head_name=head_name,
        member_count=member_count, has_labour=has_labour, persons=persons,
    )  # fmt: skip
    return upsert_households(session, actor=actor, households=[item])[household_id]


def upsert_households(
    session: Session, *, actor: Actor, households: Sequence[HouseholdInput]
) -> dict[str, Household]:
    """Create or refresh many households and their members, one audit entry per household.

    Batched like `record_discoveries`: one lookup per 500 households or persons and two
    flushes per call, instead of a query and a flush per member (loading a county's
    households one by one took about 16 ms each).

    Raises:
        PermissionDenied: a household lies, or would move, outside the actor's jurisdiction.
    """
    require_roles(
        session, actor, frozenset({Role.COUNTY_ANALYST}), what="load households", system_ok=True
    )
    items = list(households)
    for item in items:
        if not actor.covers(item.region_code):
            raise PermissionDenied(f"region {item.region_code} is outside your jurisdiction")
    found: dict[str, Household] = {}
    for chunk in _chunks(list(dict.fromkeys(item.household_id for item in items))):
        for household in session.scalars(
            select(Household).where(Household.household_id.in_(chunk))
        ):
            if not actor.covers(household.region_code):
                raise PermissionDenied(
                    f"household {household.household_id} is outside your jurisdiction"
                )
            found[household.household_id] = household
    for item in items:
        existing = found.get(item.household_id)
        if existing is None:
            existing = Household(household_id=item.household_id, region_code=item.region_code)
            session.add(existing)
            found[item.household_id] = existing
        household = existing
        household.region_code = item.region_code
        household.head_name = item.head_name
        household.member_count = item.member_count
        household.has_labour = item.has_labour
    session.flush()
    people: dict[str, Person] = {}
    wanted = list(dict.fromkeys(p.person_id for item in items for p in item.persons))
    for chunk in _chunks(wanted):
        for person in session.scalars(select(Person).where(Person.person_id.in_(chunk))):
            people[person.person_id] = person
    for item in items:
        household = found[item.household_id]
        for given in item.persons:
            known = people.get(given.person_id)
            if known is None:
                known = Person(person_id=given.person_id, household_pk=household.id,
                               name=given.name)  # fmt: skip
                session.add(known)
                people[given.person_id] = known
            person = known
            person.household_pk = household.id
            person.name = given.name
            person.id_number = given.id_number
            person.sex = given.sex
            person.birth_date = given.birth_date
            person.relation_to_head = given.relation_to_head
    session.flush()
    for item in items:
        record(
            session, actor=actor, event_code="HOUSEHOLD_UPSERTED", object_type="household",
            object_id=item.household_id,
            new_values={"region_code": item.region_code, "member_count": item.member_count,
                        "has_labour": item.has_labour, "persons": len(item.persons)},
        )  # fmt: skip
    return found


def _chunks(values: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def get_household(session: Session, *, actor: Actor, household_id: str) -> Household:
    """A household in the actor's jurisdiction; elsewhere NotFound, and the attempt audited."""
    require_case_reader(session, actor, what="read households")
    household = session.scalar(select(Household).where(Household.household_id == household_id))
    if household is None:
        raise NotFound(f"household {household_id} not found")
    if not actor.covers(household.region_code):
        deny_not_found(session, actor, "household", household_id)
    record(
        session, actor=actor, event_code="HOUSEHOLD_VIEWED", object_type="household",
        object_id=household_id,
    )  # fmt: skip
    return household


def reveal_id_number(session: Session, *, actor: Actor, person_id: str, reason: str) -> str:
    """The full ID number of a person, for a stated reason (查看事由) that is logged (AC-04).

    Raises:
        UserError: no reason given.
        PermissionDenied: the role may not unmask.
        NotFound: no such person in the actor's jurisdiction.
    """
    require_roles(session, actor, _UNMASKERS, what="reveal ID numbers")
    if len(reason.strip()) < 2:
        raise UserError("revealing an ID number needs a stated reason (查看事由)")
    person = session.scalar(select(Person).where(Person.person_id == person_id))
    if person is None:
        raise NotFound(f"person {person_id} not found")
    if not actor.covers(person.household.region_code):
        deny_not_found(session, actor, "person", person_id)
    record(
        session, actor=actor, event_code="PI_UNMASKED", object_type="person",
        object_id=person_id, reason=reason, new_values={"field": "id_number"},
    )  # fmt: skip
    return person.id_number or ""


def record_authorisation(
    session: Session,
    *,
    actor: Actor,
    household_id: str,
    signed_on: date,
    scope: str,
    form_sha256: str | None = None,
) -> HouseholdAuthorisation:
    """Record the household's signed promise and authorisation (农户承诺授权)."""
    require_roles(session, actor, CASE_WRITER_ROLES, what="record authorisations")
    household = get_household(session, actor=actor, household_id=household_id)
    authorisation = HouseholdAuthorisation(
        household_pk=household.id, signed_on=signed_on, scope=scope, form_sha256=form_sha256,
        collected_by=actor.user_id,
    )  # fmt: skip
    session.add(authorisation)
    session.flush()
    record(
        session, actor=actor, event_code="AUTHORISATION_RECORDED",
        object_type="household_authorisation", object_id=authorisation.id,
        new_values={"household_id": household_id, "signed_on": signed_on, "scope": scope},
    )  # fmt: skip
    return authorisation


def record_event(
    session: Session,
    *,
    actor: Actor,
    event_code: str,
    object_type: str,
    object_id: str | int | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    reason: str | None = None,
    new_values: Mapping[str, Any] | None = None,
) -> None:
    """Append an event of another stage (sign-in, export, import...) to the ledger."""
    if not event_code.replace("_", "").isalnum() or not event_code.isupper():
        raise UserError(f"event code '{event_code}': expected UPPER_SNAKE_CASE")
    record(
        session, actor=actor, event_code=event_code, object_type=object_type,
        object_id=object_id, outcome=outcome, reason=reason, new_values=new_values,
    )  # fmt: skip


def can_read_cases(actor: Actor) -> bool:
    """Whether the actor's role may see case data at all (admins and helpers may not)."""
    return actor.is_system or actor.has_role(*CASE_READER_ROLES)
