"""The dashboard's cache: reused while the data is unchanged, recomputed after any change.

Also the monitored line: monitoring objects per data period from the registry status in the
warehouse's household-period panel, so that it is not empty when the data lags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import duckdb

from dixian.cases.actor import Actor
from dixian.cases.enums import Channel
from dixian.cases.service import DiscoveryInput, record_discoveries
from dixian.web.dashboard_cache import DashboardCache

from .conftest import VILLAGE_A, VILLAGE_B, WebHarness


def _cache(harness: WebHarness) -> DashboardCache:
    cache: DashboardCache = harness.app.state.dashboard_cache
    return cache


def _new_clue(harness: WebHarness, household_id: str, period: str = "2026-10") -> None:
    with harness.db.session() as session:
        record_discoveries(
            session,
            actor=Actor.system(name="tests"),
            discoveries=[
                DiscoveryInput(
                    household_id=household_id,
                    region_code=VILLAGE_A,
                    period=period,
                    channel=Channel.DEPARTMENT_SCREENING,
                    discovered_on=date(2026, 10, 25),
                    evidence={},
                )
            ],
        )


def test_dashboard_is_computed_once_while_only_views_happen(harness: WebHarness) -> None:
    client = harness.login("analyst")
    first = client.get("/api/v1/dashboard").json()
    misses = _cache(harness).misses
    # Views write audit entries too, but change no case data: the figures stay cached.
    assert client.get(f"/households/{harness.seeded.household_a}").status_code == 200
    assert client.get(f"/cases/{harness.seeded.case_a}").status_code == 200
    again = client.get("/api/v1/dashboard").json()
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert again == first
    assert _cache(harness).misses == misses
    assert _cache(harness).hits >= 4


def test_a_committed_change_shows_on_the_next_dashboard(harness: WebHarness) -> None:
    client = harness.login("analyst")
    before = client.get("/api/v1/dashboard").json()
    _new_clue(harness, "H-A-NEW")
    after = client.get("/api/v1/dashboard").json()
    assert after["kpis"]["cases_total"] == before["kpis"]["cases_total"] + 1
    assert after["discoveries_by_month"][-1] == before["discoveries_by_month"][-1] + 1
    # A workflow step through the web (another kind of change) also shows at once.
    village = harness.login("village_a")
    page = village.get(f"/cases/{harness.seeded.case_a}")
    response = village.post(
        f"/cases/{harness.seeded.case_a}/actions/reject",
        data={
            "csrf_token": _csrf(page.text),
            "version": "1",
            "decided_on": "2026-11-01",
            "reason": "核实后不符合",
        },
    )
    assert response.status_code == 303, response.text[:300]
    rejected = client.get("/api/v1/dashboard").json()
    assert rejected["kpis"]["pending_decision"] == after["kpis"]["pending_decision"] - 1


def test_each_jurisdiction_has_its_own_figures(harness: WebHarness) -> None:
    county = harness.login("analyst").get("/api/v1/dashboard").json()
    village = harness.login("village_a").get("/api/v1/dashboard").json()
    assert county["kpis"]["cases_total"] == 2
    assert village["kpis"]["cases_total"] == 1


def _write_panel(harness: WebHarness, rows: Sequence[tuple[str, str, str, str | None]]) -> None:
    con = duckdb.connect(str(harness.app.state.workspace.warehouse_path))
    con.execute(
        "CREATE OR REPLACE TABLE household_period (household_id VARCHAR, period VARCHAR, "
        "region_code VARCHAR, registry_status VARCHAR)"
    )
    con.executemany("INSERT INTO household_period VALUES (?, ?, ?, ?)", rows)
    con.close()


def test_monitored_objects_are_counted_per_data_period_from_the_registry(
    harness: WebHarness,
) -> None:
    # The data ends in 2023-12, years before the cases' dates: the case dates would give an
    # empty line; the registry says who was a monitoring object in each period.
    rows: list[tuple[str, str, str, str | None]] = [
        ("H1", "2023-10", VILLAGE_A, "monitored"),
        ("H2", "2023-10", VILLAGE_A, "exited_poverty"),
        ("H1", "2023-11", VILLAGE_A, "monitored"),
        ("H2", "2023-11", VILLAGE_A, "monitored"),
        ("H1", "2023-12", VILLAGE_A, "risk_eliminated"),
        ("H2", "2023-12", VILLAGE_A, "monitored"),
        ("H3", "2023-12", VILLAGE_B, "monitored"),
    ]
    _write_panel(harness, rows)
    village = harness.login("village_a")
    api = village.get("/api/v1/dashboard").json()
    assert api["monitored_source"] == "warehouse"
    assert api["months"][-3:] == ["2023-10", "2023-11", "2023-12"]
    assert api["monitored_by_month"][-3:] == [1, 2, 1]
    page = village.get("/dashboard").text
    assert re.search(r'id="monitored-source" data-source="warehouse"', page)
    county = harness.login("analyst").get("/api/v1/dashboard").json()
    assert county["monitored_by_month"][-3:] == [1, 2, 2]
    # A pipeline run rewrites the panel: the next view counts the new data.
    _write_panel(harness, [*rows, ("H4", "2023-12", VILLAGE_A, "monitored")])
    assert village.get("/api/v1/dashboard").json()["monitored_by_month"][-1] == 2


def test_without_registry_status_the_monitored_line_comes_from_the_cases(
    harness: WebHarness,
) -> None:
    _write_panel(harness, [("H1", "2023-12", VILLAGE_A, None)])
    api = harness.login("analyst").get("/api/v1/dashboard").json()
    assert api["monitored_source"] == "cases"
    assert api["months"][-1] == "2023-12"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]*)"', html)
    assert match
    return match.group(1)


def test_village_map_is_filtered_per_jurisdiction_from_the_cache(harness: WebHarness) -> None:
    def codes(username: str) -> list[str]:
        geo = harness.login(username).get("/dashboard/villages.geojson").json()
        return [f["properties"]["region_code"] for f in geo["features"]]

    assert codes("analyst") == [VILLAGE_A, VILLAGE_B]
    assert codes("village_b") == [VILLAGE_B]
    assert codes("analyst") == [VILLAGE_A, VILLAGE_B]
