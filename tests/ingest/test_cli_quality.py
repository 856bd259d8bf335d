"""`dixian ingest` and `dixian quality` from the command line, with the cross-department checks."""

from __future__ import annotations

import json

from dixian.config import Workspace
from tests.conftest import run_cli
from tests.ingest.feeds import civil_rows, id_number, write_civil, write_csv, write_registration


def test_ingest_then_quality_report(county: Workspace) -> None:
    rows = civil_rows(6, month="2024-02")
    rows[0][0] = id_number("19300101", 41)  # dead in December, paid in February
    rows[1][4] = "abc"
    rows[2] = list(rows[3])  # the same payment twice
    write_civil(county, "2024-02", rows, encoding="gbk")
    write_registration(
        county,
        "2024-01",
        [[id_number("19300101", 41), "张老汉", "男", "1930-01-01", "H1", "户主", "河东村",
          "死亡", "2023-12-01"]],
    )  # fmt: skip
    ingested = run_cli("ingest", "--workspace", str(county.root), "--json")
    assert ingested.exit_code == 0, ingested.stderr
    figures = json.loads(ingested.stdout)
    assert figures["rows_read"] == 7 and figures["reconciled"] is True
    assert figures["by_dataset"]["civil_affairs_assistance"]["quarantined"] == 1

    again = run_cli("ingest", "--workspace", str(county.root), "--json")
    assert json.loads(again.stdout)["files_unchanged"] == 2

    quality = run_cli("quality", "--workspace", str(county.root), "--json")
    assert quality.exit_code == 0, quality.stderr
    summary = json.loads(quality.stdout)
    assert summary["cross_checks"]["deceased_still_assisted"] == 1
    report = json.loads((county.reports_dir / "quality.json").read_text(encoding="utf-8"))
    civil = report["datasets"]["civil_affairs_assistance"]
    assert civil["rows"] == 6 and civil["rows_quarantined"] == 1 and civil["duplicate_rows"] == 1
    assert civil["fields"]["amount"]["validity"] == round(5 / 6, 4)
    assert civil["timeliness"]["event_field"] == "payment_month"
    department = report["departments"]["civil_affairs"]
    assert department["score"] < 100
    codes = {problem["code"]: problem for problem in department["problems"]}
    assert codes["invalid_type"]["examples"][0].endswith("::2")
    assert codes["deceased_still_assisted"]["examples"][0].endswith("::1")
    html = (county.reports_dir / "quality.html").read_text(encoding="utf-8")
    assert "<svg" in html and "户籍已死亡注销但仍领取社会救助" in html
    assert rows[3][0] not in html  # no ID numbers in the report


def test_cli_errors_are_one_line(workspace: Workspace) -> None:
    write_csv(workspace.feeds_dir / "misc" / "2024-01.csv", ["甲"], [["1"]])
    result = run_cli("ingest", "--workspace", str(workspace.root))
    assert result.exit_code == 2
    assert "unknown feed" in result.stderr and "Traceback" not in result.stderr
    missing = run_cli("quality", "--workspace", str(workspace.root))
    assert missing.exit_code == 2 and "run 'dixian ingest' first" in missing.stderr
