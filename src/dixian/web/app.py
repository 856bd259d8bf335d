"""The FastAPI application factory: `create_app(workspace)`.

Nothing is created at import time: settings come from `get_settings()` (or the caller), the
case database from the workspace. Errors become generic pages or JSON with a request id;
tracebacks, SQL and personal data stay in the server log (WEB-11).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware

from dixian.cases.db import CasesDatabase
from dixian.config import Workspace
from dixian.errors import (
    ConflictError,
    DixianError,
    NotFound,
    PermissionDenied,
    TransitionRefused,
    UserError,
)
from dixian.web.auditbatch import AuditBatcher
from dixian.web.checkpoint import WalCheckpointer, defer_checkpoints, sqlite_file
from dixian.web.dashboard_cache import ChangeWatermark, DashboardCache
from dixian.web.deps import MustChangePassword, NotSignedIn
from dixian.web.i18n import translate
from dixian.web.ratelimit import RateLimiter
from dixian.web.render import build_templates, render_page, request_locale
from dixian.web.security import SecurityHeadersMiddleware
from dixian.web.settings import WebSettings, get_settings

log = logging.getLogger("dixian.web")

_STATUS_MESSAGES = {
    400: "error.bad_request",
    401: "error.unauthorised",
    403: "error.forbidden",
    404: "error.not_found",
    405: "error.method_not_allowed",
    409: "error.conflict",
    413: "error.too_large",
    422: "error.invalid_input",
    429: "error.rate_limited",
    503: "error.unavailable",
    500: "error.internal",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    workspace: Workspace,
    *,
    settings: WebSettings | None = None,
    database: CasesDatabase | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the web application for a workspace.

    Args:
        workspace: the county workspace (case database, warehouse, reference data).
        settings: web settings; default `get_settings()` (environment).
        database: an open case database; default the workspace's.
        clock: the time source (tests freeze it); default UTC now.

    Returns:
        The ASGI application.
    """
    settings = settings or get_settings()
    docs = settings.api_docs_enabled

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # SQLite: checkpoints on a thread of their own, not in a page view's commit.
        checkpointer: WalCheckpointer | None = app.state.checkpointer
        if checkpointer is not None:
            checkpointer.start()
        try:
            yield
        finally:
            if checkpointer is not None:
                checkpointer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="dixian 底线 API",
        version="1",
        description="JSON API of dixian: cases, households, dashboard figures, audit.",
        docs_url="/api/docs" if docs else None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.workspace = workspace
    app.state.db = database or CasesDatabase.from_workspace(workspace)
    app.state.clock = clock or _utc_now
    app.state.limiter = RateLimiter(clock=lambda: app.state.clock())
    app.state.templates = build_templates()
    # SQLite serialises writers anyway; queue this process's threads in order (see db_session).
    is_sqlite = app.state.db.engine.dialect.name == "sqlite"
    app.state.db_lock = threading.RLock() if is_sqlite else None
    db_file = sqlite_file(app.state.db.engine)
    app.state.checkpointer = WalCheckpointer(db_file) if db_file is not None else None
    if db_file is not None:
        defer_checkpoints(app.state.db.engine)
    # Audit entries of page reads are committed in groups, before each response (auditbatch).
    app.state.audit_batcher = AuditBatcher(
        app.state.db.append_entries, write_lock=app.state.db_lock
    )
    app.state.dashboard_cache = DashboardCache()
    app.state.change_watermark = ChangeWatermark()

    app.add_middleware(SecurityHeadersMiddleware)
    if settings.force_https:
        app.add_middleware(HTTPSRedirectMiddleware)
    static_dir = str(resources.files("dixian.web").joinpath("static"))
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    _install_error_handlers(app)
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from dixian.web.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    unguarded = [route.path for route in api_routes(app) if not _is_guarded(route)]
    if unguarded:
        # AC-02: deny by default; a route must state its permission or be on the allowlist.
        raise RuntimeError(f"routes without a permission: {', '.join(sorted(unguarded))}")


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, including those of included routers."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            original = getattr(route, "original_router", None)
            if original is not None:
                walk(list(original.routes))

    walk(list(app.routes))
    return found


def _is_guarded(route: APIRoute) -> bool:
    from dixian.web.permissions import PUBLIC_PATHS

    if route.path in PUBLIC_PATHS or route.path == "/":
        return True
    return any(
        getattr(dependency.call, "required_permission", None) is not None
        for dependency in route.dependant.dependencies
    )


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status_code: int, message_key: str | None = None) -> Response:
    settings: WebSettings = request.app.state.settings
    locale = request_locale(request, settings)
    key = message_key or _STATUS_MESSAGES.get(status_code, "error.internal")
    message = translate(locale, key)
    request_id = getattr(request.state, "request_id", "")
    if _wants_json(request):
        return JSONResponse(
            {"error": key, "message": message, "request_id": request_id},
            status_code=status_code,
        )
    return render_page(
        request,
        "error.html",
        {"status_code": status_code, "message": message, "request_id": request_id},
        status_code=status_code,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _wants_json(request):
            return _error(request, 401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(MustChangePassword)
    async def _must_change(request: Request, exc: MustChangePassword) -> Response:
        if _wants_json(request):
            return _error(request, 403, "auth.must_change_password")
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        response = _error(request, exc.status_code)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            fields = [".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()]
            return JSONResponse({"error": "error.invalid_input", "fields": fields}, status_code=422)
        return _error(request, 422)

    @app.exception_handler(DixianError)
    async def _dixian(request: Request, exc: DixianError) -> Response:
        if isinstance(exc, NotFound):
            return _error(request, 404)
        if isinstance(exc, PermissionDenied):
            return _error(request, 403)
        if isinstance(exc, ConflictError | TransitionRefused):
            return _user_message(request, 409, exc)
        if isinstance(exc, UserError):
            return _user_message(request, 400, exc)
        log.error("unexpected dixian error", exc_info=exc)
        return _error(request, 500)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> Response:
        # Fail closed (AUD-04): the transaction, audit entry included, was rolled back.
        log.error("database error (request %s)", getattr(request.state, "request_id", ""))
        return _error(request, 503)

    del _not_signed_in, _must_change, _http, _invalid, _dixian, _database


def _user_message(request: Request, status_code: int, exc: DixianError) -> Response:
    """A refused action: the one-line message is written for users and holds no data."""
    request_id = getattr(request.state, "request_id", "")
    if _wants_json(request):
        return JSONResponse(
            {"error": type(exc).__name__, "message": str(exc), "request_id": request_id},
            status_code=status_code,
        )
    return render_page(
        request,
        "error.html",
        {"status_code": status_code, "message": str(exc), "request_id": request_id},
        status_code=status_code,
    )


__all__ = ["HTTPException", "create_app"]
