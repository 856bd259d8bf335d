"""Evaluating a checked expression on one household in Python, with SQL semantics.

Verifying a single application must answer in milliseconds, and compiling SQL for a single row
costs more than the lookup itself. This evaluator compiles each checked expression once into
Python closures (later calls neither parse nor dispatch on node kinds) and gives the same
answers as the compiled engine expression (a property test compares it with DuckDB on random
expressions and rows): three-valued logic for and/or/not, NULL in → NULL out for arithmetic
and comparisons, division by zero → NULL, `min`/`max` skip NULLs like LEAST/GREATEST,
`sum_over` sums the household's last n periods skipping NULLs. Nothing is ever passed to
Python's eval.
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


# A compiled expression: (history, latest row, params) -> value.
_Fn = Callable[[Sequence[Row], Row, Mapping[str, object]], Any]


def _compile(node: Expr) -> _Fn:
    """A closure computing the node: the tree is dispatched once, not on every evaluation."""
    if isinstance(node, Number | String | Boolean | DateLiteral):
        constant = node.value
        return lambda h, r, p: constant
    if isinstance(node, Field):
        name = node.name
        return lambda h, r, p: r.get(name)
    if isinstance(node, Param):
        param = node.name
        return lambda h, r, p: p.get(param)
    if isinstance(node, Unary):
        operand, negate = _compile(node.operand), node.op == "not"

        def unary(h: Sequence[Row], r: Row, p: Mapping[str, object]) -> Any:
            value = operand(h, r, p)
            if value is None:
                return None
            return (not value) if negate else -value

        return unary
    if isinstance(node, Binary):
        return _compile_binary(node)
    if isinstance(node, InList):
        return _compile_in(node)
    return _compile_call(node)


def _compile_binary(node: Binary) -> _Fn:
    left, right, op = _compile(node.left), _compile(node.right), node.op
    if op == "and":
        return lambda h, r, p: _and(left(h, r, p), right(h, r, p))
    if op == "or":
        return lambda h, r, p: _or(left(h, r, p), right(h, r, p))
    if op in _COMPARE:
        return lambda h, r, p: compare(op, left(h, r, p), right(h, r, p))
    return lambda h, r, p: _arithmetic(op, left(h, r, p), right(h, r, p))


def _compile_in(node: InList) -> _Fn:
    operand, negated = _compile(node.operand), node.negated
    items = [_compile(item) for item in node.items]

    def in_list(h: Sequence[Row], r: Row, p: Mapping[str, object]) -> bool | None:
        value = operand(h, r, p)
        if value is None:
            return None
        found = any(value == item(h, r, p) for item in items)
        return (not found) if negated else found

    return in_list


def _sum_over(h: Sequence[Row], column: str, periods: int) -> Any:
    values = [row.get(column) for row in h[-periods:] if row.get(column) is not None]
    return sum(values) if values else None


def _months_since(since: Any, end: Any) -> int | None:
    if not isinstance(since, date) or not isinstance(end, date):
        return None
    return (end.year - since.year) * 12 + (end.month - since.month)


def _compile_call(node: Call) -> _Fn:
    name = node.name
    if name == "sum_over":
        target, window = node.args
        assert isinstance(target, Field) and isinstance(window, Number)
        column, periods = target.name, int(window.value)
        return lambda h, r, p: _sum_over(h, column, periods)
    if name == "count_members":
        category = node.args[0]
        assert isinstance(category, String)
        columns = MEMBER_CATEGORIES[category.value]

        def count_members(h: Sequence[Row], r: Row, p: Mapping[str, object]) -> Any:
            counts = [r.get(column) for column in columns]
            return None if any(c is None for c in counts) else sum(counts)

        return count_members
    if name == "months_since":
        since = _compile(node.args[0])
        return lambda h, r, p: _months_since(since(h, r, p), r.get(PERIOD_END))
    args = [_compile(arg) for arg in node.args]
    if name == "coalesce":

        def coalesce(h: Sequence[Row], r: Row, p: Mapping[str, object]) -> Any:
            return next((v for v in (arg(h, r, p) for arg in args) if v is not None), None)

        return coalesce
    if name in ("min", "max"):
        pick = min if name == "min" else max

        def extreme(h: Sequence[Row], r: Row, p: Mapping[str, object]) -> Any:
            present = [v for v in (arg(h, r, p) for arg in args) if v is not None]
            return pick(present) if present else None

        return extreme
    if name == "abs":
        only = args[0]

        def absolute(h: Sequence[Row], r: Row, p: Mapping[str, object]) -> Any:
            value = only(h, r, p)
            return None if value is None else abs(value)

        return absolute
    raise ValueError(f"function '{name}' cannot be evaluated")


# Compiled closures by node identity (nodes are immutable and live as long as their policy
# set); the node is kept with its closure so that a reused id is never mistaken for it.
_COMPILED: dict[int, tuple[Expr, _Fn]] = {}
_COMPILED_LIMIT = 20_000


def _compiled(node: Expr) -> _Fn:
    entry = _COMPILED.get(id(node))
    if entry is not None and entry[0] is node:
        return entry[1]
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()  # policy sets reloaded many times over: start again
    fn = _compile(node)
    _COMPILED[id(node)] = (node, fn)
    return fn


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
    return _compiled(node)(history, history[-1], params)
