"""Request dependencies: the clock, the database, the signed-in user, permissions, CSRF.

`require(permission)` is the one way a route states what it needs (AC-02); the
route-inventory test finds it on every route that is not public. Pages answer an anonymous
request with a redirect to the sign-in page, the API with 401.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.db import CasesDatabase
from dixian.cases.models import User
from dixian.web.auditbatch import AuditBatcher
from dixian.web.auth import RequestContext, peek_session, resolve_session
from dixian.web.permissions import Permission, has_permission
from dixian.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRE_SESSION_CSRF_COOKIE,
    SAFE_METHODS,
    client_ip,
    csrf_token_for,
    origin_is_foreign,
    tokens_match,
)
from dixian.web.settings import WebSettings

# Record ids in paths: database integers, bounded so that no value overflows a column.
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]

# Paths a user who must change the password may still reach.
_PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


class NotSignedIn(Exception):
    """Raised by `current_user` without a live session; pages redirect, the API answers 401."""


class MustChangePassword(Exception):
    """The password has expired or was set by an administrator: change it first."""


def now(request: Request) -> datetime:
    """The current time from the app's clock (tests freeze it)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def settings_of(request: Request) -> WebSettings:
    """The app's settings."""
    settings: WebSettings = request.app.state.settings
    return settings


def database(request: Request) -> CasesDatabase:
    """The case database of the app's workspace."""
    db: CasesDatabase = request.app.state.db
    return db


@contextmanager
def db_session(request: Request) -> Iterator[Session]:
    """One case-database transaction for this request.

    On SQLite every transaction takes the database's write lock (`BEGIN IMMEDIATE`), and a
    waiting connection polls with growing sleeps; the threads of one process therefore queue
    on a lock of their own first, which turns those sleeps into an orderly wait (bench_web).
    """
    lock: threading.RLock | None = request.app.state.db_lock
    with lock or nullcontext(), database(request).session() as session:
        yield session


@contextmanager
def read_session(request: Request) -> Iterator[Session]:
    """One read-only case-database transaction for this request (pages that only read).

    It takes no write lock; the audit entries it queues (reads of personal data, denials)
    are committed through the app's group commit before the block ends, so the response
    leaves only after its audit entry is durable. Never open it inside `db_session`.
    """
    batcher: AuditBatcher = request.app.state.audit_batcher
    with database(request).read_session(audit_sink=batcher.write) as session:
        yield session


def request_context(request: Request) -> RequestContext:
    """Client address and request id for the audit ledger."""
    return RequestContext(
        ip=client_ip(request, settings_of(request)),
        request_id=getattr(request.state, "request_id", None),
    )


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def session_token(request: Request) -> tuple[str | None, bool]:
    """The session token and whether it came as a bearer token (machine clients)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), True
    return request.cookies.get(settings_of(request).session_cookie_name), False


def optional_user(request: Request) -> User | None:
    """The signed-in user, or None; also sets `request.state.user` and the CSRF token."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    token, bearer = session_token(request)
    user: User | None = None
    if token:
        settings = settings_of(request)
        at = now(request)
        # Most requests only read the session; an expiry or a last-seen update writes.
        with read_session(request) as session:
            state, must_write = peek_session(session, token=token, settings=settings, now=at)
        if must_write:
            with db_session(request) as session:
                state = resolve_session(session, token=token, settings=settings, now=at)
        if state is not None:
            user = state.user
            request.state.token_hash = state.web_session.token_hash
        request.state.bearer = bearer
        if user is not None:
            request.state.csrf_token = csrf_token_for(token)
    request.state.user = user
    return user


def current_user(request: Request) -> User:
    """The signed-in user; raises NotSignedIn otherwise."""
    user = optional_user(request)
    if user is None:
        raise NotSignedIn()
    if user.must_change_password and request.url.path not in _PASSWORD_CHANGE_PATHS:
        raise MustChangePassword()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def verify_csrf(request: Request, form: dict[str, Any] | None = None) -> None:
    """Refuse a state-changing request without the session's CSRF token (WEB-02).

    Bearer-token API clients are exempt: the browser never sends that header by itself.
    """
    if request.method in SAFE_METHODS:
        return
    if origin_is_foreign(request):
        raise HTTPException(status_code=403, detail="csrf")
    if getattr(request.state, "bearer", False):
        return
    given = request.headers.get(CSRF_HEADER) or (form or {}).get(CSRF_FIELD)
    expected = getattr(request.state, "csrf_token", None)
    if expected is None:
        # Before sign-in: double-submit cookie set when the form was shown.
        expected = request.cookies.get(PRE_SESSION_CSRF_COOKIE)
    if not expected or not tokens_match(expected, given if isinstance(given, str) else None):
        raise HTTPException(status_code=403, detail="csrf")


def require(permission: Permission) -> Callable[..., Any]:
    """A dependency that admits only users whose role holds `permission`.

    Unsafe methods are CSRF-checked here as well, after the session is known.
    """

    async def dependency(request: Request, user: CurrentUser) -> User:
        if request.method not in SAFE_METHODS:
            form = None
            content_type = request.headers.get("content-type", "")
            if not request.headers.get(CSRF_HEADER) and (
                content_type.startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")
                )
            ):
                form = dict(await request.form(max_files=0, max_fields=200))
            verify_csrf(request, form)
        if not has_permission(user.role, permission):
            raise HTTPException(status_code=403, detail="forbidden")
        return user

    dependency.required_permission = permission  # type: ignore[attr-defined]
    return dependency


def actor_for(request: Request, user: User) -> Actor:
    """The service-layer actor of a request."""
    ctx = request_context(request)
    return Actor.from_user(user, source_ip=ctx.ip, request_id=ctx.request_id)
