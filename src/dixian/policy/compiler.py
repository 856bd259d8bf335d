"""Compiling checked expressions to Ibis value expressions over the panel table.

The same Ibis expression runs on DuckDB and Spark. Where the engines differ, the compiler
picks the portable form: division by zero gives NULL (DuckDB would give infinity, Spark NULL),
and `months_since` counts whole calendar months from the period end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.errors import PolicyError
from dixian.policy.ast import (
    Binary,
    Boolean,
    Call,
    DateLiteral,
    Expr,
    Field,
    InList,
    Number,
    Param,
    String,
    Unary,
    walk,
)
from dixian.policy.typecheck import MEMBER_CATEGORIES

HOUSEHOLD_KEY = "household_id"
PERIOD_KEY = "period"
PERIOD_END = "period_end"


def referenced_fields(node: Expr) -> list[str]:
    """Every panel column an expression reads, including those implied by functions."""
    seen: dict[str, None] = {}
    for item in walk(node):
        if isinstance(item, Field):
            seen.setdefault(item.name, None)
        elif isinstance(item, Call) and item.name == "count_members":
            arg = item.args[0] if item.args else None
            if isinstance(arg, String):
                for column in MEMBER_CATEGORIES.get(arg.value, ()):
                    seen.setdefault(column, None)
        elif isinstance(item, Call) and item.name == "months_since":
            seen.setdefault(PERIOD_END, None)
    return list(seen)


def _literal(value: Any) -> ir.Value:
    if isinstance(value, bool):
        return ibis.literal(value, type="boolean")
    if isinstance(value, int):
        return ibis.literal(value, type="int64")
    if isinstance(value, float):
        return ibis.literal(value, type="float64")
    if isinstance(value, date):
        return ibis.literal(value, type="date")
    return ibis.literal(str(value), type="string")


class _Compiler:
    def __init__(self, table: ir.Table, params: Mapping[str, object]) -> None:
        self.table = table
        self.params = params

    def compile(self, node: Expr) -> ir.Value:
        if isinstance(node, Number | String | Boolean | DateLiteral):
            return _literal(node.value)
        if isinstance(node, Field):
            return self.table[node.name]
        if isinstance(node, Param):
            if node.name not in self.params:
                raise PolicyError(f"parameter '{node.name}' has no value for this province/year")
            return _literal(self.params[node.name])
        if isinstance(node, Unary):
            operand = self.compile(node.operand)
            return ~operand if node.op == "not" else -operand
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            operand = self.compile(node.operand)
            values = [self.compile(item) for item in node.items]
            result = operand.isin(values)
            return ~result if node.negated else result
        return self.call(node)

    def binary(self, node: Binary) -> ir.Value:
        left: Any = self.compile(node.left)
        right: Any = self.compile(node.right)
        op = node.op
        if op == "and":
            return left & right
        if op == "or":
            return left | right
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            return left.cast("float64") / right.cast("float64").nullif(0.0)
        comparisons = {
            "<": left.__lt__,
            "<=": left.__le__,
            ">": left.__gt__,
            ">=": left.__ge__,
            "==": left.__eq__,
            "!=": left.__ne__,
        }
        return comparisons[op](right)

    def call(self, node: Call) -> ir.Value:
        name = node.name
        if name == "sum_over":
            target, periods = node.args
            assert isinstance(target, Field) and isinstance(periods, Number)
            window = ibis.window(
                group_by=self.table[HOUSEHOLD_KEY],
                order_by=self.table[PERIOD_KEY],
                preceding=int(periods.value) - 1,
                following=0,
            )
            return self.table[target.name].sum().over(window)
        if name == "count_members":
            category = node.args[0]
            assert isinstance(category, String)
            columns: list[Any] = [self.table[c] for c in MEMBER_CATEGORIES[category.value]]
            total: Any = columns[0]
            for column in columns[1:]:
                total = total + column
            return total
        if name == "months_since":
            since: Any = self.compile(node.args[0])
            end: Any = self.table[PERIOD_END]
            return (end.year() - since.year()) * 12 + (end.month() - since.month())
        args: list[Any] = [self.compile(arg) for arg in node.args]
        if name == "coalesce":
            return ibis.coalesce(*args)
        if name == "min":
            return ibis.least(*args)
        if name == "max":
            return ibis.greatest(*args)
        if name == "abs":
            return args[0].abs()
        raise PolicyError(f"function '{name}' cannot be compiled")


def compile_expression(node: Expr, table: ir.Table, *, params: Mapping[str, object]) -> ir.Value:
    """Compile a checked expression to an Ibis value over a panel table.

    Args:
        node: an expression that passed `check_expression`.
        table: the household_period table (or any table with the fields it reads).
        params: the parameter values resolved for the province and year.

    Returns:
        An Ibis value expression (a boolean column for a condition).

    Example:
        >>> cond = compile_expression(parse_expression("member_count > 2"), t, params={})
        >>> t.filter(cond)
    """
    return _Compiler(table, params).compile(node)
