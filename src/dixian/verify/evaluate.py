"""`dixian evaluate verify`: problem leads scored against the simulator's planted ineligibility.

The only module of this stage that reads `W/truth/` (evaluation, never the pipeline). Linked
households are matched to the simulator's true households by majority vote over the household
registration rows: each staged row's lineage (file, sheet, row) gives its true household in
`truth/feed_rows.parquet`, and its `person_link` gives the linked person and so the linked
household of the period.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.config import Workspace
from dixian.errors import UserError
from dixian.features.panel_schema import PANEL_TABLE
from dixian.verify.batch import RESULTS_TABLE
from dixian.verify.leads import LEADS_TABLE

_REGISTRATION = "staging_household_registration"
# What each planted pattern should be found as (lead kinds of the default programs).
PATTERN_KINDS: dict[str, tuple[str, ...]] = {
    "public_employee": ("public_payroll",),
    "owns_car": ("vehicle",),
    "registers_business": ("business",),
    "buys_house": ("property_purchase", "property"),
    "paid_after_death": ("payment_after_death",),
}


def _truth(backend: Any, workspace: Workspace, name: str) -> ir.Table:
    path = workspace.truth_dir / f"{name}.parquet"
    if not path.is_file():
        raise UserError(f"{path}: no truth table (only simulated workspaces have it)")
    return backend.read_parquet(str(path), table_name=f"_verify_eval_{name}")


def household_truth_map(backend: Any, workspace: Workspace, period: str) -> ir.Table:
    """linked household_id → true_household_id for a period (majority of registration rows)."""
    needed = {_REGISTRATION, "person_link", "household_membership"}
    missing = sorted(needed - set(backend.list_tables()))
    if missing:
        raise UserError(f"the warehouse lacks {', '.join(missing)}: run ingest and link first")
    feed_rows = _truth(backend, workspace, "feed_rows")
    staged = backend.table(_REGISTRATION).select(
        "_record_id", "_source_file", "_sheet", "_row_number"
    )
    links = backend.table("person_link").select("_record_id", "person_id")
    membership = backend.table("household_membership")
    membership = membership.filter(membership.period == period).select("household_id", "person_id")
    rows = staged.inner_join(links, "_record_id").inner_join(
        feed_rows,
        [
            staged._source_file == feed_rows.source_file,
            staged._sheet.fill_null("") == feed_rows.sheet.fill_null(""),
            staged._row_number.cast("int64") == feed_rows.row_number.cast("int64"),
        ],
    )
    rows = rows.filter(rows.true_household_id.notnull()).select(
        "person_id", true_household_id=rows.true_household_id.cast("int64")
    )
    votes = rows.inner_join(membership, "person_id")
    counts = votes.group_by(["household_id", "true_household_id"]).aggregate(n=votes.count())
    best = counts.mutate(
        rank=ibis.row_number().over(
            group_by=counts.household_id, order_by=[ibis.desc(counts.n), counts.true_household_id]
        )
    )
    return best.filter(best["rank"] == 0).select("household_id", "true_household_id")


def evaluate_verify(workspace: Workspace, *, backend: Any) -> dict[str, Any]:
    """Share of planted ineligible beneficiaries found by the problem leads, and false leads.

    Returns:
        Figures: planted households (in force and still beneficiaries in the panel), found,
        found share, leads, false leads (the household has no planted pattern) and their share,
        and the same per pattern and per lead kind.

    Raises:
        UserError: no verification run, no truth, or no linkage in the workspace.
    """
    tables = set(backend.list_tables())
    if LEADS_TABLE not in tables or RESULTS_TABLE not in tables or PANEL_TABLE not in tables:
        raise UserError("no problem leads yet: run 'dixian verify --workspace W' first")
    leads = backend.table(LEADS_TABLE)
    results = backend.table(RESULTS_TABLE)
    # The period of the last verification run (leads may be empty).
    period = backend.to_pyarrow(results.select("period").limit(1)).to_pylist()
    if not period:
        raise UserError("the last verification run verified no household")
    period = str(period[0]["period"])
    year, month = int(period[:4]), int(period[5:7])
    period_end = date(year + month // 12, month % 12 + 1, 1)
    mapping = household_truth_map(backend, workspace, period)
    planted = _truth(backend, workspace, "planted_ineligibility")
    planted = planted.filter(planted.date.cast("date") < period_end).select(
        true_household_id=planted.true_household_id.cast("int64"), pattern=planted.pattern
    )
    panel = backend.table(PANEL_TABLE)
    beneficiaries = panel.filter(
        (panel.period == period)
        & (panel.is_dibao.fill_null(False) | panel.is_tekun.fill_null(False))
    ).select("household_id")
    in_force = planted.inner_join(mapping, "true_household_id").semi_join(
        beneficiaries, "household_id"
    )
    planted_rows = backend.to_pyarrow(in_force.select("household_id", "pattern")).to_pylist()
    lead_rows = backend.to_pyarrow(
        leads.left_join(mapping, "household_id").select(
            "household_id", "kinds", "true_household_id"
        )
    ).to_pylist()
    planted_true = {row["true_household_id"] for row in backend.to_pyarrow(planted).to_pylist()}
    led = {row["household_id"] for row in lead_rows}
    planted_households = {row["household_id"] for row in planted_rows}
    found = planted_households & led
    false_leads = [row for row in lead_rows if row["true_household_id"] not in planted_true]
    by_pattern: dict[str, dict[str, int]] = {}
    for row in planted_rows:
        figures = by_pattern.setdefault(row["pattern"], {"planted": 0, "found": 0})
        figures["planted"] += 1
        figures["found"] += int(row["household_id"] in led)
    by_kind: dict[str, dict[str, int]] = {}
    for row in lead_rows:
        for kind in str(row["kinds"]).split(","):
            figures = by_kind.setdefault(kind, {"leads": 0, "false": 0})
            figures["leads"] += 1
            figures["false"] += int(row["true_household_id"] not in planted_true)
    return {
        "period": period,
        "planted_households": len(planted_households),
        "found": len(found),
        "found_share": round(len(found) / len(planted_households), 4)
        if planted_households
        else None,
        "leads": len(lead_rows),
        "false_leads": len(false_leads),
        "false_lead_share": round(len(false_leads) / len(lead_rows), 4) if lead_rows else None,
        "by_pattern": by_pattern,
        "by_kind": by_kind,
    }
