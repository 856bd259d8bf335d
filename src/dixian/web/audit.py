"""Audit entries written in the caller's transaction, through the case service.

Sign-in, sessions, accounts and the pages that change or reveal something append their
entry in the same transaction as the change: if the ledger cannot be written, the change
rolls back with it (fail closed, AUD-04).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dixian.cases import service
from dixian.cases.actor import Actor
from dixian.cases.enums import Outcome


def audit(
    session: Session,
    *,
    actor: Actor,
    event_code: str,
    object_type: str,
    object_id: str | int | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    reason: str | None = None,
    new_values: dict[str, object] | None = None,
) -> None:
    """Append an audit entry in the caller's transaction through the case service (fail closed)."""
    service.record_event(
        session,
        actor=actor,
        event_code=event_code,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        reason=reason,
        new_values=new_values,
    )
