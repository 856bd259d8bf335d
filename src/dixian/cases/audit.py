"""The audit ledger: append-only, hash-chained, keyed, verifiable (AUD-01..05).

Each entry stores `prev_hash` and `hash = HMAC-SM3(key, canonical_json(entry))`, where the
canonical JSON covers every column but `hash` (so also `seq` and `prev_hash`): editing,
deleting, reordering or truncating entries breaks the chain, and without the key nobody
can forge a consistent replacement. The key comes from the environment or a key file
outside the database, never from the database itself. SM3 (GB/T 32905) is the hash of the
Chinese commercial-cryptography standards; it is used through pyca/cryptography.

Appending locks the single chain-head row (`SELECT ... FOR UPDATE`), so concurrent
transactions append one at a time and the entry is part of the caller's transaction: if
the business change rolls back, so does its entry, and if the entry cannot be written,
the change fails (fail closed, AUD-04).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from sqlalchemy import select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.enums import Outcome
from dixian.cases.ledger_models import AuditChainHead, AuditEntry, AuditPurge
from dixian.cases.models import utc_now
from dixian.errors import ConfigError

AUDIT_KEY_ENV_VAR = "DIXIAN_AUDIT_KEY"
ALGORITHM = "hmac-sm3"
# Cybersecurity Law Art. 21(3) (Art. 23(3) after the 2025 amendment): logs kept ≥ 6 months;
# six calendar months can be 184 days, and the database triggers enforce the same floor.
MIN_RETENTION_DAYS = 184
_MIN_KEY_BYTES = 32
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{5})(\d{3}[0-9Xx]|\d{1})(?![0-9A-Za-z])")
_SENSITIVE_KEYS = frozenset({"id_number", "id_no", "bank_account", "phone"})


@dataclass(frozen=True)
class AuditKey:
    """The secret that keys the ledger's MACs, with a short public id for rotation."""

    secret: bytes

    @cached_property
    def key_id(self) -> str:
        digest = hashes.Hash(hashes.SM3())
        digest.update(b"dixian-audit-key-id:" + self.secret)
        return digest.finalize().hex()[:16]

    def mac(self, payload: bytes) -> str:
        """HMAC-SM3 of a payload, as hex."""
        mac = crypto_hmac.HMAC(self.secret, hashes.SM3())
        mac.update(payload)
        return mac.finalize().hex()


def audit_key_from_text(value: str) -> AuditKey:
    """Parse a key given as hex (≥ 64 hex digits) or as text of ≥ 32 bytes."""
    value = value.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64,}", value):
        secret = bytes.fromhex(value)
    else:
        secret = value.encode("utf-8")
    if len(secret) < _MIN_KEY_BYTES:
        raise ConfigError(
            f"{AUDIT_KEY_ENV_VAR}: the audit key must be at least {_MIN_KEY_BYTES} bytes"
        )
    return AuditKey(secret)


def audit_key_path(workspace_root: Path) -> Path:
    """Where the workspace keeps its audit key file when the environment gives none."""
    return workspace_root / ".secrets" / "audit.key"


