"""Fixtures for the web tests: a migrated workspace with one user per role, two villages,
households with cases, a frozen clock, and TestClients signed in as a given user.

The workspace (case database, audit key, reference files) is built once per test session and
copied for each test, because Argon2id hashing and migrations are deliberately slow.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dixian.cases.actor import Actor
from dixian.cases.db import CasesDatabase, upgrade_database
from dixian.cases.enums import Channel, Role
from dixian.cases.service import (
    DiscoveryInput,
    PersonInput,
    record_discoveries,
    upsert_household,
)
from dixian.config import Workspace, init_workspace
from dixian.web.accounts import issue_account
from dixian.web.app import create_app
from dixian.web.settings import WebSettings
from dixian.web.totp import current_code

COUNTY = "522799"
TOWNSHIP = "522799101"
VILLAGE_A = "522799101201"
VILLAGE_B = "522799101202"
PASSWORD = "Dx!an-Test-2026"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ID_A = "52279919800101001X"

# username → (role, jurisdiction)
USERS: dict[str, tuple[Role, str]] = {
    "sysadmin": (Role.SYSTEM_ADMIN, COUNTY),
    "secadmin": (Role.SECURITY_ADMIN, COUNTY),
    "auditor": (Role.AUDIT_ADMIN, COUNTY),
    "analyst": (Role.COUNTY_ANALYST, COUNTY),
    "township": (Role.TOWNSHIP_REVIEWER, TOWNSHIP),
    "village_a": (Role.VILLAGE_CASEWORKER, VILLAGE_A),
    "village_b": (Role.VILLAGE_CASEWORKER, VILLAGE_B),
    "leader": (Role.LEADER, COUNTY),
    "helper": (Role.HELPER_ORG, COUNTY),
}


@dataclass
class Seeded:
    """Ids of what the template workspace holds."""

    totp_secrets: dict[str, str]
    case_a: int
    case_b: int
    household_a: str = "H-A-1"
    household_b: str = "H-B-1"
    person_a: str = "P-A-1"
    person_b: str = "P-B-1"


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(seconds=seconds)


def _write_reference(root: Path) -> None:
    reference = root / "reference"
    reference.mkdir(exist_ok=True)
    (reference / "regions.csv").write_text(
        "region_code,name,level,parent_code\n"
        f"{COUNTY}000000,示范县,county,\n"
        f"{TOWNSHIP}000,城关镇,township,{COUNTY}000000\n"
        f"{VILLAGE_A},甲村,village,{TOWNSHIP}000\n"
        f"{VILLAGE_B},乙村,village,{TOWNSHIP}000\n",
        encoding="utf-8",
    )
    features = []
    for i, code in enumerate((VILLAGE_A, VILLAGE_B)):
        x, y = 106.0 + i * 0.03, 26.0
        ring = [[x, y], [x + 0.02, y], [x + 0.02, y + 0.02], [x, y + 0.02], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"region_code": code, "name": f"v{i}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    (reference / "villages.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Argon2id with small cost parameters: same code path, but the suite runs in seconds.

    Production uses argon2-cffi's defaults (RFC 9106 low-memory profile, 64 MiB, t=3).
    """
    from argon2 import PasswordHasher, Type

    from dixian.web import passwords

    saved = passwords._HASHER, passwords._DUMMY_HASH
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    passwords._DUMMY_HASH = passwords._HASHER.hash("dummy")
    yield
    passwords._HASHER, passwords._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def template_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    root = tmp_path_factory.mktemp("web-template") / "ws"
    workspace = init_workspace(root, province="52", county=COUNTY, name="web test")
    _write_reference(root)
    db = CasesDatabase.from_workspace(workspace, create_key=True)
    upgrade_database(db.engine)
    demo = WebSettings(env="demo")
    secrets_by_user: dict[str, str] = {}
    system = Actor.system(name="tests")
    with db.session() as session:
        for username, (role, jurisdiction) in USERS.items():
            issued = issue_account(
                session,
                actor=system,
                username=username,
                display_name=username,
                role=role,
                jurisdiction=jurisdiction,
                settings=demo,
                password=PASSWORD,
            )
            secrets_by_user[username] = issued.totp_secret
        for hid, pid, village, id_number in (
            ("H-A-1", "P-A-1", VILLAGE_A, ID_A),
            ("H-B-1", "P-B-1", VILLAGE_B, "522799198502020023"),
        ):
            upsert_household(
                session,
                actor=system,
                household_id=hid,
                region_code=village,
                head_name="张三" if village == VILLAGE_A else "李四",
                member_count=1,
                has_labour=True,
                persons=[
                    PersonInput(
                        person_id=pid, name="张三", id_number=id_number, relation_to_head="户主"
                    )
                ],
            )
        result = record_discoveries(
            session,
            actor=system,
            discoveries=[
                DiscoveryInput(
                    household_id=hid,
                    region_code=village,
                    period="2026-10",
                    channel=Channel.DEPARTMENT_SCREENING,
                    discovered_on=date(2026, 10, 20),
                    evidence={"medical_out_of_pocket": 23000},
                    risk_score=0.8,
                )
                for hid, village in (("H-A-1", VILLAGE_A), ("H-B-1", VILLAGE_B))
            ],
        )
    db.dispose()
    case_a, case_b = result.case_ids
    return root, Seeded(totp_secrets=secrets_by_user, case_a=case_a, case_b=case_b)


@pytest.fixture
def seeded(template_workspace: tuple[Path, Seeded]) -> Seeded:
    return template_workspace[1]


@pytest.fixture
def web_workspace(template_workspace: tuple[Path, Seeded], tmp_path: Path) -> Workspace:
    source, _ = template_workspace
    target = tmp_path / "ws"
    shutil.copytree(source, target)
    return Workspace.open(target)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@dataclass
class WebHarness:
    app: FastAPI
    db: CasesDatabase
    clock: FrozenClock
    seeded: Seeded

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", follow_redirects=False)

    def login(
        self, username: str, *, password: str = PASSWORD, totp: bool | None = None
    ) -> TestClient:
        client = self.client()
        response = sign_in(client, username, password, self.totp_code(username) if totp else "")
        assert response.status_code == 303, response.text[:500]
        return client

    def totp_code(self, username: str) -> str:
        return current_code(self.seeded.totp_secrets[username], now=self.clock())


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]*)"', html) or re.search(
        r'name="csrf_token" value="([^"]*)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str, code: str = ""):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "totp_code": code,
            "csrf_token": csrf_from(page.text),
        },
    )


@pytest.fixture
def make_harness(
    web_workspace: Workspace, clock: FrozenClock, seeded: Seeded
) -> Iterator[Callable[..., WebHarness]]:
    made: list[CasesDatabase] = []

    def build(**settings: object) -> WebHarness:
        values: dict[str, object] = {"env": "demo"}
        values.update(settings)
        db = CasesDatabase.from_workspace(web_workspace)
        made.append(db)
        app = create_app(web_workspace, settings=WebSettings(**values), database=db, clock=clock)
        return WebHarness(app=app, db=db, clock=clock, seeded=seeded)

    yield build
    for db in made:
        db.dispose()


@pytest.fixture
def harness(make_harness: Callable[..., WebHarness]) -> WebHarness:
    return make_harness()
