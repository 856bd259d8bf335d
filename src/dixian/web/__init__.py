"""The web application: FastAPI pages (Jinja2 + HTMX + ECharts, vendored) and the JSON API.

`create_app(workspace)` builds the ASGI app; `get_settings()` reads the web settings from
the environment once. See `docs/web.md`.
"""

from __future__ import annotations

from dixian.web.app import create_app
from dixian.web.settings import WebSettings, get_settings

__all__ = ["WebSettings", "create_app", "get_settings"]
