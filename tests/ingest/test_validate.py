"""Every validation rule fires on the value it is about, and only there."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import ibis
import pyarrow as pa

from dixian.ingest import RULES, CheckContext, check_dataset
from dixian.ingest.validate import reason_json, region_lookup_rows
from dixian.standards import load_catalog
from tests.ingest.feeds import AS_OF, REGIONS, id_number

GOOD = {
    "id_number": id_number("19800101", 11),
    "name": "张伟",
    "sex": "男",
    "birth_date": "1980-01-01",
    "household_number": "H1",
    "relation_to_head": "户主",
    "region_code": "河东村",
    "registration_status": "正常",
}


def _check(dataset_name: str, rows: list[dict[str, str | None]], errors: list[str | None]) -> Any:
    catalog = load_catalog()
    dataset = catalog.dataset(dataset_name)
    columns = {name: [row.get(name) for row in rows] for name in dataset.field_names()}
    columns["_parse_error"] = errors
    columns["_row_number"] = list(range(1, len(rows) + 1))
    raw = ibis.memtable(pa.table(columns, schema=pa.schema(
        [(n, pa.string()) for n in [*dataset.field_names(), "_parse_error"]]
        + [("_row_number", pa.int64())])))  # fmt: skip
    regions = ibis.memtable(
        pa.Table.from_pylist(region_lookup_rows(list(csv.DictReader(io.StringIO(REGIONS)))))
    )
    checked = check_dataset(raw, dataset, CheckContext(catalog, regions, AS_OF))
    result = ibis.duckdb.connect().to_pyarrow(checked.order_by("_row_number")).to_pylist()
    return result


def _codes(row: dict[str, Any], column: str) -> set[tuple[str, str]]:
    return {(item["code"], item["field"]) for item in json.loads(row[column])}


def test_each_rule_on_household_registration() -> None:
    cases: list[
        tuple[dict[str, str | None], str | None, set[tuple[str, str]], set[tuple[str, str]]]
    ]
    cases = [
        ({}, None, set(), set()),
        ({"name": " "}, None, {("required_missing", "name")}, set()),
        ({"birth_date": "生日"}, None, {("invalid_type", "birth_date")}, set()),
        ({"sex": "未知"}, None, {("code_unknown", "sex")}, set()),
        ({"status_date": "2099-01-01"}, None, {("date_in_future", "status_date")}, set()),
        ({"region_code": "火星村"}, None, {("region_unknown", "region_code")}, set()),
        ({"region_code": "新村"}, None, {("region_ambiguous", "region_code")}, set()),
        ({"region_code": "522799009009"}, None, {("region_unknown", "region_code")}, set()),
        ({"id_number": "52272219800101"}, None, {("id_malformed", "id_number")}, set()),
        ({"id_number": "5227221980010100AB"}, None, {("id_malformed", "id_number")}, set()),
        ({"id_number": None}, None, set(), {("id_missing", "id_number")}),
        ({"id_number": GOOD["id_number"][:-1] + ("1" if GOOD["id_number"][-1] != "1" else "2")},
         None, set(), {("id_check_failed", "id_number")}),
        ({"id_number": id_number("19801301", 11)}, None, set(),
         {("id_birth_date_invalid", "id_number")}),
        ({"id_number": "99" + id_number("19800101", 11)[2:17]}, None, set(), set()),
        ({"birth_date": "1980-01-02"}, None, set(), {("id_birth_date_mismatch", "id_number")}),
        ({"sex": "女"}, None, set(), {("id_sex_mismatch", "id_number")}),
        ({}, "expected 11 cells, found 12", {("row_malformed", "")}, set()),
    ]  # fmt: skip
    # A valid check character on an unknown province code:
    body = "99" + id_number("19800101", 11)[2:17]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    unknown_province = (
        body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    )
    cases[13] = ({"id_number": unknown_province}, None, set(), {("id_region_unknown", "id_number")})
    rows = [{**GOOD, **change} for change, _, _, _ in cases]
    result = _check("household_registration", rows, [error for _, error, _, _ in cases])
    for row, (change, _, errors, flags) in zip(result, cases, strict=True):
        assert _codes(row, "_reasons") == errors, change
        assert _codes(row, "_flags") == flags, change
        assert row["_rejected"] is bool(errors)
    good = result[0]
    assert good["id_number"] == GOOD["id_number"] and good["sex"] == "M"
    assert good["region_code"] == "522799001002" and good["relation_to_head"] == "head"
    assert good["birth_date"] == date(1980, 1, 1) and good["name_key"] == "张伟"


def test_ranges_amounts_and_messages_on_civil_affairs() -> None:
    base = {
        "id_number": id_number("19800101", 11),
        "name": "张伟",
        "region_code": "522799001001",
        "program": "低保",
        "amount": "500",
        "payment_month": "2024-01",
    }
    changes: list[dict[str, str]] = [
        {},
        {"amount": "-1"},
        {"amount": "30万元"},
        {"household_members_covered": "31"},
        {"household_members_covered": "2.5"},
    ]
    result = _check("civil_affairs_assistance", [{**base, **c} for c in changes], [None] * 5)
    assert [row["_rejected"] for row in result] == [False, True, True, True, True]
    assert _codes(result[1], "_reasons") == {("out_of_range", "amount")}
    assert _codes(result[2], "_reasons") == {("out_of_range", "amount")}
    assert _codes(result[3], "_reasons") == {("out_of_range", "household_members_covered")}
    assert _codes(result[4], "_reasons") == {("invalid_type", "household_members_covered")}
    assert result[0]["program"] == "dibao" and result[0]["amount"] == 500.0
    assert result[0]["payment_month"] == date(2024, 1, 1)
    message = json.loads(result[1]["_reasons"])[0]
    assert message["message_zh"] == "“发放金额”超出范围 [0, 200000]"
    assert message["message_en"] == "amount is outside [0, 200000]"


def test_every_rule_has_both_messages() -> None:
    spec = load_catalog().dataset("civil_affairs_assistance").field("amount")
    for code in RULES:
        reason = json.loads(reason_json(code, spec))
        assert reason["code"] == code and reason["message_zh"] and reason["message_en"]
