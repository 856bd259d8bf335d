"""Batch verification gives the same results on Spark as on DuckDB."""

from __future__ import annotations

import random
from typing import Any

import ibis
import pyarrow as pa
import pytest

from dixian.engine import spark_session
from dixian.features import panel_schema
from dixian.policy import load_policy_set
from dixian.verify import find_problem_leads, verify_programs
from tests.verify.households import PERIOD, elder_alone, family, params_2024


def _panel_rows() -> list[dict[str, Any]]:
    rng = random.Random(3)
    rows = []
    for index in range(40):
        maker = family if index % 3 else elder_alone
        rows.append(
            maker(
                f"h{index:02d}",
                income_net_pc=rng.choice([None, 3000.0, 7849.99, 7850.0, 9000.0, 12000.0]),
                vehicle_non_exempt_count=rng.choice([0, 0, 1, None]),
                medical_oop_12m=rng.choice([0.0, 30000.0, None]),
                income_net_total=rng.choice([0.0, 3000.0, 45000.0]),
                member_count=rng.choice([1, 3, 0]),  # 0: the division guard must agree
            )
        )
    return rows


def _arrow(rows: list[dict[str, Any]]) -> pa.Table:
    schema = panel_schema()
    return pa.table(
        {name: [row.get(name) for row in rows] for name in schema.names}, schema=schema.to_pyarrow()
    )


def _leads(backend: Any, panel: Any) -> list[tuple[Any, ...]]:
    found = find_problem_leads(
        panel, load_policy_set(), params=params_2024(), period=PERIOD, backend=backend
    )
    return [(lead.household_id, lead.program, lead.strength, lead.kinds) for lead in found]


def _result(backend: Any, panel: Any) -> list[tuple[Any, ...]]:
    expr = verify_programs(panel, load_policy_set(), params=params_2024(), period=PERIOD)
    out = backend.to_pyarrow(expr).to_pylist()
    return sorted(tuple(row.values()) for row in out)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_matches_duckdb(spark_backend: Any) -> None:
    rows = _panel_rows()
    duck_backend = ibis.duckdb.connect()
    duck_panel = duck_backend.create_table("parity_panel", _arrow(rows))
    duck = _result(duck_backend, duck_panel)
    # Loaded straight from Arrow: going through pandas (as an Ibis memtable does on Spark)
    # turns a nullable integer column into floats and Spark then reads every value as NULL.
    spark_session().createDataFrame(_arrow(rows)).createOrReplaceTempView("parity_panel")
    spark = _result(spark_backend, spark_backend.table("parity_panel"))
    assert len(duck) == 40 * 4
    assert {row[4] for row in duck} == {"eligible", "not_eligible", "needs_review"}
    assert spark == duck
    # Problem leads: every program's suspects unioned and explained in one call on both.
    assert _leads(spark_backend, spark_backend.table("parity_panel")) == _leads(
        duck_backend, duck_panel
    )
