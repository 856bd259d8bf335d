"""Dashboard window and causes: the trend ends at the data's latest period, not at today."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import duckdb

from dixian.cases.actor import Actor
from dixian.cases.enums import Channel
from dixian.cases.service import DiscoveryInput, record_discoveries
from dixian.web.i18n import catalog, translate
from dixian.web.labels import code_labels

from .conftest import VILLAGE_A, VILLAGE_B, WebHarness


def _write_warehouse(harness: WebHarness) -> None:
    """A county whose feeds end in 2023-12 (village B's register runs one month longer)."""
    con = duckdb.connect(str(harness.app.state.workspace.warehouse_path))
    con.execute(
        "CREATE TABLE household_period (household_id VARCHAR, period VARCHAR, region_code VARCHAR)"
    )
    for period in ("2023-10", "2023-11", "2023-12"):
        con.execute(
            "INSERT INTO household_period VALUES ('H-A-1', ?, ?), ('H-B-1', ?, ?)",
            [period, VILLAGE_A, period, VILLAGE_B],
        )
    con.execute("INSERT INTO household_period VALUES ('H-B-1', '2024-01', ?)", [VILLAGE_B])
    con.execute(
        "CREATE TABLE monitor_alerts (period VARCHAR, household_id VARCHAR, region_code VARCHAR,"
        " status VARCHAR, primary_cause VARCHAR)"
    )
    rows = [
        ("2023-11", "H-A-1", VILLAGE_A, "new", "disaster"),
        ("2023-12", "H-A-1", VILLAGE_A, "continuing", "illness"),
        ("2023-12", "H-A-2", VILLAGE_A, "new", "illness"),
        ("2023-12", "H-A-3", VILLAGE_A, "resolved", "disaster"),
        ("2023-12", "H-B-1", VILLAGE_B, "new", "unsafe_housing"),
    ]
    con.executemany("INSERT INTO monitor_alerts VALUES (?, ?, ?, ?, ?)", rows)
    con.close()


def _chart(html: str, name: str) -> Any:
    match = re.search(rf'<script type="application/json" id="chart-{name}">(.*?)</script>', html)
    assert match, f"no {name} chart data"
    return json.loads(match.group(1))


def _period_line(html: str) -> str:
    match = re.search(r'<p class="muted" id="dashboard-period" data-period="([^"]*)">', html)
    assert match, "the dashboard does not say which period it shows"
    return match.group(1)


def test_trend_ends_at_the_latest_period_in_the_warehouse(harness: WebHarness) -> None:
    _write_warehouse(harness)
    client = harness.login("village_a")
    page = client.get("/dashboard")
    assert page.status_code == 200
    trend = _chart(page.text, "trend")
    # The clock says 2026-11; village A's data ends 2023-12 (village B's later month is not its).
    assert trend["labels"][-1] == "2023-12" and len(trend["labels"]) == 12
    assert _period_line(page.text) == "2023-12"
    assert translate("zh_CN", "dashboard.period_warehouse", period="2023-12") in page.text
    alerts = next(s for s in trend["series"] if s["name"] == translate("zh_CN", "nav.alerts"))
    assert alerts["values"][-2:] == [1, 2]
    api = client.get("/api/v1/dashboard").json()
    assert api["period"] == "2023-12" and api["months"][-1] == "2023-12"
    county = harness.login("analyst").get("/api/v1/dashboard").json()
    assert county["period"] == "2024-01"


def test_clues_count_in_their_data_period_not_the_day_they_were_imported(
    harness: WebHarness,
) -> None:
    _write_warehouse(harness)
    with harness.db.session() as session:
        record_discoveries(
            session,
            actor=Actor.system(name="tests"),
            discoveries=[
                DiscoveryInput(
                    household_id="H-A-1",
                    region_code=VILLAGE_A,
                    period="2023-12",
                    channel=Channel.DEPARTMENT_SCREENING,
                    discovered_on=date(2026, 11, 2),
                    evidence={},
                    risk_score=0.7,
                )
            ],
        )
    trend = _chart(harness.login("analyst").get("/dashboard").text, "trend")
    clues = next(
        s for s in trend["series"] if s["name"] == translate("zh_CN", "dashboard.discoveries")
    )
    assert trend["labels"][-2:] == ["2023-12", "2024-01"]
    assert clues["values"][-2:] == [1, 0] and sum(clues["values"]) == 1


def test_without_warehouse_the_trend_ends_at_the_latest_case_activity(
    harness: WebHarness,
) -> None:
    page = harness.login("analyst").get("/dashboard")
    # Discoveries are dated 2026-10-20 and the clock says 2026-11-02.
    assert _chart(page.text, "trend")["labels"][-1] == "2026-10"
    assert _period_line(page.text) == "2026-10"
    assert translate("zh_CN", "dashboard.period_cases", period="2026-10") in page.text


def test_causes_fall_back_to_the_current_alerts_primary_causes(harness: WebHarness) -> None:
    _write_warehouse(harness)
    client = harness.login("village_a")
    page = client.get("/dashboard")
    causes = _chart(page.text, "causes")
    labels = code_labels("cause", "zh_CN")
    # Latest period only, resolved alerts left out, village B's alert outside the jurisdiction.
    assert causes == {"labels": [labels.get("illness", "illness")], "values": [2]}
    caption = translate("zh_CN", "dashboard.causes_alerts", period="2023-12")
    assert f'<p class="muted" id="causes-caption">{caption}</p>' in page.text


def test_causes_of_an_empty_workspace_say_they_count_confirmed_cases(
    harness: WebHarness,
) -> None:
    page = harness.login("analyst").get("/dashboard")
    assert _chart(page.text, "causes") == {"labels": [], "values": []}
    caption = translate("zh_CN", "dashboard.causes_cases")
    assert f'<p class="muted" id="causes-caption">{caption}</p>' in page.text


def test_period_captions_exist_in_both_catalogs() -> None:
    for locale in ("zh_CN", "en"):
        messages = catalog(locale)
        for key in ("period_warehouse", "period_cases", "period_today", "causes_alerts"):
            assert "{period}" in messages[f"dashboard.{key}"], (locale, key)
        assert messages["dashboard.causes_cases"]
