from __future__ import annotations

import dataclasses
import json

import pytest

from dixian.config import Workspace
from dixian.engine import open_backend
from tests.conftest import run_cli
from tests.link.staging import county, registration_rows, write_staging


@pytest.fixture
def namesakes(workspace: Workspace) -> Workspace:
    """Two registered persons with the same name, sex and village, and one claim
    without an ID number that could be either: a pair for the clerk."""
    (workspace.root / "link.yaml").write_text("u_sample_pairs: 100000\n", encoding="utf-8")
    people = county(200, seed=8)
    first = people[0]
    people[1] = dataclasses.replace(
        people[1], name=first.name, sex=first.sex, village=first.village
    )
    write_staging(workspace, "household_registration", registration_rows(people, "2024-01"))
    claim = {
        "id_number": None,
        "name": first.name,
        "sex": "M" if first.sex == "1" else "F",
        "region_code": first.village,
        "_period": "2024-02",
        "_truth": first.person,
    }
    write_staging(workspace, "medical_claims", [claim])
    return workspace


def _claim_person(workspace: Workspace) -> tuple[str, str]:
    links = open_backend(workspace).table("person_link").to_pyarrow().to_pylist()
    (claim,) = [row for row in links if row["dataset"] == "medical_claims"]
    return str(claim["person_id"]), str(claim["match_method"])


def _queue(workspace: Workspace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = (
        open_backend(workspace).table("link_review_queue").to_pyarrow().to_pylist()
    )
    return rows


def test_a_reviewer_decision_is_applied_and_survives_reruns(namesakes: Workspace) -> None:
    root = str(namesakes.root)
    assert run_cli("link", "--workspace", root, "--json").exit_code == 0
    queue = [item for item in _queue(namesakes) if item["status"] == "open"]
    assert len(queue) == 2  # the claim against each namesake
    evidence = json.loads(str(queue[0]["evidence"]))
    assert {entry["comparison"] for entry in evidence} >= {"name", "region_code"}
    name = next(entry for entry in evidence if entry["comparison"] == "name")
    assert name["left"] == name["right"]  # both sides' name keys shown to the clerk
    assert name["left"]
    person, _method = _claim_person(namesakes)
    assert person not in {str(item["left_node"])[2:] for item in queue} | {
        str(item["right_node"])[2:] for item in queue
    }
    chosen = queue[0]
    target = next(
        str(node)[2:]
        for node in (chosen["left_node"], chosen["right_node"])
        if str(node)[:2] == "P:"
    )
    decided = run_cli(
        "link-review",
        str(chosen["review_id"]),
        "match",
        "--reviewer",
        "clerk1",
        "--workspace",
        root,
    )
    assert decided.exit_code == 0, decided.stderr
    again = run_cli(
        "link-review", str(chosen["review_id"]), "non_match", "--reviewer", "x", "--workspace", root
    )
    assert again.exit_code == 2  # already decided
    assert run_cli("link", "--workspace", root, "--json").exit_code == 0
    assert _claim_person(namesakes) == (target, "reviewed")
    assert run_cli("link", "--workspace", root, "--json").exit_code == 0
    assert _claim_person(namesakes) == (target, "reviewed")
    assert run_cli("link", "--workspace", root, "--full", "--json").exit_code == 0
    assert _claim_person(namesakes) == (target, "reviewed")
    statuses = {item["review_id"]: item["status"] for item in _queue(namesakes)}
    assert statuses[chosen["review_id"]] == "match"


def test_a_non_match_decision_keeps_the_record_apart(namesakes: Workspace) -> None:
    root = str(namesakes.root)
    assert run_cli("link", "--workspace", root).exit_code == 0
    queue = [item for item in _queue(namesakes) if item["status"] == "open"]
    for item in queue:
        result = run_cli(
            "link-review",
            str(item["review_id"]),
            "non_match",
            "--reviewer",
            "c",
            "--workspace",
            root,
        )
        assert result.exit_code == 0, result.stderr
    assert run_cli("link", "--workspace", root).exit_code == 0
    person, _method = _claim_person(namesakes)
    namesake_persons = {
        str(node)[2:]
        for item in queue
        for node in (item["left_node"], item["right_node"])
        if str(node).startswith("P:")
    }
    assert person not in namesake_persons
    assert not [item for item in _queue(namesakes) if item["status"] == "open"]


def test_unknown_review_item_is_not_found(namesakes: Workspace) -> None:
    result = run_cli(
        "link-review", "nope", "match", "--reviewer", "c", "--workspace", str(namesakes.root)
    )
    assert result.exit_code == 4
