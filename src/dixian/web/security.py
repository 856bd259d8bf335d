"""HTTP-level protections: security headers, no-store, request ids, CSRF tokens, client address.

Every response (pages, API, static files, 404 and 500 pages) carries the headers of WEB-04;
authenticated responses also carry `Cache-Control: no-store` (WEB-09). CSRF (WEB-02): a
per-session token derived from the session token, sent by forms as `csrf_token` and by htmx as
the `X-CSRF-Token` header; before sign-in a random double-submit cookie plays that part. A
foreign `Origin` or `Sec-Fetch-Site: cross-site` on a state-changing request is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dixian.web.settings import WebSettings

_log = logging.getLogger("dixian.web")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PRE_SESSION_CSRF_COOKIE = "dixian-csrf"

# Scripts and styles only from the app itself: no inline script, no CDN (WEB-04). ECharts
# draws on canvas and sets styles through the CSSOM, which style-src does not restrict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session: an HMAC keyed by the (secret, HttpOnly) session token."""
    return hmac.new(session_token.encode(), b"dixian-csrf-v1", hashlib.sha256).hexdigest()


def new_pre_session_token() -> str:
    """A random token for the double-submit cookie of public forms (sign-in, self-report)."""
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def client_ip(request: Request, settings: WebSettings) -> str:
    """The client address; X-Forwarded-For is believed only behind a configured proxy."""
    if settings.trust_proxy_headers:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def origin_is_foreign(request: Request) -> bool:
    """Whether a request says it comes from another site (Origin or Sec-Fetch-Site)."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") != host


class SecurityHeadersMiddleware:
    """Adds the security headers, a request id, and no-store to every HTTP response.

    A plain ASGI middleware (not BaseHTTPMiddleware) so that it also covers error responses
    and adds no per-request task overhead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                if not is_static:
                    # Pages and API answers may hold personal data: never cache them.
                    headers["Cache-Control"] = "no-store"
                    headers["Pragma"] = "no-cache"
            await send(message)

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_with_headers(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception:
            # WEB-11: a generic answer with the request id; the traceback goes to the log only.
            _log.exception("unhandled error (request %s)", request_id)
            if started:
                raise
            body = (
                '{"error":"error.internal","message":"internal error; nothing was saved",'
                f'"request_id":"{request_id}"}}'
            ).encode()
            await tracking_send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
