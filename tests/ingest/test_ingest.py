"""End to end on DuckDB: staging with lineage, quarantine, ledger, idempotency, corrections,
failed runs leaving the warehouse as it was."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dixian.config import Workspace
from dixian.errors import FeedValidationError
from dixian.ingest import ingest_feeds
from tests.ingest.feeds import (
    AS_OF,
    civil_path,
    civil_rows,
    id_number,
    write_civil,
    write_csv,
    write_registration,
)
from tests.ingest.warehouse import table_names, table_rows


def _messy_civil(workspace: Workspace) -> Path:
    rows = civil_rows(6)
    rows[1][4] = "abc"  # not an amount
    rows[2][0] = rows[2][0][:-1] + ("0" if rows[2][0][-1] != "0" else "1")  # check fails
    rows[3][0] = ""  # missing ID: linkage resolves it
    rows[4][3] = "不存在的项目"  # not in the code list
    rows[5][4] = "1.2万元"
    return write_civil(workspace, "2024-01", rows, encoding="gbk")


def test_ingest_stages_quarantines_and_reconciles(county: Workspace) -> None:
    _messy_civil(county)
    registration = [
        [id_number("19800101", 11), "張偉", "男", "1980-01-01", "H001", "户主", "河东村", "正常",
         None],
        [id_number("19820202", 22), "李娜", "女", "1982/2/3", "H001", "妻", "河东村", "正常", None],
        [id_number("20100505", 31), "张小明", "1", "20100505", "H001", "长子", "522799001002",
         "在册", None],
        [id_number("19300101", 41), "张老汉", "男", "1930-01-01", "H001", "父亲", "河东村",
         "死亡", "2023-12-01"],
        [id_number("19900101", 51), "王五", "男", "1990-01-01", "", "户主", "火星村", "正常", None],
    ]  # fmt: skip
    write_registration(county, "2024-01", registration)
    result = ingest_feeds(county, as_of=AS_OF)
    figures = result.figures()
    assert figures["files_ingested"] == 2 and figures["reconciled"] is True
    assert figures["rows_read"] == 11
    assert figures["rows_accepted"] + figures["rows_quarantined"] == 11

    civil = {r["_row_number"]: r for r in table_rows(county, "staging_civil_affairs_assistance")}
    assert sorted(civil) == [1, 3, 4, 6]
    assert civil[1]["region_code"] == "522799001001" and civil[1]["program"] == "tekun"
    assert civil[6]["amount"] == 12000.0
    assert civil[4]["id_number"] is None
    assert [f["code"] for f in json.loads(civil[4]["_flags"])] == ["id_missing"]
    assert [f["code"] for f in json.loads(civil[3]["_flags"])] == ["id_check_failed"]
    record = civil[1]
    assert record["_source_file"] == "civil_affairs/civil_affairs_assistance/2024-01.csv"
    assert record["_sheet"] == "" and record["_is_current"] is True
    assert record["_record_id"] == f"{record['_batch_id']}::1"
    assert len(record["_row_hash"]) == 32 and record["payment_month"] == date(2024, 1, 1)

    people = {r["_row_number"]: r for r in table_rows(county, "staging_household_registration")}
    assert sorted(people) == [1, 2, 3, 4]
    assert people[1]["name"] == "張偉" and people[1]["name_key"] == "张伟"
    assert people[1]["sex"] == "M" and people[3]["sex"] == "M"
    assert people[1]["_sheet"] == "户籍"
    assert people[4]["registration_status"] == "deceased"
    assert people[4]["status_date"] == date(2023, 12, 1)
    assert [f["code"] for f in json.loads(people[2]["_flags"])] == ["id_birth_date_mismatch"]

    quarantine = {(q["dataset"], q["_row_number"]): q for q in table_rows(county, "quarantine")}
    assert set(quarantine) == {
        ("civil_affairs_assistance", 2),
        ("civil_affairs_assistance", 5),
        ("household_registration", 5),
    }
    bad_amount = quarantine[("civil_affairs_assistance", 2)]
    assert json.loads(bad_amount["original"])["amount"] == "abc"
    reasons = json.loads(bad_amount["reasons"])
    assert reasons == [
        {
            "code": "invalid_type",
            "field": "amount",
            "message_en": "amount must be a number",
            "message_zh": "“发放金额”应为数值",
        }
    ]
    mars = {r["code"] for r in json.loads(quarantine[("household_registration", 5)]["reasons"])}
    assert mars == {"required_missing", "region_unknown"}

    ledger = {row["dataset"]: row for row in table_rows(county, "ingest_batches")}
    civil_batch = ledger["civil_affairs_assistance"]
    assert civil_batch["encoding"] == "gb18030"
    assert (civil_batch["rows_read"], civil_batch["rows_accepted"]) == (6, 4)
    assert civil_batch["rows_quarantined"] == 2 and civil_batch["rows_flagged"] == 2
    assert json.loads(civil_batch["columns_dropped"]) == {"": ["备注"]}
    assert "_ingest_checked_civil_affairs_assistance" not in table_names(county)


def test_reingesting_the_same_file_changes_nothing(county: Workspace) -> None:
    write_civil(county, "2024-01", civil_rows(5))
    ingest_feeds(county, as_of=AS_OF)
    before = table_rows(county, "staging_civil_affairs_assistance")
    again = ingest_feeds(county, as_of=AS_OF)
    assert again.batches == [] and again.unchanged == [
        "civil_affairs/civil_affairs_assistance/2024-01.csv"
    ]
    assert table_rows(county, "staging_civil_affairs_assistance") == before
    assert len(table_rows(county, "ingest_batches")) == 1


def test_new_period_appends_and_correction_supersedes_with_history(county: Workspace) -> None:
    january = civil_rows(4)
    write_civil(county, "2024-01", january)
    ingest_feeds(county, as_of=AS_OF)
    write_civil(county, "2024-02", civil_rows(4, month="2024-02"))
    ingest_feeds(county, as_of=AS_OF)
    rows = table_rows(county, "staging_civil_affairs_assistance")
    assert len(rows) == 8 and all(r["_is_current"] for r in rows)

    corrected = [list(january[1])]
    corrected[0][4] = "999"
    write_civil(county, "2024-01-correction", corrected)
    ingest_feeds(county, as_of=AS_OF)
    rows = table_rows(county, "staging_civil_affairs_assistance")
    assert len(rows) == 9
    same_key = [r for r in rows if r["id_number"] == january[1][0] and r["_period"] == "2024-01"]
    current = [r for r in same_key if r["_is_current"]]
    assert len(same_key) == 2 and len(current) == 1 and current[0]["amount"] == 999.0
    assert sum(r["_is_current"] for r in rows) == 8


def test_an_edited_file_replaces_its_earlier_batch(county: Workspace) -> None:
    rows = civil_rows(3)
    rows[2][4] = "abc"
    write_civil(county, "2024-01", rows)
    ingest_feeds(county, as_of=AS_OF)
    assert [q["_is_current"] for q in table_rows(county, "quarantine")] == [True]
    rows[2][4] = "350"  # the department fixed the quarantined row and sent the file again
    write_civil(county, "2024-01", rows)
    result = ingest_feeds(county, as_of=AS_OF)
    assert result.batches[0].replaces_batch is not None
    staged = table_rows(county, "staging_civil_affairs_assistance")
    assert sum(r["_is_current"] for r in staged) == 3 and len(staged) == 5
    assert [q["_is_current"] for q in table_rows(county, "quarantine")] == [False]


def test_a_failed_run_leaves_the_warehouse_as_it_was(
    county: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_civil(county, "2024-01", civil_rows(3))
    ingest_feeds(county, as_of=AS_OF)
    tables_before = table_names(county)
    staged_before = table_rows(county, "staging_civil_affairs_assistance")
    ledger_before = table_rows(county, "ingest_batches")

    write_civil(county, "2024-02", civil_rows(3, month="2024-02"))
    write_registration(
        county,
        "2024-02",
        [[id_number("19800101", 11), "张伟", "男", "1980-01-01", "H1", "户主", "河东村", "正常"]],
    )
    import dixian.ingest.run as run_module

    real = run_module.swap_in_staged

    def broken_swap(backend: Any, names: list[str], *, suffix: str) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "swap_in_staged", broken_swap)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_feeds(county, as_of=AS_OF)
    monkeypatch.setattr(run_module, "swap_in_staged", real)
    assert table_names(county) == tables_before
    assert table_rows(county, "staging_civil_affairs_assistance") == staged_before
    assert table_rows(county, "ingest_batches") == ledger_before
    assert not list((county.artifacts_dir / "ingest-spool").iterdir())
    retry = ingest_feeds(county, as_of=AS_OF)
    assert len(retry.batches) == 2


def test_unknown_file_and_unmapped_required_column_are_named(county: Workspace) -> None:
    odd = write_csv(county.feeds_dir / "misc" / "2024-01.csv", ["甲", "乙"], [["1", "2"]])
    with pytest.raises(FeedValidationError, match=r"misc/2024-01.csv: unknown feed.*甲, 乙"):
        ingest_feeds(county, [odd], as_of=AS_OF)
    header = ["证件号", "姓名", "所在村", "救助类别", "发放金额", "发放月份"]
    path = write_csv(civil_path(county, "2024-01"), header, [r[:6] for r in civil_rows(1)])
    with pytest.raises(FeedValidationError) as info:
        ingest_feeds(county, [path], as_of=AS_OF)
    message = str(info.value)
    assert "civil_affairs_assistance/2024-01.csv" in message
    assert "id_number (身份证号)" in message and "columns found: 证件号" in message
    assert "closest matches: id_number ≈ 证件号" in message
    assert "staging_civil_affairs_assistance" not in table_names(county)

    (county.root / "ingest.yaml").write_text(
        "columns:\n  civil_affairs_assistance:\n    证件号: id_number\n", encoding="utf-8"
    )
    result = ingest_feeds(county, [path], as_of=AS_OF)
    assert result.figures()["rows_accepted"] == 1
