"""Tables of the audit ledger (审计台账): entries, the chain head, and purge records.

The ledger is append-only: database triggers refuse UPDATE and DELETE of entries (except a
purge of entries older than the legal floor, see `dixian.cases.audit`), and on PostgreSQL
the application's role has no UPDATE/DELETE grant on them either.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dixian.cases.models import Base

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One ledger entry: who did what to which record, when, from where and why."""

    __tablename__ = "audit_log"

    # Assigned by the ledger from the chain head, not by the database, so it has no gaps.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_region: Mapped[str] = mapped_column(String(12))
    source_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    event_code: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Canonical JSON text, kept verbatim so that the MAC can be recomputed byte for byte.
    old_values: Mapped[str | None] = mapped_column(Text, default=None)
    new_values: Mapped[str | None] = mapped_column(Text, default=None)
    key_id: Mapped[str] = mapped_column(String(16))
    algorithm: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The single row holding the last sequence number and hash; locked by each appender.

    Its MAC lets `verify` tell a truncated tail from a short but complete ledger.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), default=None)


class AuditPurge(Base):
    """A record of one retention purge: entries up to `through_seq` were removed."""

    __tablename__ = "audit_purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    through_seq: Mapped[int] = mapped_column(BigInteger)
    # Hash of the last purged entry: the first remaining entry's prev_hash must equal it.
    anchor_hash: Mapped[str] = mapped_column(String(64))
    cutoff: Mapped[datetime]
    purged_at: Mapped[datetime]
    deleted_count: Mapped[int] = mapped_column(BigInteger)
    mac: Mapped[str] = mapped_column(String(64))
