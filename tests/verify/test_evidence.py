"""Source records of derived fields: those of the columns built from the same data."""

from __future__ import annotations

import json

from dixian.policy import load_policy_set
from dixian.verify import Declaration, compare_declaration, explain_history
from tests.verify.households import family, params_2024


def _row() -> dict[str, object]:
    return family(
        "h1",
        vehicle_count=2,
        vehicle_non_exempt_count=1,
        financial_assets_pc=30000.0,
        deposits_total=90000.0,
        evidence=json.dumps({"vehicle_count": ["veh:1", "veh:2"], "deposits_total": ["dep:1"]}),
    )


def test_failed_conditions_show_the_records_of_their_source() -> None:
    (result,) = explain_history(
        [_row()], load_policy_set(), params=params_2024(), programs=["dibao"]
    )
    failed = {c.id: c for c in result.failed}
    assert failed["vehicles"].records == {"vehicle_non_exempt_count": ["veh:1", "veh:2"]}
    assert failed["financial_assets"].records == {"financial_assets_pc": ["dep:1"]}


def test_discrepancies_show_the_records_of_their_source() -> None:
    declaration = Declaration.model_validate(
        {"members": [{"id_number": "522727198001010011"}], "assets": {"non_exempt_vehicles": 0}}
    )
    (item,) = [
        d for d in compare_declaration(declaration, _row()) if d.item == "non_exempt_vehicles"
    ]
    assert item.severity == "major"
    assert item.records == ("veh:1", "veh:2")
