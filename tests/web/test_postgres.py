"""The web app on a PostgreSQL case database (what a county with many users runs).

Sign-in, the household page with its audit entry, the dashboard and a workflow action, on a
database of its own on the real server.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from dixian.cases import AuditKey, CasesDatabase, upgrade_database
from dixian.cases.actor import Actor
from dixian.cases.enums import Channel, Role
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.service import (
    DiscoveryInput,
    HouseholdInput,
    PersonInput,
    record_discoveries,
    upsert_households,
    verify_audit_chain,
)
from dixian.config import Workspace
from dixian.web.accounts import issue_account
from dixian.web.app import create_app
from dixian.web.settings import WebSettings

from .conftest import PASSWORD, START, VILLAGE_A, FrozenClock, csrf_from, sign_in

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[CasesDatabase]:
    admin = make_url(postgres_url)
    name = f"dixian_web_{secrets.token_hex(4)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = admin.set(database=name).render_as_string(hide_password=False)
    db = CasesDatabase.open(url, audit_key=AuditKey(b"w" * 32))
    upgrade_database(db.engine)
    yield db
    db.dispose()
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


def test_household_page_dashboard_and_action_on_postgresql(
    pg_db: CasesDatabase, web_workspace: Workspace
) -> None:
    system = Actor.system(name="tests")
    with pg_db.session() as session:
        issue_account(
            session, actor=system, username="pg_village", display_name="pg",
            settings=WebSettings(env="demo"), role=Role.VILLAGE_CASEWORKER,
            jurisdiction=VILLAGE_A, password=PASSWORD,
        )  # fmt: skip
        upsert_households(
            session,
            actor=system,
            households=[
                HouseholdInput(
                    household_id="PG-1",
                    region_code=VILLAGE_A,
                    head_name="王五",
                    persons=[PersonInput("PG-1-0", "王五", id_number="52279919700101001X")],
                )
            ],
        )
        case_id = record_discoveries(
            session,
            actor=system,
            discoveries=[
                DiscoveryInput(
                    household_id="PG-1",
                    region_code=VILLAGE_A,
                    period="2026-10",
                    channel=Channel.DEPARTMENT_SCREENING,
                    discovered_on=date(2026, 10, 20),
                )
            ],
        ).case_ids[0]
    app = create_app(
        web_workspace, settings=WebSettings(env="demo"), database=pg_db, clock=FrozenClock(START)
    )
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert sign_in(client, "pg_village", PASSWORD).status_code == 303
    page = client.get("/households/PG-1")
    assert page.status_code == 200 and "522799********001X" in page.text
    before = client.get("/api/v1/dashboard").json()
    assert before["kpis"]["cases_total"] == 1 and before["kpis"]["pending_decision"] == 1
    csrf = csrf_from(client.get(f"/cases/{case_id}").text)
    response = client.post(
        f"/cases/{case_id}/actions/reject",
        data={"csrf_token": csrf, "version": "1", "decided_on": "2026-11-01", "reason": "不符合"},
    )
    assert response.status_code == 303, response.text[:300]
    assert client.get("/api/v1/dashboard").json()["kpis"]["pending_decision"] == 0
    with pg_db.session() as session:
        viewed = session.scalars(
            select(AuditEntry.object_id).where(AuditEntry.event_code == "HOUSEHOLD_VIEWED")
        ).all()
        assert viewed == ["PG-1"]
        assert verify_audit_chain(session, actor=system).ok
