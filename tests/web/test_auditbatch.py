"""Group commit of read audit entries: every entry durable before `write` returns, fewer
commits under concurrency, one bad entry fails only its own request; read-only sessions.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dixian.cases import AuditKey, CasesDatabase, upgrade_database
from dixian.cases.actor import Actor
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.models import Household
from dixian.cases.service import get_household, upsert_household, verify_audit_chain
from dixian.errors import DixianError, NotFound
from dixian.web.auditbatch import AuditBatcher

from .conftest import VILLAGE_A, VILLAGE_B


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = CasesDatabase.open(
        f"sqlite:///{tmp_path / 'cases.sqlite'}", audit_key=AuditKey(b"t" * 32)
    )
    upgrade_database(database.engine)
    yield database
    database.dispose()


def _entry(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "actor": Actor.system(name="tests"),
        "event_code": "HOUSEHOLD_VIEWED",
        "object_type": "household",
        "object_id": f"H{n}",
        **extra,
    }


def _ledger(db: CasesDatabase) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(func.coalesce(AuditEntry.object_id, ""))
                .where(AuditEntry.event_code == "HOUSEHOLD_VIEWED")
                .order_by(AuditEntry.seq)
            )
        )


def _run_while_held(
    batcher: AuditBatcher, lock: threading.RLock, batches: list[list[dict[str, Any]]]
) -> list[BaseException | None]:
    """Start one writer per batch while the write lock is held, so they queue up."""
    outcomes: list[BaseException | None] = [None] * len(batches)

    def work(index: int) -> None:
        try:
            batcher.write(batches[index])
        except BaseException as exc:
            outcomes[index] = exc

    with lock:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        # The first writer waits for the lock; the others wait in the queue behind it.
        while len(batcher._queue) < len(batches) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_concurrent_writers_share_commits_and_every_entry_is_kept(db: CasesDatabase) -> None:
    lock = threading.RLock()
    batcher = AuditBatcher(db.append_entries, write_lock=lock)
    outcomes = _run_while_held(batcher, lock, [[_entry(n)] for n in range(20)])
    assert outcomes == [None] * 20
    assert sorted(_ledger(db), key=lambda v: int(str(v)[1:])) == [f"H{n}" for n in range(20)]
    # The first writer's own commit, then one for the 19 that queued meanwhile.
    assert batcher.commits == 2
    with db.session() as session:
        assert verify_audit_chain(session, actor=Actor.system(name="tests")).ok


def test_a_bad_entry_fails_only_its_own_request(db: CasesDatabase) -> None:
    lock = threading.RLock()
    batcher = AuditBatcher(db.append_entries, write_lock=lock)
    batches = [[_entry(n)] for n in range(6)]
    batches[3] = [_entry(3, object_type=None)]  # NOT NULL column: the insert fails
    outcomes = _run_while_held(batcher, lock, batches)
    assert [i for i, outcome in enumerate(outcomes) if outcome is not None] == [3]
    assert sorted(_ledger(db)) == ["H0", "H1", "H2", "H4", "H5"]


def test_a_failed_write_raises_to_the_caller(db: CasesDatabase) -> None:
    batcher = AuditBatcher(db.append_entries)
    with pytest.raises(Exception, match=r"NOT NULL|null"):
        batcher.write([_entry(1, object_type=None)])
    assert _ledger(db) == []


def test_read_session_writes_its_audit_entries_and_refuses_changes(db: CasesDatabase) -> None:
    system = Actor.system(name="tests")
    with db.session() as session:
        upsert_household(session, actor=system, household_id="HR", region_code=VILLAGE_A)
    reader = Actor(user_id=None, username="v", role="village_caseworker", jurisdiction=VILLAGE_A)
    batcher = AuditBatcher(db.append_entries)
    with db.read_session(audit_sink=batcher.write) as session:
        assert get_household(session, actor=reader, household_id="HR").region_code == VILLAGE_A
    assert _ledger(db) == ["HR"] and batcher.commits == 1
    outsider = Actor(user_id=None, username="b", role="village_caseworker", jurisdiction=VILLAGE_B)
    with pytest.raises(NotFound), db.read_session(audit_sink=batcher.write) as session:
        get_household(session, actor=outsider, household_id="HR")
    with db.session() as session:
        denied = session.scalars(
            select(AuditEntry.actor_region).where(AuditEntry.event_code == "ACCESS_DENIED")
        ).all()
    assert denied == [VILLAGE_B]
    with pytest.raises(DixianError, match="read-only"), db.read_session() as session:
        household = session.scalars(select(Household)).one()
        household.head_name = "改名"
        session.flush()
