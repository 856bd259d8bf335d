"""The command line: db upgrade, cases list|show|transition|overdue, audit verify|purge."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from dixian.cases import Actor, CasesDatabase, Channel, Role
from dixian.cases.service import DiscoveryInput, create_user, record_discoveries
from dixian.config import Workspace
from tests.conftest import run_cli

VILLAGE = "522799101201"


def _flat(message: str) -> str:
    """The message without the terminal's line wrapping."""
    return " ".join(message.split())


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace with a migrated case database, a caseworker and two discovered cases."""
    monkeypatch.delenv("DIXIAN_AUDIT_KEY", raising=False)
    result = run_cli("db", "upgrade", "--workspace", str(workspace.root), "--json")
    assert result.exit_code == 0, result.stderr
    database = CasesDatabase.from_workspace(workspace)
    with database.session() as session:
        create_user(session, actor=Actor.system(), username="li", display_name="李",
                    role=Role.VILLAGE_CASEWORKER, jurisdiction=VILLAGE)  # fmt: skip
        record_discoveries(session, actor=Actor.system(), discoveries=[
            DiscoveryInput(household_id=f"H{n}", region_code=VILLAGE, period="2025-01",
                           channel=Channel.DEPARTMENT_SCREENING, discovered_on=date(2025, 1, 6))
            for n in range(2)
        ])  # fmt: skip
    database.dispose()
    return workspace


def test_db_upgrade_from_empty_creates_the_key_and_reports_revisions(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIXIAN_AUDIT_KEY", raising=False)
    first = run_cli("db", "upgrade", "--workspace", str(workspace.root), "--json")
    assert first.exit_code == 0, first.stderr
    figures = json.loads(first.stdout)
    assert figures["revision_before"] == "empty" and figures["revision_after"] == "0001"
    key_file = workspace.root / ".secrets" / "audit.key"
    assert key_file.stat().st_mode & 0o077 == 0
    again = json.loads(run_cli("db", "upgrade", "-w", str(workspace.root), "--json").stdout)
    assert again["revision_before"] == "0001"


def test_list_show_and_transition(ws: Workspace) -> None:
    root = str(ws.root)
    listed = json.loads(run_cli("cases", "list", "-w", root, "--json").stdout)
    assert listed["counts_by_state"] == {"discovered": 2}
    case_id = str(listed["cases"][0]["case_id"])
    shown = json.loads(run_cli("cases", "show", case_id, "-w", root, "-u", "li", "--json").stdout)
    assert shown["actions"] == ["record_visit", "reject"] and shown["version"] == 1
    moved = run_cli(
        "cases", "transition", case_id, "reject", "--version", "1", "--user", "li", "-w", root,
        "--set", "decided_on=2025-01-09", "--set", "reason=收入稳定", "--json",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    assert json.loads(moved.stdout)["state"] == "not_identified"
    stale = run_cli(
        "cases", "transition", case_id, "reject", "--version", "1", "--user", "li", "-w", root,
        "--set", "decided_on=2025-01-09", "--set", "reason=x",
    )  # fmt: skip
    assert stale.exit_code == 5 and "current version is 2" in _flat(stale.stderr)
    refused = run_cli(
        "cases", "transition", case_id, "record_visit", "--version", "2", "-u", "li", "-w", root
    )
    assert refused.exit_code == 2
    assert "state 'not_identified'" in _flat(refused.stderr)
    assert "record_visit" in _flat(refused.stderr)
    assert "Traceback" not in refused.stderr


def test_overdue_lists_late_cases(ws: Workspace) -> None:
    result = run_cli("cases", "overdue", "-w", str(ws.root), "--json")
    assert json.loads(result.stdout)["total"] == 2  # counts are not filtered
    assert len(json.loads(result.stdout)["cases"]) == 2  # discovered 2025-01-06, due 01-21


def test_unknown_user_is_refused(ws: Workspace) -> None:
    result = run_cli("cases", "list", "-w", str(ws.root), "-u", "nobody")
    assert result.exit_code == 3 and "nobody" in result.stderr


def test_audit_verify_names_the_first_bad_entry(ws: Workspace) -> None:
    root = str(ws.root)
    good = run_cli("audit", "verify", "-w", root, "--json")
    assert good.exit_code == 0 and json.loads(good.stdout)["ok"] is True
    assert len(json.loads(good.stdout)["head_hash"]) == 64
    engine = create_engine(ws.cases_database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET reason = 'edited' WHERE seq = 2"))
    engine.dispose()
    bad = run_cli("audit", "verify", "-w", root, "--json")
    assert bad.exit_code == 1
    figures = json.loads(bad.stdout)
    assert figures["ok"] is False and figures["first_bad_seq"] == 2


def test_audit_purge_records_itself(ws: Workspace) -> None:
    result = run_cli("audit", "purge", "-w", str(ws.root), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["deleted"] == 0
    verify = json.loads(run_cli("audit", "verify", "-w", str(ws.root), "--json").stdout)
    assert verify["ok"] is True


def test_missing_audit_key_is_a_clear_error(workspace: Workspace) -> None:
    result = run_cli("cases", "list", "-w", str(workspace.root))
    assert result.exit_code == 2 and "audit key" in _flat(result.stderr)
