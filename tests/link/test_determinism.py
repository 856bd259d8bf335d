"""Two runs of `dixian link` on the same workspace give the same links.

The engine returns identity profiles in an order of its threads' making; nothing that
decides a link may depend on it (the training sample once did: F1 moved in the 5th decimal).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import dixian.link.ledger as ledger
from dixian.config import Workspace
from dixian.link.pipeline import link_workspace
from dixian.link.training import TRAINING_COLUMNS, training_sample
from tests.link.staging import (
    county,
    illness_rows,
    person_links,
    registration_rows,
    write_staging,
)

# A training sample smaller than the county's profiles, so that which profiles are drawn
# matters.
SETTINGS = "u_sample_pairs: 100000\ntraining_profiles: 100\n"


def _profiles(n: int) -> pa.Table:
    ids = [f"{(index * 7919) % 1000:03d}-{index}" for index in range(n)]
    columns: dict[str, Any] = {name: [None] * n for name in TRAINING_COLUMNS}
    columns["profile_id"] = ids
    columns["name"] = [f"name {index % 17}" for index in range(n)]
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    consistent = pa.array([index % 2 == 0 for index in range(n)], pa.bool_())
    return table.set_column(table.column_names.index("id_consistent"), "id_consistent", consistent)


def _loaded(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("_rows", table)
    con.execute("create table profiles as select * from _rows")
    return con


def test_training_sample_does_not_follow_the_load_order() -> None:
    profiles = _profiles(500)
    forward = training_sample(_loaded(profiles), size=120, seed=11)
    backward = training_sample(_loaded(profiles.take(list(range(499, -1, -1)))), size=120, seed=11)
    assert forward.equals(backward)
    ids = forward.column("profile_id").to_pylist()
    assert len(ids) == len(set(ids)) == 120
    assert ids == sorted(ids)
    # Not simply the first profiles by id, and another seed draws another sample.
    assert ids != sorted(profiles.column("profile_id").to_pylist())[:120]
    other = training_sample(_loaded(profiles), size=120, seed=12)
    assert set(other.column("profile_id").to_pylist()) != set(ids)
    everything = training_sample(_loaded(profiles), size=1000, seed=11)
    assert everything.num_rows == 500


def test_two_runs_give_the_same_person_link_whatever_order_profiles_come_in(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.root / "link.yaml").write_text(SETTINGS, encoding="utf-8")
    people = county(200, seed=5)
    rng = random.Random(8)
    write_staging(workspace, "household_registration", registration_rows(people, "2024-01"))
    rows = illness_rows(people[:70], "2024-02", noise="homophone", rng=rng)
    rows += illness_rows(people[70:140], "2024-02", noise="missing_id", rng=rng)
    rows += illness_rows(people[140:], "2024-02", noise="typo", rng=rng)
    write_staging(workspace, "chronic_illness", rows)

    first = link_workspace(workspace, full=True)
    links = person_links(workspace)

    # The engine hands the profiles over in the reverse order, in small batches.
    read = ledger._batches

    def reversed_batches(profiles: Any) -> Iterator[pa.RecordBatch]:
        whole = pa.Table.from_batches(list(read(profiles)))
        yield from whole.take(list(range(whole.num_rows - 1, -1, -1))).to_batches(53)

    monkeypatch.setattr(ledger, "_batches", reversed_batches)
    second = link_workspace(workspace, full=True)

    assert first.figures["profiles"] > 100
    assert first.figures["links_by_method"]["probabilistic"] > 50
    assert second.figures["links_by_method"] == first.figures["links_by_method"]
    assert person_links(workspace) == links
