"""Sign-in, sign-out, password change, language switch, health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dixian.cases.models import User
from dixian.web.auth import change_password, context_words, end_session, sign_in
from dixian.web.deps import (
    actor_for,
    db_session,
    now,
    optional_user,
    request_context,
    require,
    session_token,
    settings_of,
    verify_csrf,
)
from dixian.web.i18n import LOCALES, translate
from dixian.web.permissions import Permission, home_path
from dixian.web.render import LOCALE_COOKIE, render_page, request_locale
from dixian.web.security import PRE_SESSION_CSRF_COOKIE, new_pre_session_token

router = APIRouter()


def _set_session_cookie(response: Response, request: Request, token: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_absolute_seconds,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def _login_page(request: Request, *, error: str | None = None, username: str = "") -> Response:
    token = request.cookies.get(PRE_SESSION_CSRF_COOKIE) or new_pre_session_token()
    request.state.csrf_token = token
    locale = request_locale(request, settings_of(request))
    flash = {"kind": "error", "text": translate(locale, error)} if error else None
    response = render_page(
        request,
        "login.html",
        {
            "flash": flash,
            "username": username,
            "mfa_required": settings_of(request).mfa_required,
        },
        status_code=401 if error else 200,
    )
    response.set_cookie(
        PRE_SESSION_CSRF_COOKIE,
        token,
        path="/",
        secure=settings_of(request).cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
def root(request: Request) -> Response:
    """Send the user to their home page, or to sign-in."""
    user = optional_user(request)
    return RedirectResponse(home_path(user.role) if user else "/login", status_code=303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    """The sign-in page."""
    user = optional_user(request)
    if user is not None:
        return RedirectResponse(home_path(user.role), status_code=303)
    return _login_page(request)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    totp_code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Check the credentials and open a session."""
    request.state.user = None
    verify_csrf(request, {"csrf_token": csrf_token})
    settings = settings_of(request)
    ctx = request_context(request)
    limiter = request.app.state.limiter
    if not limiter.hit(
        f"login-ip:{ctx.ip}", limit=settings.login_attempts_per_ip_per_minute, window_seconds=60
    ):
        raise HTTPException(status_code=429)
    with db_session(request) as session:
        result = sign_in(
            session,
            username=username,
            password=password,
            totp_code=totp_code or None,
            settings=settings,
            now=now(request),
            ctx=ctx,
        )
        role = result.user.role if result.user else None
    if not result.ok or result.token is None or role is None:
        return _login_page(request, error="auth.failed", username=username)
    target = "/account/password" if result.must_change_password else home_path(role)
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, request, result.token)
    response.delete_cookie(PRE_SESSION_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request, user: Annotated[User, Depends(require(Permission.ACCOUNT_SELF))]
) -> Response:
    """End the session."""
    token, _ = session_token(request)
    if token:
        with db_session(request) as session:
            end_session(session, token=token, actor=actor_for(request, user), now=now(request))
    response = RedirectResponse("/login", status_code=303)
    settings = settings_of(request)
    response.delete_cookie(
        settings.session_cookie_name, path="/", secure=settings.cookie_secure, httponly=True
    )
    return response


@router.get("/account/password", include_in_schema=False)
def password_form(
    request: Request, user: Annotated[User, Depends(require(Permission.ACCOUNT_SELF))]
) -> Response:
    """The password change page (also shown when the password has expired)."""
    return render_page(request, "password.html", {"problems": []})


@router.post("/account/password", include_in_schema=False)
def password_change(
    request: Request,
    user: Annotated[User, Depends(require(Permission.ACCOUNT_SELF))],
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    confirm_password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Change the user's own password (current password re-checked)."""
    if new_password != confirm_password:
        return render_page(
            request, "password.html", {"problems": ["password.mismatch"]}, status_code=422
        )
    with db_session(request) as session:
        account = session.get_one(User, user.id)
        problems = change_password(
            session,
            user=account,
            current_password=current_password,
            new_password=new_password,
            settings=settings_of(request),
            now=now(request),
            ctx=request_context(request),
            keep_token_hash=getattr(request.state, "token_hash", None),
            context_words=context_words(
                request.app.state.workspace.config.region.county_name,
                request.app.state.workspace.config.workspace.name,
            ),
        )
        role = account.role
    if problems:
        return render_page(request, "password.html", {"problems": problems}, status_code=422)
    return RedirectResponse(home_path(role), status_code=303)


@router.get("/lang/{locale}", include_in_schema=False)
def switch_language(request: Request, locale: str) -> Response:
    """Switch the UI language (zh_CN or en) and go back."""
    if locale not in LOCALES:
        raise HTTPException(status_code=404)
    referer = request.headers.get("referer", "/")
    host = request.headers.get("host", "")
    target = referer if referer.split("://", 1)[-1].startswith(host + "/") else "/"
    if "://" in target:
        target = "/" + target.split("://", 1)[-1].split("/", 1)[-1]
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=365 * 86400,
        path="/",
        secure=settings_of(request).cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response
