"""The Python evaluator agrees with the compiled DuckDB expression on random expressions and
random households (NULLs included)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import ibis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dixian.features import panel_memtable
from dixian.policy import compile_expression
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
from dixian.policy.interpret import evaluate_expression

_BACKEND = ibis.duckdb.connect()
_NUMERIC_FIELDS = ["income_net_pc", "member_count", "vehicle_count", "deposits_total"]
_PARAMS = {"line": 7850, "ratio": 1.5}

_small_ints = st.integers(min_value=-50, max_value=50)
_small_floats = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(lambda x: round(x, 2))
_numbers = st.one_of(
    st.integers(min_value=0, max_value=50).map(Number),
    st.floats(min_value=0, max_value=1e4, allow_nan=False).map(lambda x: Number(round(x, 2))),
    st.sampled_from(_NUMERIC_FIELDS).map(Field),
    st.sampled_from(sorted(_PARAMS)).map(Param),
    st.sampled_from(["all", "elderly", "students"]).map(
        lambda c: Call("count_members", (String(c),))
    ),
    st.just(Call("months_since", (Field("last_shock_date"),))),
)


def _numeric(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/"]), children, children),
        st.builds(Unary, st.just("-"), children),
        st.builds(
            Call,
            st.sampled_from(["min", "max", "coalesce"]),
            st.lists(children, min_size=2, max_size=3).map(tuple),
        ),
        st.builds(lambda x: Call("abs", (x,)), children),
    )


_numeric_exprs = st.recursive(_numbers, _numeric, max_leaves=6)
_comparisons = st.builds(
    Binary, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), _numeric_exprs, _numeric_exprs
)
_booleans = st.one_of(
    _comparisons,
    st.sampled_from(["is_dibao", "house_unsafe"]).map(Field),
    st.booleans().map(Boolean),
    st.builds(
        InList,
        _numeric_exprs,
        st.lists(st.integers(0, 5).map(Number), min_size=1, max_size=3).map(tuple),
        st.booleans(),
    ),
    st.builds(
        lambda d: Binary("<", Field("last_shock_date"), DateLiteral(d)),
        st.dates(min_value=date(2020, 1, 1), max_value=date(2025, 1, 1)),
    ),
)


def _logic(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Binary, st.sampled_from(["and", "or"]), children, children),
        st.builds(Unary, st.just("not"), children),
    )


_conditions = st.recursive(_booleans, _logic, max_leaves=5)

_maybe = st.one_of(st.none(), _small_ints.map(abs))
_rows = st.fixed_dictionaries(
    {
        "income_net_pc": st.one_of(st.none(), _small_floats),
        "member_count": _maybe,
        "vehicle_count": _maybe,
        "deposits_total": st.one_of(st.none(), _small_floats),
        "members_60_plus": _maybe,
        "students_compulsory": _maybe,
        "students_high_school": _maybe,
        "students_tertiary": _maybe,
        "is_dibao": st.one_of(st.none(), st.booleans()),
        "house_unsafe": st.one_of(st.none(), st.booleans()),
        "last_shock_date": st.one_of(
            st.none(), st.dates(min_value=date(2019, 1, 1), max_value=date(2024, 6, 30))
        ),
    }
)


def _same(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    return bool(left == right)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_conditions, _numeric_exprs), _rows)
def test_python_evaluator_matches_duckdb(expr: Expr, values: dict[str, Any]) -> None:
    row = {
        "household_id": "h",
        "period": "2024-06",
        "period_end": date(2024, 6, 30),
        **values,
    }
    table = panel_memtable([row])
    compiled = compile_expression(expr, table, params=_PARAMS)
    expected = _BACKEND.to_pyarrow(table.select(v=compiled)).to_pylist()[0]["v"]
    actual = evaluate_expression(expr, [row], params=_PARAMS)
    assert _same(actual, expected), (expr, actual, expected)


def test_sum_over_uses_the_household_history() -> None:
    history = [{"medical_oop_12m": v} for v in (100.0, None, 300.0, 400.0)]
    expr = Call("sum_over", (Field("medical_oop_12m"), Number(3)))
    assert evaluate_expression(expr, history, params={}) == 700.0
    assert evaluate_expression(expr, history[:2], params={}) == 100.0
    assert evaluate_expression(expr, [{"medical_oop_12m": None}], params={}) is None
