"""Evaluating a checked expression on one household in Python, with SQL semantics.

Verifying a single application must answer in milliseconds, and compiling SQL for a single row
costs more than the lookup itself. This tree-walking evaluator gives the same answers as the
compiled engine expression (a property test compares it with DuckDB on random expressions and
rows): three-valued logic for and/or/not, NULL in → NULL out for arithmetic and comparisons,
division by zero → NULL, `min`/`max` skip NULLs like LEAST/GREATEST, `sum_over` sums the
household's last n periods skipping NULLs. Nothing is ever passed to Python's eval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

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
)
from dixian.policy.compiler import PERIOD_END
from dixian.policy.typecheck import MEMBER_CATEGORIES

Row = Mapping[str, Any]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
}


def _and(left: Any, right: Any) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: Any, right: Any) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if float(right) == 0.0:
        return None
    return float(left) / float(right)


class _Interpreter:
    def __init__(self, history: Sequence[Row], params: Mapping[str, object]) -> None:
        self.history = history
        self.row = history[-1]
        self.params = params

    def value(self, node: Expr) -> Any:
        if isinstance(node, Number | String | Boolean | DateLiteral):
            return node.value
        if isinstance(node, Field):
            return self.row.get(node.name)
        if isinstance(node, Param):
            return self.params.get(node.name)
        if isinstance(node, Unary):
            operand = self.value(node.operand)
            if operand is None:
                return None
            return (not operand) if node.op == "not" else -operand
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            return self.in_list(node)
        return self.call(node)

    def binary(self, node: Binary) -> Any:
        left, right = self.value(node.left), self.value(node.right)
        if node.op == "and":
            return _and(left, right)
        if node.op == "or":
            return _or(left, right)
        if node.op in _COMPARE:
            return compare(node.op, left, right)
        return _arithmetic(node.op, left, right)

    def in_list(self, node: InList) -> bool | None:
        operand = self.value(node.operand)
        if operand is None:
            return None
        found = any(operand == self.value(item) for item in node.items)
        return (not found) if node.negated else found

    def call(self, node: Call) -> Any:
        name = node.name
        if name == "sum_over":
            target, periods = node.args
            assert isinstance(target, Field) and isinstance(periods, Number)
            window = self.history[-int(periods.value) :]
            values = [row.get(target.name) for row in window if row.get(target.name) is not None]
            return sum(values) if values else None
        if name == "count_members":
            category = node.args[0]
            assert isinstance(category, String)
            counts = [self.row.get(column) for column in MEMBER_CATEGORIES[category.value]]
            return None if any(c is None for c in counts) else sum(counts)
        if name == "months_since":
            since, end = self.value(node.args[0]), self.row.get(PERIOD_END)
            if not isinstance(since, date) or not isinstance(end, date):
                return None
            return (end.year - since.year) * 12 + (end.month - since.month)
        args = [self.value(arg) for arg in node.args]
        if name == "coalesce":
            return next((arg for arg in args if arg is not None), None)
        present = [arg for arg in args if arg is not None]
        if name == "min":
            return min(present) if present else None
        if name == "max":
            return max(present) if present else None
        if name == "abs":
            return None if args[0] is None else abs(args[0])
        raise ValueError(f"function '{name}' cannot be evaluated")


def compare(op: str, left: Any, right: Any) -> bool | None:
    """A comparison with SQL semantics on two evaluated operands (NULL in → NULL out)."""
    if left is None or right is None:
        return None
    return _COMPARE[op](left, right)


def evaluate_expression(node: Expr, history: Sequence[Row], *, params: Mapping[str, object]) -> Any:
    """The value of a checked expression on a household's latest row.

    Args:
        node: an expression that passed `check_expression`.
        history: the household's panel rows ordered by period, the row to evaluate last
            (earlier rows are read only by `sum_over`).
        params: the parameter values.

    Returns:
        The value, None for SQL NULL.
    """
    return _Interpreter(history, params).value(node)
