"""The same small Ibis pipeline gives the same result on DuckDB and Spark."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

from dixian.config import Workspace
from dixian.engine import open_backend, swap_in_staged

_ROWS = pd.DataFrame(
    {
        "household_id": ["h1", "h1", "h2", "h3", "h3", "h3"],
        "income": [1200.0, 800.0, 5000.0, 300.0, 0.0, 2400.0],
        "region_code": ["522799001001"] * 3 + ["522799002003"] * 3,
    }
)


def _pipeline(backend: Any) -> pd.DataFrame:
    table = backend.create_table("incomes", _ROWS, overwrite=True)
    per_household = table.group_by(["region_code", "household_id"]).aggregate(
        total=table.income.sum(), members=table.count()
    )
    per_household = per_household.mutate(
        per_capita=per_household.total / per_household.members,
        township=per_household.region_code.substr(0, 9),
    )
    result = per_household.filter(per_household.per_capita < 2500).order_by("household_id")
    return backend.to_pandas(result).reset_index(drop=True)


def test_duckdb_backend_opens_workspace_file(workspace: Workspace) -> None:
    backend = open_backend(workspace)
    frame = _pipeline(backend)
    assert list(frame.household_id) == ["h1", "h3"]
    assert frame.per_capita.tolist() == pytest.approx([1000.0, 900.0])
    assert workspace.warehouse_path.exists()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_gives_the_same_result(spark_backend: Any) -> None:
    duck = _pipeline(ibis.duckdb.connect())
    spark = _pipeline(spark_backend)
    pd.testing.assert_frame_equal(
        duck.astype({"members": "int64"}), spark.astype({"members": "int64"}), check_dtype=False
    )


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_keeps_nulls_of_arrow_tables(spark_backend: Any) -> None:
    import pyarrow as pa

    schema = pa.schema(
        [("id_number", pa.string()), ("address", pa.string()), ("n_records", pa.int64())]
    )
    # Two chunks, as DuckDB returns larger results: pandas-based conversion wrote 'NaN'.
    table = pa.concat_tables(
        [
            pa.table(
                {"id_number": ["522799196010065029"], "address": [None], "n_records": [83]},
                schema=schema,
            ),
            pa.table({"id_number": [None], "address": [None], "n_records": [None]}, schema=schema),
        ]
    )
    written = spark_backend.create_table("arrow_nulls", table, overwrite=True)
    rows = written.to_pyarrow().to_pylist()
    assert sorted(rows, key=lambda row: str(row["id_number"])) == [
        {"id_number": "522799196010065029", "address": None, "n_records": 83},
        {"id_number": None, "address": None, "n_records": None},
    ]


_WRITE_THEN_LIST = """
import sys
from pathlib import Path

import ibis
from dixian.config import Workspace
from dixian.engine import open_backend, swap_in_staged

backend = open_backend(Workspace.open(Path(sys.argv[1])))
if sys.argv[2] == "write":
    backend.create_table("kept_between_runs", ibis.memtable({"x": [1, 2, 3]}), overwrite=True)
print(sorted(backend.list_tables()))
print(backend.table("kept_between_runs").count().execute())
"""


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_workspace_tables_outlive_the_process(workspace: Workspace) -> None:
    import subprocess
    import sys

    config = workspace.config_path.read_text(encoding="utf-8")
    workspace.config_path.write_text(
        config.replace('kind = "duckdb"', 'kind = "spark"'), encoding="utf-8"
    )
    assert Workspace.open(workspace.root).config.engine.kind == "spark"
    runs = [
        subprocess.run(
            [sys.executable, "-c", _WRITE_THEN_LIST, str(workspace.root), step],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        for step in ("write", "read")
    ]
    # The second process only reads: the table comes from the catalog kept in the workspace.
    assert runs[1].stdout.split("\n")[:2] == ["['kept_between_runs']", "3"]
    assert (workspace.root / "spark-metastore").is_dir()
    assert "Ignoring non-Spark config property" not in runs[0].stderr


def _swap_twice(backend: Any) -> list[list[int]]:
    """Swap in two staged tables; then try a swap whose second staged table is missing."""
    for name in ("swap_a", "swap_b", "swap_a__next", "swap_b__next"):
        if name in backend.list_tables():
            backend.drop_table(name)
    backend.create_table("swap_a", ibis.memtable({"x": [1]}))
    backend.create_table("swap_a__next", ibis.memtable({"x": [2, 3]}))
    backend.create_table("swap_b__next", ibis.memtable({"x": [4]}))
    swap_in_staged(backend, ["swap_a", "swap_b"])
    seen = [sorted(backend.table(name).x.to_pyarrow().to_pylist()) for name in ("swap_a", "swap_b")]
    assert not {"swap_a__next", "swap_b__next"} & set(backend.list_tables())
    backend.create_table("swap_a__next", ibis.memtable({"x": [5]}))
    with pytest.raises(Exception):  # noqa: B017 - each engine raises its own error type
        swap_in_staged(backend, ["swap_a", "swap_b"], suffix="__next")
    seen.append(sorted(backend.table("swap_a").x.to_pyarrow().to_pylist()))
    return seen


def test_staged_tables_are_swapped_in_together_on_duckdb() -> None:
    # After a failed swap on DuckDB, the first table is still the one before: one transaction.
    assert _swap_twice(ibis.duckdb.connect()) == [[2, 3], [4], [2, 3]]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_staged_tables_are_swapped_in_on_spark(spark_backend: Any) -> None:
    # Spark has no multi-table transaction: a failed swap has already replaced the first.
    assert _swap_twice(spark_backend) == [[2, 3], [4], [5]]
