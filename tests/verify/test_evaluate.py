"""`dixian evaluate verify` on a hand-built county with known truth."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.features import panel_schema
from tests.conftest import run_cli
from tests.verify.households import family

# linked household -> (true household, members); true households 1..6
_HOUSEHOLDS = {
    "hA": (1, 2),
    "hB": (2, 1),
    "hC": (3, 2),
    "hD": (4, 1),
    "hE": (5, 1),
    "hF": (6, 1),
}
_ESTATE = "natural_resources/real_estate/2024-06.csv"


def _estate_record(row_number: int) -> str:
    # `_record_id` is `<batch_id>:<sheet>:<row_number>`; the batch ledger gives the file.
    return f"re1::{row_number}"


_BUSINESS = "market_regulation/business_registration/2024-03.csv"


def _build(workspace: Workspace, *, business_owner: str | None = None) -> None:
    """The county; `business_owner`: the linked person of hC's planted business record."""
    backend = open_backend(workspace)
    staged: dict[str, list[Any]] = {
        "_record_id": [],
        "_source_file": [],
        "_sheet": [],
        "_row_number": [],
    }
    links: dict[str, list[Any]] = {"_record_id": [], "person_id": []}
    membership: dict[str, list[Any]] = {"period": [], "household_id": [], "person_id": []}
    truth: dict[str, list[Any]] = {
        "source_file": [],
        "sheet": [],
        "row_number": [],
        "true_person_id": [],
        "true_household_id": [],
        "dataset": [],
    }
    row = 0
    for household, (true_household, members) in _HOUSEHOLDS.items():
        for member in range(members):
            row += 1
            person = f"{household}-{member}"
            staged["_record_id"].append(f"b1::{row}")
            staged["_source_file"].append(
                "household_registration/household_registration/2024-06.csv"
            )
            staged["_sheet"].append("")
            staged["_row_number"].append(row)
            links["_record_id"].append(f"b1::{row}")
            links["person_id"].append(person)
            # The January extract only: membership holds until the next row (2024-06 has none).
            membership["period"].append("2024-01")
            membership["household_id"].append(household)
            membership["person_id"].append(person)
            truth["source_file"].append("household_registration/household_registration/2024-06.csv")
            truth["sheet"].append("")
            truth["row_number"].append(row)
            truth["true_person_id"].append(row)
            truth["true_household_id"].append(true_household)
            truth["dataset"].append("household_registration")
    # Two flats on the real-estate register: row 1 truly belongs to household 4 (hD's),
    # row 2 truly to household 1, but linkage put it on hF.
    for row_number, true_household in ((1, 4), (2, 1)):
        truth["source_file"].append(_ESTATE)
        truth["sheet"].append("")
        truth["row_number"].append(row_number)
        truth["true_person_id"].append(100 + row_number)
        truth["true_household_id"].append(true_household)
        truth["dataset"].append("real_estate")
    if business_owner is not None:
        # hC's planted business (true person 4) on the register, linked to business_owner.
        for column, value in (
            ("source_file", _BUSINESS),
            ("sheet", ""),
            ("row_number", 1),
            ("true_person_id", 4),
            ("true_household_id", 3),
            ("dataset", "business_registration"),
        ):
            truth[column].append(value)
        backend.create_table(
            "staging_business_registration",
            pa.table(
                {
                    "_record_id": ["bz1::1"],
                    "_source_file": [_BUSINESS],
                    "_sheet": [""],
                    "_row_number": [1],
                }
            ),
            overwrite=True,
        )
        links["_record_id"].append("bz1::1")
        links["person_id"].append(business_owner)
    backend.create_table(
        "ingest_batches",
        pa.table({"batch_id": ["re1"], "source_file": [_ESTATE]}),
        overwrite=True,
    )
    backend.create_table("staging_household_registration", pa.table(staged), overwrite=True)
    backend.create_table("person_link", pa.table(links), overwrite=True)
    backend.create_table("household_membership", pa.table(membership), overwrite=True)
    rows = [
        family("hA", public_payroll_count=1),  # planted public employee: found
        family("hB", vehicle_non_exempt_count=1),  # planted car: found
        family("hC"),  # planted business, but no business record: missed
        # not planted, but the flat on the register is truly the family's: confirmed
        family(
            "hD", property_count=2, evidence=json.dumps({"property_count": [_estate_record(1)]})
        ),
        family("hE", is_dibao=False, registry_status="ordinary"),  # planted, no longer 低保
        # not planted, and the flat is another family's (a linkage error): a false lead
        family(
            "hF", property_count=2, evidence=json.dumps({"property_count": [_estate_record(2)]})
        ),
    ]
    schema = panel_schema()
    backend.create_table(
        "household_period",
        pa.table(
            {name: [r.get(name) for r in rows] for name in schema.names},
            schema=schema.to_pyarrow(),
        ),
        overwrite=True,
    )
    backend.disconnect()
    workspace.truth_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(truth), workspace.truth_dir / "feed_rows.parquet")
    pq.write_table(
        pa.table(
            {
                "true_household_id": [1, 2, 3, 5, 4],
                "true_person_id": [1, 3, 4, 7, 6],
                "pattern": [
                    "public_employee",
                    "owns_car",
                    "registers_business",
                    "owns_car",
                    "owns_car",
                ],
                "date": [date(2024, 1, 1)] * 4 + [date(2024, 9, 1)],  # the last: after the period
            }
        ),
        workspace.truth_dir / "planted_ineligibility.parquet",
    )


