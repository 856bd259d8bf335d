"""Server-side sessions: opened at sign-in, looked up on every request, ended (AUTH-04).

The browser holds a random token; the database holds only its SHA-256, the user, the
creation, last-seen and absolute expiry times. A session ends when it has been idle too
long, reaches its absolute lifetime, or its user is disabled; ending one deletes it and
writes an audit entry in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, delete, select
from sqlalchemy.orm import Session, joinedload

from dixian.cases import service
from dixian.cases.actor import Actor
from dixian.cases.models import User, WebSession
from dixian.web.settings import WebSettings

# Refreshing last_seen_at on every request would make each page a write; a short grace keeps
# the idle timeout accurate to within this many seconds.
_LAST_SEEN_GRANULARITY = timedelta(seconds=15)


def hash_token(token: str) -> str:
    """Only this SHA-256 of a session token is stored, so a database leak yields no sessions."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_session(
    session: Session, *, user: User, settings: WebSettings, now: datetime, ip: str | None
) -> str:
    """Open a server-side session and return its token (≥ 256 bits from the OS CSPRNG)."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.session_absolute_seconds),
            ip=ip,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class SessionState:
    """A live session and its user."""

    user: User
    web_session: WebSession


# Built once: every request looks its session up, and a prebuilt statement skips building
# and hashing the statement (with its joined-load option) to find the compiled SQL.
_SESSION_BY_HASH = (
    select(WebSession)
    .where(WebSession.token_hash == bindparam("token_hash", type_=String))
    .options(joinedload(WebSession.user))
)


def _find_session(session: Session, token: str) -> WebSession | None:
    if not token or len(token) > 128:
        return None
    found: WebSession | None = session.scalar(_SESSION_BY_HASH, {"token_hash": hash_token(token)})
    return found


def _ended_because(web_session: WebSession, settings: WebSettings, now: datetime) -> str | None:
    """Why a session is over (disabled, idle, absolute), or None while it is live."""
    if web_session.user.disabled:
        return "disabled"
    if now - web_session.last_seen_at > timedelta(seconds=settings.session_idle_seconds):
        return "idle"
    if now >= web_session.expires_at:
        return "absolute"
    return None


def peek_session(
    session: Session, *, token: str, settings: WebSettings, now: datetime
) -> tuple[SessionState | None, bool]:
    """The live session of a token, read only, and whether `resolve_session` must run.

    It must when the session is over (to delete it and audit the expiry) or when its
    last-seen time is due to move; otherwise nothing needs writing.
    """
    web_session = _find_session(session, token)
    if web_session is None:
        return None, False
    if _ended_because(web_session, settings, now) is not None:
        return None, True
    state = SessionState(user=web_session.user, web_session=web_session)
    return state, now - web_session.last_seen_at >= _LAST_SEEN_GRANULARITY


def resolve_session(
    session: Session, *, token: str, settings: WebSettings, now: datetime
) -> SessionState | None:
    """The live session of a token, or None; expired, idle and disabled sessions are deleted."""
    web_session = _find_session(session, token)
    if web_session is None:
        return None
    user = web_session.user
    reason = _ended_because(web_session, settings, now)
    if reason is not None:
        service.record_event(
            session,
            actor=Actor.from_user(user, source_ip=web_session.ip),
            event_code="SESSION_EXPIRED",
            object_type="web_session",
            object_id=web_session.id,
            reason=reason,
        )
        session.delete(web_session)
        session.flush()
        return None
    if now - web_session.last_seen_at >= _LAST_SEEN_GRANULARITY:
        web_session.last_seen_at = now
    return SessionState(user=user, web_session=web_session)


def end_session(session: Session, *, token: str, actor: Actor, now: datetime) -> bool:
    """Delete the session of a token (sign-out); True when one existed."""
    web_session = session.scalar(
        select(WebSession).where(WebSession.token_hash == hash_token(token))
    )
    if web_session is None:
        return False
    service.record_event(
        session,
        actor=actor,
        event_code="LOGOUT",
        object_type="web_session",
        object_id=web_session.id,
    )
    session.delete(web_session)
    session.flush()
    return True


def end_all_sessions(session: Session, *, user_id: int) -> int:
    """Delete every session of a user (account disabled, password reset, admin kill)."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
