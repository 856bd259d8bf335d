"""The audit ledger as a service: query (audit admin only), verify, purge (AUD-03..06)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.chain import PurgeResult, VerifyResult, purge_expired, verify_chain
from dixian.cases.enums import Outcome, Role
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.service._common import audit_key, record, require_roles, settings_of

_AUDITORS = frozenset({Role.AUDIT_ADMIN})


def query_audit_log(
    session: Session,
    *,
    actor: Actor,
    event_code: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Ledger entries, newest first; only the audit admin may read them, and reading is logged."""
    require_roles(session, actor, _AUDITORS, what="read the audit log", system_ok=True)
    query = select(AuditEntry)
    if event_code:
        query = query.where(AuditEntry.event_code == event_code)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if since is not None:
        query = query.where(AuditEntry.ts >= since)
    limit = max(1, min(limit, 1000))
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)))
    record(
        session, actor=actor, event_code="AUDIT_QUERIED", object_type="audit_log",
        new_values={"event_code": event_code, "object_type": object_type,
                    "object_id": object_id, "since": since, "rows": len(rows)},
    )  # fmt: skip
    return rows


def verify_audit_chain(session: Session, *, actor: Actor) -> VerifyResult:
    """Verify the whole chain and record that it was verified, with the outcome."""
    require_roles(session, actor, _AUDITORS, what="verify the audit log", system_ok=True)
    result = verify_chain(session, key=audit_key(session))
    record(
        session, actor=actor, event_code="AUDIT_VERIFIED", object_type="audit_log",
        outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE, reason=result.problem,
        new_values={"entries": result.entries_checked, "first_bad_seq": result.first_bad_seq},
    )  # fmt: skip
    return result


def purge_audit_log(session: Session, *, actor: Actor, now: datetime | None = None) -> PurgeResult:
    """Remove entries older than the configured retention (≥ 184 days); the purge is logged."""
    require_roles(session, actor, _AUDITORS, what="purge the audit log", system_ok=True)
    return purge_expired(
        session,
        key=audit_key(session),
        actor=actor,
        retention_days=settings_of(session).audit_retention_days,
        now=now,
    )
