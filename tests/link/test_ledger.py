from __future__ import annotations

import random

import pytest

import dixian.link.ledger as ledger
from dixian.config import Workspace
from dixian.link.pipeline import link_workspace
from tests.link.staging import (
    county,
    illness_rows,
    person_links,
    registration_rows,
    write_staging,
)

FAST = "u_sample_pairs: 100000\n"


def _persons(workspace: Workspace) -> dict[str, tuple[str, str]]:
    return {
        record: (row["person_id"], row["match_method"])
        for record, row in person_links(workspace).items()
    }


def test_profiles_read_in_small_batches_give_the_same_rule_links(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.root / "link.yaml").write_text(FAST, encoding="utf-8")
    people = county(150, seed=7)
    rng = random.Random(3)
    write_staging(workspace, "household_registration", registration_rows(people, "2024-01"))
    rows = illness_rows(people[:50], "2024-02", noise="bad_id", rng=rng)
    rows += illness_rows(people[50:100], "2024-02", noise="homophone", rng=rng)
    write_staging(workspace, "chronic_illness", rows)

    whole = link_workspace(workspace, full=True)
    one_batch = _persons(workspace)
    monkeypatch.setattr(ledger, "BATCH_ROWS", 37)
    batched = link_workspace(workspace, full=True)
    many_batches = _persons(workspace)

    assert whole.figures["profiles"] == batched.figures["profiles"] > 3 * 37
    for method in ("id", "id_repaired", "context"):
        assert (
            whole.figures["links_by_method"][method] == (batched.figures["links_by_method"][method])
        )
    assert batched.figures["links_by_method"]["id_repaired"] == 50
    assert set(one_batch) == set(many_batches)
    for record, (person, method) in one_batch.items():
        if method in ("id", "id_repaired"):
            assert many_batches[record] == (person, method)
    # The spill directory of the run's bookkeeping does not outlive the run.
    assert not (workspace.artifacts_dir / "link" / "spill").exists()
