"""The banks' poverty-alleviation microcredit (扶贫小额信贷): a loan book and its monthly reports.

Households with a farming project or a business borrow for it: `TAKE_UP` of them hold a loan,
issued within the three years before the simulation (or when a business opens during it),
10,000–50,000 yuan for one to three years, principal due at maturity. A loan is repaid at its
due date and renewed (续贷) with `RENEWAL` while the project runs. When the world fails a
household's project (`shocks._project_failures`), its outstanding loan turns overdue one or
two months later and stays overdue: the household cannot pay back what the project was to
earn; `EXTENSION` of those loans are extended (展期) by a year after a few overdue months, and
fall overdue again at the new due date. A loan that runs normally is late now and then
(`LATE_PAYMENT_RATE`: a quarter's interest paid a month or two late, then normal again), so an
overdue report is a sign of a failed project, not a certainty.

The lending banks report every outstanding loan monthly (its last row, in the month it is
repaid, says 结清); the borrower is the household's head at the month's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dixian.simulate.extract import Batch, Extractor, _period
from dixian.simulate.extract_assets import _heads_at

# Share of households with a project or business that hold a microcredit loan (see
# docs/simulator.md for the argument).
TAKE_UP = 0.6
# Chance that a household whose loan was repaid on time borrows again for its project.
RENEWAL = 0.8
# Yearly chance that a running loan's payment is late (a month or two, then normal again).
LATE_PAYMENT_RATE = 0.02
# Share of loans overdue after a failed project that the bank extends (展期) by a year.
EXTENSION = 0.25
TERMS_MONTHS = np.array([12, 24, 36])
TERMS_P = np.array([0.1, 0.2, 0.7])
MAX_AMOUNT = 50_000.0
# Most borrowers take the 50,000 yuan ceiling; the others smaller amounts in thousands.
AT_CEILING = 0.45
INTEREST_RATE = 0.0435
_LENDERS = np.array(["农村信用社", "中国农业银行", "中国邮政储蓄银行", "村镇银行"])
_LENDERS_P = np.array([0.6, 0.2, 0.15, 0.05])
_INDUSTRY_SHARE = 0.95
_OTHER_PURPOSE = "other"


@dataclass
class _Loan:
    household: int
    loan_id: str
    lender: str
    purpose: str
    amount: float
    issue_month: int  # month index from the simulation's start (negative before it)
    issue_day: int
    due_month: int
    default_month: int | None  # first overdue month after a failed project
    extended_month: int | None  # month the overdue loan was extended
    extended_due: int | None  # due month after the extension


def _month_index(ex: Extractor, dates: np.ndarray) -> np.ndarray:
    return ex.month_index_of(dates)


def _holders(ex: Extractor) -> tuple[np.ndarray, np.ndarray, dict[int, list[int]]]:
    """(households, month of their first loan, failure months by household)."""
    s = ex.s
    rng = ex.rng
    n_h = s.n_households
    h = s.households
    failures: dict[int, list[int]] = {}
    shocks = ex.events("shock")
    if shocks:
        rows = np.flatnonzero(shocks["kind"] == "project_failure")
        months = _month_index(ex, shocks["date"][rows])
        for hh, m in zip(shocks["household"][rows].tolist(), months.tolist(), strict=True):
            failures.setdefault(int(hh), []).append(int(m))
    opened_month = np.full(n_h, -1, dtype=np.int64)
    business = ex.events("business")
    if business:
        months = _month_index(ex, business["date"])
        opened_month[business["household"]] = months
    opened = opened_month >= 0
    failed = np.zeros(n_h, dtype=bool)
    failed[list(failures)] = True
    initial = (h["project"][:n_h] | (h["business"][:n_h] & ~opened) | (failed & ~opened)) & (
        h["created"][:n_h] == s.start
    )
    later = opened & ~initial
    candidates = initial | later
    take = rng.uniform(0, 1, n_h) < TAKE_UP
    households = np.flatnonzero(candidates & take)
    # Loans of the projects running at the start were issued within the three years before.
    first = np.where(
        initial[households],
        -rng.integers(1, 37, households.size),
        opened_month[households],
    )
    return households, first, failures


def loan_book(ex: Extractor) -> list[_Loan]:
    """Every loan of the simulated county, issued before or during the visible years."""
    rng = ex.rng
    households, first, failures = _holders(ex)
    lender = _LENDERS[rng.choice(_LENDERS.size, households.size, p=_LENDERS_P)]
    start_m = ex.s.start.astype("datetime64[M]")
    loans: list[_Loan] = []
    for k, hh in enumerate(households.tolist()):
        issue = int(first[k])
        fails = sorted(failures.get(hh, []))
        while issue < ex.visible:
            term = int(rng.choice(TERMS_MONTHS, p=TERMS_P))
            due = issue + term
            amount = (
                MAX_AMOUNT
                if rng.uniform() < AT_CEILING
                else float(np.round(rng.uniform(10_000, MAX_AMOUNT), -3))
            )
            failure = next((m for m in fails if issue <= m < due), None)
            default = extended = extended_due = None
            if failure is not None:
                default = min(failure + int(rng.integers(1, 3)), due)
                if rng.uniform() < EXTENSION:
                    extended = default + int(rng.integers(1, 4))
                    extended_due = max(due, extended) + 12
            year = 1970 + int((start_m + issue).astype("datetime64[Y]").astype(int))
            loans.append(
                _Loan(
                    household=hh,
                    loan_id=f"FPXD{year}{len(loans) + 1:07d}",
                    lender=str(lender[k]),
                    purpose="industry" if rng.uniform() < _INDUSTRY_SHARE else _OTHER_PURPOSE,
                    amount=amount,
                    issue_month=issue,
                    issue_day=int(rng.integers(0, 28)),
                    due_month=due,
                    default_month=default,
                    extended_month=extended,
                    extended_due=extended_due,
                )
            )
            # A defaulted loan ends the household's borrowing; a repaid one may be renewed.
            if default is not None or rng.uniform() >= RENEWAL:
                break
            renewed = due + int(rng.integers(0, 3))
            # Failed between repayment and renewal: there is no project left to borrow for.
            if any(due <= m < renewed for m in fails):
                break
            issue = renewed
    return loans


def _status(loan: _Loan, m: int, late: np.ndarray) -> tuple[str, float, float] | None:
    """(status, outstanding principal, overdue amount) of a loan in month m; None when it is
    not reported (not issued yet, or repaid before the month)."""
    if m < loan.issue_month:
        return None
    principal = loan.amount
    if loan.default_month is not None and m >= loan.default_month:
        since, until = loan.extended_month, loan.extended_due
        if since is not None and until is not None and since <= m < until:
            return "extended", principal, 0.0
        return "overdue", principal, principal
    if m == loan.due_month:
        return "repaid", 0.0, 0.0
    if m > loan.due_month:
        return None
    if late[m - loan.issue_month]:
        return "overdue", principal, round(principal * INTEREST_RATE / 4, 2)
    return "normal", principal, 0.0


def _late_months(loan: _Loan, rng: np.random.Generator) -> np.ndarray:
    """Months (from the issue month) in which a running loan's payment is late."""
    span = loan.due_month - loan.issue_month + 1
    start = rng.uniform(0, 1, span) < LATE_PAYMENT_RATE / 12
    second = start & (rng.uniform(0, 1, span) < 0.3)
    late = start.copy()
    late[1:] |= second[:-1]
    late[-1] = False
    return late


