from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa
import pytest

from dixian.link import MatcherOptions, prepare_nodes, resolve
from tests.link.factories import clean_record, noisy_copy, population


def _nodes() -> pa.Table:
    rng = random.Random(3)
    people = population(150, seed=13)
    rows = [clean_record(p) for p in people]
    noises = ["homophone", "traditional", "swap_day_month"] * 20
    rows += [noisy_copy(p, noise, rng) for p, noise in zip(people[:60], noises, strict=True)]
    return prepare_nodes(
        pa.table(
            {
                "node_id": [f"n{i:03d}" for i in range(len(rows))],
                "source": ["records"] * len(rows),
                "name": [r["name"] for r in rows],
                "sex": [r["sex"] for r in rows],
                "birth_date": pa.array([dt.date.fromisoformat(str(r["dob"])) for r in rows]),
                "id_number": [r["id_no"] for r in rows],
                "region_code": [r["village"] for r in rows],
            }
        )
    )


def _partition(assign: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for node, root in assign.items():
        groups.setdefault(root, set()).add(node)
    return {frozenset(group) for group in groups.values()}


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_linkage_scores_on_spark_like_on_duckdb(spark_backend: Any) -> None:
    nodes = _nodes()
    trained = resolve(
        nodes,
        options=MatcherOptions(engine="duckdb", max_pairs_u=5e4),
        target_precision=0.99,
        target_recall=0.999,
    )
    assert len(_partition(trained.clusters)) == 150
    # The model trained on DuckDB scores on Spark (Spark SQL for every level).
    on_spark = resolve(
        nodes,
        options=MatcherOptions(engine="spark"),
        target_precision=0.99,
        target_recall=0.999,
        model=trained.model,
        prior=float(trained.model["probability_two_random_records_match"]),
    )
    assert _partition(on_spark.clusters) == _partition(trained.clusters)
    assert on_spark.pairs.num_rows == trained.pairs.num_rows
