"""Running verification on a workspace: read the panel, write results and leads, summarise."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from dixian.config import Workspace
from dixian.errors import UserError
from dixian.features.panel_schema import PANEL_TABLE, check_panel_table
from dixian.policy import PolicySet, load_policy_set
from dixian.verify.application import ApplicationResult, read_declaration, verify_application
from dixian.verify.batch import RESULTS_TABLE, verify_programs
from dixian.verify.leads import LEADS_TABLE, find_problem_leads, leads_frame_rows
from dixian.verify.lookup import prepare_lookups, single_threaded
from dixian.verify.results import ProblemLead, Status

_LEADS_SCHEMA = pa.schema(
    [
        ("rank", pa.int64()),
        ("household_id", pa.string()),
        ("period", pa.string()),
        ("region_code", pa.string()),
        ("program", pa.string()),
        ("strength", pa.float64()),
        ("kinds", pa.string()),
        ("reasons_zh", pa.string()),
        ("evidence_json", pa.string()),
    ]
)


@dataclass
class VerificationRun:
    """What a batch run found: counts per program and status, and the ranked leads."""

    period: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    leads: list[ProblemLead] = field(default_factory=list)


def open_panel(backend: Any) -> ir.Table:
    """The household_period table, checked against the declared schema.

    Raises:
        UserError: the table does not exist yet (run `dixian features` first) or is malformed.
    """
    if PANEL_TABLE not in backend.list_tables():
        raise UserError(
            f"the warehouse has no '{PANEL_TABLE}' table yet: run "
            "'dixian features --workspace W' first to build the household panel"
        )
    panel: ir.Table = backend.table(PANEL_TABLE)
    check_panel_table(panel)
    return panel


def latest_period(panel: ir.Table, backend: Any) -> str:
    """The newest period in the panel.

    Raises:
        UserError: the panel is empty.
    """
    value = backend.execute(panel.period.max())
    if value is None:
        raise UserError(f"table '{PANEL_TABLE}' is empty: run 'dixian features' first")
    return str(value)


def params_function(policy_set: PolicySet, province: str) -> Callable[[int], dict[str, Any]]:
    """A function year -> parameter values for the province."""

    def for_year(year: int) -> dict[str, Any]:
        return dict(policy_set.resolve_parameters(province=province, year=year))

    return for_year


def run_batch(
    workspace: Workspace,
    *,
    backend: Any,
    programs: Sequence[str] | None = None,
    period: str | None = None,
    step: Callable[[str], None] | None = None,
) -> VerificationRun:
    """Verify every household for every program; write `verify_results` and `problem_leads`.

    Args:
        workspace: the workspace (its policies folder overrides the defaults).
        backend: its Ibis backend.
        programs: program ids (default: all).
        period: `YYYY-MM` (default: the newest in the panel).
        step: called with a description after each step (for a progress bar).
    """
    advance = step or (lambda _description: None)
    panel = open_panel(backend)
    policy_set = load_policy_set([workspace.policies_dir])
    for program_id in programs or ():
        policy_set.program(program_id)
    chosen_period = period or latest_period(panel, backend)
    params = policy_set.resolve_parameters(
        province=workspace.config.region.province, year=int(chosen_period[:4])
    )
    advance("policies loaded")
    results = verify_programs(
        panel, policy_set, params=params, period=chosen_period, programs=programs
    )
    backend.create_table(RESULTS_TABLE, results, overwrite=True)
    advance("verification written")
    stored = backend.table(RESULTS_TABLE)
    counts_rows = backend.to_pyarrow(
        stored.group_by(["program", "status"]).aggregate(
            households=stored.count(),
            beneficiaries=stored.is_beneficiary.fill_null(False).cast("int64").sum(),
        )
    ).to_pylist()
    run = VerificationRun(period=chosen_period)
    for row in counts_rows:
        figures = run.counts.setdefault(
            row["program"], {status.value: 0 for status in Status} | {"beneficiaries": 0}
        )
        figures[row["status"]] = int(row["households"])
        figures["beneficiaries"] += int(row["beneficiaries"] or 0)
        if row["status"] == Status.NOT_ELIGIBLE.value:
            figures["beneficiaries_not_eligible"] = int(row["beneficiaries"] or 0)
    with streaming_memory(backend, configured=workspace.config.engine.memory_limit):
        run.leads = find_problem_leads(
            panel,
            policy_set,
            params=params,
            period=chosen_period,
            backend=backend,
            programs=programs,
        )
    leads_table = pa.Table.from_pylist(leads_frame_rows(run.leads), schema=_LEADS_SCHEMA)
    backend.create_table(LEADS_TABLE, ibis.memtable(leads_table), overwrite=True)
    prepare_lookups(backend)  # so that applications that follow are point queries
    advance("problem leads written")
    return run


# Explaining the leads streams the panel's `evidence` column once (most of the warehouse's
# pages). With the workspace's limit DuckDB keeps every page it reads until the limit is
# reached: on the real 1M county 9 GiB RSS and twice the time, mostly in the kernel (page
# faults); with 2 GB the same query reads the same pages and drops them (13.1 s -> 7.6 s).
_STREAMING_LIMIT = 2 * 1000**3
_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_UNITS |= {"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


def _limit_bytes(text: str) -> float | None:
    found = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if found is None or found.group(2).upper() not in _UNITS:
        return None
    return float(found.group(1)) * _UNITS[found.group(2).upper()]


@contextmanager
def streaming_memory(backend: Any, *, configured: str) -> Iterator[None]:
    """Lower DuckDB's memory limit to 2 GB for a query that streams a large column once.

    Restores the workspace's `configured` limit afterwards; does nothing on other engines or
    when the configured limit is already lower (or not understood).
    """
    connection = backend.con if getattr(backend, "name", "") == "duckdb" else None
    limit = _limit_bytes(configured)
    if connection is None or limit is None or limit <= _STREAMING_LIMIT:
        yield
        return
    connection.execute(f"SET memory_limit = '{_STREAMING_LIMIT // 1000**2}MB'")
    try:
        yield
    finally:
        connection.execute(f"SET memory_limit = '{int(limit)}B'")


def run_application(workspace: Workspace, path: Path, *, backend: Any) -> ApplicationResult:
    """Verify one application file against the workspace's records."""
    declaration = read_declaration(path)
    open_panel(backend)
    policy_set = load_policy_set([workspace.policies_dir])
    for program_id in declaration.programs or ():
        policy_set.program(program_id)
    with single_threaded(backend):  # this process answers one application and exits
        return verify_application(
            declaration,
            policy_set=policy_set,
            params_for_year=params_function(policy_set, workspace.config.region.province),
            backend=backend,
        )
