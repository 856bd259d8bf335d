"""Noise: configured rates are the rates in the files, and `clean` has none."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dixian.errors import UserError
from dixian.ids import is_valid_id_number
from dixian.simulate import noise_profile
from dixian.standards import load_catalog
from tests.conftest import run_cli
from tests.simulate._files import read_feed
from tests.simulate.conftest import simulate_into


def _id_cells(root: Path) -> list[tuple[str, list[str]]]:
    """(noise list, ID cell) of every row of datasets with an ID field, via the truth."""
    catalog = load_catalog()
    truth = pq.read_table(root / "truth" / "feed_rows.parquet").to_pylist()
    index = {(r["source_file"], r["sheet"], r["row_number"]): r["noise"] for r in truth}
    out = []
    for path in sorted((root / "feeds").rglob("*.*")):
        relative = path.relative_to(root / "feeds").as_posix()
        dataset = catalog.dataset(relative.split("/")[1])
        field = dataset.field_with_role("id_number")
        if field is None:
            continue
        for sheet, (header, rows) in read_feed(path, dataset).items():
            column = next(i for i, h in enumerate(header) if h in field.all_names())
            for number, row in enumerate(rows, 1):
                out.append((row[column], index[(relative, sheet, number)]))
    return out


def test_clean_profile_has_no_row_noise_and_valid_ids(tmp_path: Path) -> None:
    ws = simulate_into(tmp_path / "ws", "--persons", "500", "--years", "1", "--noise", "clean")
    feed_rows = pq.read_table(ws.truth_dir / "feed_rows.parquet")
    assert pc.sum(pc.list_value_length(feed_rows["noise"])).as_py() == 0
    cells = _id_cells(ws.root)
    assert cells and all(is_valid_id_number(cell) for cell, _ in cells)


def test_configured_rate_is_the_rate_in_the_files(tmp_path: Path) -> None:
    ws = simulate_into(
        tmp_path / "ws",
        *("--persons", "600", "--years", "1", "--noise", "clean"),
        *("--noise-rate", "id_missing=0.2", "--noise-rate", "name_homophone=0.3"),
    )
    cells = _id_cells(ws.root)
    tagged = [cell for cell, noise in cells if "id_missing" in noise]
    share = len(tagged) / len(cells)
    assert len(cells) > 3000
    assert abs(share - 0.2) < 0.02
    assert all(cell == "" for cell in tagged)
    assert all(cell != "" for cell, noise in cells if "id_missing" not in noise)
    feed_rows = pq.read_table(ws.truth_dir / "feed_rows.parquet").to_pylist()
    homophones = sum("name_homophone" in r["noise"] for r in feed_rows)
    # Only names that have a homophone in the table change (most common characters do).
    assert 0.15 < homophones / len(feed_rows) < 0.3


def test_messy_has_every_kind_of_noise(tmp_path: Path) -> None:
    ws = simulate_into(tmp_path / "ws", "--persons", "800", "--years", "1", "--noise", "messy")
    feed_rows = pq.read_table(ws.truth_dir / "feed_rows.parquet")
    kinds = set(pc.list_flatten(feed_rows["noise"]).to_pylist())
    expected = {
        "name_typo",
        "name_homophone",
        "name_traditional",
        "id_missing",
        "id_15_digit",
        "id_lower_x",
        "id_transposed",
        "id_substituted",
        "full_width_digits",
        "date_variant",
        "amount_wan",
        "village_name",
        "stale_address",
        "duplicate",
        "late",
        "corrected_later",
        "correction",
    }
    assert expected <= kinds
    corrections = list(ws.feeds_dir.rglob("*.correction.*"))
    assert corrections


def test_unknown_rate_names_and_bad_rates_are_user_errors() -> None:
    with pytest.raises(UserError, match="unknown rate"):
        noise_profile("default", {"name_typoo": 0.1})
    with pytest.raises(UserError, match="between 0 and 1"):
        noise_profile("default", {"name_typo": 1.5})
    with pytest.raises(UserError, match="unknown profile"):
        noise_profile("filthy")


def test_cli_refuses_to_overwrite_and_names_bad_options(tmp_path: Path) -> None:
    ws = simulate_into(tmp_path / "ws", "--persons", "300", "--years", "1")
    again = run_cli("simulate", "--workspace", str(ws.root), "--persons", "300", "--years", "1")
    assert again.exit_code == 2 and "--replace" in again.stderr
    bad = run_cli("simulate", "--workspace", str(ws.root), "--county-type", "desert", "--replace")
    assert bad.exit_code == 2 and "county-type" in bad.stderr
    rate = run_cli("simulate", "--workspace", str(ws.root), "--noise-rate", "x", "--replace")
    assert rate.exit_code == 2 and "NAME=RATE" in rate.stderr
