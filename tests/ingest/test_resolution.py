"""Quarantined rows fixed by a correction file or an edited file are marked resolved, never
deleted; the ledger, the ingest summary and the quality report count open and resolved rows."""

from __future__ import annotations

import json
from typing import Any

from dixian.config import Workspace
from dixian.ingest import ingest_feeds
from tests.conftest import run_cli
from tests.ingest.feeds import AS_OF, civil_rows, write_civil
from tests.ingest.warehouse import table_rows


def _by_row(workspace: Workspace) -> dict[tuple[str, int], dict[str, Any]]:
    return {(q["_source_file"], q["_row_number"]): q for q in table_rows(workspace, "quarantine")}


JANUARY = "civil_affairs/civil_affairs_assistance/2024-01.csv"


def test_a_correction_file_resolves_the_quarantined_row(county: Workspace) -> None:
    rows = civil_rows(5)
    rows[1][4] = "abc"  # not an amount
    rows[3][4] = "xyz"
    write_civil(county, "2024-01", rows)
    first = ingest_feeds(county, as_of=AS_OF).figures()
    assert (first["quarantine_open"], first["quarantine_resolved"]) == (2, 0)

    fixed = [list(rows[1])]
    fixed[0][4] = "420"
    write_civil(county, "2024-01.correction", fixed)
    second = ingest_feeds(county, as_of=AS_OF)
    figures = second.figures()
    assert figures["quarantine_resolved_now"] == 1
    assert (figures["quarantine_open"], figures["quarantine_resolved"]) == (1, 1)

    quarantine = _by_row(county)
    assert len(quarantine) == 2  # never deleted
    resolved, still_open = quarantine[(JANUARY, 2)], quarantine[(JANUARY, 4)]
    correction = second.batches[0]
    assert resolved["status"] == "resolved" and resolved["_is_current"] is False
    assert resolved["_resolved_batch"] == correction.batch_id
    assert resolved["_resolved_record_id"] == f"{correction.batch_id}::1"
    assert resolved["_resolved_at"] is not None
    assert json.loads(resolved["original"])["amount"] == "abc"
    assert still_open["status"] == "open" and still_open["_is_current"] is True
    assert still_open["_resolved_batch"] is None

    staged = table_rows(county, "staging_civil_affairs_assistance")
    fixing = [r for r in staged if r["_record_id"] == resolved["_resolved_record_id"]]
    assert fixing[0]["amount"] == 420.0 and fixing[0]["_is_current"] is True
    ledger = {row["batch_id"]: row for row in table_rows(county, "ingest_batches")}
    assert ledger[correction.batch_id]["rows_resolved"] == 1
    assert sum(row["rows_resolved"] for row in ledger.values()) == 1


def test_an_edited_file_resolves_rows_by_place_when_the_key_was_broken(
    county: Workspace,
) -> None:
    rows = civil_rows(4)
    good_id = rows[0][0]
    rows[0][0] = good_id[:10]  # malformed ID number: the row has no version key
    rows[2][3] = "不存在的项目"  # unknown program
    write_civil(county, "2024-01", rows)
    ingest_feeds(county, as_of=AS_OF)
    before = _by_row(county)
    assert before[(JANUARY, 1)]["_key"] is None and before[(JANUARY, 3)]["_key"] is None

    rows[0][0] = good_id  # fixed; the unknown program is sent again unchanged
    write_civil(county, "2024-01", rows)
    result = ingest_feeds(county, as_of=AS_OF)
    edited = result.batches[0]
    assert edited.replaces_batch is not None and edited.rows_resolved == 1

    by_batch = {(q["_batch_id"], q["_row_number"]): q for q in table_rows(county, "quarantine")}
    assert by_batch[(edited.replaces_batch, 1)]["status"] == "resolved"
    assert by_batch[(edited.replaces_batch, 1)]["_resolved_record_id"] == (f"{edited.batch_id}::1")
    assert by_batch[(edited.replaces_batch, 3)]["status"] == "superseded"
    assert by_batch[(edited.batch_id, 3)]["status"] == "open"
    assert [q["_is_current"] for q in by_batch.values()].count(True) == 1


def test_a_correction_that_still_fails_supersedes_and_a_later_one_resolves(
    county: Workspace,
) -> None:
    rows = civil_rows(3)
    rows[2][4] = "abc"
    write_civil(county, "2024-01", rows)
    ingest_feeds(county, as_of=AS_OF)
    again = [list(rows[2])]
    again[0][4] = "still wrong"
    write_civil(county, "2024-01.correction", again)
    ingest_feeds(county, as_of=AS_OF)
    statuses = sorted((q["_source_file"], q["status"]) for q in table_rows(county, "quarantine"))
    assert statuses == [
        ("civil_affairs/civil_affairs_assistance/2024-01.correction.csv", "open"),
        (JANUARY, "superseded"),
    ]
    # A later month of the same person is a new payment, not a fix.
    write_civil(county, "2024-02", civil_rows(3, month="2024-02"))
    assert ingest_feeds(county, as_of=AS_OF).figures()["quarantine_resolved_now"] == 0

    again[0][4] = "360"
    write_civil(county, "2024-01.correction", again)
    result = ingest_feeds(county, as_of=AS_OF)
    assert result.figures()["quarantine_resolved_now"] == 1
    quarantine = table_rows(county, "quarantine")
    assert sorted(q["status"] for q in quarantine) == ["resolved", "superseded"]


def test_ingest_and_quality_report_open_and_resolved(county: Workspace) -> None:
    rows = civil_rows(4)
    rows[0][4] = "abc"
    rows[1][4] = "def"
    write_civil(county, "2024-01", rows)
    assert run_cli("ingest", "--workspace", str(county.root), "--json").exit_code == 0
    fixed = [list(rows[0])]
    fixed[0][4] = "300"
    write_civil(county, "2024-01.correction", fixed)
    ingested = run_cli("ingest", "--workspace", str(county.root), "--json")
    assert ingested.exit_code == 0, ingested.stderr
    figures = json.loads(ingested.stdout)
    assert figures["quarantine_resolved_now"] == 1
    assert (figures["quarantine_open"], figures["quarantine_resolved"]) == (1, 1)

    quality = run_cli("quality", "--workspace", str(county.root), "--json")
    assert quality.exit_code == 0, quality.stderr
    summary = json.loads(quality.stdout)
    assert summary["quarantine"] == {"open": 1, "resolved": 1, "superseded": 0}
    report = json.loads((county.reports_dir / "quality.json").read_text(encoding="utf-8"))
    civil = report["datasets"]["civil_affairs_assistance"]
    assert civil["rows_quarantined"] == 1
    assert civil["quarantine"] == {"open": 1, "resolved": 1, "superseded": 0}
    html = (county.reports_dir / "quality.html").read_text(encoding="utf-8")
    assert "已更正" in html
