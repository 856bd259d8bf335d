"""Sign-in, lock-out, second factor and password change (AUTH-01..03, AUTH-05, AUTH-07).

Every outcome writes an audit entry in the same transaction as the account change
(`dixian.cases.audit.append_entry`), so if the ledger cannot be written, the sign-in and
its bookkeeping roll back together (fail closed, AUD-04). The caller owns the transaction
and must commit it even when sign-in fails, so that failure counters and lock-outs persist.

The user gets one message for unknown user, wrong password, wrong code, disabled and locked
accounts; the reason is kept only in the audit ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dixian.cases import service
from dixian.cases.actor import Actor
from dixian.cases.enums import Outcome
from dixian.cases.models import User, WebSession
from dixian.web.passwords import PasswordPolicy, verify_password

# Sessions live in `dixian.web.sessions`; they are named here too, where callers found them.
from dixian.web.sessions import (
    SessionState,
    create_session,
    end_all_sessions,
    end_session,
    hash_token,
    peek_session,
    resolve_session,
)
from dixian.web.settings import WebSettings
from dixian.web.totp import accept_totp

# The web code's name for an audit entry appended in the caller's transaction (fail closed).
audit = service.record_event

__all__ = [
    "LoginFailure",
    "LoginResult",
    "RequestContext",
    "SessionState",
    "audit",
    "change_password",
    "context_words",
    "create_session",
    "end_all_sessions",
    "end_session",
    "find_user",
    "hash_token",
    "peek_session",
    "resolve_session",
    "sign_in",
]


class LoginFailure(StrEnum):
    """Why a sign-in failed (for the ledger only; the user sees one generic message)."""

    UNKNOWN_USER = "unknown_user"
    BAD_PASSWORD = "bad_password"  # noqa: S105 - a reason code, not a password
    LOCKED = "locked"
    DISABLED = "disabled"
    MFA_MISSING = "mfa_missing"
    MFA_BAD = "mfa_bad"
    MFA_NOT_ENROLLED = "mfa_not_enrolled"


@dataclass(frozen=True)
class LoginResult:
    """The outcome of `sign_in`."""

    user: User | None
    token: str | None = None
    failure: LoginFailure | None = None
    must_change_password: bool = False

    @property
    def ok(self) -> bool:
        return self.failure is None and self.token is not None


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from, for the ledger."""

    ip: str
    request_id: str | None


def _actor(user: User | None, username: str, ctx: RequestContext) -> Actor:
    if user is None:
        return Actor(
            user_id=None,
            username=f"anonymous:{username[:40]}",
            role="anonymous",
            jurisdiction="",
            source_ip=ctx.ip,
            request_id=ctx.request_id,
        )
    return Actor.from_user(user, source_ip=ctx.ip, request_id=ctx.request_id)


def find_user(session: Session, username: str) -> User | None:
    """The user with this name after NFKC + case folding (AUTH-01)."""
    return service.get_user(session, username=username)


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    settings: WebSettings,
    now: datetime,
    ctx: RequestContext,
) -> LoginResult:
    """Check credentials and second factor, keep the lock-out counters, open a session.

    Args:
        session: a case-database session (the caller commits, also on failure).
        username: as typed.
        password: as typed.
        totp_code: the 6-digit code, required when the second factor is on.
        settings: lock-out, MFA and session settings.
        now: the current time (timezone-aware).
        ctx: client address and request id for the ledger.

    Returns:
        A result with the new session token, or the (ledger-only) reason for failure.
    """
    user = find_user(session, username)
    # Always verify a hash, even for unknown users, so response time does not tell them apart.
    matches, new_hash = verify_password(user.password_hash if user else None, password)
    failure: LoginFailure | None = None
    if user is None:
        failure = LoginFailure.UNKNOWN_USER
    elif user.disabled:
        failure = LoginFailure.DISABLED
    elif user.locked_until is not None and user.locked_until > now:
        failure = LoginFailure.LOCKED
    elif not matches:
        failure = LoginFailure.BAD_PASSWORD
    elif settings.mfa_required:
        failure = _check_second_factor(user, totp_code, now=now)
    if failure is not None:
        _record_failure(session, user, username, failure, settings=settings, now=now, ctx=ctx)
        return LoginResult(user=None, failure=failure)
    assert user is not None
    if new_hash is not None:
        user.password_hash = new_hash
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    token = create_session(session, user=user, settings=settings, now=now, ip=ctx.ip)
    policy = PasswordPolicy.from_settings(settings)
    if policy.is_expired(user.password_changed_at, now=now):
        # Persisted, so that every page (not only this redirect) insists on the change.
        user.must_change_password = True
    must_change = user.must_change_password
    audit(
        session,
        actor=_actor(user, username, ctx),
        event_code="LOGIN_SUCCEEDED",
        object_type="user",
        object_id=user.id,
        new_values={"mfa": settings.mfa_required, "must_change_password": must_change},
    )
    return LoginResult(user=user, token=token, must_change_password=must_change)


