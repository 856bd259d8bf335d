"""Problem leads (问题线索): current beneficiaries whom department data shows to be ineligible.

A lead is a household that currently receives a program (its `beneficiary` rule holds) and
fails at least one condition that carries `lead` metadata in the policy. Leads are ranked by
evidence strength: the findings are combined as independent pieces of evidence,
1 - prod(1 - strength), so two medium findings outrank one, and a payment after death (0.99)
outranks nearly anything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import ibis.expr.types as ir

from dixian.console import to_json
from dixian.policy import PolicySet, Program
from dixian.verify.batch import explain_programs, program_table, select_period
from dixian.verify.results import Outcome, ProblemLead, ProgramResult, Status, lead_strength

LEADS_TABLE = "problem_leads"


def find_problem_leads(
    panel: ir.Table,
    policy_set: PolicySet,
    *,
    params: Mapping[str, object],
    period: str,
    backend: Any,
    programs: Sequence[str] | None = None,
) -> list[ProblemLead]:
    """Problem leads of a period, strongest first, each with its evidence.

    Args:
        panel: the household_period table.
        policy_set: the policies in force.
        params: parameter values.
        period: the period (`YYYY-MM`).
        backend: the Ibis backend.
        programs: program ids (default: every program with a beneficiary rule).

    Returns:
        The leads, sorted by strength (descending), then household id.
    """
    chosen = [
        policy_set.program(p)
        for p in (programs or list(policy_set.programs))
        if policy_set.program(p).beneficiary is not None
    ]
    lead_programs = [p for p in chosen if any(rule.lead is not None for rule in p.conditions)]
    if not lead_programs:
        return []
    suspects = [
        _suspects(panel, program, params=params, period=period) for program in lead_programs
    ]
    together = suspects[0]
    for part in suspects[1:]:
        together = together.union(part, distinct=True)
    # One explain call for every program: each call reads the panel's `evidence` column, whose
    # pages are most of the warehouse (1.5 KB a row on the real 1M county), once per call.
    explained = explain_programs(
        panel,
        policy_set,
        params=params,
        period=period,
        programs=[program.id for program in lead_programs],
        households=together,
        backend=backend,
    )
    by_id = {program.id: program for program in lead_programs}
    leads: list[ProblemLead] = []
    for result in explained:
        # The suspects' filter again: a household may be a suspect of one program only.
        if not result.is_beneficiary or result.status is not Status.NOT_ELIGIBLE:
            continue
        lead = _lead(result, by_id[result.program])
        if lead is not None:
            leads.append(lead)
    return sorted(leads, key=lambda lead: (-lead.strength, -len(lead.kinds), lead.household_id))


def _suspects(
    panel: ir.Table, program: Program, *, params: Mapping[str, object], period: str
) -> ir.Table:
    source = select_period(panel, [program], period=period)
    table = program_table(source, program, params=params, period=period)
    return table.filter(
        table.is_beneficiary.fill_null(False) & (table.status == Status.NOT_ELIGIBLE.value)
    ).select("household_id")


def _lead(result: ProgramResult, program: Program) -> ProblemLead | None:
    rules = {rule.id: rule for rule in program.conditions}
    hits = [
        c for c in result.conditions if c.outcome is Outcome.FAIL and rules[c.id].lead is not None
    ]
    if not hits:
        return None
    specs = [spec for c in hits if (spec := rules[c.id].lead) is not None]
    return ProblemLead(
        household_id=result.household_id,
        period=result.period,
        region_code=result.region_code,
        program=program.id,
        strength=lead_strength([s.strength for s in specs]),
        kinds=tuple(s.kind for s in specs),
        reasons_zh=tuple(s.label_zh for s in specs),
        evidence=tuple(hits),
    )


def leads_frame_rows(leads: Sequence[ProblemLead]) -> list[dict[str, Any]]:
    """Rows for the `problem_leads` table (evidence as JSON text)."""
    return [
        {
            "rank": rank,
            "household_id": lead.household_id,
            "period": lead.period,
            "region_code": lead.region_code,
            "program": lead.program,
            "strength": lead.strength,
            "kinds": ",".join(lead.kinds),
            "reasons_zh": "；".join(lead.reasons_zh),
            "evidence_json": to_json([asdict(c) for c in lead.evidence]),
        }
        for rank, lead in enumerate(leads, start=1)
    ]


def decode_lead_evidence(text: str) -> list[dict[str, Any]]:
    """The evidence list of a `problem_leads` row."""
    value = json.loads(text)
    return list(value) if isinstance(value, list) else []
