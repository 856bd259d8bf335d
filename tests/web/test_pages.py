"""Pages: a case through its whole workflow by form posts, dashboard, exports, self-report, i18n."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dixian.cases.case_models import Case
from dixian.cases.enums import CaseState
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.models import Household
from dixian.web.exports import safe_cell
from dixian.web.i18n import catalog
from dixian.web.routes.households import household_file

from .conftest import VILLAGE_A, WebHarness, csrf_from


def _version(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version in the case page"
    return match.group(1)


def _post(client: TestClient, case_id: int, url: str, fields: dict[str, object]) -> None:
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    data: dict[str, object] = {"csrf_token": csrf_from(page.text), "version": _version(page.text)}
    data.update(fields)
    response = client.post(url, data=data)
    assert response.status_code == 303, response.text[:800]


def _state(harness: WebHarness, case_id: int) -> CaseState:
    with harness.db.session() as session:
        return session.get_one(Case, case_id).state


def test_a_case_goes_from_discovery_to_risk_elimination(make_harness, seeded) -> None:  # type: ignore[no-untyped-def]
    # The case spans eight months; passwords would expire on the way (tested elsewhere).
    harness: WebHarness = make_harness(password_max_age_days=400)
    case = seeded.case_a
    village = harness.login("village_a")
    township = harness.login("township")
    county = harness.login("analyst")
    act = f"/cases/{case}/actions"
    _post(village, case, f"{act}/record_visit", {
        "visited_on": "2026-11-02", "per_capita_income": "4200", "labour_count": "2",
        "food_clothing_secure": "true", "education_secure": "true", "medical_secure": "false",
        "housing_secure": "true", "water_secure": "true", "findings": "住院自付 2.3 万元",
        "authorisation_signed_on": "2026-11-02",
    })  # fmt: skip
    assert _state(harness, case) is CaseState.VISITED
    _post(village, case, f"{act}/village_review", {
        "decided_on": "2026-11-09", "notice_start": "2026-11-03", "notice_end": "2026-11-08",
    })  # fmt: skip
    _post(township, case, f"{act}/township_review", {"decided_on": "2026-11-10"})
    county_page = county.get(f"/cases/{case}")
    assert 'data-action="county_confirm"' in county_page.text
    page = county.get(f"/cases/{case}")
    response = county.post(
        f"{act}/county_confirm",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode([("csrf_token", csrf_from(page.text)), ("version", _version(page.text)),
              ("decided_on", "2026-11-12"), ("object_type", "sudden_hardship"),
              ("causes", "illness"), ("causes", "lack_of_labour"),
              ("primary_cause", "illness")]),
    )  # fmt: skip
    assert response.status_code == 303, response.text[:800]
    assert _state(harness, case) is CaseState.MONITORING
    _post(village, case, f"/cases/{case}/plans", {"summary": "医疗救助加公益岗位"})
    with harness.db.session() as session:
        plan_id = session.get_one(Case, case).plans[0].id
    _post(village, case, f"/cases/{case}/plans/{plan_id}/measures", {
        "measure_type": "health_support", "provider": "县医保局", "cost": "8000",
        "status": "delivered",
    })  # fmt: skip
    for month in range(1, 7):
        _post(village, case, f"/cases/{case}/follow-ups", {
            "period": f"2027-{month:02d}", "per_capita_income": "9800", "monitoring_line": "8700",
        })  # fmt: skip
    refused = village.get(f"/cases/{case}")
    too_early = village.post(
        f"{act}/propose_elimination",
        data={"csrf_token": csrf_from(refused.text), "version": _version(refused.text),
              "proposed_on": "2027-01-15"},
    )  # fmt: skip
    assert too_early.status_code == 409
    assert "monitored for 0 months, at least 6 are required" in too_early.text
    harness.clock.advance(7 * 31 * 86400)
    village, township, county = (harness.login(u) for u in ("village_a", "township", "analyst"))
    _post(village, case, f"{act}/propose_elimination", {"proposed_on": "2027-06-20"})
    _post(village, case, f"{act}/village_review_elimination", {
        "decided_on": "2027-06-28", "notice_start": "2027-06-21", "notice_end": "2027-06-27",
    })  # fmt: skip
    _post(township, case, f"{act}/township_review_elimination", {"decided_on": "2027-06-29"})
    _post(county, case, f"{act}/county_confirm_elimination", {"decided_on": "2027-06-30"})
    assert _state(harness, case) is CaseState.RISK_ELIMINATED
    final = county.get(f"/cases/{case}")
    assert "风险已消除" in final.text and "县医保局" in final.text
    household = county.get("/households/H-A-1")
    for kind in ("discovery", "visit", "review", "measure", "follow_up"):
        assert f'data-kind="{kind}"' in household.text
    with harness.db.session() as session:
        home = session.scalar(select(Household).where(Household.household_id == "H-A-1"))
        timeline = household_file(session, home, locale="en")["timeline"]
    assert [(e["date"], e["kind"]) for e in timeline] == sorted(
        (e["date"], e["kind"]) for e in timeline
    )
    (measure,) = [e for e in timeline if e["kind"] == "measure"]
    assert (measure["measure_type"], measure["status"], measure["cost"]) == (
        "health_support", "delivered", 8000,
    )  # fmt: skip
    follow_ups = [
        (e["period"], e["income"], e["line"]) for e in timeline if e["kind"] == "follow_up"
    ]
    assert follow_ups == [(f"2027-{m:02d}", 9800, 8700) for m in range(1, 7)]
    reviews = [(e["level"], e["approved"]) for e in timeline if e["kind"] == "review"]
    assert [level for level, _ in reviews] == ["village", "township", "county"] * 2
    assert all(approved for _, approved in reviews)
    assert all(e["case_id"] == case for e in timeline if e["kind"] != "discovery")
    auditor = harness.login("auditor")
    trail = auditor.get(f"/audit?object_type=case&object_id={case}")
    assert trail.text.count('data-event="CASE_TRANSITION"') == 8
    assert 'data-event="TRANSITION_REFUSED"' in trail.text


def test_a_stale_version_is_a_conflict(harness: WebHarness, seeded) -> None:  # type: ignore[no-untyped-def]
    client = harness.login("village_a")
    page = client.get(f"/cases/{seeded.case_a}")
    csrf = csrf_from(page.text)
    _post(client, seeded.case_a, f"/cases/{seeded.case_a}/notes", {"text": "第一条"})
    stale = client.post(
        f"/cases/{seeded.case_a}/notes", data={"csrf_token": csrf, "version": "1", "text": "x"}
    )
    assert stale.status_code == 409
    assert "version" in stale.text


def test_role_not_allowed_for_an_action_is_refused_with_reason(harness: WebHarness, seeded) -> None:  # type: ignore[no-untyped-def]
    client = harness.login("analyst")
    page = client.get(f"/cases/{seeded.case_a}")
    assert 'data-action="record_visit"' not in page.text, "only visitors see the visit form"
    response = client.post(
        f"/cases/{seeded.case_a}/actions/township_review",
        data={"csrf_token": csrf_from(page.text), "version": "1", "decided_on": "2026-11-02"},
    )
    assert response.status_code == 409
    assert "discovered" in response.text


def test_dashboard_shows_kpis_and_chart_data(harness: WebHarness) -> None:
    client = harness.login("analyst")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'data-kpi="cases_total"' in page.text
    assert re.search(r'data-kpi="cases_total"><div class="value">2<', page.text)
    assert 'id="chart-trend"' in page.text and 'data-kind="map"' in page.text
    assert "城关镇" in page.text
    data = client.get("/api/v1/dashboard").json()
    assert data["kpis"]["pending_decision"] == 2
    assert sum(data["discoveries_by_month"]) == 2
    village = harness.login("village_a").get("/api/v1/dashboard").json()
    assert village["kpis"]["cases_total"] == 1
    geo = harness.login("village_a").get("/dashboard/villages.geojson").json()
    assert [f["properties"]["region_code"] for f in geo["features"]] == [VILLAGE_A]


def test_dashboard_chart_json_cannot_break_out_of_its_script_block(harness: WebHarness) -> None:
    from dixian.web.render import _json_script

    assert "</script>" not in str(_json_script({"x": "</script><script>alert(1)</script>"}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"),
     ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("张三", "张三"), (None, "")],
)  # fmt: skip
def test_export_cells_cannot_become_formulas(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_exported_names_are_neutralised(harness: WebHarness) -> None:
    from openpyxl import load_workbook

    from dixian.cases.actor import Actor
    from dixian.cases.service import upsert_household

    with harness.db.session() as session:
        upsert_household(
            session, actor=Actor.system(), household_id="H-A-1", region_code=VILLAGE_A,
            head_name='=HYPERLINK("http://evil","x")', member_count=1, has_labour=True,
        )  # fmt: skip
    response = harness.login("analyst").get("/cases/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    heads = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://evil","x")' in heads


def test_exports_are_rate_limited(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: WebHarness = make_harness(exports_per_user_per_hour=2)
    client = harness.login("analyst")
    assert [client.get("/cases/export.xlsx").status_code for _ in range(3)] == [200, 200, 429]


def test_self_report_opens_a_case_and_is_rate_limited(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: WebHarness = make_harness(self_reports_per_ip_per_hour=2)
    client = harness.client()
    statuses = []
    for i in range(3):
        page = client.get("/self-report")
        assert "甲村" in page.text
        response = client.post(
            "/self-report",
            data={"csrf_token": csrf_from(page.text), "village_code": VILLAGE_A,
                  "head_name": f"王{i}", "category": "illness",
                  "description": "家里有人住院，花了很多钱"},
        )  # fmt: skip
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    with harness.db.session() as session:
        codes = list(
            session.scalars(
                select(AuditEntry.event_code).where(AuditEntry.actor_name == "public:self-report")
            )
        )
    assert codes.count("DISCOVERY_RECORDED") == 2
    cases = harness.login("village_a").get("/api/v1/cases").json()["items"]
    assert sum(item["household_id"].startswith("self-report:") for item in cases) == 2


def test_self_report_refuses_a_village_outside_the_county(harness: WebHarness) -> None:
    client = harness.client()
    page = client.get("/self-report")
    response = client.post(
        "/self-report",
        data={"csrf_token": csrf_from(page.text), "village_code": "110101001001",
              "head_name": "王", "category": "illness", "description": "困难"},
    )  # fmt: skip
    assert response.status_code == 422


def test_language_switch_and_catalogs(harness: WebHarness) -> None:
    assert set(catalog("zh_CN")) == set(catalog("en"))
    client = harness.login("analyst")
    assert "监测总览" in client.get("/dashboard").text
    switched = client.get("/lang/en", headers={"Referer": "https://testserver/dashboard"})
    assert switched.status_code == 303 and switched.headers["location"] == "/dashboard"
    assert "Dashboard" in client.get("/dashboard").text
    elsewhere = client.get("/lang/en", headers={"Referer": "https://evil.example/x"})
    assert elsewhere.headers["location"] == "/"


def test_every_template_key_is_in_the_catalogs() -> None:
    root = Path(__file__).parents[2] / "src" / "dixian" / "web" / "templates"
    keys = set()
    for template in root.glob("*.html"):
        # Whole keys only; `t('prefix.' ~ value)` builds its key at run time.
        keys |= set(re.findall(r"t\('([a-z_.]+)'(?!\s*~)", template.read_text(encoding="utf-8")))
    missing = sorted(k for k in keys if k not in catalog("zh_CN"))
    assert missing == []


def test_templates_use_no_inline_script_or_browser_storage() -> None:
    root = Path(__file__).parents[2] / "src" / "dixian" / "web"
    for path in [*root.glob("templates/*.html"), root / "static" / "app.js"]:
        text = path.read_text(encoding="utf-8")
        assert "localStorage" not in text and "sessionStorage" not in text
        if path.suffix == ".html":
            scripts = re.findall(r"<script(?![^>]*(src=|application/json))[^>]*>", text)
            assert scripts == [], f"inline script in {path.name}"
            assert "http://" not in text and "https://" not in text, f"external URL in {path.name}"


def test_admin_creates_a_user_who_must_change_the_one_time_password(harness: WebHarness) -> None:
    admin = harness.login("sysadmin")
    page = admin.get("/admin/users")
    created = admin.post(
        "/admin/users",
        data={"csrf_token": csrf_from(page.text), "username": "Wang5", "display_name": "王五",
              "role": "village_caseworker", "jurisdiction": VILLAGE_A},
    )  # fmt: skip
    assert created.status_code == 200
    password = re.search(r'id="issued-password">([^<]+)<', created.text)
    assert password
    duplicate = admin.post(
        "/admin/users",
        data={"csrf_token": csrf_from(page.text), "username": "wang5", "display_name": "x",
              "role": "leader", "jurisdiction": VILLAGE_A},
    )  # fmt: skip
    assert duplicate.status_code == 409
    from .conftest import sign_in

    client = harness.client()
    import html

    response = sign_in(client, "wang5", html.unescape(password.group(1)))
    assert response.headers["location"] == "/account/password"
