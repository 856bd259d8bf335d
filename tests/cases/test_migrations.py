"""Alembic migrations from an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from dixian.cases import Base, create_cases_engine, upgrade_database
from dixian.cases.db import current_revision, downgrade_database, head_revision
from tests.cases.conftest import PgCluster, _admin_exec, drop_database


def _check_fresh_upgrade(engine: Engine) -> None:
    assert current_revision(engine) is None
    before, after = upgrade_database(engine)
    assert (before, after) == (None, head_revision())
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert drift == [], f"models and migrations disagree: {drift}"


def test_sqlite_upgrade_from_empty_downgrade_and_again(tmp_path: Path) -> None:
    engine = create_cases_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    _check_fresh_upgrade(engine)
    downgrade_database(engine, revision="base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert upgrade_database(engine)[1] == head_revision()
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_upgrade_from_empty(pg_cluster: PgCluster) -> None:
    name = f"dixian_cases_{secrets.token_hex(5)}"
    _admin_exec(pg_cluster.admin_url, f"CREATE DATABASE {name} OWNER {pg_cluster.owner}")
    engine = create_cases_engine(pg_cluster.url(name, role=pg_cluster.owner))
    try:
        _check_fresh_upgrade(engine)
        with engine.connect() as connection:
            from sqlalchemy import text

            triggers = set(connection.execute(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            )).scalars())  # fmt: skip
        assert {"audit_log_append_only", "audit_log_no_truncate"} <= triggers
    finally:
        engine.dispose()
        drop_database(pg_cluster.admin_url, name)


@pytest.mark.postgres
def test_cli_grants_the_app_role_no_ledger_changes(
    pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from dixian.config import init_workspace
    from tests.conftest import run_cli

    monkeypatch.setenv("DIXIAN_AUDIT_KEY", "k" * 32)
    name = f"dixian_cases_{secrets.token_hex(5)}"
    _admin_exec(pg_cluster.admin_url, f"CREATE DATABASE {name} OWNER {pg_cluster.owner}")
    workspace = init_workspace(tmp_path / "ws")
    config = workspace.config_path.read_text(encoding="utf-8").replace(
        'database_url = ""', f'database_url = "{pg_cluster.url(name, role=pg_cluster.owner)}"'
    )
    workspace.config_path.write_text(config, encoding="utf-8")
    app = create_cases_engine(pg_cluster.url(name, role=pg_cluster.app))
    try:
        assert run_cli("db", "upgrade", "-w", str(workspace.root)).exit_code == 0
        granted = run_cli("db", "grant-app-role", pg_cluster.app, "-w", str(workspace.root))
        assert granted.exit_code == 0, granted.stderr
        with app.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
            assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
            connection.execute(text(
                "INSERT INTO households (household_id, region_code, created_at, updated_at) "
                "VALUES ('H1', '522799101201', now(), now())"
            ))  # fmt: skip
        with pytest.raises(DBAPIError, match="permission denied"), app.begin() as connection:
            connection.execute(text("DELETE FROM audit_log"))
        refused = run_cli("db", "grant-app-role", "bad-name;", "-w", str(workspace.root))
        assert refused.exit_code == 2
    finally:
        app.dispose()
        drop_database(pg_cluster.admin_url, name)
