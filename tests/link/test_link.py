from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dixian.config import Workspace
from dixian.engine import open_backend
from tests.conftest import run_cli
from tests.link.factories import NOISES
from tests.link.staging import county, illness_rows, registration_rows, truth_of, write_staging

FAST = "u_sample_pairs: 100000\n"


def _pairs(assignment: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for record, cluster in assignment.items():
        groups[cluster].append(record)
    return {
        tuple(sorted(pair))  # type: ignore[misc]
        for members in groups.values()
        for pair in itertools.combinations(members, 2)
    }


def _links(workspace: Workspace) -> dict[str, dict[str, object]]:
    table = open_backend(workspace).table("person_link").to_pyarrow()
    return {row["_record_id"]: row for row in table.to_pylist()}


def _link(workspace: Workspace, *extra: str) -> dict[str, object]:
    result = run_cli("link", "--workspace", str(workspace.root), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    figures: dict[str, object] = json.loads(result.stdout)
    return figures


def _write_truth(workspace: Workspace) -> None:
    """A feed_rows truth file in the simulator's shape, from the test staging tables."""
    backend = open_backend(workspace)
    rows = []
    for name in backend.list_tables():
        if name.startswith("staging_"):
            table = backend.table(name).to_pyarrow().to_pylist()
            for row in table:
                rows.append(
                    {
                        "source_file": row["_source_file"],
                        "sheet": row["_sheet"],
                        "row_number": row["_row_number"],
                        "true_person_id": int(row["_truth"][1:]),
                        "noise": [row["_noise"]] if row.get("_noise") else [],
                    }
                )
    workspace.truth_dir.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), workspace.truth_dir / "feed_rows.parquet")


@pytest.fixture
def noisy_county(workspace: Workspace) -> Workspace:
    (workspace.root / "link.yaml").write_text(FAST, encoding="utf-8")
    people = county(360, seed=4)
    rng = random.Random(2)
    write_staging(workspace, "household_registration", registration_rows(people, "2024-01"))
    rows = []
    for index, noise in enumerate(NOISES):
        chunk = illness_rows(people[index * 40 : (index + 1) * 40], "2024-02", noise=noise, rng=rng)
        rows += [row | {"_noise": noise} for row in chunk]
    write_staging(workspace, "chronic_illness", rows)
    return workspace


def test_link_finds_every_person_under_each_noise_type(noisy_county: Workspace) -> None:
    figures = _link(noisy_county)
    assert figures["mode"] == "full"
    methods = figures["links_by_method"]
    assert isinstance(methods, dict)
    assert methods["id_repaired"] == 40  # every transposed ID repaired
    assert methods["probabilistic"] > 0
    links, truth = _links(noisy_county), truth_of(noisy_county)
    predicted = _pairs({record: str(row["person_id"]) for record, row in links.items()})
    actual = _pairs(truth)
    correct = len(predicted & actual)
    assert correct / len(predicted) >= 0.99
    assert correct / len(actual) >= 0.98
    persons = open_backend(noisy_county).table("persons").to_pyarrow()
    assert persons.num_rows == pytest.approx(360, abs=5)
    _write_truth(noisy_county)
    result = run_cli("evaluate", "link", "--workspace", str(noisy_county.root), "--json")
    assert result.exit_code == 0, result.stderr
    scored = json.loads(result.stdout)
    assert scored["pairwise"]["f1"] >= 0.98
    assert scored["id_repairs"] == {"right": 40, "wrong": 0}
    assert set(scored["by_noise"]) == set(NOISES)
    assert (noisy_county.reports_dir / "link_evaluation.json").is_file()


def test_incremental_linking_equals_a_full_relink_and_ids_are_stable(
    noisy_county: Workspace,
) -> None:
    backend = open_backend(noisy_county)
    illness = backend.table("staging_chronic_illness").to_pyarrow()
    backend.drop_table("staging_chronic_illness")
    first = _link(noisy_county)
    assert first["mode"] == "full"
    before = _links(noisy_county)
    backend = open_backend(noisy_county)
    backend.create_table("staging_chronic_illness", illness, overwrite=True)
    second = _link(noisy_county)
    assert second["mode"] == "incremental"
    assert second["new_profiles"] == illness.num_rows
    incremental = _links(noisy_county)
    for record, row in before.items():
        assert incremental[record]["person_id"] == row["person_id"]
    _link(noisy_county, "--full")
    full = _links(noisy_county)
    assert _pairs({r: str(v["person_id"]) for r, v in incremental.items()}) == _pairs(
        {r: str(v["person_id"]) for r, v in full.items()}
    )
    # Persons known by a valid ID keep their id through a full re-link.
    for record, row in before.items():
        assert full[record]["person_id"] == row["person_id"]


def test_link_without_staging_is_a_one_line_error(workspace: Workspace) -> None:
    result = run_cli("link", "--workspace", str(workspace.root))
    assert result.exit_code == 2
    assert "dixian ingest" in result.stderr
