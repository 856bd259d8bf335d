"""`dixian db upgrade`, `dixian cases list|show|transition|overdue`, `dixian audit verify|purge`.

The command line acts either as a named user (`--user`, who must exist and be enabled) or,
for reading and maintenance, as the local system principal `system:cli`; either way every
action is in the audit ledger.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.case_models import Case
from dixian.cases.db import (
    CasesDatabase,
    grant_app_role,
    head_revision,
    redact_url,
    upgrade_database,
)
from dixian.cases.enums import CaseState
from dixian.cases.service import (
    available_actions,
    count_cases_by_state,
    get_case,
    get_user,
    list_cases,
    purge_audit_log,
    transition_case,
    verify_audit_chain,
)
from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import info, print_json, print_summary, stdout_console
from dixian.errors import PermissionDenied, UserError

db_app = typer.Typer(help="The case database: migrations.", no_args_is_help=True)
cases_app = typer.Typer(
    help="Cases (监测帮扶): list, show, take workflow actions.", no_args_is_help=True
)
audit_app = typer.Typer(help="The audit ledger (审计台账): verify, purge.", no_args_is_help=True)

UserOption = Annotated[
    str | None,
    typer.Option("--user", "-u", help="Act as this user (default: the local system principal)."),
]


def _open(workspace: Path | None, *, create_key: bool = False) -> tuple[Workspace, CasesDatabase]:
    opened = Workspace.open(workspace)
    return opened, CasesDatabase.from_workspace(opened, create_key=create_key)


def _actor(session: Session, username: str | None) -> Actor:
    if username is None:
        return Actor.system(name="cli")
    user = get_user(session, username=username)
    if user is None or user.disabled:
        raise PermissionDenied(f"user '{username}' does not exist or is disabled")
    return Actor.from_user(user, source_ip="local")


@db_app.command("upgrade")
def db_upgrade(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Create or migrate the case database to the newest schema (从空库迁移)."""
    opened, database = _open(workspace, create_key=True)
    try:
        before, after = upgrade_database(database.engine)
    finally:
        database.dispose()
    print_summary(
        "case database 案件库",
        {
            "database": redact_url(opened.cases_database_url),
            "backend": database.engine.dialect.name,
            "revision_before": before or "empty",
            "revision_after": after or "empty",
            "newest_revision": head_revision() or "",
        },
        as_json=as_json,
    )


@db_app.command("grant-app-role")
def db_grant_app_role(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the application logs in as.")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """PostgreSQL: let the app role use the case tables, but only read and append the ledger.

    Run with `cases.database_url` pointing at the owner (migration) role; the application
    then uses a URL with the app role.
    """
    opened, database = _open(workspace)
    try:
        grant_app_role(database.engine, role=role)
    finally:
        database.dispose()
    print_summary(
        "grants 授权",
        {"database": redact_url(opened.cases_database_url), "app_role": role,
         "ledger": "SELECT, INSERT only"},
        as_json=as_json,
    )  # fmt: skip


def _case_row(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "household_id": case.household.household_id,
        "region_code": case.household.region_code,
        "state": str(case.state),
        "state_zh": case.state.zh,
        "object_type": str(case.object_type) if case.object_type else None,
        "primary_cause": case.primary_cause,
        "opened_on": case.opened_on,
        "decision_due": case.decision_due,
        "version": case.version,
    }


@cases_app.command("list")
def cases_list(
    workspace: WorkspaceOption = None,
    user: UserOption = None,
    state: Annotated[list[str] | None, typer.Option("--state", help="Only this state.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only cases past their deadline.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List cases in your jurisdiction, with the counts by state."""
    states = [_state(s) for s in state or []]
    _, database = _open(workspace)
    try:
        with database.session() as session:
            actor = _actor(session, user)
            rows = [
                _case_row(case)
                for case in list_cases(
                    session, actor=actor, states=states, limit=limit,
                    overdue_on=date.today() if overdue else None,
                )
            ]  # fmt: skip
            counts = count_cases_by_state(session, actor=actor)
    finally:
        database.dispose()
    if as_json:
        print_json({"cases": rows, "counts_by_state": counts, "total": sum(counts.values())})
        return
    _print_rows(rows)
    print_summary(
        "cases by state 各状态案件数",
        {"total": sum(counts.values()), "by_state": {
            f"{name} {CaseState(name).zh}": count for name, count in sorted(counts.items())
        }},
    )  # fmt: skip


def _state(name: str) -> CaseState:
    try:
        return CaseState(name)
    except ValueError:
        options = ", ".join(s.value for s in CaseState)
        raise UserError(f"--state '{name}': expected one of {options}") from None


def _print_rows(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="cases 案件", title_justify="left")
    columns = ("case_id", "household_id", "region_code", "state_zh", "decision_due", "version")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[column]) for column in columns))
    stdout_console.print(table)


