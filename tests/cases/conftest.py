"""Fixtures: a migrated case database on SQLite and on a real PostgreSQL, users, households.

On PostgreSQL the suite creates its own owner role (runs the migrations) and app role
(what the service uses: no UPDATE/DELETE on the ledger), migrates a template database once,
and gives each test a fresh copy of it; everything is dropped at the end.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dixian.cases import (
    Actor,
    AuditKey,
    Base,
    CasesDatabase,
    CaseSettings,
    Channel,
    Role,
    create_cases_engine,
    grant_app_role,
    upgrade_database,
)
from dixian.cases.service import DiscoveryInput, create_user, record_discoveries

COUNTY = "522799"
VILLAGE_A = "522799101201"
VILLAGE_B = "522799101202"
TOWNSHIP = "522799101"
TEST_KEY = AuditKey(b"k" * 32)


@dataclass
class PgCluster:
    """Roles and template database of this test session on the real PostgreSQL."""

    admin_url: str
    owner: str
    app: str
    password: str
    template: str

    def url(self, database: str, *, role: str) -> str:
        # Tests do not need commits to survive a power cut: skip the WAL flush per commit,
        # which dominates the run time on a busy shared disk.
        base = make_url(self.admin_url).set(
            username=role,
            password=self.password,
            database=database,
            query={"options": "-c synchronous_commit=off"},
        )
        return base.render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    """Drop a test database once its connections are gone.

    Not `WITH (FORCE)`: that refuses to end an autovacuum worker for a non-superuser, while
    a plain DROP DATABASE cancels autovacuum itself and only waits for real sessions.
    """
    for attempt in range(20):
        try:
            _admin_exec(admin_url, f"DROP DATABASE IF EXISTS {name}")
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.5)


def _admin_exec(admin_url: str, *statements: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_cluster(postgres_url: str) -> Iterator[PgCluster]:
    suffix = secrets.token_hex(4)
    cluster = PgCluster(
        admin_url=postgres_url,
        owner=f"dixian_cases_owner_{suffix}",
        app=f"dixian_cases_app_{suffix}",
        password=secrets.token_hex(12),
        template=f"dixian_cases_{suffix}_tpl",
    )
    admin_user = make_url(postgres_url).username
    _admin_exec(
        postgres_url,
        f"CREATE ROLE {cluster.owner} LOGIN PASSWORD '{cluster.password}'",
        f"CREATE ROLE {cluster.app} LOGIN PASSWORD '{cluster.password}'",
        f"GRANT {cluster.owner} TO {admin_user}",
        f"CREATE DATABASE {cluster.template} OWNER {cluster.owner}",
    )
    owner_engine = create_cases_engine(cluster.url(cluster.template, role=cluster.owner))
    upgrade_database(owner_engine)
    grant_app_role(owner_engine, role=cluster.app)
    owner_engine.dispose()
    try:
        yield cluster
    finally:
        drop_database(postgres_url, cluster.template)
        # Databases created from the template by tests are dropped by their own fixture.
        _admin_exec(postgres_url, f"DROP ROLE IF EXISTS {cluster.app}")
        _admin_exec(postgres_url, f"DROP ROLE IF EXISTS {cluster.owner}")


@pytest.fixture(scope="session")
def pg_shared_database(pg_cluster: PgCluster) -> Iterator[str]:
    """One migrated database (a copy of the template) for the session's tests."""
    name = f"dixian_cases_{secrets.token_hex(5)}"
    _admin_exec(
        pg_cluster.admin_url,
        f"CREATE DATABASE {name} TEMPLATE {pg_cluster.template} OWNER {pg_cluster.owner}",
    )
    try:
        yield name
    finally:
        drop_database(pg_cluster.admin_url, name)


