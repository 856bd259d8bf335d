"""The routers of the web application: pages (HTML) and the JSON API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from dixian.web.routes import (
    account,
    admin,
    alerts,
    api,
    cases,
    dashboard,
    households,
    insight,
    public,
)

ROUTERS: tuple[APIRouter, ...] = (
    account.router,
    dashboard.router,
    alerts.router,
    cases.router,
    households.router,
    admin.router,
    insight.router,
    public.router,
    api.router,
)
