from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dixian.errors import CatalogError
from dixian.standards import load_catalog, load_catalog_from, render_dictionary
from dixian.standards.catalog import STANDARD_DIR
from tests.conftest import run_cli

REQUIRED_DATASETS = {
    "household_registration",
    "poverty_registry",
    "civil_affairs_assistance",
    "employment",
    "pensions",
    "medical_claims",
    "chronic_illness",
    "students",
    "disability",
    "house_safety",
    "drinking_water",
    "disaster_losses",
    "real_estate",
    "vehicles",
    "business_registration",
    "public_payroll",
    "tax_and_provident_fund",
    "deposits",
    "microcredit_loans",
}

REQUIRED_CODE_LISTS = {
    "cause",
    "measure",
    "relation_to_head",
    "disability_type",
    "disability_grade",
    "school_stage",
    "house_safety_rating",
    "monitoring_object_type",
    "case_state",
}


def test_shipped_catalog_has_every_dataset_and_code_list() -> None:
    catalog = load_catalog()
    assert set(catalog.dataset_names()) >= REQUIRED_DATASETS
    assert {code_list.name for code_list in catalog.code_lists} >= REQUIRED_CODE_LISTS
    assert len(catalog.code_list("cause").codes) == 17
    assert [c.zh for c in catalog.code_list("monitoring_object_type").codes] == [
        "脱贫不稳定户",
        "边缘易致贫户",
        "突发严重困难户",
    ]


def test_every_person_dataset_has_identity_fields() -> None:
    for dataset in load_catalog().datasets:
        if dataset.grain == "village":
            assert dataset.field_with_role("region_code") is not None
            continue
        assert dataset.field_with_role("id_number") is not None, dataset.name
        assert dataset.field_with_role("name") is not None, dataset.name
        for spec in dataset.fields:
            if spec.role == "id_number":
                assert spec.sensitivity == "L4", (dataset.name, spec.name)


def test_code_lookup_accepts_synonyms() -> None:
    lookup = load_catalog().code_list("relation_to_head").lookup_table()
    assert lookup["妻子"] == "spouse"
    assert lookup["户主"] == "head"
    assert lookup["head"] == "head"


def _copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "standard"
    shutil.copytree(STANDARD_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_broken_catalog_names_file_line_and_reason(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "datasets" / "vehicles.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("codes: vehicle_type", "codes: vehicle_kinds"), encoding="utf-8")
    deposits = root / "datasets" / "deposits.yaml"
    deposits.write_text(
        deposits.read_text(encoding="utf-8").replace("type: decimal", "type: money", 1),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog_from(root)
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert "vehicles.yaml:" in message and "unknown code list 'vehicle_kinds'" in message
    line = next(
        i + 1 for i, row in enumerate(deposits.read_text().splitlines()) if "type: money" in row
    )
    assert f"deposits.yaml:{line}:" in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "datasets" / "pensions.yaml"
    path.write_text("name: pensions\nfields: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"pensions\.yaml:\d+: not valid YAML"):
        load_catalog_from(root)


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_dictionary_renders_in_chinese_and_english(fmt: str) -> None:
    text = render_dictionary(load_catalog(), fmt=fmt)  # type: ignore[arg-type]
    assert "户籍人口信息" in text and "household_registration" in text
    if fmt == "json":
        assert len(json.loads(text)["datasets"]) >= 16


def test_cli_standards_summary_json() -> None:
    result = run_cli("standards", "--json")
    assert result.exit_code == 0
    figures = json.loads(result.stdout)
    assert figures["datasets"] >= 16 and figures["code_lists"] >= 9


def test_extracts_of_a_register_keep_their_period() -> None:
    catalog = load_catalog()
    registration = catalog.dataset("household_registration")
    assert registration.history == "per_period"
    assert registration.version_keys() == ("id_number", "_period")
    assert catalog.dataset("vehicles").version_keys() == ("plate_number", "owner_id_number")
