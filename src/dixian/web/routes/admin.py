"""Administration pages, kept apart by role (三员分立): accounts for the system admin, roles
and sessions for the security admin, the audit log for the audit admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from dixian.cases import service
from dixian.cases.enums import ADMIN_ROLES, Role
from dixian.cases.models import User, WebSession
from dixian.web.accounts import issue_account, reset_password
from dixian.web.auth import end_all_sessions
from dixian.web.deps import actor_for, db_session, now, require, settings_of
from dixian.web.permissions import Permission
from dixian.web.render import render_page

router = APIRouter()


def _users(session: object) -> list[dict[str, object]]:
    rows = session.execute(  # type: ignore[attr-defined]
        select(User, func.count(WebSession.id))
        .outerjoin(WebSession, WebSession.user_id == User.id)
        .group_by(User.id)
        .order_by(User.username)
    ).all()
    return [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "jurisdiction": u.jurisdiction,
            "disabled": u.disabled,
            "locked_until": u.locked_until,
            "last_login_at": u.last_login_at,
            "sessions": int(n),
        }
        for u, n in rows
    ]


@router.get("/admin/users", include_in_schema=False)
def users_page(
    request: Request, user: Annotated[User, Depends(require(Permission.USERS_MANAGE))]
) -> Response:
    """Accounts (system admin)."""
    with db_session(request) as session:
        users = _users(session)
    return render_page(
        request,
        "users.html",
        {"users": users, "roles": list(Role), "issued": None, "mode": "users"},
    )


@router.post("/admin/users", include_in_schema=False)
def users_create(
    request: Request,
    user: Annotated[User, Depends(require(Permission.USERS_MANAGE))],
    username: Annotated[str, Form(min_length=1, max_length=64)],
    display_name: Annotated[str, Form(min_length=1, max_length=100)],
    role: Annotated[Role, Form()],
    jurisdiction: Annotated[str, Form(pattern=r"^\d{2,12}$")],
) -> Response:
    """Create an account with a one-time password and a TOTP secret shown once."""
    with db_session(request) as session:
        issued = issue_account(
            session,
            actor=actor_for(request, user),
            username=username,
            display_name=display_name,
            role=role,
            jurisdiction=jurisdiction,
            settings=settings_of(request),
        )
        users = _users(session)
    return render_page(
        request,
        "users.html",
        {"users": users, "roles": list(Role), "issued": issued, "mode": "users"},
    )


@router.post("/admin/users/{username}/disable", include_in_schema=False)
def users_disable(
    request: Request,
    username: str,
    user: Annotated[User, Depends(require(Permission.USERS_MANAGE))],
    disabled: Annotated[bool, Form()] = True,
) -> Response:
    """Disable or re-enable an account (its sessions end at once)."""
    with db_session(request) as session:
        service.set_user_disabled(
            session, actor=actor_for(request, user), username=username, disabled=disabled
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/reset", include_in_schema=False)
def users_reset(
    request: Request,
    username: str,
    user: Annotated[User, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    """Reset a password: new one-time password and TOTP secret, sessions ended."""
    with db_session(request) as session:
        issued = reset_password(
            session,
            actor=actor_for(request, user),
            username=username,
            settings=settings_of(request),
        )
        users = _users(session)
    return render_page(
        request,
        "users.html",
        {"users": users, "roles": list(Role), "issued": issued, "mode": "users"},
    )


@router.get("/admin/sessions", include_in_schema=False)
def sessions_page(
    request: Request, user: Annotated[User, Depends(require(Permission.ROLES_MANAGE))]
) -> Response:
    """Roles and live sessions (security admin)."""
    with db_session(request) as session:
        users = _users(session)
    return render_page(
        request,
        "users.html",
        {
            "users": users,
            "roles": list(Role),
            "issued": None,
            "mode": "sessions",
            "admin_roles": ADMIN_ROLES,
        },
    )


@router.post("/admin/sessions/{username}/role", include_in_schema=False)
def change_role(
    request: Request,
    username: str,
    user: Annotated[User, Depends(require(Permission.ROLES_MANAGE))],
    role: Annotated[Role, Form()],
) -> Response:
    """Give a user another role; one person never holds two admin roles."""
    with db_session(request) as session:
        changed = service.change_role(
            session, actor=actor_for(request, user), username=username, role=role
        )
        end_all_sessions(session, user_id=changed.id)
    return RedirectResponse("/admin/sessions", status_code=303)


@router.post("/admin/sessions/{username}/kill", include_in_schema=False)
def kill_sessions(
    request: Request,
    username: str,
    user: Annotated[User, Depends(require(Permission.ROLES_MANAGE))],
) -> Response:
    """End every session of a user."""
    from dixian.web.auth import audit

    with db_session(request) as session:
        target = service.get_user(session, username=username)
        if target is None:
            raise HTTPException(status_code=404)
        count = end_all_sessions(session, user_id=target.id)
        audit(
            session,
            actor=actor_for(request, user),
            event_code="SESSIONS_ENDED",
            object_type="user",
            object_id=target.id,
            new_values={"sessions": count},
        )
    return RedirectResponse("/admin/sessions", status_code=303)


AUDIT_PAGE_SIZE = 100


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request,
    user: Annotated[User, Depends(require(Permission.AUDIT_READ))],
    event_code: Annotated[str | None, Query(pattern=r"^[A-Z_]{0,40}$")] = None,
    object_type: Annotated[str | None, Query(pattern=r"^[a-z_]{0,40}$")] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The audit log (audit admin only; each search is itself audited)."""
    with db_session(request) as session:
        entries = service.query_audit_log(
            session,
            actor=actor_for(request, user),
            event_code=event_code or None,
            object_type=object_type or None,
            object_id=object_id or None,
            limit=AUDIT_PAGE_SIZE + 1,
            offset=(page - 1) * AUDIT_PAGE_SIZE,
        )
    return render_page(
        request,
        "audit.html",
        {
            "entries": entries[:AUDIT_PAGE_SIZE],
            "has_next": len(entries) > AUDIT_PAGE_SIZE,
            "page": page,
            "filters": {
                "event_code": event_code or "",
                "object_type": object_type or "",
                "object_id": object_id or "",
            },
            "verify": None,
        },
    )


@router.post("/audit/verify", include_in_schema=False)
def audit_verify(
    request: Request, user: Annotated[User, Depends(require(Permission.AUDIT_READ))]
) -> Response:
    """Verify the hash chain of the whole ledger."""
    with db_session(request) as session:
        result = service.verify_audit_chain(session, actor=actor_for(request, user))
    return render_page(
        request,
        "audit.html",
        {
            "entries": [],
            "has_next": False,
            "page": 1,
            "verify": result,
            "filters": {"event_code": "", "object_type": "", "object_id": ""},
            "checked_at": now(request).replace(microsecond=0),
        },
    )