def load_audit_key(workspace_root: Path, *, create: bool = False) -> AuditKey:
    """The audit key: $DIXIAN_AUDIT_KEY, else the workspace key file (created if asked).

    Raises:
        ConfigError: no key anywhere, or a key that is too short.
    """
    from_env = os.environ.get(AUDIT_KEY_ENV_VAR)
    if from_env:
        return audit_key_from_text(from_env)
    path = audit_key_path(workspace_root)
    if not path.exists():
        if not create:
            raise ConfigError(
                f"{path}: no audit key; set ${AUDIT_KEY_ENV_VAR} or run 'dixian db upgrade'"
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return audit_key_from_text(path.read_text(encoding="ascii"))


def mask_id_number(value: str) -> str:
    """Mask a resident ID number, keeping the first 6 and last 4 characters (PI-06)."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_values(value: Any, *, key: str | None = None) -> Any:
    """A copy of a JSON-like value with ID numbers and other direct identifiers masked."""
    if isinstance(value, Mapping):
        return {str(k): mask_values(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_values(item) for item in value]
    if isinstance(value, str):
        if key in _SENSITIVE_KEYS:
            return mask_id_number(value)
        return _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), value)
    return value


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text, dates as ISO strings."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "tolist"):  # numpy arrays and scalars from pandas frames
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def plain_json(value: Any) -> Any:
    """A copy made only of JSON types (numpy values, dates, enums converted; NaN → None).

    Evidence arrives from pandas; PostgreSQL's JSONB refuses NaN and json.dumps refuses
    numpy arrays, so both are normalised before storing.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return plain_json(_json_default(value))


def entry_payload(entry: AuditEntry) -> bytes:
    """The bytes an entry's MAC covers: canonical JSON of every column but `hash`."""
    fields = {
        "seq": entry.seq,
        "ts": entry.ts.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "actor_region": entry.actor_region,
        "source_ip": entry.source_ip,
        "request_id": entry.request_id,
        "event_code": entry.event_code,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "old_values": entry.old_values,
        "new_values": entry.new_values,
        "key_id": entry.key_id,
        "algorithm": entry.algorithm,
        "prev_hash": entry.prev_hash,
    }
    return canonical_json(fields).encode("utf-8")


def head_payload(last_seq: int, last_hash: str) -> bytes:
    """The bytes the chain head's MAC covers."""
    return canonical_json({"head": True, "last_seq": last_seq, "last_hash": last_hash}).encode()


def purge_payload(purge: AuditPurge) -> bytes:
    """The bytes a purge record's MAC covers."""
    return canonical_json(
        {
            "purge": True,
            "through_seq": purge.through_seq,
            "anchor_hash": purge.anchor_hash,
            "cutoff": purge.cutoff.isoformat(),
        }
    ).encode()


_HEAD_LOCK = "audit_head_lock"


def _lock_head(session: Session) -> AuditChainHead:
    # The row stays locked until this transaction ends, so within one transaction the
    # first lock's result stays current and later appends need not query it again.
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD_LOCK)
    if cached is not None and cached[0] is transaction:
        head: AuditChainHead = cached[1]
        return head
    head = _query_head(session)
    session.info[_HEAD_LOCK] = (transaction, head)
    return head


def _query_head(session: Session) -> AuditChainHead:
    head = session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise ConfigError("the case database has no audit chain head; run 'dixian db upgrade'")
    return head


def append_entry(
    session: Session,
    *,
    key: AuditKey,
    actor: Actor,
    event_code: str,
    object_type: str,
    object_id: str | int | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    reason: str | None = None,
    old_values: Mapping[str, Any] | None = None,
    new_values: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    flush: bool = True,
) -> AuditEntry:
    """Append one entry to the ledger inside the caller's transaction.

    Values are masked (no raw ID numbers) before they are stored.

    Returns:
        The new entry, with its sequence number and hash (flushed unless `flush=False`).
    """
    head = _lock_head(session)
    entry = AuditEntry(
        seq=head.last_seq + 1,
        ts=at or utc_now(),
        actor_id=actor.user_id,
        actor_name=actor.username,
        actor_role=actor.role,
        actor_region=actor.jurisdiction,
        source_ip=actor.source_ip,
        request_id=actor.request_id,
        event_code=event_code,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=str(outcome),
        reason=mask_values(reason) if reason is not None else None,
        old_values=None if old_values is None else canonical_json(mask_values(old_values)),
        new_values=None if new_values is None else canonical_json(mask_values(new_values)),
        key_id=key.key_id,
        algorithm=ALGORITHM,
        prev_hash=head.last_hash,
    )
    entry.hash = key.mac(entry_payload(entry))
    session.add(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    head.mac = key.mac(head_payload(entry.seq, entry.hash))
    if flush:
        session.flush()
    return entry


AUDIT_QUEUE = "audit_queue"


def queue_entry(session: Session, *, key: AuditKey, **entry: Any) -> None:
    """Queue an entry to be appended when the session commits (or append it now).

    Sessions from `CasesDatabase` carry a queue that `flush_queue` empties just before the
    commit, inside the same transaction: the chain head is then locked only at the end of
    the transaction, after any case rows the transaction locked, so lock order is always
    cases → head and concurrent transactions cannot deadlock; and it is held briefly.
    A session without a queue appends at once.
    """
    queue = session.info.get(AUDIT_QUEUE)
    if isinstance(queue, list):
        queue.append(entry)
    else:
        append_entry(session, key=key, **entry)


def flush_queue(session: Session, *, key: AuditKey) -> None:
    """Append every queued entry in order (called before commit; errors abort the commit)."""
    queue = session.info.get(AUDIT_QUEUE)
    if not isinstance(queue, list) or not queue:
        return
    while queue:
        append_entry(session, key=key, flush=False, **queue.pop(0))
    session.flush()


def discard_queue(session: Session) -> None:
    """Forget queued entries of work that was rolled back."""
    queue = session.info.get(AUDIT_QUEUE)
    if isinstance(queue, list):
        queue.clear()
