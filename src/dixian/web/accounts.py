"""Issuing accounts: a one-time password and a TOTP secret, shown once to the administrator.

The first password is random and must be changed at the first sign-in (AC-05: no default
passwords); the TOTP secret is enrolled in the user's authenticator app from the
otpauth:// URI. Account creation goes through `dixian.cases.service.create_user`; the
credential fields it does not set are filled here in the same transaction, with an audit
entry, so a failure leaves no half-made account.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dixian.cases import service
from dixian.cases.actor import Actor
from dixian.cases.enums import Role
from dixian.errors import NotFound
from dixian.web.auth import audit, end_all_sessions
from dixian.web.passwords import hash_password
from dixian.web.settings import WebSettings
from dixian.web.totp import new_totp_secret, provisioning_uri

_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class IssuedCredentials:
    """What the administrator hands to the new user, once."""

    username: str
    one_time_password: str
    totp_secret: str
    totp_uri: str


def one_time_password() -> str:
    """A random 16-character password with all four character classes."""
    while True:
        body = "".join(secrets.choice(_ALPHABET) for _ in range(14))
        candidate = body + secrets.choice("!@#%^*-_") + secrets.choice(string.digits)
        if any(c.islower() for c in candidate) and any(c.isupper() for c in candidate):
            return candidate


def _credentials(username: str, settings: WebSettings) -> tuple[str, str, IssuedCredentials]:
    password = one_time_password()
    secret = new_totp_secret()
    issued = IssuedCredentials(
        username=username,
        one_time_password=password,
        totp_secret=secret,
        totp_uri=provisioning_uri(secret, username=username, issuer=settings.totp_issuer),
    )
    return hash_password(password), secret, issued


def issue_account(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role,
    jurisdiction: str,
    settings: WebSettings,
    password: str | None = None,
) -> IssuedCredentials:
    """Create an account with a one-time password (or the given one) and a TOTP secret.

    A given password (demo set-up only) is still one the user must change at first sign-in
    unless the environment is demo.
    """
    password_hash, secret, issued = _credentials(username, settings)
    if password is not None:
        password_hash = hash_password(password)
        issued = IssuedCredentials(issued.username, password, issued.totp_secret, issued.totp_uri)
    user = service.create_user(
        session,
        actor=actor,
        username=username,
        display_name=display_name,
        role=role,
        jurisdiction=jurisdiction,
        password_hash=password_hash,
    )
    user.totp_secret = secret
    user.must_change_password = not (password is not None and settings.env == "demo")
    if not user.must_change_password:
        from dixian.cases.models import utc_now

        user.password_changed_at = utc_now()
    audit(
        session,
        actor=actor,
        event_code="CREDENTIALS_ISSUED",
        object_type="user",
        object_id=user.id,
        new_values={"totp": True, "must_change_password": user.must_change_password},
    )
    return IssuedCredentials(user.username, issued.one_time_password, secret, issued.totp_uri)


def reset_password(
    session: Session, *, actor: Actor, username: str, settings: WebSettings
) -> IssuedCredentials:
    """Give a user a new one-time password and TOTP secret; end their sessions, unlock them."""
    if not (actor.is_system or actor.has_role(Role.SYSTEM_ADMIN)):
        from dixian.errors import PermissionDenied

        raise PermissionDenied(f"role '{actor.role}' may not reset passwords")
    user = service.get_user(session, username=username)
    if user is None:
        raise NotFound(f"user '{username}' not found")
    password_hash, secret, issued = _credentials(user.username, settings)
    history = ([user.password_hash] if user.password_hash else []) + list(
        user.password_history or []
    )
    user.password_history = history[: max(settings.password_history - 1, 0)]
    user.password_hash = password_hash
    user.must_change_password = True
    user.totp_secret = secret
    user.totp_last_step = None
    user.failed_login_count = 0
    user.locked_until = None
    ended = end_all_sessions(session, user_id=user.id)
    audit(
        session,
        actor=actor,
        event_code="PASSWORD_RESET",
        object_type="user",
        object_id=user.id,
        new_values={"sessions_ended": ended},
    )
    return issued


def disable_stale_accounts(
    session: Session, *, actor: Actor, days: int, now: datetime
) -> list[str]:
    """Disable accounts not used for `days` days (AC-05); returns their user names.

    An account that never signed in counts from its creation. Each disabling goes through
    `dixian.cases.service.set_user_disabled` (sessions ended, audited).
    """
    from sqlalchemy import func, select

    from dixian.cases.models import User

    cutoff = now - timedelta(days=days)
    last_used = func.coalesce(User.last_login_at, User.created_at)
    names = list(
        session.scalars(select(User.username).where(User.disabled.is_(False), last_used < cutoff))
    )
    for name in names:
        service.set_user_disabled(session, actor=actor, username=name, disabled=True)
    return names
