"""ASGI entry point for multi-worker serving: `uvicorn dixian.web.asgi:app`.

Reads the workspace from $DIXIAN_WORKSPACE (set by `dixian serve --workers N`).
"""

from __future__ import annotations

from dixian.config import Workspace
from dixian.web.app import create_app

app = create_app(Workspace.open())
