from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.link.factories import NOISES, clean_record, noisy_copy, population

MAP = """\
id: rid
columns:
  full_name: name
  sex: sex
  birth_date: dob
  id_number: id_no
  region: village
flavour: {flavour}
"""


def _write(path: Path, rows: list[dict[str, str | None]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def two_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("match")
    rng = random.Random(5)
    people = population(1200, seed=21)
    left = [clean_record(p) | {"rid": f"a{i}"} for i, p in enumerate(people[:1000])]
    right = [noisy_copy(p, NOISES[i % len(NOISES)], rng) for i, p in enumerate(people[:500])]
    right += [clean_record(p) for p in people[1000:]]
    right = [row | {"rid": f"b{i}"} for i, row in enumerate(right)]
    truth = {row["rid"]: row["person"] for row in left + right}
    for row in left + right:
        row.pop("person")
    _write(folder / "a.csv", left)
    _write(folder / "b.csv", right)
    return folder / "a.csv", folder / "b.csv", truth  # type: ignore[return-value]


def _scores(out: Path, truth: dict[str, str]) -> tuple[float, float]:
    with (out / "pairs.csv").open(encoding="utf-8") as source:
        accepted = [row for row in csv.DictReader(source) if row["decision"] == "accept"]
    true_positive = sum(truth[r["record_id_l"]] == truth[r["record_id_r"]] for r in accepted)
    right_ids = [rid for rid in truth if rid.startswith("b")]
    left_people = {truth[rid] for rid in truth if rid.startswith("a")}
    true_pairs = sum(truth[rid] in left_people for rid in right_ids)
    return true_positive / max(len(accepted), 1), true_positive / true_pairs


def test_match_links_two_files_with_chinese_noise(
    tmp_path: Path, two_files: tuple[Path, Path, dict[str, str]]
) -> None:
    left, right, truth = two_files
    (tmp_path / "map.yaml").write_text(MAP.format(flavour="chinese"), encoding="utf-8")
    result = run_cli(
        "match",
        str(left),
        str(right),
        "--map",
        str(tmp_path / "map.yaml"),
        "--out",
        str(tmp_path / "out"),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["records"] == 1700
    precision, recall = _scores(tmp_path / "out", truth)
    assert precision >= 0.99
    assert recall >= 0.98
    with (tmp_path / "out" / "clusters.csv").open(encoding="utf-8") as source:
        clusters = {(r["source"], r["record_id"]): r["cluster_id"] for r in csv.DictReader(source)}
    assert len(clusters) == 1700
    # A homophone copy (row b0 is the 'homophone' noise of person 0) joins a0's cluster.
    assert clusters[("right", "b0")] == clusters[("left", "a0")]


def test_chinese_comparisons_beat_the_plain_baseline_on_recall(
    tmp_path: Path, two_files: tuple[Path, Path, dict[str, str]]
) -> None:
    left, right, truth = two_files
    recalls = {}
    for flavour in ("chinese", "plain"):
        (tmp_path / f"{flavour}.yaml").write_text(MAP.format(flavour=flavour), encoding="utf-8")
        result = run_cli(
            "match",
            str(left),
            str(right),
            "--map",
            str(tmp_path / f"{flavour}.yaml"),
            "--out",
            str(tmp_path / flavour),
        )
        assert result.exit_code == 0, result.stderr
        recalls[flavour] = _scores(tmp_path / flavour, truth)[1]
    assert recalls["chinese"] > recalls["plain"]


def test_deduplicate_one_file(tmp_path: Path) -> None:
    rng = random.Random(9)
    people = population(300, seed=3)
    rows = [clean_record(p) for p in people]
    rows += [noisy_copy(p, "traditional", rng) for p in people[:100]]
    rows = [row | {"rid": f"r{i}"} for i, row in enumerate(rows)]
    _write(tmp_path / "one.csv", rows)
    (tmp_path / "map.yaml").write_text(MAP.format(flavour="chinese"), encoding="utf-8")
    result = run_cli(
        "match",
        str(tmp_path / "one.csv"),
        "--map",
        str(tmp_path / "map.yaml"),
        "--out",
        str(tmp_path / "out"),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["clusters"] == 300


def test_a_column_map_naming_a_missing_column_is_a_one_line_error(tmp_path: Path) -> None:
    _write(tmp_path / "one.csv", [{"rid": "1", "name": "张伟"}])
    (tmp_path / "map.yaml").write_text("columns:\n  full_name: 姓名\n", encoding="utf-8")
    result = run_cli(
        "match",
        str(tmp_path / "one.csv"),
        "--map",
        str(tmp_path / "map.yaml"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 2
    assert "姓名" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "bad.yaml").write_text("columns:\n  shoe_size: rid\n", encoding="utf-8")
    result = run_cli(
        "match",
        str(tmp_path / "one.csv"),
        "--map",
        str(tmp_path / "bad.yaml"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 2 and "shoe_size" in result.stderr
