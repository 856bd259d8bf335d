"""Checking and trimming the audit ledger: chain verification and the retention purge.

See `dixian.cases.audit` for how entries are made; this module recomputes their MACs and
links, and removes entries past the retention period while keeping the chain checkable.
"""

from __future__ import annotations

import hmac as std_hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.audit import (
    MIN_RETENTION_DAYS,
    AuditKey,
    append_entry,
    entry_payload,
    head_payload,
    purge_payload,
)
from dixian.cases.ledger_models import GENESIS_HASH, AuditChainHead, AuditEntry, AuditPurge
from dixian.cases.models import utc_now
from dixian.errors import PermissionDenied


@dataclass(frozen=True)
class VerifyResult:
    """What `verify_chain` found: the entries checked and the first bad one, if any."""

    entries_checked: int
    first_seq: int | None
    last_seq: int | None
    first_bad_seq: int | None = None
    problem: str | None = None
    # Hash of the last entry: write it down outside the database (a daily report, a
    # printout) and a later verify proves that nothing before it was rewritten, even by
    # someone holding the key.
    head_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(session: Session, *, key: AuditKey) -> VerifyResult:
    """Check every entry's MAC and link, the start against purges, the end against the head.

    Returns:
        The result; `first_bad_seq` names the first entry that was modified, follows a
        deleted entry, is out of order, or (for truncation) the first missing sequence number.
    """
    purges = {p.through_seq: p for p in session.scalars(select(AuditPurge))}
    head = session.get(AuditChainHead, 1)
    checked = 0
    first_seq: int | None = None
    previous: AuditEntry | None = None
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    )
    for entry in rows.scalars():
        checked += 1
        problem = _check_entry(entry, previous, key=key, purges=purges)
        if first_seq is None:
            first_seq = entry.seq
        if problem is not None:
            return VerifyResult(checked, first_seq, entry.seq, entry.seq, problem)
        previous = entry
    last_seq = previous.seq if previous is not None else None
    problem, bad = _check_head(head, previous, key=key, purges=purges)
    head_hash = previous.hash if previous is not None and problem is None else None
    return VerifyResult(checked, first_seq, last_seq, bad, problem, head_hash)


def _check_entry(
    entry: AuditEntry,
    previous: AuditEntry | None,
    *,
    key: AuditKey,
    purges: Mapping[int, AuditPurge],
) -> str | None:
    expected = key.mac(entry_payload(entry))
    if not std_hmac.compare_digest(expected, entry.hash):
        return f"entry {entry.seq}: content does not match its MAC (modified or moved)"
    if previous is None:
        if entry.seq == 1:
            return None if entry.prev_hash == GENESIS_HASH else "entry 1: bad genesis link"
        purge = purges.get(entry.seq - 1)
        if purge is None or not std_hmac.compare_digest(key.mac(purge_payload(purge)), purge.mac):
            return (
                f"entry {entry.seq}: entries 1..{entry.seq - 1} are missing "
                "and no purge covers them"
            )
        if purge.anchor_hash != entry.prev_hash:
            return f"entry {entry.seq}: does not link to the last purged entry"
        return None
    if entry.seq != previous.seq + 1:
        return (
            f"entry {entry.seq}: entries {previous.seq + 1}..{entry.seq - 1} are missing (deleted)"
        )
    if entry.prev_hash != previous.hash:
        return f"entry {entry.seq}: does not link to entry {previous.seq} (reordered or replaced)"
    return None


def _check_head(
    head: AuditChainHead | None,
    last: AuditEntry | None,
    *,
    key: AuditKey,
    purges: Mapping[int, AuditPurge],
) -> tuple[str | None, int | None]:
    if head is None:
        return "the chain head is missing", None
    if head.last_seq == 0 and head.mac is None and last is None and not purges:
        return None, None
    if head.mac is None or not std_hmac.compare_digest(
        key.mac(head_payload(head.last_seq, head.last_hash)), head.mac
    ):
        return "the chain head does not match its MAC (modified)", None
    last_seq = last.seq if last is not None else max(purges, default=0)
    if head.last_seq > last_seq:
        return (
            f"entries {last_seq + 1}..{head.last_seq} are missing at the end (truncated)",
            last_seq + 1,
        )
    if last is None or head.last_hash != last.hash:
        return f"entry {last_seq}: is not the entry the chain head records", last_seq
    return None, None


@dataclass(frozen=True)
class PurgeResult:
    """What a retention purge removed."""

    deleted: int
    through_seq: int | None
    cutoff: datetime


def purge_expired(
    session: Session,
    *,
    key: AuditKey,
    actor: Actor,
    retention_days: int,
    now: datetime | None = None,
) -> PurgeResult:
    """Delete entries older than the retention period and record the purge in the ledger.

    Raises:
        PermissionDenied: a retention below the legal floor of 184 days.
    """
    if retention_days < MIN_RETENTION_DAYS:
        raise PermissionDenied(
            f"audit retention of {retention_days} days is below the legal floor of "
            f"{MIN_RETENTION_DAYS} days"
        )
    now = now or utc_now()
    cutoff = now - timedelta(days=retention_days)
    through = session.scalar(select(func.max(AuditEntry.seq)).where(AuditEntry.ts < cutoff))
    if through is None:
        append_entry(
            session, key=key, actor=actor, event_code="AUDIT_PURGED", object_type="audit_log",
            new_values={"deleted": 0, "cutoff": cutoff, "retention_days": retention_days},
        )  # fmt: skip
        return PurgeResult(0, None, cutoff)
    anchor = session.get_one(AuditEntry, through)
    count = (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= through)
        )
        or 0
    )
    append_entry(
        session, key=key, actor=actor, event_code="AUDIT_PURGED", object_type="audit_log",
        new_values={"deleted": count, "through_seq": through, "anchor_hash": anchor.hash,
                    "cutoff": cutoff, "retention_days": retention_days},
    )  # fmt: skip
    purge = AuditPurge(
        through_seq=through,
        anchor_hash=anchor.hash,
        cutoff=cutoff,
        purged_at=now,
        deleted_count=count,
        mac="",
    )
    purge.mac = key.mac(purge_payload(purge))
    session.add(purge)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # The app role has no DELETE grant: a SECURITY DEFINER function owned by the
        # migration role deletes, and the trigger still refuses anything too young.
        session.execute(text("SELECT dixian_audit_purge(:through)"), {"through": through})
    else:
        session.execute(text("DELETE FROM audit_log WHERE seq <= :through"), {"through": through})
    return PurgeResult(count, through, cutoff)
