"""End-to-end harness: the real app under uvicorn on loopback, driven by Debian's Chromium.

Playwright is used only as a driver of the system browser (`/usr/bin/chromium`); nothing is
downloaded (`playwright install` is never run). The server runs in a thread of the test
process with a clock the tests can move, so a case can be taken through months of
monitoring. TOTP is on, as in production: each sign-in computes the current code.
Screenshots go to `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from dixian.cases.db import CasesDatabase
from dixian.config import Workspace
from dixian.web.app import create_app
from dixian.web.settings import WebSettings
from dixian.web.totp import current_code
from tests.web import conftest as web_fixtures
from tests.web.conftest import PASSWORD, START, FrozenClock, Seeded

# The same seeded workspace as the web tests (users of every role, two villages, two cases).
_cheap_argon2 = web_fixtures._cheap_argon2
template_workspace = web_fixtures.template_workspace

CHROMIUM = os.environ.get("DIXIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """The app served by uvicorn on 127.0.0.1."""

    url: str
    clock: FrozenClock
    seeded: Seeded
    db: CasesDatabase
    server: Any
    thread: threading.Thread


@pytest.fixture(scope="session")
def live_server(
    template_workspace: tuple[Path, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    import uvicorn

    source, seeded = template_workspace
    root = tmp_path_factory.mktemp("e2e") / "ws"
    shutil.copytree(source, root)
    workspace = Workspace.open(root)
    clock = FrozenClock(START)
    settings = WebSettings(env="development", totp_required=True, password_max_age_days=400)
    db = CasesDatabase.from_workspace(workspace)
    app = create_app(workspace, settings=settings, database=db, clock=clock)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", clock, seeded, db, server, thread)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (scripts/ensure-system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageWatch:
    """A browser page with its console errors and every URL it requested."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlparse(url).hostname not in {"127.0.0.1", "localhost"}
            and not url.startswith(("data:", "blob:", "about:"))
        ]


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(locale: str = "zh-CN") -> PageWatch:
        context = browser.new_context(
            locale=locale, viewport={"width": 1366, "height": 900}, base_url=live_server.url
        )
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page)
        page.on(
            "console",
            lambda message: (
                watch.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: watch.console_errors.append(str(error)))
        page.on("request", lambda request: watch.requests.append(request.url))
        return watch

    yield make
    for context in contexts:
        context.close()


def sign_in(
    watch: PageWatch, server: LiveServer, username: str, *, password: str = PASSWORD
) -> None:
    """Sign in through the form with the current TOTP code (each code is used once)."""
    server.clock.advance(31)
    page = watch.page
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill(
        "input[name=totp_code]",
        current_code(server.seeded.totp_secrets[username], now=server.clock()),
    )
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(watch: PageWatch, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    watch.page.screenshot(path=str(path), full_page=True)
    return path
