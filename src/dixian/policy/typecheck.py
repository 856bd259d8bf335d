"""Static checks of a parsed expression: known fields and parameters, types, function use.

Every problem found is reported (not only the first), each with its position; an unknown
field or parameter suggests the nearest known names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dixian.features.panel_schema import PanelType, panel_columns
from dixian.policy.ast import (
    ARITHMETIC,
    COMPARISONS,
    LOGICAL,
    Binary,
    Boolean,
    Call,
    DateLiteral,
    Expr,
    Field,
    InList,
    Number,
    Param,
    Pos,
    String,
    Unary,
)
from dixian.policy.problems import Problem


class ValueType(StrEnum):
    """The types of expression values."""

    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"


_FROM_PANEL = {
    PanelType.INT64: ValueType.NUMBER,
    PanelType.FLOAT64: ValueType.NUMBER,
    PanelType.STRING: ValueType.STRING,
    PanelType.BOOLEAN: ValueType.BOOLEAN,
    PanelType.DATE: ValueType.DATE,
}

# count_members(category): the panel column that counts the members of each category.
MEMBER_CATEGORIES: dict[str, tuple[str, ...]] = {
    "all": ("member_count",),
    "under_16": ("members_under_16",),
    "working_age": ("members_16_59",),
    "elderly": ("members_60_plus",),
    "labour": ("labour_capacity_count",),
    "dependants": ("dependant_count",),
    "disabled": ("disabled_count",),
    "severely_disabled": ("severe_disabled_count",),
    "seriously_ill": ("serious_illness_count",),
    "chronically_ill": ("chronic_illness_count",),
    "students": ("students_compulsory", "students_high_school", "students_tertiary"),
    "public_payroll": ("public_payroll_count",),
}
MAX_SUM_OVER_PERIODS = 60


def panel_field_types() -> dict[str, ValueType]:
    """The expression type of every panel column."""
    return {name: _FROM_PANEL[column.dtype] for name, column in panel_columns().items()}


def value_type(value: object) -> ValueType | None:
    """The expression type of a parameter value, or None if it has none."""
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int | float):
        return ValueType.NUMBER
    if isinstance(value, str):
        return ValueType.STRING
    if isinstance(value, date):
        return ValueType.DATE
    return None


def nearest_names(name: str, known: Iterable[str], *, limit: int = 3) -> list[str]:
    """Known names closest to a misspelt one (by similarity, then by shared words)."""
    pool = list(known)
    close = difflib.get_close_matches(name, pool, n=limit, cutoff=0.6)
    if len(close) < limit:
        words = set(name.split("_"))
        for candidate in pool:
            if candidate not in close and words & set(candidate.split("_")):
                close.append(candidate)
            if len(close) >= limit:
                break
    return close[:limit]


def _start(node: Expr) -> Pos:
    """Where an expression begins (a binary node's own position is its operator)."""
    if isinstance(node, Binary):
        return _start(node.left)
    if isinstance(node, InList):
        return _start(node.operand)
    return node.pos


@dataclass
class _Checker:
    fields: Mapping[str, ValueType]
    params: Mapping[str, ValueType]
    problems: list[Problem]

    def report(self, node: Expr, message: str, *, at_start: bool = False) -> None:
        pos = _start(node) if at_start else node.pos
        self.problems.append(Problem(pos.line, pos.column, message))

    def check(self, node: Expr) -> ValueType | None:
        """The node's type, or None when it is wrong (already reported)."""
        if isinstance(node, Number):
            return ValueType.NUMBER
        if isinstance(node, String):
            return ValueType.STRING
        if isinstance(node, Boolean):
            return ValueType.BOOLEAN
        if isinstance(node, DateLiteral):
            return ValueType.DATE
        if isinstance(node, Field):
            return self.name(node, node.name, self.fields, "field")
        if isinstance(node, Param):
            return self.name(node, node.name, self.params, "parameter")
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            return self.in_list(node)
        return self.call(node)

    def name(
        self, node: Expr, name: str, known: Mapping[str, ValueType], what: str
    ) -> ValueType | None:
        if name in known:
            return known[name]
        prefix = "params." if what == "parameter" else ""
        near = [prefix + item for item in nearest_names(name, known)]
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        self.report(node, f"unknown {what} '{prefix}{name}'{hint}")
        return None

    def expect(self, node: Expr, wanted: ValueType, context: str) -> None:
        found = self.check(node)
        if found is not None and found != wanted:
            self.report(
                node,
                f"{context}: expected a {wanted.value} but found a {found.value}",
                at_start=True,
            )

    def unary(self, node: Unary) -> ValueType | None:
        if node.op == "not":
            self.expect(node.operand, ValueType.BOOLEAN, "'not' needs a condition")
            return ValueType.BOOLEAN
        self.expect(node.operand, ValueType.NUMBER, "'-' needs a number")
        return ValueType.NUMBER

    def binary(self, node: Binary) -> ValueType | None:
        if node.op in LOGICAL:
            self.expect(node.left, ValueType.BOOLEAN, f"'{node.op}' joins conditions")
            self.expect(node.right, ValueType.BOOLEAN, f"'{node.op}' joins conditions")
            return ValueType.BOOLEAN
        if node.op in ARITHMETIC:
            self.expect(node.left, ValueType.NUMBER, f"'{node.op}' needs numbers")
            self.expect(node.right, ValueType.NUMBER, f"'{node.op}' needs numbers")
            return ValueType.NUMBER
        assert node.op in COMPARISONS
        left, right = self.check(node.left), self.check(node.right)
        if left is None or right is None:
            return ValueType.BOOLEAN
        if left != right:
            self.report(
                node,
                f"'{node.op}' compares a {left.value} with a {right.value}: "
                "expected two values of the same type",
            )
        elif node.op not in ("==", "!=") and left not in (ValueType.NUMBER, ValueType.DATE):
            self.report(node, f"'{node.op}' orders numbers or dates, not {left.value}s")
        return ValueType.BOOLEAN

    def in_list(self, node: InList) -> ValueType | None:
        operand = self.check(node.operand)
        for item in node.items:
            found = self.check(item)
            if operand is not None and found is not None and found != operand:
                self.report(item, f"list item is a {found.value}; expected a {operand.value}")
        if not node.items:
            self.report(node, "empty list: expected at least one item (form: x in [a, b])")
        return ValueType.BOOLEAN

    def call(self, node: Call) -> ValueType | None:
        handler = getattr(self, f"call_{node.name}")
        result: ValueType | None = handler(node)
        return result

    def arity(self, node: Call, low: int, high: int | None, form: str) -> bool:
        count = len(node.args)
        if count < low or (high is not None and count > high):
            self.report(node, f"{node.name}() takes {form}; found {count} argument(s)")
            return False
        return True

    def call_sum_over(self, node: Call) -> ValueType | None:
        if not self.arity(node, 2, 2, "a numeric field and a number of periods: sum_over(f, 12)"):
            return ValueType.NUMBER
        target, periods = node.args
        if not isinstance(target, Field):
            self.report(target, "sum_over(): expected a field name as the first argument")
        else:
            self.expect(target, ValueType.NUMBER, "sum_over() adds numbers")
        if not (
            isinstance(periods, Number)
            and isinstance(periods.value, int)
            and 1 <= periods.value <= MAX_SUM_OVER_PERIODS
        ):
            self.report(
                periods,
                f"sum_over(): expected a whole number of periods from 1 to {MAX_SUM_OVER_PERIODS}",
            )
        return ValueType.NUMBER

    def call_count_members(self, node: Call) -> ValueType | None:
        form = 'one category: count_members("elderly")'
        if not self.arity(node, 1, 1, form):
            return ValueType.NUMBER
        (category,) = node.args
        if not isinstance(category, String) or category.value not in MEMBER_CATEGORIES:
            self.report(
                category,
                "count_members(): expected one of "
                + ", ".join(f'"{c}"' for c in MEMBER_CATEGORIES),
            )
        return ValueType.NUMBER

    def call_months_since(self, node: Call) -> ValueType | None:
        if self.arity(node, 1, 1, "one date: months_since(last_shock_date)"):
            self.expect(node.args[0], ValueType.DATE, "months_since() needs a date")
        return ValueType.NUMBER

    def call_coalesce(self, node: Call) -> ValueType | None:
        return self.same_type_args(node, None, "two or more values of one type")

    def call_min(self, node: Call) -> ValueType | None:
        return self.same_type_args(node, ValueType.NUMBER, "two or more numbers")

    def call_max(self, node: Call) -> ValueType | None:
        return self.same_type_args(node, ValueType.NUMBER, "two or more numbers")

    def call_abs(self, node: Call) -> ValueType | None:
        if self.arity(node, 1, 1, "one number"):
            self.expect(node.args[0], ValueType.NUMBER, "abs() needs a number")
        return ValueType.NUMBER

    def same_type_args(self, node: Call, wanted: ValueType | None, form: str) -> ValueType | None:
        if not self.arity(node, 2, None, form):
            return wanted
        types = [self.check(arg) for arg in node.args]
        known = [t for t in types if t is not None]
        first = wanted or (known[0] if known else None)
        for arg, found in zip(node.args, types, strict=True):
            if found is not None and first is not None and found != first:
                self.report(
                    arg, f"{node.name}(): expected a {first.value} but found a {found.value}"
                )
        return first


def check_expression(
    node: Expr,
    *,
    fields: Mapping[str, ValueType] | None = None,
    params: Mapping[str, ValueType],
    expect: ValueType | None = ValueType.BOOLEAN,
) -> list[Problem]:
    """Every type and name problem of an expression (empty list: it is valid).

    Args:
        node: the parsed expression.
        fields: field types (default: the household_period panel).
        params: parameter types by name.
        expect: the type the whole expression must have (a condition is boolean).
    """
    checker = _Checker(fields if fields is not None else panel_field_types(), params, [])
    found = checker.check(node)
    if expect is not None and found is not None and found != expect:
        checker.report(
            node,
            f"expected a {expect.value} expression (a condition) but found a {found.value}",
            at_start=True,
        )
    return checker.problems