def test_evaluate_counts_found_missed_and_false_leads(workspace: Workspace) -> None:
    _build(workspace)
    assert run_cli("verify", "-w", str(workspace.root), "--program", "dibao").exit_code == 0
    result = run_cli("evaluate", "verify", "-w", str(workspace.root), "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["planted_households"] == 3  # hA, hB, hC (hE left 低保; hD's is later)
    assert figures["found"] == 2
    assert figures["found_share"] == round(2 / 3, 4)
    assert figures["leads"] == 4
    assert figures["leads_planted"] == 2
    assert figures["leads_confirmed"] == 1  # hD
    assert figures["false_leads"] == 1  # hF
    assert figures["false_lead_share"] == 0.25
    assert figures["leads_not_planted"] == 2
    assert figures["by_pattern"]["registers_business"] == {"planted": 1, "found": 0}
    assert figures["by_kind"]["property"] == {"leads": 2, "planted": 0, "confirmed": 1, "false": 1}


def test_evaluate_without_truth_is_a_user_error(workspace: Workspace) -> None:
    _build(workspace)
    (workspace.truth_dir / "feed_rows.parquet").unlink()
    run_cli("verify", "-w", str(workspace.root), "--program", "dibao")
    result = run_cli("evaluate", "verify", "-w", str(workspace.root))
    assert result.exit_code == 2
    assert "only simulated workspaces" in result.stderr


@pytest.mark.parametrize(
    ("owner", "linked"),
    [("someone-else", False), ("hC-1", True)],
)
def test_misses_say_whether_linkage_brought_the_evidence(
    workspace: Workspace, owner: str, linked: bool
) -> None:
    """hC's business is on the register; linked to a stranger the household file cannot show it."""
    _build(workspace, business_owner=owner)
    assert run_cli("verify", "-w", str(workspace.root), "--program", "dibao").exit_code == 0
    result = run_cli("evaluate", "verify", "-w", str(workspace.root), "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["found"] == 2
    state = "evidence linked" if linked else "evidence not linked"
    assert figures["missed"] == {"hC": f"registers_business ({state})"}
    assert figures["missed_evidence_not_linked"] == (0 if linked else 1)
    assert figures["found_share_of_linked"] == (round(2 / 3, 4) if linked else 1.0)
