"""`dixian verify` on a workspace: batch run, problem leads, and one application."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.features import panel_schema
from dixian.verify import Status
from tests.conftest import run_cli
from tests.verify.households import family
from tests.verify.registry import OtherEngine

_IDS = {
    "p1": "52272719800101001X",
    "p2": "522727198203020024",
    "p3": "522727201005050016",
    "p4": "522727194507070035",
}


def _store(workspace: Workspace, rows: list[dict[str, Any]]) -> None:
    backend = open_backend(workspace)
    data = pa.table(
        {name: [row.get(name) for row in rows] for name in panel_schema().names},
        schema=panel_schema().to_pyarrow(),
    )
    backend.create_table("household_period", data, overwrite=True)
    backend.create_table(
        "persons",
        pd.DataFrame(
            {
                "person_id": list(_IDS),
                "id_number": list(_IDS.values()),
                "name": ["甲", "乙", "丙", "丁"],
            }
        ),
        overwrite=True,
    )
    backend.create_table(
        "household_membership",
        pd.DataFrame(
            {
                "period": ["2024-06"] * 4,
                "household_id": ["h1"] * 4,
                "person_id": list(_IDS),
                "relation_to_head": ["head", "spouse", "child", "parent"],
            }
        ),
        overwrite=True,
    )
    backend.disconnect()


def _county(workspace: Workspace) -> None:
    _store(
        workspace,
        [
            family(
                "h1",
                member_count=4,
                income_wages_pc=6000.0,
                income_net_pc=7500.0,
                income_net_total=30000.0,
                vehicle_count=1,
                vehicle_non_exempt_count=1,
            ),
            family("h2", payments_after_death_count=2),
            family("h3"),
            family("h4", income_net_pc=None),
        ],
    )


def test_verify_without_panel_says_to_run_features(workspace: Workspace) -> None:
    result = run_cli("verify", "--workspace", str(workspace.root))
    assert result.exit_code == 2
    assert "dixian features" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_writes_results_and_ranked_leads(workspace: Workspace) -> None:
    _county(workspace)
    result = run_cli("verify", "--workspace", str(workspace.root), "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["period"] == "2024-06"
    dibao = figures["programs"]["dibao"]
    assert (dibao["eligible"], dibao["not_eligible"], dibao["needs_review"]) == (1, 2, 1)
    assert dibao["beneficiaries_not_eligible"] == 2
    assert figures["problem_leads"] == 2 + 0  # h1 (vehicle) and h2 (payment after death)
    assert [lead["household_id"] for lead in figures["top_leads"]] == ["h2", "h1"]
    backend = open_backend(workspace)
    stored = backend.table("verify_results").to_pyarrow().to_pylist()
    assert len(stored) == 4 * 4
    leads = backend.table("problem_leads").order_by("rank").to_pyarrow().to_pylist()
    assert leads[0]["kinds"] == "payment_after_death"
    evidence = json.loads(leads[1]["evidence_json"])
    assert evidence[0]["id"] == "vehicles"
    assert evidence[0]["records"] == {"vehicle_non_exempt_count": ["veh:h1:1"]}


def test_batch_single_program_and_unknown_program(workspace: Workspace) -> None:
    _county(workspace)
    result = run_cli("verify", "-w", str(workspace.root), "--program", "tekun", "--json")
    assert result.exit_code == 0, result.stderr
    assert set(json.loads(result.stdout)["programs"]) == {"tekun"}
    result = run_cli("verify", "-w", str(workspace.root), "--program", "dibaoo")
    assert result.exit_code == 2
    assert "unknown program 'dibaoo'" in result.stderr
    assert "dibao" in result.stderr


def _application(tmp_path: Path, **changes: Any) -> Path:
    payload: dict[str, Any] = {
        "application_id": "A-001",
        "programs": ["dibao", "low_income"],
        "members": [
            {"id_number": _IDS["p1"].lower(), "name": "甲"},
            {"id_number": _IDS["p2"], "name": "乙"},
            {"id_number": _IDS["p3"], "name": "丙"},
        ],
        "income": {"wages": 6000, "operating": 4000, "property": 0, "transfers": 4000},
        "assets": {"vehicles": 0, "non_exempt_vehicles": 0, "properties": 1, "deposits": 3000},
        "public_payroll_members": 0,
    }
    payload.update(changes)
    path = tmp_path / "application.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def test_application_reports_every_discrepancy(workspace: Workspace, tmp_path: Path) -> None:
    _county(workspace)
    path = _application(tmp_path)
    result = run_cli("verify", "-w", str(workspace.root), "--application", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["household_id"] == "h1"
    assert (report["declared_members"], report["registered_members"]) == (3, 4)
    items = {d["item"]: d for d in report["discrepancies"]}
    assert set(items) == {"member_not_declared", "income_wages", "vehicles", "non_exempt_vehicles"}
    assert items["member_not_declared"]["recorded"] == "522727********0035"  # masked
    assert items["income_wages"]["declared"] == 6000
    assert items["income_wages"]["recorded"] == 24000.0  # 6,000 per capita x 4 members
    assert items["income_wages"]["records"] == ["emp:h1:1"]
    assert items["vehicles"]["severity"] == "major"
    statuses = {p["program"]: p["status"] for p in report["on_records"]}
    assert statuses == {"dibao": Status.NOT_ELIGIBLE, "low_income": Status.NOT_ELIGIBLE}
    assert report["on_declaration"] == {"dibao": "eligible", "low_income": "eligible"}
    assert "52272719800101001X" not in result.stdout


def test_application_human_output_and_errors(workspace: Workspace, tmp_path: Path) -> None:
    _county(workspace)
    result = run_cli(
        "verify", "-w", str(workspace.root), "--application", str(_application(tmp_path))
    )
    assert result.exit_code == 0, result.stderr
    assert "户籍家庭成员未申报" in result.stdout
    bad = _application(tmp_path, members=[])
    result = run_cli("verify", "-w", str(workspace.root), "--application", str(bad))
    assert result.exit_code == 2
    assert "'members'" in result.stderr
    stranger = _application(tmp_path, members=[{"id_number": "522727199901010011"}])
    result = run_cli("verify", "-w", str(workspace.root), "--application", str(stranger))
    assert result.exit_code == 4
    assert "no declared member was found" in result.stderr


def test_lookups_agree_on_both_paths(workspace: Workspace) -> None:
    from dixian.verify.lookup import (
        members_of,
        memberships_of,
        panel_history,
        prepare_lookups,
    )

    _county(workspace)
    backend = open_backend(workspace)
    assert len(prepare_lookups(backend)) == 5
    other = OtherEngine(backend)
    ids = [_IDS["p1"], _IDS["p4"], "522727199901010011"]
    for engine in (backend, other):
        found = sorted(memberships_of(engine, ids, "2024-06"), key=lambda r: r["id_number"])
        assert [(r["id_number"], r["household_id"]) for r in found] == [
            (_IDS["p4"], "h1"),
            (_IDS["p1"], "h1"),
        ]
        assert memberships_of(engine, ids, "2024-05") == []
        assert members_of(engine, "h1", "2024-06") == {v: k for k, v in _IDS.items()}
        assert [row["household_id"] for row in panel_history(engine, "h2", None)] == ["h2"]
        assert panel_history(engine, "h2", "2024-05") == []


def test_application_without_linkage_tables(workspace: Workspace, tmp_path: Path) -> None:
    _county(workspace)
    backend = open_backend(workspace)
    backend.drop_table("persons")
    backend.drop_table("household_membership")
    backend.disconnect()
    result = run_cli(
        "verify", "-w", str(workspace.root), "--application", str(_application(tmp_path))
    )
    assert result.exit_code == 2
    assert "run 'dixian link' first" in result.stderr.replace("\n", "")
    path = _application(tmp_path, household_id="h1")
    result = run_cli("verify", "-w", str(workspace.root), "--application", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["registered_members"] == 4  # from the panel's member_count
    assert "member_not_declared" not in {d["item"] for d in report["discrepancies"]}


def _limit(backend: Any) -> str:
    return str(backend.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def test_streaming_memory_lowers_and_restores_the_limit() -> None:
    import ibis

    from dixian.verify.workspace import streaming_memory

    backend = ibis.duckdb.connect(memory_limit="9GB")
    configured = _limit(backend)
    with streaming_memory(backend, configured="9GB"):
        assert _limit(backend) == "1.8 GiB"
    assert _limit(backend) == configured
    backend.con.execute("SET memory_limit = '1GB'")
    with streaming_memory(backend, configured="1GB"):  # already lower: left alone
        assert _limit(backend) == "953.6 MiB"
    with streaming_memory(backend, configured="80%"):  # not understood: left alone
        assert _limit(backend) == "953.6 MiB"
    with streaming_memory(OtherEngine(backend), configured="9GB"):  # not DuckDB: left alone
        assert _limit(backend) == "953.6 MiB"