@cases_app.command("show")
def cases_show(
    case_id: Annotated[int, typer.Argument(help="The case number.")],
    workspace: WorkspaceOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one case: state, deadline, visits, reviews, measures, and the actions open to you."""
    _, database = _open(workspace)
    try:
        with database.session() as session:
            actor = _actor(session, user)
            case = get_case(session, actor=actor, case_id=case_id)
            figures = _case_row(case) | {
                "causes": list(case.causes),
                "visits": len(case.visits),
                "reviews": [f"{r.level}:{'approved' if r.approved else 'refused'}"
                            for r in case.reviews],
                "measures": [f"{m.measure_type}:{m.status}"
                             for plan in case.plans for m in plan.measures],
                "follow_ups": len(case.follow_ups),
                "actions": [t.action for t in available_actions(case, actor=actor)],
            }  # fmt: skip
    finally:
        database.dispose()
    print_summary(f"case 案件 {case_id}", figures, as_json=as_json)


@cases_app.command("overdue")
def cases_overdue(
    workspace: WorkspaceOption = None, user: UserOption = None, as_json: JsonOption = False
) -> None:
    """List undecided cases past the deadline (default 15 days from discovery)."""
    cases_list(workspace=workspace, user=user, state=None, overdue=True, limit=1000,
               as_json=as_json)  # fmt: skip


def _payload(pairs: list[str], payload_file: Path | None) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if payload_file is not None:
        try:
            loaded = json.loads(payload_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{payload_file}: not a readable JSON object: {exc}") from exc
        if not isinstance(loaded, dict):
            raise UserError(f"{payload_file}: expected a JSON object of fields")
        payload.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"--set '{pair}': expected FIELD=VALUE")
        payload[name.strip()] = value
    return payload


@cases_app.command("transition")
def cases_transition(
    case_id: Annotated[int, typer.Argument(help="The case number.")],
    action: Annotated[str, typer.Argument(help="A workflow action, e.g. record_visit.")],
    version: Annotated[int, typer.Option("--version", help="The case version you looked at.")],
    user: Annotated[str, typer.Option("--user", "-u", help="Act as this user.")],
    workspace: WorkspaceOption = None,
    field: Annotated[
        list[str] | None, typer.Option("--set", help="A field of the action: FIELD=VALUE.")
    ] = None,
    payload_file: Annotated[
        Path | None, typer.Option("--payload", help="A JSON file with the action's fields.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Take a workflow action on a case (refused with the reason when not allowed)."""
    payload = _payload(field or [], payload_file)
    _, database = _open(workspace)
    try:
        with database.session() as session:
            actor = _actor(session, user)
            case = transition_case(
                session, actor=actor, case_id=case_id, action=action,
                expected_version=version, payload=payload,
            )  # fmt: skip
            figures = {"case_id": case.id, "action": action, "state": str(case.state),
                       "state_zh": case.state.zh, "version": case.version}  # fmt: skip
    finally:
        database.dispose()
    print_summary("transition 流转", figures, as_json=as_json)


@audit_app.command("verify")
def audit_verify(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Check the ledger's hash chain; names the first modified, deleted or reordered entry."""
    _, database = _open(workspace)
    try:
        with database.session() as session:
            result = verify_audit_chain(session, actor=Actor.system(name="cli"))
    finally:
        database.dispose()
    print_summary(
        "audit ledger 审计台账",
        {"ok": result.ok, "entries_checked": result.entries_checked,
         "first_seq": result.first_seq, "last_seq": result.last_seq,
         "first_bad_seq": result.first_bad_seq, "problem": result.problem or "",
         "head_hash": result.head_hash or ""},
        as_json=as_json,
    )  # fmt: skip
    if not result.ok:
        info(f"[bold red]ledger broken:[/] {result.problem}")
        raise typer.Exit(code=1)


@audit_app.command("purge")
def audit_purge(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Remove entries older than cases.audit_retention_days (≥ 184); the purge is logged."""
    opened, database = _open(workspace)
    try:
        with database.session() as session:
            result = purge_audit_log(session, actor=Actor.system(name="cli"))
    finally:
        database.dispose()
    print_summary(
        "audit purge 审计清理",
        {"retention_days": opened.config.cases.audit_retention_days, "deleted": result.deleted,
         "through_seq": result.through_seq, "cutoff": result.cutoff},
        as_json=as_json,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the `db`, `cases` and `audit` command groups."""
    app.add_typer(db_app, name="db")
    app.add_typer(cases_app, name="cases")
    app.add_typer(audit_app, name="audit")