@pytest.fixture
def pg_database(pg_cluster: PgCluster, pg_shared_database: str) -> str:
    """The shared database emptied back to its freshly migrated state (as the owner).

    Emptying is much faster than creating a database per test; the owner switches the
    append-only triggers off only inside the emptying transaction.
    """
    tables = list(Base.metadata.tables)
    engine = create_engine(pg_cluster.url(pg_shared_database, role=pg_cluster.owner))
    try:
        with engine.begin() as connection:
            for table in ("audit_log", "audit_purges", "audit_chain_head"):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            # DELETE, children first, beats TRUNCATE on tables this small.
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
            for table in tables:
                if "id" in Base.metadata.tables[table].c:
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"
                    ))  # fmt: skip
            connection.execute(text(
                "INSERT INTO audit_chain_head (id, last_seq, last_hash, mac) "
                "VALUES (1, 0, :genesis, NULL)"
            ), {"genesis": "0" * 64})  # fmt: skip
            for table in ("audit_log", "audit_purges", "audit_chain_head"):
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    finally:
        engine.dispose()
    return pg_shared_database


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[CasesDatabase]:
    """A migrated case database, used as the application would use it."""
    settings = CaseSettings(audit_retention_days=184)
    if backend == "sqlite":
        database = CasesDatabase.open(
            f"sqlite:///{tmp_path / 'cases.sqlite'}", audit_key=TEST_KEY, settings=settings
        )
        upgrade_database(database.engine)
        yield database
        database.dispose()
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name: str = request.getfixturevalue("pg_database")
    database = CasesDatabase.open(
        cluster.url(name, role=cluster.app), audit_key=TEST_KEY, settings=settings
    )
    yield database
    database.dispose()


@pytest.fixture
def owner_url(backend: str, db: CasesDatabase, request: pytest.FixtureRequest) -> str:
    """A URL with the owner's rights (what a DBA has): for tampering tests."""
    if backend == "sqlite":
        return db.engine.url.render_as_string(hide_password=False)
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = db.engine.url.database or ""
    return cluster.url(name, role=cluster.owner)


@dataclass
class People:
    """One user per role, with jurisdictions in village A unless stated otherwise."""

    caseworker: Actor
    caseworker_b: Actor
    township: Actor
    county: Actor
    leader: Actor
    sysadmin: Actor
    auditor: Actor
    helper: Actor


@pytest.fixture
def people(db: CasesDatabase) -> People:
    specs = {
        "caseworker": (Role.VILLAGE_CASEWORKER, VILLAGE_A),
        "caseworker_b": (Role.VILLAGE_CASEWORKER, VILLAGE_B),
        "township": (Role.TOWNSHIP_REVIEWER, TOWNSHIP),
        "county": (Role.COUNTY_ANALYST, COUNTY),
        "leader": (Role.LEADER, COUNTY),
        "sysadmin": (Role.SYSTEM_ADMIN, COUNTY),
        "auditor": (Role.AUDIT_ADMIN, COUNTY),
        "helper": (Role.HELPER_ORG, COUNTY),
    }
    actors: dict[str, Actor] = {}
    with db.session() as session:
        system = Actor.system(name="test")
        for name, (role, jurisdiction) in specs.items():
            user = create_user(
                session, actor=system, username=name, display_name=name, role=role,
                jurisdiction=jurisdiction,
            )  # fmt: skip
            actors[name] = Actor.from_user(user, source_ip="127.0.0.1")
    return People(**actors)


def open_case(
    db: CasesDatabase,
    *,
    household_id: str = "H001",
    region_code: str = VILLAGE_A,
    discovered_on: date = date(2025, 1, 6),
    has_labour: bool | None = True,
) -> int:
    """Record one department-screening discovery and return the case it opened."""
    with db.session() as session:
        result = record_discoveries(
            session,
            actor=Actor.system(name="monitor"),
            discoveries=[
                DiscoveryInput(
                    household_id=household_id, region_code=region_code, period="2025-01",
                    channel=Channel.DEPARTMENT_SCREENING, discovered_on=discovered_on,
                    evidence={"trigger": "medical_oop", "amount": 23000}, risk_score=0.81,
                    has_labour=has_labour,
                )
            ],
        )  # fmt: skip
    return result.case_ids[0]


def pg_available() -> bool:
    return bool(os.environ.get("DIXIAN_TEST_PG_URL"))
