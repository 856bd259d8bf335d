"""The syntax tree of rule expressions.

Nodes are frozen dataclasses; the source position (`pos`) is kept for error messages but left
out of equality, so that `parse(print(tree)) == tree` holds for any tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

FUNCTIONS: frozenset[str] = frozenset(
    {"sum_over", "count_members", "months_since", "coalesce", "min", "max", "abs"}
)
KEYWORDS: frozenset[str] = frozenset({"and", "or", "not", "in", "true", "false", "params"})
COMPARISONS: frozenset[str] = frozenset({"<", "<=", ">", ">=", "==", "!="})
ARITHMETIC: frozenset[str] = frozenset({"+", "-", "*", "/"})
LOGICAL: frozenset[str] = frozenset({"and", "or"})


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in the expression text."""

    line: int = 1
    column: int = 1


_NOWHERE = Pos()


@dataclass(frozen=True)
class Number:
    """A number literal (int or float)."""

    value: int | float
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class String:
    """A string literal."""

    value: str
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Boolean:
    """`true` or `false`."""

    value: bool
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class DateLiteral:
    """`date("2024-01-31")`."""

    value: date
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Field:
    """A panel column by name."""

    name: str
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Param:
    """`params.NAME`: a named policy parameter."""

    name: str
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Unary:
    """`-x` or `not x`."""

    op: str
    operand: Expr
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Binary:
    """Arithmetic, comparison, `and`, `or`."""

    op: str
    left: Expr
    right: Expr
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class InList:
    """`x in [a, b]` or `x not in [a, b]`; items are literals."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Call:
    """A call of one of the named functions in `FUNCTIONS`."""

    name: str
    args: tuple[Expr, ...]
    pos: Pos = field(default=_NOWHERE, compare=False, repr=False)


Expr = Number | String | Boolean | DateLiteral | Field | Param | Unary | Binary | InList | Call
Literal = Number | String | Boolean | DateLiteral


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.operand, *node.items)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def field_names(node: Expr) -> list[str]:
    """Names of the fields the expression reads directly, in first-use order."""
    seen: dict[str, None] = {}
    for item in walk(node):
        if isinstance(item, Field):
            seen.setdefault(item.name, None)
    return list(seen)


def param_names(node: Expr) -> list[str]:
    """Names of the parameters the expression reads, in first-use order."""
    seen: dict[str, None] = {}
    for item in walk(node):
        if isinstance(item, Param):
            seen.setdefault(item.name, None)
    return list(seen)
