"""Evaluating compiled rules over a panel table: one boolean column per rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import ibis.expr.types as ir

from dixian.policy.compiler import compile_expression
from dixian.policy.policyset import CompiledRule, PolicySet


def rule_columns(
    table: ir.Table,
    rules: Iterable[CompiledRule],
    *,
    params: Mapping[str, object],
    prefix: str = "",
) -> dict[str, ir.Value]:
    """One boolean Ibis column per rule, named `prefix + rule.id` (NULL: cannot be decided).

    Args:
        table: a household_period table.
        rules: compiled rules (program conditions, review rules or triggers).
        params: parameter values for the province and year.
        prefix: a prefix for the column names.
    """
    return {
        f"{prefix}{rule.id}": compile_expression(rule.expr, table, params=params) for rule in rules
    }


def evaluate_triggers(
    table: ir.Table,
    policy_set: PolicySet,
    *,
    params: Mapping[str, object],
    prefix: str = "trigger_",
) -> ir.Table:
    """The panel with one boolean column per monitoring trigger (`trigger_<id>`).

    Example:
        >>> flagged = evaluate_triggers(panel, load_policy_set(), params=params)
        >>> flagged.filter(flagged.trigger_disaster)
    """
    rules = [rule for rule, _ in policy_set.triggers.values()]
    return table.mutate(**rule_columns(table, rules, params=params, prefix=prefix))
