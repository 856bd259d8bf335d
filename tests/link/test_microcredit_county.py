"""The microcredit feed of a small simulated county is ingested and linked from the catalog."""

from __future__ import annotations

import json
from collections import defaultdict

import pyarrow.parquet as pq
import pytest

from dixian.config import Workspace, init_workspace
from dixian.engine import open_backend
from tests.conftest import run_cli

FAST = "u_sample_pairs: 100000\n"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("mc") / "ws"
    workspace = init_workspace(root, province="52", county="522799", name="microcredit test")
    (root / "link.yaml").write_text(FAST, encoding="utf-8")
    steps = [
        ("simulate", "--persons", "1500", "--years", "2", "--seed", "11"),
        (
            "ingest",
            str(workspace.feeds_dir / "public_security"),
            str(workspace.feeds_dir / "banking" / "microcredit_loans"),
        ),
        ("link",),
    ]
    for args in steps:
        result = run_cli(*args, "--workspace", str(root), "--json")
        assert result.exit_code == 0, result.stderr
        json.loads(result.stdout)
    return workspace


def test_loan_reports_are_staged_with_standard_codes(county: Workspace) -> None:
    staged = open_backend(county).table("staging_microcredit_loans").to_pandas()
    assert len(staged) > 500
    assert set(staged["repayment_status"]) <= {"normal", "overdue", "repaid", "extended"}
    assert {"normal", "overdue", "repaid"} <= set(staged["repayment_status"])
    assert set(staged["loan_purpose"].dropna()) <= {"industry", "other"}
    # A mis-keyed amount (ten times the true one) is superseded by its correction.
    current = staged[staged["_is_current"]]
    assert current["loan_amount"].between(10_000, 50_000).all()
    assert staged["report_month"].notna().all() and staged["loan_id"].notna().all()


def test_every_loan_report_links_to_its_true_borrower(county: Workspace) -> None:
    backend = open_backend(county)
    staged = backend.table("staging_microcredit_loans").to_pandas()
    links = backend.table("person_link").to_pandas()
    links = links[links["dataset"] == "microcredit_loans"].set_index("_record_id")
    truth = pq.read_table(county.truth_dir / "feed_rows.parquet").to_pandas()
    truth = truth[truth["dataset"] == "microcredit_loans"]
    true_person = {
        (r.source_file, r.sheet, r.row_number): r.true_person_id for r in truth.itertuples()
    }
    linked = staged[staged["_record_id"].isin(links.index)]
    assert len(linked) >= 0.97 * len(staged)
    # Rows linked to one person are one true person's (a person's rows, not a namesake's).
    people: dict[str, set[int]] = defaultdict(set)
    for row in linked.to_dict("records"):
        key = (row["_source_file"], row["_sheet"], row["_row_number"])
        people[links.loc[row["_record_id"], "person_id"]].add(int(true_person[key]))
    mixed = sum(len(found) > 1 for found in people.values())
    assert mixed <= 0.01 * len(people)
