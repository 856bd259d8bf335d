"""The audit ledger: chain verification, tamper detection, immutability, masking, retention."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from dixian.cases import Actor, AuditEntry, AuditKey, CasesDatabase, CaseSettings, verify_chain
from dixian.cases.audit import append_entry
from dixian.cases.models import utc_now
from dixian.cases.service import (
    DiscoveryInput,
    PersonInput,
    purge_audit_log,
    query_audit_log,
    record_discoveries,
    upsert_household,
    verify_audit_chain,
)
from dixian.config import Workspace, init_workspace
from dixian.errors import ConfigError, PermissionDenied
from tests.cases.conftest import TEST_KEY, VILLAGE_A, People, open_case
from tests.cases.flow import act, drive

ID_NUMBER = "11010519491231002X"
_VALID_ID = re.compile(r"\d{17}[\dX]")


def is_valid_id_number(text: str) -> bool:
    """GB 11643 check character (ISO 7064 MOD 11-2)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(text[:17], weights, strict=True))
    return "10X98765432"[total % 11] == text[17]


@contextmanager
def dba(backend: str, owner_url: str) -> Iterator[Connection]:
    """A connection with the owner's rights and the append-only triggers switched off."""
    engine = create_engine(owner_url)
    try:
        with engine.begin() as connection:
            if backend == "sqlite":
                for trigger in ("audit_log_no_update", "audit_log_no_delete"):
                    connection.execute(text(f"DROP TRIGGER {trigger}"))
            else:
                connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            yield connection
            if backend == "postgresql":
                connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    finally:
        engine.dispose()


def _verify(db: CasesDatabase, key: AuditKey = TEST_KEY) -> tuple[bool, int | None, str]:
    with db.session() as session:
        result = verify_chain(session, key=key)
    return result.ok, result.first_bad_seq, result.problem or ""


@pytest.fixture
def ledger(db: CasesDatabase, people: People) -> int:
    """Eleven entries: eight users, a household, a case, a discovery."""
    open_case(db)
    with db.session() as session:
        return len(list(session.scalars(select(AuditEntry.seq))))


def test_a_clean_chain_verifies(db: CasesDatabase, people: People, ledger: int) -> None:
    case_id = 1
    drive(db, people, case_id, "monitoring")
    assert _verify(db) == (True, None, "")
    with db.session() as session:
        result = verify_audit_chain(session, actor=people.auditor)
    assert result.ok and result.entries_checked > ledger


def test_a_modified_entry_is_named(
    db: CasesDatabase, ledger: int, backend: str, owner_url: str
) -> None:
    with dba(backend, owner_url) as connection:
        connection.execute(text("UPDATE audit_log SET actor_name = 'nobody' WHERE seq = 3"))
    ok, bad, problem = _verify(db)
    assert (ok, bad) == (False, 3) and "modified" in problem


def test_a_deleted_entry_is_named(
    db: CasesDatabase, ledger: int, backend: str, owner_url: str
) -> None:
    with dba(backend, owner_url) as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    ok, bad, problem = _verify(db)
    assert (ok, bad) == (False, 5) and "4..4 are missing" in problem


def test_reordered_entries_are_named(
    db: CasesDatabase, ledger: int, backend: str, owner_url: str
) -> None:
    with dba(backend, owner_url) as connection:
        connection.execute(text("UPDATE audit_log SET seq = -3 WHERE seq = 3"))
        connection.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = 4"))
        connection.execute(text("UPDATE audit_log SET seq = 4 WHERE seq = -3"))
    ok, bad, _ = _verify(db)
    assert (ok, bad) == (False, 3)


def test_a_truncated_tail_is_named(
    db: CasesDatabase, ledger: int, backend: str, owner_url: str
) -> None:
    with dba(backend, owner_url) as connection:
        connection.execute(text(f"DELETE FROM audit_log WHERE seq > {ledger - 2}"))
    ok, bad, problem = _verify(db)
    assert (ok, bad) == (False, ledger - 1) and "truncated" in problem


def test_a_truncated_start_is_named(
    db: CasesDatabase, ledger: int, backend: str, owner_url: str
) -> None:
    with dba(backend, owner_url) as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq <= 2"))
    ok, bad, problem = _verify(db)
    assert (ok, bad) == (False, 3) and "no purge covers them" in problem


def test_a_rewritten_chain_without_the_key_is_detected(db: CasesDatabase, ledger: int) -> None:
    assert _verify(db, AuditKey(b"another key of thirty-two bytes!"))[1] == 1


def test_the_app_cannot_change_or_delete_entries(db: CasesDatabase, ledger: int) -> None:
    for statement in ("UPDATE audit_log SET reason = 'x' WHERE seq = 1",
                      "DELETE FROM audit_log WHERE seq = 1"):  # fmt: skip
        with pytest.raises(DBAPIError) as refused, db.engine.begin() as connection:
            connection.execute(text(statement))
        assert re.search(r"append-only|permission denied", str(refused.value))
    assert _verify(db)[0]


