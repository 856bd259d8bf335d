"""The banks' microcredit reports follow the world's project failures, with realistic noise."""

from __future__ import annotations

import numpy as np
import pytest

from dixian.simulate.extract import Batch, Extractor
from dixian.simulate.extract_credit import MAX_AMOUNT, microcredit_loans
from dixian.simulate.state import WorldState
from dixian.standards import load_catalog
from tests.simulate.conftest import small_world

YEARS = 3


@pytest.fixture(scope="module")
def world() -> WorldState:
    return small_world(seed=8, years=YEARS)


@pytest.fixture(scope="module")
def batches(world: WorldState) -> list[Batch]:
    return list(microcredit_loans(Extractor(world, YEARS, np.random.default_rng(3))))


def _rows(batches: list[Batch]) -> dict[str, np.ndarray]:
    keys = batches[0].columns
    rows = {k: np.concatenate([b.columns[k] for b in batches]) for k in keys}
    rows["_household"] = np.concatenate([b.household for b in batches])
    rows["_month"] = np.concatenate([np.full(b.size, i) for i, b in enumerate(batches)])
    return rows


def _failure_months(world: WorldState) -> dict[int, int]:
    shocks = world.log_table("shock")
    assert shocks is not None
    kind = shocks["kind"].to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(kind == "project_failure")
    dates = shocks["date"].to_numpy()[rows]
    months = (dates.astype("datetime64[M]") - world.start.astype("datetime64[M]")).astype(int)
    first: dict[int, int] = {}
    for household, month in zip(shocks["household"].to_numpy()[rows], months, strict=True):
        first.setdefault(int(household), int(month))
    return first


def test_rows_carry_every_field_of_the_standard_with_valid_codes(batches: list[Batch]) -> None:
    dataset = load_catalog().dataset("microcredit_loans")
    assert dataset.department == "banking"
    rows = _rows(batches)
    assert set(dataset.field_names()) <= set(rows)
    assert set(rows["repayment_status"]) <= {"normal", "overdue", "repaid", "extended"}
    assert set(rows["loan_purpose"]) <= {"industry", "other"}
    assert ((rows["loan_amount"] >= 10_000) & (rows["loan_amount"] <= MAX_AMOUNT)).all()
    assert (rows["due_date"] > rows["issue_date"]).all()
    assert (rows["issue_date"] <= rows["report_month"] + np.timedelta64(31, "D")).all()
    repaid = rows["repayment_status"] == "repaid"
    assert repaid.any() and (rows["outstanding_balance"][repaid] == 0).all()


def test_a_failed_project_turns_the_households_loan_overdue_and_it_stays_so(
    world: WorldState, batches: list[Batch]
) -> None:
    rows = _rows(batches)
    failures = _failure_months(world)
    bad = {"overdue", "extended"}
    followed = 0
    for household, month in failures.items():
        mine = rows["_household"] == household
        before = mine & (rows["_month"] < month) & (rows["repayment_status"] != "repaid")
        if not before.any():
            continue  # no loan outstanding when the project failed
        later = mine & (rows["_month"] >= month + 3)
        if not later.any():
            continue  # failed near the end of the visible years
        followed += 1
        assert set(rows["repayment_status"][later]) <= bad
        overdue = later & (rows["repayment_status"] == "overdue")
        if overdue.any():
            assert (rows["overdue_amount"][overdue] == rows["outstanding_balance"][overdue]).all()
    assert followed >= 3


def test_some_overdue_reports_are_late_payments_not_failed_projects(
    world: WorldState, batches: list[Batch]
) -> None:
    rows = _rows(batches)
    failures = _failure_months(world)
    overdue = rows["repayment_status"] == "overdue"
    failed = np.isin(rows["_household"], list(failures))
    late = overdue & ~failed
    assert late.any(), "late payments of running projects are overdue for a month or two"
    # A late payment is a quarter's interest, far below the loan.
    assert (rows["overdue_amount"][late] < 0.05 * rows["loan_amount"][late]).all()
    assert (overdue & failed).sum() > late.sum()


def test_the_loan_book_is_the_same_for_the_same_seed(world: WorldState) -> None:
    def book() -> list[tuple[str, str, str]]:
        out = []
        for b in microcredit_loans(Extractor(world, YEARS, np.random.default_rng(5))):
            out += zip(
                b.columns["loan_id"].tolist(),
                b.columns["id_number"].tolist(),
                b.columns["repayment_status"].tolist(),
                strict=True,
            )
        return out

    assert book() == book()
