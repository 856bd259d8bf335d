"""Printing a syntax tree back to expression text, with only the parentheses it needs."""

from __future__ import annotations

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

_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "==": 4,
    "!=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
}
_NOT, _COMPARE, _NEGATE, _ATOM = 3, 4, 7, 8


def _precedence(node: Expr) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Unary):
        return _NOT if node.op == "not" else _NEGATE
    if isinstance(node, InList):
        return _COMPARE
    return _ATOM


def _quote(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _wrap(node: Expr, *, above: int, strict: bool) -> str:
    text = format_expression(node)
    own = _precedence(node)
    needs = own < above or (strict and own == above)
    return f"({text})" if needs else text


def format_expression(node: Expr) -> str:
    """The expression text of a syntax tree; parsing it gives the same tree back."""
    if isinstance(node, Number):
        return repr(node.value)
    if isinstance(node, String):
        return _quote(node.value)
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, DateLiteral):
        return f'date("{node.value.isoformat()}")'
    if isinstance(node, Field):
        return node.name
    if isinstance(node, Param):
        return f"params.{node.name}"
    if isinstance(node, Unary):
        if node.op == "not":
            return "not " + _wrap(node.operand, above=_NOT, strict=False)
        return "-" + _wrap(node.operand, above=_NEGATE, strict=False)
    if isinstance(node, Binary):
        level = _PRECEDENCE[node.op]
        # Comparisons do not chain, so both sides of one bind tighter; the other operators
        # are left-associative, so only the right side needs parentheses at equal level.
        compare = level == _COMPARE
        left = _wrap(node.left, above=level, strict=compare)
        right = _wrap(node.right, above=level, strict=True)
        return f"{left} {node.op} {right}"
    if isinstance(node, InList):
        operand = _wrap(node.operand, above=_COMPARE, strict=True)
        items = ", ".join(format_expression(item) for item in node.items)
        keyword = "not in" if node.negated else "in"
        return f"{operand} {keyword} [{items}]"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(format_expression(arg) for arg in node.args)})"
    raise TypeError(f"not an expression node: {type(node).__name__}")
