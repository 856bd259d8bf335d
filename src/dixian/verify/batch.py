"""Batch verification: every program for every household of a period, in the engine.

The whole computation is one Ibis expression per program (unioned), so it runs inside DuckDB
or Spark; only the small explained subsets (one household, the problem leads) come back to
Python with their evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.features.panel_schema import EVIDENCE_COLUMN, decode_evidence, panel_columns
from dixian.policy import CompiledRule, PolicySet, Program, compile_expression
from dixian.policy.ast import COMPARISONS, Binary, Call, Number, walk
from dixian.policy.interpret import compare, evaluate_expression
from dixian.verify.results import (
    ConditionResult,
    Outcome,
    ProgramResult,
    Status,
    decide_status,
)

RESULTS_TABLE = "verify_results"
_KEYS = ("household_id", "period", "region_code")


def _uses_window(rules: Sequence[CompiledRule]) -> bool:
    return any(
        isinstance(node, Call) and node.name == "sum_over"
        for rule in rules
        for node in walk(rule.expr)
    )


def _all_rules(program: Program) -> list[CompiledRule]:
    rules = [*program.conditions, *program.review]
    if program.beneficiary is not None:
        rules.append(program.beneficiary)
    return rules


def select_period(panel: ir.Table, programs: Sequence[Program], *, period: str) -> ir.Table:
    """Rows of one period; rolling `sum_over` windows are computed before the filter."""
    rules = [rule for program in programs for rule in _all_rules(program)]
    if _uses_window(rules):
        return panel  # filtered after the rule columns exist (see verify_programs)
    return panel.filter(panel.period == period)


def _join_ids(flags: list[tuple[str, Any]]) -> Any:
    text: Any = ibis.literal("")
    for rule_id, flag in flags:
        text = text + ibis.ifelse(flag, ibis.literal(f"{rule_id},"), ibis.literal(""))
    return text.re_replace(",$", "")


def program_table(
    panel: ir.Table, program: Program, *, params: Mapping[str, object], period: str
) -> ir.Table:
    """One row per household of the period: status, beneficiary flag, failed/unknown/review ids."""
    columns = {
        f"c_{rule.id}": compile_expression(rule.expr, panel, params=params)
        for rule in program.conditions
    }
    reviews = {
        f"r_{rule.id}": compile_expression(rule.expr, panel, params=params)
        for rule in program.review
    }
    beneficiary: Any = (
        compile_expression(program.beneficiary.expr, panel, params=params)
        if program.beneficiary is not None
        else ibis.literal(None, type="boolean")
    )
    table = panel.select(*_KEYS, _beneficiary=beneficiary, **columns, **reviews)
    table = table.filter(table.period == period)
    failed = [(rule.id, (~table[f"c_{rule.id}"]).fill_null(False)) for rule in program.conditions]
    unknown = [(rule.id, table[f"c_{rule.id}"].isnull()) for rule in program.conditions]
    fired = [(rule.id, table[f"r_{rule.id}"].fill_null(False)) for rule in program.review]
    any_fail: Any = ibis.literal(False)
    for _, flag in failed:
        any_fail = any_fail | flag
    any_open: Any = ibis.literal(False)
    for _, flag in [*unknown, *fired]:
        any_open = any_open | flag
    status = ibis.cases(
        (any_fail, Status.NOT_ELIGIBLE.value),
        (any_open, Status.NEEDS_REVIEW.value),
        else_=Status.ELIGIBLE.value,
    )
    return table.select(
        *_KEYS,
        program=ibis.literal(program.id),
        status=status,
        is_beneficiary=table._beneficiary,
        failed_conditions=_join_ids(failed),
        unknown_conditions=_join_ids(unknown),
        review_reasons=_join_ids(fired),
    )


def verify_programs(
    panel: ir.Table,
    policy_set: PolicySet,
    *,
    params: Mapping[str, object],
    period: str,
    programs: Sequence[str] | None = None,
) -> ir.Table:
    """Verify every household of a period for each program (long format).

    Args:
        panel: the household_period table.
        policy_set: the policies in force.
        params: parameter values for the province and the period's year.
        period: the period to verify (`YYYY-MM`).
        programs: program ids (default: all).

    Returns:
        A table with household_id, period, region_code, program, status (eligible /
        not_eligible / needs_review), is_beneficiary, failed_conditions, unknown_conditions,
        review_reasons (comma-separated rule ids).
    """
    chosen = [policy_set.program(p) for p in (programs or list(policy_set.programs))]
    source = select_period(panel, chosen, period=period)
    parts = [program_table(source, program, params=params, period=period) for program in chosen]
    result = parts[0]
    for part in parts[1:]:
        result = result.union(part)
    return result


def _side_values(
    rule: CompiledRule, table: ir.Table, params: Mapping[str, object]
) -> dict[str, Any]:
    expr = rule.expr
    if isinstance(expr, Binary) and expr.op in COMPARISONS:
        return {
            "lhs": compile_expression(expr.left, table, params=params),
            "rhs": compile_expression(expr.right, table, params=params),
        }
    return {}


def explain_programs(
    panel: ir.Table,
    policy_set: PolicySet,
    *,
    params: Mapping[str, object],
    period: str,
    programs: Sequence[str] | None = None,
    households: ir.Table | Sequence[str] | None = None,
    backend: Any,
) -> list[ProgramResult]:
    """Verify selected households with full evidence (values, thresholds, source records).

    Args:
        panel: the household_period table.
        policy_set: the policies in force.
        params: parameter values.
        period: the period.
        programs: program ids (default: all).
        households: household ids, or a table with a household_id column (default: all; use
            only for small panels).
        backend: the Ibis backend to execute on.

    Returns:
        One ProgramResult per household and program, households in id order.
    """
    chosen = [policy_set.program(p) for p in (programs or list(policy_set.programs))]
    source = select_period(panel, chosen, period=period)
    columns: dict[str, Any] = {}
    field_names: dict[str, None] = {}
    for program in chosen:
        for rule in _all_rules(program):
            key = f"{program.id}__{rule.id}"
            columns[key] = compile_expression(rule.expr, source, params=params)
            for side, value in _side_values(rule, source, params).items():
                columns[f"{key}__{side}"] = value
            field_names.update(dict.fromkeys(rule.fields))
    keep = [name for name in field_names if name not in columns and name not in _KEYS]
    table = source.select(*_KEYS, EVIDENCE_COLUMN, *keep, **columns)
    table = table.filter(table.period == period)
    if households is not None:
        if isinstance(households, ir.Table):
            table = table.semi_join(households, "household_id")
        else:
            table = table.filter(table.household_id.isin(list(households)))
    rows = backend.to_pyarrow(table.order_by("household_id")).to_pylist()
    results: list[ProgramResult] = []
    for row in rows:
        evidence = decode_evidence(row.get(EVIDENCE_COLUMN))
        for program in chosen:
            results.append(_program_result(row, program, params, evidence))
    return results


def _same_sources() -> dict[str, tuple[str, ...]]:
    by_sources: dict[tuple[str, ...], list[str]] = {}
    for column in panel_columns().values():
        if column.sources:
            by_sources.setdefault(column.sources, []).append(column.name)
    return {
        name: tuple(other for other in names if other != name)
        for names in by_sources.values()
        for name in names
    }


# The builder keeps records under one column per source (vehicle_count); a derived field
# read by a rule (vehicle_non_exempt_count, financial_assets_pc) shows the same records.
_SIBLINGS = _same_sources()


def field_records(name: str, evidence: Mapping[str, list[str]]) -> list[str]:
    """The source records behind a panel field: its own, else those of its source siblings."""
    if evidence.get(name):
        return list(evidence[name])
    records: dict[str, None] = {}
    for sibling in _SIBLINGS.get(name, ()):
        records.update(dict.fromkeys(evidence.get(sibling, ())))
    return list(records)


def _condition(
    row: Mapping[str, Any],
    key: str,
    rule: CompiledRule,
    params: Mapping[str, object],
    evidence: Mapping[str, list[str]],
) -> ConditionResult:
    value = row.get(key)
    outcome = Outcome.UNKNOWN if value is None else Outcome.PASS if value else Outcome.FAIL
    return ConditionResult(
        id=rule.id,
        label_zh=rule.label_zh,
        label_en=rule.label_en,
        expression=rule.text,
        outcome=outcome,
        value=row.get(f"{key}__lhs"),
        threshold=row.get(f"{key}__rhs"),
        fields={name: row.get(name) for name in rule.fields},
        params={name: params.get(name) for name in rule.params},
        records={name: found for name in rule.fields if (found := field_records(name, evidence))},
    )


def _program_result(
    row: Mapping[str, Any],
    program: Program,
    params: Mapping[str, object],
    evidence: Mapping[str, list[str]],
) -> ProgramResult:
    conditions = [
        _condition(row, f"{program.id}__{rule.id}", rule, params, evidence)
        for rule in program.conditions
    ]
    review = [
        _condition(row, f"{program.id}__{rule.id}", rule, params, evidence)
        for rule in program.review
    ]
    fired = [c for c in review if c.outcome is Outcome.PASS]
    beneficiary = row.get(f"{program.id}__beneficiary") if program.beneficiary is not None else None
    return ProgramResult(
        household_id=str(row["household_id"]),
        period=str(row["period"]),
        region_code=row.get("region_code"),
        program=program.id,
        label_zh=program.label_zh,
        status=decide_status(conditions, bool(fired)),
        is_beneficiary=beneficiary,
        conditions=tuple(conditions),
        review=tuple(fired),
    )


def history_needed(policy_set: PolicySet, programs: Sequence[str] | None = None) -> int:
    """How many of a household's newest panel rows the programs' rules read (`sum_over`)."""
    key = ("history_needed", tuple(programs or ()))
    if key in policy_set.derived:
        return policy_set.derived[key]
    chosen = [policy_set.program(p) for p in (programs or list(policy_set.programs))]
    needed = 1
    for program in chosen:
        for rule in _all_rules(program):
            for node in walk(rule.expr):
                if isinstance(node, Call) and node.name == "sum_over":
                    periods = node.args[1]
                    if isinstance(periods, Number):
                        needed = max(needed, int(periods.value))
    policy_set.derived[key] = needed
    return needed


def program_statuses(
    history: Sequence[Mapping[str, Any]],
    policy_set: PolicySet,
    *,
    params: Mapping[str, object],
    programs: Sequence[str] | None = None,
) -> dict[str, Status]:
    """Each program's status for one household (as `explain_history`, without the evidence)."""
    chosen = [policy_set.program(p) for p in (programs or list(policy_set.programs))]
    statuses: dict[str, Status] = {}
    for program in chosen:
        failed = unknown = False
        for rule in program.conditions:
            value = evaluate_expression(rule.expr, history, params=params)
            # As `decide_status`: NULL is unknown, any other falsy value a failure.
            unknown = unknown or value is None
            failed = failed or (value is not None and not value)
        if failed:
            statuses[program.id] = Status.NOT_ELIGIBLE
            continue
        fired = any(
            bool(evaluate_expression(rule.expr, history, params=params)) for rule in program.review
        )
        statuses[program.id] = Status.NEEDS_REVIEW if unknown or fired else Status.ELIGIBLE
    return statuses


def explain_history(
    history: Sequence[Mapping[str, Any]],
    policy_set: PolicySet,
    *,
    params: Mapping[str, object],
    programs: Sequence[str] | None = None,
) -> list[ProgramResult]:
    """Verify one household in Python from its panel rows (oldest first, the period last).

    Same semantics and the same result objects as `explain_programs`, without an engine
    round trip: used for single applications, where latency matters.
    """
    chosen = [policy_set.program(p) for p in (programs or list(policy_set.programs))]
    row = history[-1]
    values: dict[str, Any] = dict(row)
    for program in chosen:
        for rule in _all_rules(program):
            key = f"{program.id}__{rule.id}"
            expr = rule.expr
            if isinstance(expr, Binary) and expr.op in COMPARISONS:
                # Each side once: the comparison is made from the two values shown.
                left = evaluate_expression(expr.left, history, params=params)
                right = evaluate_expression(expr.right, history, params=params)
                values[f"{key}__lhs"], values[f"{key}__rhs"] = left, right
                values[key] = compare(expr.op, left, right)
            else:
                values[key] = evaluate_expression(expr, history, params=params)
    evidence = decode_evidence(row.get(EVIDENCE_COLUMN))
    return [_program_result(values, program, params, evidence) for program in chosen]
