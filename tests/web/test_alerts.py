"""The alert list over the warehouse table `monitor_alerts`: jurisdiction, filters, export."""

from __future__ import annotations

import io
import json

import duckdb

from .conftest import VILLAGE_A, VILLAGE_B, WebHarness


def _write_alerts(harness: WebHarness) -> None:
    path = harness.app.state.workspace.warehouse_path
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE monitor_alerts (period VARCHAR, household_id VARCHAR, region_code VARCHAR,"
        " jurisdiction VARCHAR, rank INTEGER, status VARCHAR, risk DOUBLE, priority DOUBLE,"
        " primary_cause VARCHAR, secondary_cause VARCHAR, reason VARCHAR, triggers VARCHAR,"
        " trigger_labels VARCHAR, always_alert BOOLEAN, evidence VARCHAR, model_id VARCHAR)"
    )
    rows = [
        ("2026-10", "H-A-1", VILLAGE_A, 1, "new", 0.91, "illness", "医疗自付 2.3 万元"),
        ("2026-10", "H-A-2", VILLAGE_A, 3, "continuing", 0.40, "disaster", "=CMD()"),
        ("2026-10", "H-B-1", VILLAGE_B, 2, "new", 0.77, "illness", "乙村户"),
        ("2026-09", "H-A-1", VILLAGE_A, 1, "new", 0.85, "illness", "上月"),
    ]
    for period, hid, region, rank, status, risk, cause, reason in rows:
        con.execute(
            "INSERT INTO monitor_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, '[]', '[]',"
            " false, ?, 'm1')",
            [period, hid, region, region[:9], rank, status, risk, risk, cause, reason,
             json.dumps({})],
        )  # fmt: skip
    con.close()


def test_alert_page_says_when_there_are_no_alerts(harness: WebHarness) -> None:
    page = harness.login("analyst").get("/alerts")
    assert page.status_code == 200 and 'id="alerts-unavailable"' in page.text


def test_alerts_are_filtered_by_jurisdiction_and_period(harness: WebHarness) -> None:
    _write_alerts(harness)
    village = harness.login("village_a")
    page = village.get("/alerts")
    assert "H-A-1" in page.text and "H-A-2" in page.text and "H-B-1" not in page.text
    api = village.get("/api/v1/alerts").json()
    assert api["periods"] == ["2026-10", "2026-09"]
    assert [a["household_id"] for a in api["items"]] == ["H-A-1", "H-A-2"]
    older = village.get("/api/v1/alerts?period=2026-09").json()
    assert [a["reason"] for a in older["items"]] == ["上月"]
    county = harness.login("analyst").get("/api/v1/alerts?sort=rank").json()
    assert [a["household_id"] for a in county["items"]] == ["H-A-1", "H-B-1", "H-A-2"]
    only_new = harness.login("analyst").get("/api/v1/alerts?status=new").json()
    assert {a["status"] for a in only_new["items"]} == {"new"}
    trend = harness.login("analyst").get("/dashboard").text
    assert "预警名单" in trend


def test_alert_export_is_formula_safe_and_scoped(harness: WebHarness) -> None:
    from openpyxl import load_workbook

    _write_alerts(harness)
    response = harness.login("township").get("/alerts/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {row[1] for row in rows} == {"H-A-1", "H-A-2", "H-B-1"}
    assert "'=CMD()" in {row[8] for row in rows}
    assert harness.login("village_a").get("/alerts/export.xlsx").status_code == 403


def test_roles_without_case_access_cannot_see_alerts(harness: WebHarness) -> None:
    for username in ("sysadmin", "auditor", "helper"):
        assert harness.login(username).get("/alerts").status_code == 403
