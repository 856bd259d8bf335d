"""Helpers shared by the service modules: audit writing, jurisdiction, locking."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.audit import AuditKey, append_entry, queue_entry
from dixian.cases.case_models import Case
from dixian.cases.enums import CASE_READER_ROLES, Outcome, Role
from dixian.cases.models import Household, utc_now
from dixian.cases.settings import CaseSettings
from dixian.errors import ConfigError, ConflictError, NotFound, PermissionDenied

PENDING_EVENTS = "pending_denials"
CASE_WRITER_ROLES = frozenset(
    {Role.VILLAGE_CASEWORKER, Role.TOWNSHIP_REVIEWER, Role.COUNTY_ANALYST}
)


def audit_key(session: Session) -> AuditKey:
    key = session.info.get("audit_key")
    if not isinstance(key, AuditKey):
        raise ConfigError("session has no audit key; open it through CasesDatabase")
    return key


def settings_of(session: Session) -> CaseSettings:
    settings = session.info.get("settings")
    return settings if isinstance(settings, CaseSettings) else CaseSettings()


def today_or(today: date | None) -> date:
    return today or utc_now().date()


def record(
    session: Session,
    *,
    actor: Actor,
    event_code: str,
    object_type: str,
    object_id: str | int | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    reason: str | None = None,
    old_values: Mapping[str, Any] | None = None,
    new_values: Mapping[str, Any] | None = None,
) -> None:
    """Add an audit entry to the caller's transaction, written at commit (fail closed)."""
    queue_entry(
        session,
        key=audit_key(session),
        actor=actor,
        event_code=event_code,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        reason=reason,
        old_values=old_values,
        new_values=new_values,
    )


def record_after_rollback(
    session: Session,
    *,
    actor: Actor,
    event_code: str,
    object_type: str,
    object_id: str | int | None,
    outcome: Outcome,
    reason: str,
) -> None:
    """Note a refused or denied attempt; it is written even if the transaction rolls back.

    `CasesDatabase.session()` writes these after a rollback in a transaction of their own,
    or before the commit when the caller handled the error.
    """
    event: dict[str, Any] = {
        "actor": actor,
        "event_code": event_code,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "outcome": outcome,
        "reason": reason,
    }
    pending = session.info.get(PENDING_EVENTS)
    if isinstance(pending, list):
        pending.append(event)
    else:
        append_entry(session, key=audit_key(session), **event)


def require_roles(
    session: Session, actor: Actor, roles: frozenset[Role], *, what: str, system_ok: bool = False
) -> None:
    """Refuse (and audit the refusal) unless the actor holds one of the roles."""
    if actor.has_role(*roles) or (system_ok and actor.is_system):
        return
    record_after_rollback(
        session,
        actor=actor,
        event_code="PERMISSION_DENIED",
        object_type="operation",
        object_id=what,
        outcome=Outcome.DENIED,
        reason=f"role {actor.role} may not {what}",
    )
    raise PermissionDenied(f"role '{actor.role}' may not {what}")


def require_case_reader(session: Session, actor: Actor, *, what: str) -> None:
    require_roles(session, actor, CASE_READER_ROLES, what=what, system_ok=True)


def in_jurisdiction(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: the household lies within the actor's jurisdiction (AC-03)."""
    return Household.region_code.startswith(actor.jurisdiction, autoescape=True)


def deny_not_found(session: Session, actor: Actor, object_type: str, object_id: object) -> None:
    """Audit an access outside the jurisdiction and answer as if the record did not exist."""
    record_after_rollback(
        session,
        actor=actor,
        event_code="ACCESS_DENIED",
        object_type=object_type,
        object_id=str(object_id),
        outcome=Outcome.DENIED,
        reason="outside the actor's jurisdiction",
    )
    raise NotFound(f"{object_type} {object_id} not found")


def load_case(session: Session, actor: Actor, case_id: int, *, for_update: bool) -> Case:
    """A case by id, within the actor's jurisdiction (else NotFound, audited).

    With `for_update`, the row is locked until the transaction ends, so the version check
    that follows sees the current version on PostgreSQL (SQLite serialises writers anyway).
    """
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = session.execute(query).scalar_one_or_none()
    if case is None:
        raise NotFound(f"case {case_id} not found")
    if not actor.covers(case.household.region_code):
        deny_not_found(session, actor, "case", case_id)
    return case


def check_version(case: Case, expected_version: int) -> None:
    """Optimistic locking: refuse when the caller edited an older version."""
    if case.version != expected_version:
        raise ConflictError(
            f"case {case.id} was changed by someone else: you edited version "
            f"{expected_version}, the current version is {case.version}; reload and retry"
        )


def touch(case: Case) -> None:
    """Mark the case changed so its version goes up with this transaction."""
    case.updated_at = utc_now()