def _check_second_factor(user: User, code: str | None, *, now: datetime) -> LoginFailure | None:
    if not user.totp_secret:
        return LoginFailure.MFA_NOT_ENROLLED
    if not code:
        return LoginFailure.MFA_MISSING
    step = accept_totp(user.totp_secret, code, last_step=user.totp_last_step, now=now)
    if step is None:
        return LoginFailure.MFA_BAD
    user.totp_last_step = step
    user.mfa_enabled = True
    return None


def _record_failure(
    session: Session,
    user: User | None,
    username: str,
    failure: LoginFailure,
    *,
    settings: WebSettings,
    now: datetime,
    ctx: RequestContext,
) -> None:
    locked_now = False
    if user is not None and failure not in (LoginFailure.DISABLED, LoginFailure.LOCKED):
        user.failed_login_count = (user.failed_login_count or 0) + 1
        if user.failed_login_count >= settings.lockout_threshold:
            user.locked_until = now + timedelta(seconds=settings.lockout_seconds)
            user.failed_login_count = 0
            locked_now = True
    actor = _actor(user, username, ctx)
    audit(
        session,
        actor=actor,
        event_code="MFA_FAILED" if failure.name.startswith("MFA") else "LOGIN_FAILED",
        object_type="user",
        object_id=user.id if user else None,
        outcome=Outcome.FAILURE,
        reason=failure.value,
    )
    if locked_now and user is not None:
        audit(
            session,
            actor=actor,
            event_code="ACCOUNT_LOCKED",
            object_type="user",
            object_id=user.id,
            new_values={
                "locked_until": user.locked_until.isoformat() if user.locked_until else None
            },
        )


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    settings: WebSettings,
    now: datetime,
    ctx: RequestContext,
    keep_token_hash: str | None = None,
    context_words: tuple[str, ...] = (),
) -> list[str]:
    """Change a user's own password after re-checking the current one (step-up, AUTH-05).

    `context_words` are names an attacker would try first (system, county, its pinyin).

    Returns:
        Message keys of the problems (empty on success). On success every other session of
        the user is ended.
    """
    from dixian.web.passwords import hash_password, password_problems

    matches, _ = verify_password(user.password_hash, current_password)
    if not matches:
        audit(
            session,
            actor=Actor.from_user(user, source_ip=ctx.ip, request_id=ctx.request_id),
            event_code="PASSWORD_CHANGE_FAILED",
            object_type="user",
            object_id=user.id,
            outcome=Outcome.FAILURE,
            reason="current password wrong",
        )
        return ["password.current_wrong"]
    policy = PasswordPolicy.from_settings(settings, context_words=context_words)
    history = tuple(
        ([user.password_hash] if user.password_hash else []) + list(user.password_history or [])
    )
    problems = password_problems(
        new_password, policy=policy, username=user.username, previous_hashes=history
    )
    if problems:
        return problems
    user.password_history = list(history[: max(policy.history - 1, 0)])
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = False
    others = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_token_hash is not None:
        others = others.where(WebSession.token_hash != keep_token_hash)
    session.execute(others)
    audit(
        session,
        actor=Actor.from_user(user, source_ip=ctx.ip, request_id=ctx.request_id),
        event_code="PASSWORD_CHANGED",
        object_type="user",
        object_id=user.id,
    )
    return []


def context_words(*names: str) -> tuple[str, ...]:
    """The system's and the county's names, with the pinyin of Chinese names (AUTH-02)."""
    from pypinyin import lazy_pinyin

    words = {"dixian", "底线"}
    for name in names:
        if not name:
            continue
        words.add(name)
        if any("\u4e00" <= ch <= "\u9fff" for ch in name):
            words.add("".join(lazy_pinyin(name)))
    return tuple(sorted(w for w in words if len(w) >= 3 or any(ord(c) > 0x2E80 for c in w)))
