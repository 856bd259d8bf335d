"""Economic-status verification (核对): programs for every household, single applications,
and problem leads (问题线索), each result with its evidence."""

from __future__ import annotations

from dixian.verify.application import (
    ApplicationResult,
    Declaration,
    Discrepancy,
    compare_declaration,
    read_declaration,
    verify_application,
)
from dixian.verify.batch import (
    RESULTS_TABLE,
    explain_history,
    explain_programs,
    program_statuses,
    program_table,
    verify_programs,
)
from dixian.verify.leads import LEADS_TABLE, decode_lead_evidence, find_problem_leads
from dixian.verify.results import (
    ConditionResult,
    Outcome,
    ProblemLead,
    ProgramResult,
    Status,
    decide_status,
    lead_strength,
)
from dixian.verify.workspace import (
    VerificationRun,
    latest_period,
    open_panel,
    params_function,
    run_application,
    run_batch,
)

__all__ = [
    "LEADS_TABLE",
    "RESULTS_TABLE",
    "ApplicationResult",
    "ConditionResult",
    "Declaration",
    "Discrepancy",
    "Outcome",
    "ProblemLead",
    "ProgramResult",
    "Status",
    "VerificationRun",
    "compare_declaration",
    "decide_status",
    "decode_lead_evidence",
    "explain_history",
    "explain_programs",
    "find_problem_leads",
    "latest_period",
    "lead_strength",
    "open_panel",
    "params_function",
    "program_statuses",
    "program_table",
    "read_declaration",
    "run_application",
    "run_batch",
    "verify_application",
    "verify_programs",
]
