"""The panel's microcredit_overdue_12m and microcredit_overdue_principal columns."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import ibis
import pytest

from dixian.features.builder import build_household_period
from tests.features.warehouse import write_links, write_membership, write_persons, write_staged

VILLAGE = "522799001001"
PERIODS = ["2023-05", "2023-08", "2023-10", "2024-03", "2024-09"]
# (record, borrower, loan, report month, status, amount, balance)
RECORDS = [
    # hf: a project loan falls overdue in 2023-08 and is extended in 2024-02.
    ("mc:f-may", "f1", "L1", date(2023, 5, 1), "normal", 50000.0, 50000.0),
    ("mc:f-jul", "f1", "L1", date(2023, 7, 1), "normal", 50000.0, 50000.0),
    ("mc:f-aug", "f1", "L1", date(2023, 8, 1), "overdue", 50000.0, 50000.0),
    ("mc:f-aug-dup", "f1", "L1", date(2023, 8, 1), "overdue", 50000.0, 50000.0),
    ("mc:f-oct", "f1", "L1", date(2023, 10, 1), "overdue", 50000.0, None),
    ("mc:f-feb", "f1", "L1", date(2024, 2, 1), "extended", 50000.0, 50000.0),
    # hl: a payment a month late in 2023-08, normal again, repaid in 2024-03.
    ("mc:l-jul", "l1", "L2", date(2023, 7, 1), "normal", 30000.0, 30000.0),
    ("mc:l-aug", "l1", "L2", date(2023, 8, 1), "overdue", 30000.0, 30000.0),
    ("mc:l-oct", "l1", "L2", date(2023, 10, 1), "normal", 30000.0, 30000.0),
    ("mc:l-mar", "l1", "L2", date(2024, 3, 1), "repaid", 30000.0, 0.0),
    # hx: overdue once in 2023-05, then no more reports.
    ("mc:x-apr", "x1", "L4", date(2023, 4, 1), "normal", 10000.0, 10000.0),
    ("mc:x-may", "x1", "L4", date(2023, 5, 1), "overdue", 10000.0, 10000.0),
    # hs: overdue since 2022: a standing debt, no event of the 12 months.
    ("mc:s-2022", "s1", "L5", date(2022, 3, 1), "normal", 40000.0, 40000.0),
    ("mc:s-2022b", "s1", "L5", date(2022, 4, 1), "overdue", 40000.0, 40000.0),
    ("mc:s-may", "s1", "L5", date(2023, 5, 1), "overdue", 40000.0, 40000.0),
    ("mc:s-oct", "s1", "L5", date(2023, 10, 1), "overdue", 40000.0, 40000.0),
    # The spouse's loan, normal in 2024-08, overdue in 2024-09 (not known before).
    ("mc:l2-aug", "l2", "L3", date(2024, 8, 1), "normal", 20000.0, 20000.0),
    ("mc:l2-sep", "l2", "L3", date(2024, 9, 1), "overdue", 20000.0, 20000.0),
]


def _warehouse(with_loans: bool = True) -> Any:
    backend = ibis.duckdb.connect()
    people = [("f1", "hf"), ("l1", "hl"), ("l2", "hl"), ("o1", "ho"), ("x1", "hx"), ("s1", "hs")]
    write_persons(backend, [(person, date(1975, 1, 1), VILLAGE) for person, _ in people])
    write_membership(
        backend,
        [
            (period, household, person, "head" if person != "l2" else "spouse")
            for period in PERIODS
            for person, household in people
        ],
    )
    if not with_loans:
        return backend
    write_staged(
        backend,
        "microcredit_loans",
        [
            {
                "_record_id": record,
                "loan_id": loan,
                "report_month": month,
                "repayment_status": status,
                "loan_amount": amount,
                "outstanding_balance": balance,
            }
            for record, _, loan, month, status, amount, balance in RECORDS
        ],
        {
            "loan_id": "string",
            "report_month": "date",
            "repayment_status": "string",
            "loan_amount": "float64",
            "outstanding_balance": "float64",
        },
    )
    write_links(backend, [(record, "microcredit_loans", person) for record, person, *_ in RECORDS])
    return backend


@pytest.fixture(scope="module")
def panel() -> dict[tuple[str, str], dict[str, Any]]:
    frame = build_household_period(_warehouse(), periods=PERIODS).to_pandas()
    return {(r["household_id"], r["period"]): r for r in frame.to_dict("records")}


def _column(panel: dict[Any, Any], household: str, column: str) -> dict[str, Any]:
    return {period: panel[(household, period)][column] for period in PERIODS}


def test_an_overdue_project_loan_is_flagged_with_its_principal(panel: dict[Any, Any]) -> None:
    assert _column(panel, "hf", "microcredit_overdue_12m") == {
        "2023-05": False,
        "2023-08": True,
        "2023-10": True,
        "2024-03": True,
        # Overdue or extended in every report of the 12 months: it fell overdue before them.
        "2024-09": False,
    }
    # The duplicated August report counts once; October's blank balance is the loan amount;
    # extended (展期) in February, the loan is no longer overdue.
    assert _column(panel, "hf", "microcredit_overdue_principal") == pytest.approx(
        {"2023-05": 0.0, "2023-08": 50000.0, "2023-10": 50000.0, "2024-03": 0.0, "2024-09": 0.0}
    )
    evidence = json.loads(panel[("hf", "2023-10")]["evidence"])
    assert evidence["microcredit_overdue_principal"] == ["mc:f-oct"]
    assert set(evidence["microcredit_overdue_12m"]) == {"mc:f-aug", "mc:f-aug-dup", "mc:f-oct"}


def test_a_late_payment_shows_for_a_year_but_owes_nothing_once_paid(
    panel: dict[Any, Any],
) -> None:
    assert _column(panel, "hl", "microcredit_overdue_12m") == {
        "2023-05": False,
        "2023-08": True,
        "2023-10": True,
        "2024-03": True,
        # The spouse's loan reported overdue in September 2024 counts from then on.
        "2024-09": True,
    }
    assert _column(panel, "hl", "microcredit_overdue_principal") == pytest.approx(
        {"2023-05": 0.0, "2023-08": 30000.0, "2023-10": 0.0, "2024-03": 0.0, "2024-09": 20000.0}
    )


def test_an_overdue_report_counts_for_12_months(panel: dict[Any, Any]) -> None:
    assert _column(panel, "hx", "microcredit_overdue_12m") == {
        "2023-05": True,
        "2023-08": True,
        "2023-10": True,
        "2024-03": True,
        "2024-09": False,
    }


def test_a_loan_overdue_for_more_than_a_year_is_a_standing_debt_not_an_event(
    panel: dict[Any, Any],
) -> None:
    assert _column(panel, "hs", "microcredit_overdue_12m") == dict.fromkeys(PERIODS, False)
    assert _column(panel, "hs", "microcredit_overdue_principal") == dict.fromkeys(PERIODS, 0.0)


def test_no_loan_is_false_and_zero_when_ingested_and_null_when_not(
    panel: dict[Any, Any],
) -> None:
    assert _column(panel, "ho", "microcredit_overdue_12m") == dict.fromkeys(PERIODS, False)
    assert _column(panel, "ho", "microcredit_overdue_principal") == dict.fromkeys(PERIODS, 0.0)
    frame = build_household_period(_warehouse(with_loans=False), periods=PERIODS).to_pandas()
    assert frame["microcredit_overdue_12m"].isna().all()
    assert frame["microcredit_overdue_principal"].isna().all()
