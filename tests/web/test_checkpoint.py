"""WAL checkpoints off the request path: page commits leave the log to the checkpointer, which
copies it into the database file, and the app runs it for its lifetime."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import text

from dixian.cases import AuditKey, CasesDatabase, upgrade_database
from dixian.cases.actor import Actor
from dixian.web.checkpoint import (
    AUTOCHECKPOINT_PAGES,
    WalCheckpointer,
    defer_checkpoints,
    sqlite_file,
)

from .conftest import WebHarness


def _entries(count: int) -> list[dict[str, Any]]:
    return [
        {
            "actor": Actor.system(name="tests"),
            "event_code": "HOUSEHOLD_VIEWED",
            "object_type": "household",
            "object_id": f"H{n}",
        }
        for n in range(count)
    ]


def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    db = CasesDatabase.open(f"sqlite:///{tmp_path / 'cases.sqlite'}", audit_key=AuditKey(b"c" * 32))
    upgrade_database(db.engine)
    path = sqlite_file(db.engine)
    assert path == tmp_path / "cases.sqlite"
    defer_checkpoints(db.engine)
    with db.engine.connect() as connection:
        pages = connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
    assert pages == AUTOCHECKPOINT_PAGES
    # More log pages than SQLite's default threshold of 1,000: no commit checkpointed them.
    for _ in range(100):
        db.append_entries(_entries(40))
    checkpointer = WalCheckpointer(path)
    with sqlite3.connect(path) as connection:
        busy, frames, copied = checkpointer.checkpoint(connection)
        assert busy == 0
        assert frames > 1_000
        assert copied == frames
        rows = connection.execute(
            "SELECT count(*) FROM audit_log WHERE event_code = 'HOUSEHOLD_VIEWED'"
        ).fetchone()[0]
    assert rows == 100 * 40
    db.dispose()


def test_postgres_and_memory_databases_have_no_checkpointer(tmp_path: Path) -> None:
    db = CasesDatabase.open("sqlite://", audit_key=AuditKey(b"c" * 32))
    assert sqlite_file(db.engine) is None
    db.dispose()


def test_the_app_runs_the_checkpointer_for_its_lifetime(harness: WebHarness) -> None:
    checkpointer: WalCheckpointer = harness.app.state.checkpointer
    assert checkpointer is not None
    with harness.client() as client:
        assert client.get("/healthz").status_code == 200
        thread = checkpointer._thread
        assert thread is not None and thread.is_alive()
    # Leaving the lifespan stops the thread after a last checkpoint.
    assert checkpointer._thread is None
    assert not thread.is_alive()
    assert checkpointer.checkpoints >= 1


def test_the_checkpointer_never_creates_the_database(tmp_path: Path) -> None:
    missing = tmp_path / "absent.sqlite"
    checkpointer = WalCheckpointer(missing, interval=0.01)
    checkpointer.start()
    checkpointer.stop()
    assert not missing.exists()
    assert checkpointer.checkpoints == 0
