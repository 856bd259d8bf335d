"""`dixian serve` and `dixian users add|disable|reset-password`.

User commands act as the local system principal (whoever can run them on the server already
controls the workspace); every change is audited. A new or reset account gets a random
one-time password and a TOTP secret, printed once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.db import CasesDatabase
from dixian.cases.enums import Role
from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import info, print_summary
from dixian.errors import ConfigError

if TYPE_CHECKING:
    from dixian.web.accounts import IssuedCredentials

T = TypeVar("T")


def _shown_once(
    issued: IssuedCredentials, extra: dict[str, object], *, from_env: bool = False
) -> dict[str, object]:
    """The summary of new credentials: the password and TOTP secret are printed only here."""
    return {
        "username": issued.username,
        **extra,
        "one_time_password": "(from environment)" if from_env else issued.one_time_password,
        "totp_secret": issued.totp_secret,
        "totp_uri": issued.totp_uri,
    }


users_app = typer.Typer(help="Manage web users (accounts, passwords, second factor).")


def _as_cli(workspace: Path | None, change: Callable[[Session, Actor], T]) -> T:
    """Run `change` in one case-database transaction of the workspace, as the CLI principal."""
    db = CasesDatabase.from_workspace(Workspace.open(workspace))
    try:
        with db.session() as session:
            return change(session, Actor.system(name="cli"))
    finally:
        db.dispose()


def serve_workers(workspace: Workspace, requested: int | None = None) -> int:
    """How many uvicorn workers `dixian serve` runs.

    A process runs Python on one core at a time, so PostgreSQL gets one worker per core.
    SQLite gets one: it lets one process write at a time, and a second process only adds
    waits on its file lock (bench_web at 1M, load 21-23: household p95 141 ms with one
    worker, 222 ms with two), while one worker at 7-8 ms of CPU per page view serves far
    more than 50 users ask for.
    """
    import os

    if requested is not None:
        return requested
    if workspace.cases_database_url.startswith("postgresql"):
        return max(1, os.cpu_count() or 1)
    return 1


def serve(
    workspace: WorkspaceOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes (default: 1 with the SQLite case database, one per core "
            "with PostgreSQL).",
        ),
    ] = None,
) -> None:
    """Serve the web application with uvicorn."""
    import os

    import uvicorn

    from dixian.web.app import create_app
    from dixian.web.settings import get_settings

    ws = Workspace.open(workspace)
    workers = serve_workers(ws, workers)
    settings = get_settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    print_summary(
        "dixian web",
        {
            "url": f"http://{bind_host}:{bind_port}/",
            "workspace": str(ws.root),
            "env": settings.env,
            "mfa_required": settings.mfa_required,
            "workers": workers,
        },
    )
    if workers > 1:
        # Each worker builds its own app from the workspace named in the environment.
        os.environ["DIXIAN_WORKSPACE"] = str(ws.root)
        uvicorn.run(
            "dixian.web.asgi:app",
            host=bind_host,
            port=bind_port,
            workers=workers,
            proxy_headers=settings.trust_proxy_headers,
            log_level="warning",
        )
        return
    uvicorn.run(
        create_app(ws, settings=settings),
        host=bind_host,
        port=bind_port,
        proxy_headers=settings.trust_proxy_headers,
        log_level="warning",
    )


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Unique user name.")],
    role: Annotated[Role, typer.Option(help="Role of the user.")],
    jurisdiction: Annotated[
        str, typer.Option(help="Region-code prefix the user may see (2-12 digits).")
    ],
    display_name: Annotated[str | None, typer.Option(help="Name shown in pages.")] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            help="Demo only: take the password from this environment variable instead of "
            "issuing a one-time password."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user with a one-time password and a TOTP secret (printed once)."""
    import os

    from dixian.web.accounts import issue_account
    from dixian.web.settings import get_settings

    settings = get_settings()
    password = None
    if password_env:
        if settings.env != "demo":
            raise ConfigError("--password-env is allowed only with DIXIAN_WEB_ENV=demo")
        password = os.environ.get(password_env)
        if not password:
            raise ConfigError(f"environment variable {password_env} is empty")
    issued = _as_cli(
        workspace,
        lambda session, actor: issue_account(
            session, actor=actor, username=username, display_name=display_name or username,
            role=role, jurisdiction=jurisdiction, settings=settings, password=password,
        ),
    )  # fmt: skip
    figures: dict[str, object] = {"role": role.value, "jurisdiction": jurisdiction}
    print_summary(
        "user created", _shown_once(issued, figures, from_env=bool(password)), as_json=as_json
    )


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="User name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable instead.")] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Disable a user (their sessions end at once), or re-enable with --enable."""
    from dixian.cases import service

    def change(session: Session, actor: Actor) -> dict[str, object]:
        user = service.set_user_disabled(
            session, actor=actor, username=username, disabled=not enable
        )
        return {"username": user.username, "disabled": user.disabled}

    print_summary("user updated", _as_cli(workspace, change), as_json=as_json)


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="User name.")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a new one-time password and TOTP secret; end the user's sessions."""
    from dixian.web.accounts import reset_password
    from dixian.web.settings import get_settings

    issued = _as_cli(
        workspace,
        lambda session, actor: reset_password(
            session, actor=actor, username=username, settings=get_settings()
        ),
    )
    info("The user must change this password at the next sign-in.")
    print_summary("password reset", _shown_once(issued, {}), as_json=as_json)


@users_app.command("disable-stale")
def users_disable_stale(
    days: Annotated[int, typer.Option(min=1, help="Unused for this many days.")] = 90,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Disable accounts unused for --days days (run it nightly, e.g. from cron)."""
    from datetime import UTC, datetime

    from dixian.web.accounts import disable_stale_accounts

    names = _as_cli(
        workspace,
        lambda session, actor: disable_stale_accounts(
            session, actor=actor, days=days, now=datetime.now(UTC)
        ),
    )
    print_summary("stale accounts", {"days": days, "disabled": names}, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add `serve` and `users` to the dixian command."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
