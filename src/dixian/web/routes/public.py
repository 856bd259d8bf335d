"""The public self-report page (no sign-in; CSRF double-submit cookie; rate limited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from dixian.web.dashboard import region_names
from dixian.web.deps import db_session, now, request_context, settings_of, verify_csrf
from dixian.web.i18n import translate
from dixian.web.labels import code_labels
from dixian.web.render import render_page, request_locale
from dixian.web.security import PRE_SESSION_CSRF_COOKIE, new_pre_session_token
from dixian.web.selfreport import SelfReport, submit_self_report

router = APIRouter()


def _villages(request: Request) -> list[tuple[str, str]]:
    names = region_names(request.app.state.workspace.root / "reference")
    county = request.app.state.workspace.config.region.county
    return sorted(
        (code, name)
        for code, name in names.items()
        if len(code) == 12 and code.startswith(county) and not code.endswith("000")
    )


def _page(
    request: Request, *, flash: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    token = request.cookies.get(PRE_SESSION_CSRF_COOKIE) or new_pre_session_token()
    request.state.csrf_token = token
    request.state.user = None
    locale = request_locale(request, settings_of(request))
    response = render_page(
        request,
        "self_report.html",
        {"villages": _villages(request), "causes": code_labels("cause", locale), "flash": flash},
        status_code=status_code,
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


@router.get("/self-report", include_in_schema=False)
def self_report_form(request: Request) -> Response:
    """The self-report form."""
    return _page(request)


@router.post("/self-report", include_in_schema=False)
def self_report_submit(
    request: Request,
    village_code: Annotated[str, Form(pattern=r"^\d{12}$")],
    head_name: Annotated[str, Form(min_length=1, max_length=50)],
    category: Annotated[str, Form(max_length=40)],
    description: Annotated[str, Form(min_length=2, max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    member_count: Annotated[int | None, Form(ge=1, le=30)] = None,
) -> Response:
    """Record a self-report."""
    request.state.user = None
    verify_csrf(request, {"csrf_token": csrf_token})
    locale = request_locale(request, settings_of(request))
    ctx = request_context(request)
    if village_code not in dict(_villages(request)) or category not in code_labels("cause", locale):
        raise HTTPException(status_code=422)
    if not request.app.state.limiter.hit(
        f"self-report:{ctx.ip}",
        limit=settings_of(request).self_reports_per_ip_per_hour,
        window_seconds=3600,
    ):
        raise HTTPException(status_code=429)
    with db_session(request) as session:
        case_id = submit_self_report(
            session,
            report=SelfReport(village_code, head_name, category, description, member_count),
            county=request.app.state.workspace.config.region.county,
            today=now(request).date(),
            ip=ctx.ip,
            request_id=ctx.request_id,
        )
    text = translate(locale, "self_report.thanks", number=case_id)
    return _page(request, flash={"kind": "ok", "text": text})
