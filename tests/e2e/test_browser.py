"""The web app in a real headless Chromium: sign-in, lock-out, charts, a case's whole workflow,
masked identifiers with a logged reveal, jurisdiction, the auditor's trail. Screenshots of each
page are saved to test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LiveServer, PageWatch, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_sign_in_and_lock_out(new_page: Any, live_server: LiveServer) -> None:
    watch: PageWatch = new_page()
    page = watch.page
    page.goto("/login")
    screenshot(watch, "01-login")
    for _ in range(5):
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", "Wrong-Password-9")
        page.fill("input[name=totp_code]", "000000")
        page.click("#login-form button[type=submit]")
        assert "用户名、密码或验证码不正确" in page.text_content(".flash.error")
    sign_in(watch, live_server, "leader")
    assert page.url.endswith("/login"), "a locked account stays locked with the right password"
    screenshot(watch, "02-locked")
    live_server.clock.advance(301)
    sign_in(watch, live_server, "leader")
    assert page.url.endswith("/dashboard")
    # The refused sign-ins answer 401, which Chromium logs; nothing else may fail.
    assert [e for e in watch.console_errors if "status of 401" not in e] == []


def test_dashboard_draws_its_charts_offline(new_page: Any, live_server: LiveServer) -> None:
    watch: PageWatch = new_page()
    sign_in(watch, live_server, "analyst")
    page = watch.page
    page.goto("/dashboard")
    for chart in ("#trend", "#causes", "#village-map"):
        page.wait_for_selector(f"{chart}[data-rendered=true] canvas", timeout=15000)
    assert page.text_content("[data-kpi=cases_total] .value") == "2"
    screenshot(watch, "03-dashboard")
    page.click("#lang-switch")
    page.wait_for_selector("#trend[data-rendered=true] canvas")
    assert "Dashboard" in page.text_content("h1")
    screenshot(watch, "04-dashboard-en")
    page.click("#lang-switch")
    assert watch.console_errors == [], watch.console_errors
    assert watch.foreign_requests() == [], "no request may leave localhost"


def _open_action(page: Any, action: str) -> Any:
    details = page.locator(f'details[data-action="{action}"]').first
    details.locator("summary").click()
    return details


def _submit(details: Any) -> None:
    details.locator("button[type=submit]").click()
    details.page.wait_for_load_state("networkidle")


def test_a_case_through_its_workflow(new_page: Any, live_server: LiveServer) -> None:
    case = live_server.seeded.case_a
    village: PageWatch = new_page()
    township: PageWatch = new_page()
    county: PageWatch = new_page()
    sign_in(village, live_server, "village_a")
    sign_in(township, live_server, "township")
    sign_in(county, live_server, "analyst")

    page = village.page
    page.goto(f"/cases/{case}")
    screenshot(village, "05-case-discovered")
    visit = _open_action(page, "record_visit")
    visit.locator("input[name=visited_on]").fill("2026-11-02")
    visit.locator("input[name=per_capita_income]").fill("4200")
    visit.locator("input[name=labour_count]").fill("2")
    visit.locator("select[name=medical_secure]").select_option("false")
    visit.locator("textarea[name=findings]").fill("住院自付 2.3 万元")
    visit.locator("input[name=authorisation_signed_on]").fill("2026-11-02")
    _submit(visit)
    assert page.get_attribute("#case-state", "data-state") == "visited"
    review = _open_action(page, "village_review")
    review.locator("input[name=notice_start]").fill("2026-11-03")
    review.locator("input[name=notice_end]").fill("2026-11-08")
    review.locator("input[name=decided_on]").fill("2026-11-09")
    _submit(review)
    assert page.get_attribute("#case-state", "data-state") == "village_reviewed"

    township.page.goto(f"/cases/{case}")
    check = _open_action(township.page, "township_review")
    check.locator("input[name=decided_on]").fill("2026-11-10")
    _submit(check)
    assert township.page.get_attribute("#case-state", "data-state") == "township_reviewed"

    county.page.goto(f"/cases/{case}")
    confirm = _open_action(county.page, "county_confirm")
    confirm.locator("input[name=decided_on]").fill("2026-11-12")
    confirm.locator("select[name=object_type]").select_option("sudden_hardship")
    confirm.locator("select[name=causes]").select_option(["illness", "lack_of_labour"])
    confirm.locator("select[name=primary_cause]").select_option("illness")
    _submit(confirm)
    assert county.page.get_attribute("#case-state", "data-state") == "monitoring"
    screenshot(county, "06-case-monitoring")

    page.goto(f"/cases/{case}")
    plan = _open_action(page, "add_plan")
    plan.locator("textarea[name=summary]").fill("医疗救助加公益岗位")
    _submit(plan)
    measure = _open_action(page, "add_measure")
    measure.locator("select[name=measure_type]").select_option("health_support")
    measure.locator("input[name=provider]").fill("县医保局")
    measure.locator("input[name=cost]").fill("8000")
    measure.locator("select[name=status]").select_option("delivered")
    _submit(measure)
    for month in range(1, 7):
        follow = _open_action(page, "follow_up")
        follow.locator("input[name=period]").fill(f"2027-{month:02d}")
        follow.locator("input[name=per_capita_income]").fill("9800")
        follow.locator("input[name=monitoring_line]").fill("8700")
        _submit(follow)
    screenshot(village, "07-case-assisted")

    live_server.clock.advance(7 * 31 * 86400)
    for watch, user in ((village, "village_a"), (township, "township"), (county, "analyst")):
        sign_in(watch, live_server, user)
    page.goto(f"/cases/{case}")
    propose = _open_action(page, "propose_elimination")
    propose.locator("input[name=proposed_on]").fill("2027-06-20")
    _submit(propose)
    elim = _open_action(page, "village_review_elimination")
    elim.locator("input[name=notice_start]").fill("2027-06-21")
    elim.locator("input[name=notice_end]").fill("2027-06-27")
    elim.locator("input[name=decided_on]").fill("2027-06-28")
    _submit(elim)
    township.page.goto(f"/cases/{case}")
    step = _open_action(township.page, "township_review_elimination")
    step.locator("input[name=decided_on]").fill("2027-06-29")
    _submit(step)
    county.page.goto(f"/cases/{case}")
    final = _open_action(county.page, "county_confirm_elimination")
    final.locator("input[name=decided_on]").fill("2027-06-30")
    _submit(final)
    assert county.page.get_attribute("#case-state", "data-state") == "risk_eliminated"
    screenshot(county, "08-case-risk-eliminated")

    county.page.goto("/households/H-A-1")
    for kind in ("discovery", "visit", "review", "measure", "follow_up"):
        assert county.page.locator(f'#timeline li[data-kind="{kind}"]').count() >= 1
    screenshot(county, "09-household-file")

    auditor: PageWatch = new_page()
    sign_in(auditor, live_server, "auditor")
    auditor.page.goto(f"/audit?object_type=case&object_id={case}")
    assert auditor.page.locator('tr[data-event="CASE_TRANSITION"]').count() == 8
    screenshot(auditor, "10-audit-trail")
    for watch in (village, township, county, auditor):
        assert watch.console_errors == [], watch.console_errors


def test_masked_id_and_logged_reveal(new_page: Any, live_server: LiveServer) -> None:
    watch: PageWatch = new_page()
    sign_in(watch, live_server, "village_a")
    page = watch.page
    page.goto("/households/H-A-1")
    assert page.text_content("#id-1") == "522799********001X"
    screenshot(watch, "11-household-masked")
    form = page.locator("form.reveal").first
    form.locator("input[name=reason]").fill("办理医疗救助核对身份")
    form.locator("button").click()
    page.wait_for_selector("span.revealed")
    assert page.text_content("span.revealed") == "52279919800101001X"
    screenshot(watch, "12-household-revealed")
    auditor: PageWatch = new_page()
    sign_in(auditor, live_server, "auditor")
    auditor.page.goto("/audit?event_code=PI_UNMASKED")
    assert "办理医疗救助核对身份" in auditor.page.text_content("#audit-table")
    assert watch.console_errors == [] and auditor.console_errors == []


def test_village_a_cannot_reach_village_b(new_page: Any, live_server: LiveServer) -> None:
    watch: PageWatch = new_page()
    sign_in(watch, live_server, "village_a")
    page = watch.page
    response = page.goto("/households/H-B-1")
    assert response is not None and response.status == 404
    screenshot(watch, "13-other-village-404")
    response = page.goto(f"/cases/{live_server.seeded.case_b}")
    assert response is not None and response.status == 404
    api_status = page.evaluate("async () => (await fetch('/api/v1/households/H-B-1')).status")
    assert api_status == 404
    page.goto("/cases")
    assert "H-B-1" not in page.text_content("#case-table")
    screenshot(watch, "14-case-list-village-a")


def test_public_self_report_page(new_page: Any, live_server: LiveServer) -> None:
    watch: PageWatch = new_page()
    page = watch.page
    page.goto("/self-report")
    page.select_option("select[name=village_code]", "522799101201")
    page.fill("input[name=head_name]", "王五")
    page.select_option("select[name=category]", "disaster")
    page.fill("textarea[name=description]", "暴雨冲毁了房屋")
    page.click("#self-report-form button[type=submit]")
    assert "申报已受理" in page.text_content(".flash.ok")
    screenshot(watch, "15-self-report")
    assert watch.console_errors == []
