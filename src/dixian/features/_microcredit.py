"""Overdue poverty-alleviation microcredit (扶贫小额信贷逾期), from the banks' monthly loan reports.

Departments report no operating income: the panel estimates it from land, labour and capital,
so a household's failed farming project or business (因产业项目失败) does not show in its
income. The loan it took for the project does: the lending banks report every outstanding
loan monthly with its repayment status, and a project loan falls overdue (逾期) when the
project cannot pay it back. Per household and period, over the loans of its members as of the
period's end:

- `microcredit_overdue_12m`: a loan fell overdue in the 12 months up to the period (a report
  in them says overdue, and another in them says normal);
- `microcredit_overdue_principal`: the outstanding principal (`outstanding_balance`, else the
  loan amount) of those loans whose latest report up to the period says overdue — what the
  household owes for a project that no longer pays.

A loan overdue (or extended, 展期) in every report of the 12 months fell overdue before them:
a standing debt of a project that failed earlier, not an event of the year, as a long-standing
disability is none (on the simulated county such debts named later illnesses and job losses
因产业项目失败). Only reports of months up to the period are read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features._columns import KEYS, _evidence, _part
from dixian.features._grid import in_window
from dixian.features.sources import linked_rows, month_index

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part

DATASET = "microcredit_loans"
OVERDUE = "overdue"
NORMAL = "normal"


def microcredit(backend: BaseBackend, grid: ir.Table, settings: FeatureSettings) -> _Part | None:
    """`microcredit_overdue_12m` and `microcredit_overdue_principal` per household and period,
    with the overdue reports as evidence; None when the loan reports are not ingested."""
    rows = linked_rows(
        backend,
        DATASET,
        ["loan_id", "report_month", "repayment_status", "loan_amount", "outstanding_balance"],
    )
    if rows is None:
        return None
    dated = rows.filter(rows.report_month.notnull())
    dated = dated.mutate(
        r_month=month_index(dated.report_month),
        principal=ibis.coalesce(dated.outstanding_balance, dated.loan_amount).fill_null(0.0),
        overdue=(dated.repayment_status == OVERDUE).fill_null(False),
    )
    joined = in_window(dated, grid, "r_month", settings.window_months)
    normal = (joined.repayment_status == NORMAL).fill_null(False)
    # The latest report of each loan; a duplicated report of the same month says the same.
    per_loan = joined.group_by([*KEYS, "loan_id"]).aggregate(
        fell=joined.overdue.any() & normal.any(),
        last_overdue=joined.overdue.argmax(joined.r_month),
        last_principal=joined.principal.argmax(joined.r_month),
        _record_id=joined._record_id.argmax(joined.r_month),
    )
    owing = per_loan.fell & per_loan.last_overdue
    values = per_loan.group_by(KEYS).aggregate(
        microcredit_overdue_12m=per_loan.fell.any(),
        microcredit_overdue_principal=ibis.ifelse(owing, per_loan.last_principal, 0.0).sum(),
    )
    fell = per_loan.filter(per_loan.fell).select(*KEYS, f_loan=per_loan.loan_id)
    overdue_rows = joined.filter(joined.overdue)
    overdue_rows = overdue_rows.inner_join(
        fell,
        [
            overdue_rows.household_id == fell.household_id,
            overdue_rows.period == fell.period,
            overdue_rows.loan_id == fell.f_loan,
        ],
    )
    evidence = [
        _evidence(overdue_rows, "microcredit_overdue_12m"),
        _evidence(per_loan, "microcredit_overdue_principal", owing),
    ]
    return _part(values, evidence)
