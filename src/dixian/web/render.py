"""Jinja2 page rendering with the i18n `t()` helper, the CSRF token and the navigation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import HTMLResponse

from dixian.cases.models import User
from dixian.web.i18n import pick_locale, translate
from dixian.web.permissions import Permission, has_permission
from dixian.web.settings import WebSettings

LOCALE_COOKIE = "dixian-lang"


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    permission: Permission


NAV: tuple[NavItem, ...] = (
    NavItem("/dashboard", "nav.dashboard", Permission.DASHBOARD_VIEW),
    NavItem("/alerts", "nav.alerts", Permission.CASES_READ),
    NavItem("/cases", "nav.cases", Permission.CASES_READ),
    NavItem("/data-quality", "nav.data_quality", Permission.DATA_QUALITY_READ),
    NavItem("/linkage", "nav.linkage", Permission.LINKAGE_REVIEW),
    NavItem("/verify", "nav.verify", Permission.VERIFY),
    NavItem("/needs", "nav.needs", Permission.NEEDS_READ),
    NavItem("/admin/users", "nav.users", Permission.USERS_MANAGE),
    NavItem("/admin/sessions", "nav.sessions", Permission.ROLES_MANAGE),
    NavItem("/audit", "nav.audit", Permission.AUDIT_READ),
    NavItem("/account/password", "nav.account", Permission.ACCOUNT_SELF),
)


def _json_script(value: Any) -> Markup:
    """JSON safe to place inside <script type="application/json"> (no `</script>` break-out)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script-data context


def build_templates() -> Jinja2Templates:
    """The template environment (autoescaping on for HTML)."""
    from importlib import resources

    directory = str(resources.files("dixian.web").joinpath("templates"))
    templates = Jinja2Templates(directory=directory)
    templates.env.filters["json_script"] = _json_script
    return templates


def request_locale(request: Request, settings: WebSettings) -> str:
    """The UI language: the switch cookie, else the configured default (zh_CN)."""
    return pick_locale(request.cookies.get(LOCALE_COOKIE), default=settings.default_locale)


def render_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with the common context: user, locale, t(), csrf token, navigation."""
    app_state = request.app.state
    settings: WebSettings = app_state.settings
    locale = request_locale(request, settings)
    user: User | None = getattr(request.state, "user", None)
    nav = [item for item in NAV if user is not None and has_permission(user.role, item.permission)]
    full: dict[str, Any] = {
        "request": request,
        "user": user,
        "locale": locale,
        "t": lambda key, **values: translate(locale, key, **values),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": nav,
        "flash": None,
    }
    full.update(context or {})
    templates: Jinja2Templates = app_state.templates
    return templates.TemplateResponse(request, template, full, status_code=status_code)
