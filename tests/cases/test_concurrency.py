"""Fifty caseworkers editing overlapping cases at once, on the real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from dixian.cases import AuditEntry, CasesDatabase, verify_chain
from dixian.cases.service import add_note, get_case, update_case
from dixian.errors import ConflictError
from tests.cases.conftest import TEST_KEY, People, open_case

WORKERS = 50
CASES = 5
MAX_ATTEMPTS = 400


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_fifty_workers_lose_no_update_and_every_conflict_is_reported(
    db: CasesDatabase, people: People
) -> None:
    case_ids = [open_case(db, household_id=f"H{n}") for n in range(CASES)]
    start = threading.Barrier(WORKERS)
    actors = [people.caseworker, people.township, people.county]

    def worker(index: int) -> int:
        """Read-modify-write until it lands; returns how many conflicts it was told about."""
        case_id = case_ids[index % CASES]
        actor = actors[index % len(actors)]
        conflicts = 0
        for attempt in range(MAX_ATTEMPTS):
            if attempt == 0:
                start.wait(timeout=60)
            try:
                if index % 2 == 0:  # the form was loaded by an earlier request
                    with db.session() as session:
                        case = get_case(session, actor=actor, case_id=case_id)
                        version, summary = case.version, case.summary or ""
                    with db.session() as session:
                        update_case(
                            session, actor=actor, case_id=case_id, expected_version=version,
                            summary=f"{summary}|w{index}",
                        )  # fmt: skip
                else:  # read and write in one request: the read's audit entry must not
                    # make writers deadlock on the ledger head
                    with db.session() as session:
                        case = get_case(session, actor=actor, case_id=case_id)
                        version = case.version
                        add_note(
                            session, actor=actor, case_id=case_id, expected_version=version,
                            text=f"w{index}",
                        )  # fmt: skip
                return conflicts
            except ConflictError as conflict:
                assert f"version {version}" in str(conflict)
                conflicts += 1
        raise AssertionError(f"worker {index} never landed its update")

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        conflicts = list(pool.map(worker, range(WORKERS)))

    per_case = Counter(index % CASES for index in range(WORKERS))
    with db.session() as session:
        for position, case_id in enumerate(case_ids):
            case = get_case(session, actor=people.county, case_id=case_id)
            mine = [i for i in range(WORKERS) if i % CASES == position]
            tokens = [t for t in (case.summary or "").split("|") if t]
            assert sorted(tokens) == sorted(f"w{i}" for i in mine if i % 2 == 0)
            assert sorted(n.text for n in case.notes) == sorted(f"w{i}" for i in mine if i % 2)
            assert case.version == 1 + per_case[position]
        changes = session.scalar(
            select(func.count()).select_from(AuditEntry).where(
                AuditEntry.event_code.in_(["CASE_UPDATED", "NOTE_ADDED"])
            )
        )  # fmt: skip
        result = verify_chain(session, key=TEST_KEY)
    assert changes == WORKERS
    assert sum(conflicts) > 0, "the workers never overlapped; the test proves nothing"
    assert result.ok, result.problem
