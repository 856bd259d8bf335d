"""The feeds: every dataset present, every row mapped to the truth, files as departments send."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dixian.config import Workspace
from dixian.standards import load_catalog
from tests.simulate._files import read_feed


def _feed_files(workspace: Workspace) -> list[Path]:
    return sorted(p for p in workspace.feeds_dir.rglob("*") if p.is_file())


def test_every_catalog_dataset_has_batches_in_its_department_folder(
    small_county: Workspace,
) -> None:
    catalog = load_catalog()
    for dataset in catalog.datasets:
        folder = small_county.feeds_dir / dataset.department / dataset.name
        files = sorted(folder.iterdir())
        assert files, f"no batches for {dataset.name}"
        for path in files:
            period = path.name.split(".")[0]
            expected = 4 if dataset.frequency == "yearly" else 7
            assert len(period) in (4, 7) and period[:4].isdigit(), path
            if dataset.frequency == "yearly":
                assert len(period) == expected, path


def test_formats_vary_like_real_department_exports(small_county: Workspace) -> None:
    suffixes = Counter(p.suffix for p in _feed_files(small_county))
    assert {".csv", ".xlsx", ".parquet"} <= set(suffixes)
    encodings = Counter()
    for path in _feed_files(small_county):
        if path.suffix == ".csv":
            data = path.read_bytes()
            try:
                data.decode("utf-8")
                encodings["utf-8-bom" if data.startswith(b"\xef\xbb\xbf") else "utf-8"] += 1
            except UnicodeDecodeError:
                encodings["gbk"] += 1
    assert encodings["gbk"] > 0 and encodings["utf-8"] > 0


def test_truth_maps_every_feed_row_and_only_feed_rows(small_county: Workspace) -> None:
    catalog = load_catalog()
    truth = pq.read_table(small_county.truth_dir / "feed_rows.parquet").to_pylist()
    by_sheet: dict[tuple[str, str], list[dict[str, object]]] = {}
    for row in truth:
        by_sheet.setdefault((str(row["source_file"]), str(row["sheet"])), []).append(row)
    persons = pq.read_table(small_county.truth_dir / "persons.parquet").to_pylist()
    id_of = {p["true_person_id"]: p["id_number"] for p in persons}
    seen = set()
    checked_ids = 0
    for path in _feed_files(small_county):
        relative = path.relative_to(small_county.feeds_dir).as_posix()
        dataset = catalog.dataset(relative.split("/")[1])
        id_field = dataset.field_with_role("id_number")
        for sheet, (header, rows) in read_feed(path, dataset).items():
            mapped = by_sheet.get((relative, sheet), [])
            seen.add((relative, sheet))
            assert [r["row_number"] for r in mapped] == list(range(1, len(rows) + 1)), relative
            if id_field is None:
                continue
            column = next(i for i, h in enumerate(header) if h in id_field.all_names())
            for data, row in zip(rows, mapped, strict=True):
                if not row["noise"] and row["true_person_id"] is not None:
                    assert data[column] == id_of[row["true_person_id"]], (relative, row)
                    checked_ids += 1
    assert set(by_sheet) == seen
    assert checked_ids > 1000


def test_reference_regions_nest_under_the_workspace_county(small_county: Workspace) -> None:
    lines = (small_county.root / "reference" / "regions.csv").read_text("utf-8").splitlines()
    assert lines[0] == "region_code,name,level,parent_code"
    rows = [line.split(",") for line in lines[1:]]
    levels = Counter(r[2] for r in rows)
    assert levels["county"] == 1 and levels["township"] >= 1 and levels["village"] >= 1
    codes = {r[0] for r in rows}
    for code, _, level, parent in rows:
        assert len(code) == 12 and code.startswith("522799")
        if level != "county":
            assert parent in codes
    assert (small_county.root / "reference" / "villages.geojson").is_file()


@pytest.mark.parametrize("name", ["persons", "household_membership", "outcomes", "shocks"])
def test_truth_tables_are_written(small_county: Workspace, name: str) -> None:
    table = pq.read_table(small_county.truth_dir / f"{name}.parquet")
    assert table.num_rows > 0