def test_the_triggers_hold_even_for_the_owner(
    db: CasesDatabase, ledger: int, backend: str, owner_url: str
) -> None:
    engine = create_engine(owner_url)
    statements = ["UPDATE audit_log SET reason = 'x' WHERE seq = 1",
                  "DELETE FROM audit_log WHERE seq = 1"]  # fmt: skip
    if backend == "postgresql":
        statements.append("TRUNCATE audit_log")
    try:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_a_failing_audit_write_rolls_the_change_back(
    db: CasesDatabase, people: People, ledger: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("dixian.cases.audit.append_entry", broken)
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        act(db, people, 1, "record_visit", {
            "visited_on": "2025-01-08", "per_capita_income": 5200, "labour_count": 2,
            "food_clothing_secure": True, "education_secure": True, "medical_secure": True,
            "housing_secure": True, "water_secure": True, "authorisation_signed_on": "2025-01-08",
        })  # fmt: skip
    monkeypatch.undo()
    with db.session() as session:
        from dixian.cases.service import get_case

        case = get_case(session, actor=people.county, case_id=1)
        assert (case.state, case.version, case.visits) == ("discovered", 1, [])


def test_no_raw_id_number_reaches_the_ledger(db: CasesDatabase, people: People) -> None:
    with db.session() as session:
        upsert_household(
            session, actor=people.county, household_id="HP", region_code=VILLAGE_A,
            persons=[PersonInput(person_id="P1", name="张三", id_number=ID_NUMBER)],
        )  # fmt: skip
        record_discoveries(
            session, actor=Actor.system(),
            discoveries=[DiscoveryInput(
                household_id="HP", region_code=VILLAGE_A, period="2025-02",
                channel="department_screening",  # type: ignore[arg-type]
                discovered_on=utc_now().date(),
                evidence={"applicant": ID_NUMBER, "note": f"申请人{ID_NUMBER}住院",
                          "id_number": ID_NUMBER},
            )],
        )  # fmt: skip
    with db.engine.connect() as connection:
        dump = " ".join(
            str(value)
            for row in connection.execute(text("SELECT * FROM audit_log"))
            for value in row
        )
    assert ID_NUMBER not in dump
    assert not [m for m in _VALID_ID.findall(dump) if is_valid_id_number(m)]
    assert "110105********002X" in dump


def test_only_the_auditor_reads_the_ledger_and_reading_is_logged(
    db: CasesDatabase, people: People, ledger: int
) -> None:
    for who in ("sysadmin", "county", "leader"):
        with pytest.raises(PermissionDenied), db.session() as session:
            query_audit_log(session, actor=getattr(people, who))
    with db.session() as session:
        rows = query_audit_log(session, actor=people.auditor, event_code="USER_CREATED")
    assert len(rows) == 8
    with db.session() as session:
        assert query_audit_log(session, actor=people.auditor, event_code="AUDIT_QUERIED")


def _entry_aged(db: CasesDatabase, days: float, code: str) -> None:
    with db.session() as session:
        append_entry(
            session, key=TEST_KEY, actor=Actor.system(), event_code=code, object_type="test",
            at=utc_now() - timedelta(days=days),
        )  # fmt: skip


def test_purge_removes_only_entries_past_retention_and_records_itself(db: CasesDatabase) -> None:
    _entry_aged(db, 185, "OLD")
    _entry_aged(db, 183, "YOUNG")
    with db.session() as session:
        result = purge_audit_log(session, actor=Actor.system())
    assert (result.deleted, result.through_seq) == (1, 1)
    with db.session() as session:
        codes = [e.event_code for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert codes == ["YOUNG", "AUDIT_PURGED"]
    assert _verify(db) == (True, None, "")


def test_purge_refuses_a_retention_below_the_legal_floor(db: CasesDatabase) -> None:
    db.settings = CaseSettings(audit_retention_days=180)
    with pytest.raises(PermissionDenied, match="184"), db.session() as session:
        purge_audit_log(session, actor=Actor.system())


def test_the_database_refuses_to_delete_young_entries_even_with_a_purge_record(
    db: CasesDatabase, backend: str, owner_url: str
) -> None:
    _entry_aged(db, 100, "YOUNG")
    engine = create_engine(owner_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO audit_purges (through_seq, anchor_hash, cutoff, purged_at, "
                "deleted_count, mac) VALUES (99, 'x', '2025-01-01', '2025-01-01', 0, 'x')"
            ))  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log WHERE seq = 1"))
    finally:
        engine.dispose()


def test_retention_comes_from_the_workspace_config(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws")
    config = workspace.config_path
    text_ = config.read_text(encoding="utf-8")
    config.write_text(text_.replace("audit_retention_days = 1095", "audit_retention_days = 180"))
    with pytest.raises(ConfigError, match="audit_retention_days"):
        Workspace.open(workspace.root)
    config.write_text(text_.replace("audit_retention_days = 1095", "audit_retention_days = 200"))
    assert CaseSettings.from_workspace(Workspace.open(workspace.root)).audit_retention_days == 200
