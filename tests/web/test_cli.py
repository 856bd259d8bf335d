"""`dixian users add|disable|reset-password|disable-stale` against a real case database."""

from __future__ import annotations

import json

from sqlalchemy import select

from dixian.cases.db import CasesDatabase
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.models import User
from dixian.config import Workspace

from ..conftest import run_cli


def _user(workspace: Workspace, username: str) -> User:
    db = CasesDatabase.from_workspace(workspace)
    try:
        with db.session() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            return user
    finally:
        db.dispose()


def _cli_events(workspace: Workspace) -> list[str]:
    db = CasesDatabase.from_workspace(workspace)
    try:
        with db.session() as session:
            return list(
                session.scalars(
                    select(AuditEntry.event_code)
                    .where(AuditEntry.actor_name == "system:cli")
                    .order_by(AuditEntry.seq)
                )
            )
    finally:
        db.dispose()


def test_user_commands_change_the_account_and_print_credentials_once(
    web_workspace: Workspace,
) -> None:
    ws = str(web_workspace.root)
    added = run_cli(
        "users", "add", "newcomer", "--role", "village_caseworker",
        "--jurisdiction", "522799101201", "--workspace", ws, "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    figures = json.loads(added.stdout)
    assert figures["username"] == "newcomer"
    assert figures["role"] == "village_caseworker"
    assert figures["jurisdiction"] == "522799101201"
    assert len(figures["one_time_password"]) >= 12
    assert figures["totp_uri"].startswith("otpauth://totp/")
    assert _user(web_workspace, "newcomer").must_change_password

    disabled = run_cli("users", "disable", "newcomer", "--workspace", ws, "--json")
    assert json.loads(disabled.stdout) == {"username": "newcomer", "disabled": True}
    assert _user(web_workspace, "newcomer").disabled
    enabled = run_cli("users", "disable", "newcomer", "--enable", "--workspace", ws, "--json")
    assert json.loads(enabled.stdout)["disabled"] is False

    reset = run_cli("users", "reset-password", "newcomer", "--workspace", ws, "--json")
    assert reset.exit_code == 0, reset.stderr
    again = json.loads(reset.stdout)
    assert again["username"] == "newcomer"
    assert again["one_time_password"] != figures["one_time_password"]
    assert again["totp_secret"] != figures["totp_secret"]

    stale = run_cli("users", "disable-stale", "--days", "90", "--workspace", ws, "--json")
    assert stale.exit_code == 0, stale.stderr
    assert json.loads(stale.stdout)["days"] == 90
    # Every change went through the service with its audit entry, as the CLI principal.
    assert _cli_events(web_workspace) == [
        "USER_CREATED", "CREDENTIALS_ISSUED", "USER_DISABLED", "USER_ENABLED", "PASSWORD_RESET",
    ]  # fmt: skip


def test_unknown_user_is_a_one_line_error(web_workspace: Workspace) -> None:
    result = run_cli("users", "disable", "nobody", "--workspace", str(web_workspace.root))
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    assert "nobody" in result.stderr


def test_serve_runs_one_worker_on_sqlite_and_one_per_core_on_postgresql(
    web_workspace: Workspace,
) -> None:
    import os

    from dixian.web.cli import serve_workers

    assert serve_workers(web_workspace) == 1
    assert serve_workers(web_workspace, 3) == 3
    config = web_workspace.root / "dixian.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            'database_url = ""',
            'database_url = "postgresql+psycopg://app@127.0.0.1:5432/county"',
            1,
        ),
        encoding="utf-8",
    )
    on_postgres = Workspace.open(web_workspace.root)
    assert serve_workers(on_postgres) == max(1, os.cpu_count() or 1)
