"""The linkage review queue page: open pairs with masked evidence, decisions audited."""

from __future__ import annotations

import json

import duckdb
from sqlalchemy import func, select

from dixian.cases.ledger_models import AuditEntry

from .conftest import WebHarness, csrf_from

REVIEW_ID = "0123456789abcdef"


def _write_queue(harness: WebHarness) -> None:
    con = duckdb.connect(str(harness.app.state.workspace.warehouse_path))
    con.execute(
        "CREATE TABLE link_review_queue (review_id VARCHAR, left_node VARCHAR, right_node VARCHAR,"
        " match_probability DOUBLE, evidence VARCHAR, status VARCHAR, decided_by VARCHAR,"
        " decided_at TIMESTAMPTZ, created_run VARCHAR, applied BOOLEAN)"
    )
    evidence = [{"comparison": "id_number", "level": "one digit differs",
                 "left": "522799********001X", "right": "522799********010X"}]  # fmt: skip
    con.execute(
        "INSERT INTO link_review_queue VALUES (?, 'r:1', 'r:2', 0.55, ?, 'open', NULL, NULL,"
        " 'run1', false)",
        [REVIEW_ID, json.dumps(evidence, ensure_ascii=False)],
    )
    con.close()


def test_queue_page_without_a_queue(harness: WebHarness) -> None:
    page = harness.login("analyst").get("/linkage")
    assert page.status_code == 200 and 'id="linkage-unavailable"' in page.text


def test_a_reviewer_decides_a_pair(harness: WebHarness) -> None:
    _write_queue(harness)
    client = harness.login("analyst")
    page = client.get("/linkage")
    assert f'data-review="{REVIEW_ID}"' in page.text and "522799********010X" in page.text
    response = client.post(
        f"/linkage/{REVIEW_ID}", data={"csrf_token": csrf_from(page.text), "decision": "match"}
    )
    assert response.status_code == 303
    assert f'data-review="{REVIEW_ID}"' not in client.get("/linkage").text
    con = duckdb.connect(str(harness.app.state.workspace.warehouse_path), read_only=True)
    status, by = con.execute("SELECT status, decided_by FROM link_review_queue").fetchone()
    con.close()
    assert (status, by) == ("match", "analyst")
    with harness.db.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.event_code == "LINKAGE_REVIEWED")
        )
    assert count == 1


def test_only_the_county_analyst_reviews_links(harness: WebHarness) -> None:
    for username in ("village_a", "township", "leader", "sysadmin"):
        assert harness.login(username).get("/linkage").status_code == 403