def microcredit_loans(ex: Extractor) -> Iterator[Batch]:
    """Monthly reports of every outstanding loan, with its repayment status."""
    loans = loan_book(ex)
    late = [_late_months(loan, ex.rng) for loan in loans]
    start_m = ex.s.start.astype("datetime64[M]")
    for m in range(ex.visible):
        month = ex.month(m)
        rows = [
            (k, status)
            for k, loan in enumerate(loans)
            if (status := _status(loan, m, late[k])) is not None
        ]
        if not rows:
            continue
        picked = [loans[k] for k, _ in rows]
        households = np.array([loan.household for loan in picked], dtype=np.int64)
        heads = _heads_at(ex, m, households)
        ok = heads >= 0
        if not ok.any():
            continue
        issue = np.array(
            [
                (start_m + loan.issue_month).astype("datetime64[D]") + loan.issue_day
                for loan in picked
            ],
            dtype="datetime64[D]",
        )
        due_month = np.array(
            [
                loan.extended_due
                if loan.extended_month is not None and m >= loan.extended_month
                else loan.due_month
                for loan in picked
            ]
        )
        day = np.array([loan.issue_day for loan in picked])
        due = (start_m + due_month).astype("datetime64[D]") + day.astype("timedelta64[D]")
        p_rows, h_rows = heads[ok], households[ok]
        ident = ex.identity(p_rows, h_rows)
        cols = {
            "id_number": ident["id_number"],
            "name": ident["name"],
            "region_code": ident["region_code"],
            "institution": np.array([loan.lender for loan in picked])[ok],
            "loan_id": np.array([loan.loan_id for loan in picked])[ok],
            "loan_amount": np.array([loan.amount for loan in picked])[ok],
            "outstanding_balance": np.array([s[1] for _, s in rows])[ok],
            "issue_date": issue[ok],
            "due_date": due[ok],
            "loan_purpose": np.array([loan.purpose for loan in picked])[ok],
            "repayment_status": np.array([s[0] for _, s in rows])[ok],
            "overdue_amount": np.array([s[2] for _, s in rows])[ok],
            "report_month": np.full(p_rows.size, month.start),
        }
        yield Batch(_period(ex, m), cols, p_rows, h_rows)
