"""Access control: route inventory, role matrix, jurisdiction 404s, masking, audit fail-closed.

Security checklist AC-01..04, AUD-04, AUD-06, WEB-01, WEB-05, WEB-11.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dixian.cases.case_models import Case
from dixian.cases.enums import CaseState, Role
from dixian.cases.ledger_models import AuditEntry
from dixian.web.app import api_routes
from dixian.web.permissions import PUBLIC_PATHS, ROLE_PERMISSIONS, Permission

from .conftest import ID_A, WebHarness, csrf_from

MATRIX_FILE = Path(__file__).with_name("permission_matrix.yaml")


def _audit_count(harness: WebHarness, code: str) -> int:
    with harness.db.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.event_code == code)
            )
            or 0
        )


def test_every_route_declares_a_permission_or_is_public(harness: WebHarness) -> None:
    unguarded = []
    routes = api_routes(harness.app)
    assert len(routes) > 30
    for route in routes:
        permissions = [
            getattr(dep.call, "required_permission", None) for dep in route.dependant.dependencies
        ]
        if not any(permissions) and route.path not in PUBLIC_PATHS and route.path != "/":
            unguarded.append(route.path)
    assert unguarded == []


def test_no_identifier_in_paths_or_queries(harness: WebHarness) -> None:
    # ID-05: ID numbers are never URL segments or query values.
    for route in api_routes(harness.app):
        if isinstance(route, APIRoute):
            names = [p.name for p in route.dependant.path_params + route.dependant.query_params]
            assert not any(n in {"id_no", "id_number", "sfzh", "idcard"} for n in names)


def test_role_matrix_matches_the_checked_in_policy() -> None:
    expected = yaml.safe_load(MATRIX_FILE.read_text(encoding="utf-8"))
    live = {role.value: sorted(p.value for p in ROLE_PERMISSIONS[role]) for role in Role}
    assert live == {role: sorted(perms) for role, perms in expected.items()}


def test_three_administrators_are_kept_apart() -> None:
    admin = ROLE_PERMISSIONS[Role.SYSTEM_ADMIN]
    security = ROLE_PERMISSIONS[Role.SECURITY_ADMIN]
    auditor = ROLE_PERMISSIONS[Role.AUDIT_ADMIN]
    assert Permission.AUDIT_READ not in admin | security
    assert Permission.CASES_READ not in admin | security | auditor
    assert Permission.USERS_MANAGE not in auditor | security
    assert Permission.CASES_ACT not in ROLE_PERMISSIONS[Role.LEADER]


PAGE_CHECKS: list[tuple[str, str, int]] = [
    ("sysadmin", "/audit", 403),
    ("sysadmin", "/cases", 403),
    ("sysadmin", "/dashboard", 403),
    ("secadmin", "/audit", 403),
    ("secadmin", "/admin/users", 403),
    ("auditor", "/cases", 403),
    ("auditor", "/admin/users", 403),
    ("auditor", "/audit", 200),
    ("leader", "/cases", 200),
    ("leader", "/admin/users", 403),
    ("helper", "/cases", 403),
    ("helper", "/households/H-A-1", 403),
    ("helper", "/needs", 200),
    ("village_a", "/data-quality", 403),
    ("village_a", "/cases/export.xlsx", 403),
]


@pytest.mark.parametrize(("username", "path", "status"), PAGE_CHECKS)
def test_pages_refuse_roles_without_permission(
    harness: WebHarness, username: str, path: str, status: int
) -> None:
    assert harness.login(username).get(path).status_code == status


API_ENDPOINTS: list[tuple[str, str, Permission | None]] = [
    ("GET", "/api/v1/me", Permission.ACCOUNT_SELF),
    ("GET", "/api/v1/cases", Permission.CASES_READ),
    ("GET", "/api/v1/alerts", Permission.CASES_READ),
    ("GET", "/api/v1/cases/{case_a}", Permission.CASES_READ),
    ("POST", "/api/v1/cases/{case_a}/transitions", Permission.CASES_ACT),
    ("GET", "/api/v1/households/H-A-1", Permission.HOUSEHOLDS_READ),
    ("POST", "/api/v1/households/H-A-1/persons/P-A-1/reveal", Permission.PI_UNMASK),
    ("GET", "/api/v1/dashboard", Permission.DASHBOARD_VIEW),
    ("GET", "/api/v1/audit", Permission.AUDIT_READ),
    ("DELETE", "/api/v1/auth/token", Permission.ACCOUNT_SELF),
]
_BODIES = {
    "transitions": {"action": "reject", "expected_version": 1, "payload": {}},
    "reveal": {"reason": "核对身份"},
}


def _body(path: str) -> dict[str, object] | None:
    for key, body in _BODIES.items():
        if path.endswith(key):
            return body
    return None


def test_api_endpoints_are_all_listed(harness: WebHarness) -> None:
    listed = {(m, p.replace("{case_a}", "{case_id}")) for m, p, _ in API_ENDPOINTS}
    routes = {
        (method, route.path.replace("H-A-1", "{household_id}"))
        for route in api_routes(harness.app)
        if route.path.startswith("/api/v1")
        for method in route.methods
    }
    normalised = {
        (m, p.replace("H-A-1", "{household_id}").replace("P-A-1", "{person_id}")) for m, p in listed
    }
    public = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/self-reports")}
    assert routes - public == normalised


@pytest.mark.parametrize(("method", "path", "permission"), API_ENDPOINTS)
def test_api_refuses_anonymous_clients(
    harness: WebHarness, seeded, method: str, path: str, permission: Permission | None
) -> None:  # type: ignore[no-untyped-def]
    url = path.format(case_a=seeded.case_a)
    response = harness.client().request(method, url, json=_body(path))
    assert response.status_code == 401
    forged = harness.client().request(
        method, url, json=_body(path), headers={"Authorization": "Bearer forged-token"}
    )
    assert forged.status_code == 401


def _token(harness: WebHarness, username: str) -> dict[str, str]:
    from .conftest import PASSWORD

    response = harness.client().post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize(("method", "path", "permission"), API_ENDPOINTS)
def test_api_refuses_roles_without_the_permission(
    harness: WebHarness, seeded, method: str, path: str, permission: Permission
) -> None:  # type: ignore[no-untyped-def]
    url = path.format(case_a=seeded.case_a)
    refused = [role for role in Role if permission not in ROLE_PERMISSIONS[role]]
    usernames = {
        Role.SYSTEM_ADMIN: "sysadmin",
        Role.SECURITY_ADMIN: "secadmin",
        Role.AUDIT_ADMIN: "auditor",
        Role.COUNTY_ANALYST: "analyst",
        Role.VILLAGE_CASEWORKER: "village_a",
        Role.LEADER: "leader",
        Role.HELPER_ORG: "helper",
        Role.TOWNSHIP_REVIEWER: "township",
    }
    for role in refused:
        headers = _token(harness, usernames[role])
        response = harness.client().request(method, url, json=_body(path), headers=headers)
        assert response.status_code == 403, (role, url, response.status_code)


def test_api_token_rejects_unknown_fields(harness: WebHarness) -> None:
    response = harness.client().post(
        "/api/v1/auth/token",
        json={"username": "analyst", "password": "x", "is_superuser": True},
    )
    assert response.status_code == 422


def test_other_village_household_is_404_by_url_and_api(harness: WebHarness, seeded) -> None:  # type: ignore[no-untyped-def]
    client = harness.login("village_a")
    assert client.get("/households/H-A-1").status_code == 200
    assert client.get("/households/H-B-1").status_code == 404
    assert client.get(f"/cases/{seeded.case_b}").status_code == 404
    assert client.get("/households/H-NOPE").status_code == 404
    headers = _token(harness, "village_a")
    api = harness.client()
    assert api.get("/api/v1/households/H-B-1", headers=headers).status_code == 404
    assert api.get(f"/api/v1/cases/{seeded.case_b}", headers=headers).status_code == 404
    reveal = api.post(
        "/api/v1/households/H-B-1/persons/P-B-1/reveal",
        json={"reason": "核对"},
        headers=headers,
    )
    assert reveal.status_code == 404
    listed = api.get("/api/v1/cases", headers=headers).json()["items"]
    assert {item["household_id"] for item in listed} == {"H-A-1"}
    assert _audit_count(harness, "ACCESS_DENIED") >= 4


def test_other_village_case_cannot_be_changed(harness: WebHarness, seeded) -> None:  # type: ignore[no-untyped-def]
    client = harness.login("village_a")
    page = client.get(f"/cases/{seeded.case_a}")
    response = client.post(
        f"/cases/{seeded.case_b}/actions/reject",
        data={"csrf_token": csrf_from(page.text), "version": "1", "decided_on": "2026-11-02",
              "reason": "x"},
    )  # fmt: skip
    assert response.status_code == 404
    with harness.db.session() as session:
        assert session.get_one(Case, seeded.case_b).state is CaseState.DISCOVERED


def test_export_lists_only_the_jurisdiction(harness: WebHarness) -> None:
    import io

    from openpyxl import load_workbook

    client = harness.login("township")
    response = client.get("/cases/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    households = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert households == {"H-A-1", "H-B-1"}
    village = harness.login("analyst")
    one = village.get("/cases/export.xlsx?region=522799101201")
    sheet = load_workbook(io.BytesIO(one.content)).active
    assert sheet is not None
    assert {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"H-A-1"}
    assert _audit_count(harness, "EXPORTED") == 2


def test_id_numbers_are_masked_and_reveal_needs_a_logged_reason(harness: WebHarness) -> None:
    client = harness.login("village_a")
    page = client.get("/households/H-A-1")
    assert ID_A not in page.text
    assert "522799********001X" in page.text
    api = harness.client()
    headers = _token(harness, "village_a")
    data = api.get("/api/v1/households/H-A-1", headers=headers).json()
    assert data["members"][0]["id_number_masked"] == "522799********001X"
    assert ID_A not in str(data)
    no_reason = api.post("/api/v1/households/H-A-1/persons/P-A-1/reveal", json={}, headers=headers)
    assert no_reason.status_code == 422
    revealed = api.post(
        "/api/v1/households/H-A-1/persons/P-A-1/reveal",
        json={"reason": "办理医疗救助核对身份"},
        headers=headers,
    )
    assert revealed.status_code == 200 and revealed.json()["id_number"] == ID_A
    htmx = client.post(
        "/households/H-A-1/persons/P-A-1/reveal",
        data={"reason": "入户核实"},
        headers={"X-CSRF-Token": csrf_from(page.text), "HX-Request": "true"},
    )
    assert htmx.status_code == 200 and ID_A in htmx.text
    with harness.db.session() as session:
        reasons = list(
            session.scalars(select(AuditEntry.reason).where(AuditEntry.event_code == "PI_UNMASKED"))
        )
        assert reasons == ["办理医疗救助核对身份", "入户核实"]
        stored = " ".join(
            str(v) for row in session.execute(select(AuditEntry)).scalars()
            for v in (row.old_values, row.new_values, row.reason)
        )  # fmt: skip
        assert ID_A not in stored, "the ledger never holds a raw ID number"


def test_leader_cannot_reveal(harness: WebHarness) -> None:
    headers = _token(harness, "leader")
    response = harness.client().post(
        "/api/v1/households/H-A-1/persons/P-A-1/reveal", json={"reason": "看看"}, headers=headers
    )
    assert response.status_code == 403


def test_audit_failure_rolls_the_change_back(
    harness: WebHarness, seeded, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import dixian.cases.audit as ledger

    client = harness.login("village_a")
    page = client.get(f"/cases/{seeded.case_a}")

    def broken_sink(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO audit_log", {}, Exception("disk full"))

    # The ledger's one writer: every audit entry, queued or immediate, goes through it.
    monkeypatch.setattr(ledger, "append_entry", broken_sink)
    response = client.post(
        f"/cases/{seeded.case_a}/actions/reject",
        data={"csrf_token": csrf_from(page.text), "version": "1", "decided_on": "2026-11-02",
              "reason": "核实后收入高于标准"},
    )  # fmt: skip
    assert response.status_code == 503
    assert "disk full" not in response.text and "INSERT" not in response.text
    monkeypatch.undo()
    with harness.db.session() as session:
        case = session.get_one(Case, seeded.case_a)
        assert case.state is CaseState.DISCOVERED and case.version == 1


def test_auditor_search_is_itself_audited(harness: WebHarness) -> None:
    client = harness.login("auditor")
    before = _audit_count(harness, "AUDIT_QUERIED")
    response = client.get("/audit?event_code=LOGIN_SUCCEEDED")
    assert response.status_code == 200 and "LOGIN_SUCCEEDED" in response.text
    assert _audit_count(harness, "AUDIT_QUERIED") == before + 1
    verified = client.post("/audit/verify", data={"csrf_token": csrf_from(response.text)})
    assert verified.status_code == 200 and 'id="verify-result"' in verified.text
    assert "哈希链完整" in verified.text


def test_server_errors_show_no_internals(harness: WebHarness, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import dixian.web.routes.dashboard as dashboard

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret SQL: SELECT * FROM persons WHERE id_number = '52'")

    monkeypatch.setattr(dashboard, "dashboard_data", explode)
    client = harness.login("analyst")
    response = client.get("/dashboard")
    assert response.status_code == 500
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert response.headers["content-security-policy"]
