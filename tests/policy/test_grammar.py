"""The expression grammar: valid forms, invalid forms with positions, and the round trip."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dixian.policy import ExpressionError, format_expression, parse_expression
from dixian.policy.ast import (
    KEYWORDS,
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


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("member_count >= 2", Binary(">=", Field("member_count"), Number(2))),
        ("params.monitoring_line", Param("monitoring_line")),
        ("1 + 2 * 3", Binary("+", Number(1), Binary("*", Number(2), Number(3)))),
        ("(1 + 2) * 3", Binary("*", Binary("+", Number(1), Number(2)), Number(3))),
        ("10 - 3 - 2", Binary("-", Binary("-", Number(10), Number(3)), Number(2))),
        ("-x", Unary("-", Field("x"))),
        ("2.5e3", Number(2500.0)),
        (".5", Number(0.5)),
        ("'a\\'b'", String("a'b")),
        ('"甲乙"', String("甲乙")),
        ("true and not false", Binary("and", Boolean(True), Unary("not", Boolean(False)))),
        (
            "a or b and c",
            Binary("or", Field("a"), Binary("and", Field("b"), Field("c"))),
        ),
        ('date("2024-02-29")', DateLiteral(date(2024, 2, 29))),
        ('x in ["a", "b"]', InList(Field("x"), (String("a"), String("b")))),
        ("x not in [1, -2]", InList(Field("x"), (Number(1), Unary("-", Number(2))), negated=True)),
        ("not x in [1]", Unary("not", InList(Field("x"), (Number(1),)))),
        (
            "min(a, max(b, 3))",
            Call("min", (Field("a"), Call("max", (Field("b"), Number(3))))),
        ),
        ('count_members("elderly")', Call("count_members", (String("elderly"),))),
        ("sum_over(medical_oop_12m, 12)", Call("sum_over", (Field("medical_oop_12m"), Number(12)))),
        ("a\n  and\n b", Binary("and", Field("a"), Field("b"))),
    ],
)
def test_valid_forms(text: str, tree: Expr) -> None:
    assert parse_expression(text) == tree


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("", 1, 1, "empty expression"),
        ("a >", 1, 4, "expected an operand"),
        ("a > > 2", 1, 5, "expected an operand"),
        ("(a + 1", 1, 7, "')' to close"),
        ("a < b < c", 1, 7, "cannot be chained"),
        ("a = 1", 1, 3, "'=='"),
        ("a && b", 1, 3, "'and'"),
        ("foo(1)", 1, 1, "unknown function 'foo'"),
        ('"open', 1, 1, "unterminated string"),
        ("x in 1, 2", 1, 6, "'['"),
        ("x in [a]", 1, 7, "a literal"),
        ("x not 3", 1, 7, "'in' after 'not'"),
        ('date("2024-13-01")', 1, 6, "invalid date"),
        ("params.", 1, 8, "parameter name"),
        ("12abc", 1, 1, "malformed number"),
        ("a b", 1, 3, "an operator"),
        ("a and\n  or b", 2, 3, "expected an operand"),
        ("min(a b)", 1, 7, "',' or ')'"),
    ],
)
def test_invalid_forms_report_position(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (line, column)
    assert fragment in problem.message


def test_parser_never_evaluates_python() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("__import__('os').system('true')")


# --- property-based round trip: tree -> text -> tree --------------------------------------

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: name not in KEYWORDS
)
_literals = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(Number),
    st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False).map(Number),
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=8
    ).map(String),
    st.booleans().map(Boolean),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(DateLiteral),
)
_list_items = st.one_of(
    _literals, st.integers(min_value=1, max_value=99).map(lambda n: Unary("-", Number(n)))
)
_leaves = st.one_of(_literals, _names.map(Field), _names.map(Param))


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    ops = ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "and", "or"]
    return st.one_of(
        st.builds(Binary, st.sampled_from(ops), children, children),
        st.builds(Unary, st.sampled_from(["-", "not"]), children),
        st.builds(
            InList,
            children,
            st.lists(_list_items, min_size=1, max_size=3).map(tuple),
            st.booleans(),
        ),
        st.builds(
            Call,
            st.sampled_from(["min", "max", "coalesce", "abs", "months_since"]),
            st.lists(children, min_size=1, max_size=3).map(tuple),
        ),
    )


_trees = st.recursive(_leaves, _extend, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_trees)
def test_round_trip_print_then_parse_gives_the_same_tree(tree: Expr) -> None:
    text = format_expression(tree)
    assert parse_expression(text) == tree
