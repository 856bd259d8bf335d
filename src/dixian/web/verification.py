"""Verification of one application (家庭经济状况核对) from the web form.

The form is turned into the verification stage's `Declaration` and checked by
`dixian.verify.verify_application` against the household-period panel in the warehouse: the
decision per program with the evidence behind each condition, and the differences between
what was declared and what the departments record. A household outside the user's
jurisdiction is reported as not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
from pydantic import ValidationError

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import NotFound, UserError
from dixian.features.panel_schema import PANEL_TABLE
from dixian.policy import load_policy_set
from dixian.verify import ApplicationResult, Declaration, verify_application
from dixian.verify.workspace import open_panel, params_function


def declaration_from_form(form: dict[str, str]) -> Declaration:
    """Build a declaration from the form fields (members one per line: `ID name relation`).

    Raises:
        UserError: a field does not have the expected form (the message names it).
    """
    members = []
    for line in form.get("members", "").splitlines():
        parts = line.split()
        if parts:
            members.append(
                {
                    "id_number": parts[0],
                    "name": parts[1] if len(parts) > 1 else "",
                    "relation_to_head": parts[2] if len(parts) > 2 else "",
                }
            )

    def number(name: str) -> float | None:
        text = form.get(name, "").strip()
        return float(text) if text else None

    def count(name: str) -> int | None:
        text = form.get(name, "").strip()
        return int(text) if text else None

    programs = [p.strip() for p in form.get("programs", "").split(",") if p.strip()]
    try:
        return Declaration.model_validate(
            {
                "application_id": form.get("application_id", "").strip(),
                "household_id": form.get("household_id", "").strip() or None,
                "period": form.get("period", "").strip() or None,
                "programs": programs or None,
                "members": members,
                "income": {k: number(k) for k in ("wages", "operating", "property", "transfers")},
                "assets": {
                    "vehicles": count("vehicles"),
                    "properties": count("properties"),
                    "businesses": count("businesses"),
                    "deposits": number("deposits"),
                    "securities": number("securities"),
                },
            }
        )
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise UserError(f"application form: check {where}") from None
        raise UserError(f"application form: {exc}") from None


@contextmanager
def _warehouse(workspace: Workspace) -> Iterator[Any]:
    """The warehouse for one request: on DuckDB read-only and closed at the end.

    Several workers (and the dashboard) may then read it side by side, and a pipeline can
    take it for writing once the request is over; a request never creates the file.
    """
    if workspace.config.engine.kind != "duckdb":
        yield open_backend(workspace)
        return
    if not workspace.warehouse_path.is_file():
        raise UserError(
            f"the warehouse has no '{PANEL_TABLE}' table yet: run "
            "'dixian features --workspace W' first to build the household panel"
        )
    try:
        backend = open_backend(workspace, read_only=True)
    except duckdb.Error:
        raise UserError(
            "the warehouse is busy (a pipeline is writing it); try again when it has finished"
        ) from None
    try:
        yield backend
    finally:
        backend.disconnect()


def verify_for_user(
    workspace: Workspace, declaration: Declaration, *, jurisdiction: str
) -> ApplicationResult:
    """Verify the application; NotFound when the household lies outside the jurisdiction."""
    with _warehouse(workspace) as backend:
        open_panel(backend)
        policy_set = load_policy_set([workspace.policies_dir])
        result = verify_application(
            declaration,
            policy_set=policy_set,
            params_for_year=params_function(policy_set, workspace.config.region.province),
            backend=backend,
        )
    regions = {r.region_code for r in result.on_records if r.region_code}
    if not regions or not all(str(code).startswith(jurisdiction) for code in regions):
        raise NotFound(f"household {result.household_id} not found")
    return result


def result_view(result: ApplicationResult) -> dict[str, Any]:
    """The result as plain data for the page and the audit entry."""
    data = result.to_dict()
    data["on_records"] = [
        {**program, "status": str(getattr(program["status"], "value", program["status"]))}
        for program in data["on_records"]
    ]
    return data
