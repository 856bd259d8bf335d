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
from dixian.verify.leads import LEADS_TABLE, decode_lead_evidence

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
    # Registration batches are sparse (a yearly extract, then monthly changes): a person
    # belongs to the household of their latest membership row up to the period.
    membership = membership.filter(membership.period <= period)
    membership = membership.group_by("person_id").aggregate(
        household_id=membership.household_id.argmax(membership.period)
    )
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


# Where each planted pattern's evidence is filed (the simulator's dataset names).
PATTERN_DATASETS: dict[str, str] = {
    "public_employee": "public_payroll",
    "owns_car": "vehicles",
    "registers_business": "business_registration",
    "buys_house": "real_estate",
    "paid_after_death": "civil_affairs_assistance",
}


def _evidence_reached(
    backend: Any, workspace: Workspace, missed: list[dict[str, Any]], period: str
) -> dict[tuple[str, str], bool]:
    """For each missed (household_id, pattern): did linkage bring its evidence to the household?

    The planted person's rows of the pattern's dataset (by the truth's row mapping) reach the
    household when one of them is linked to a person whose household up to the period is the
    household. When none does, the household file cannot show the evidence: a miss of linkage
    (e.g. a row without an ID number, under a name several residents share), not of the rules.
    """
    feed_rows = _truth(backend, workspace, "feed_rows")
    links = backend.table("person_link").select("_record_id", "person_id")
    membership = backend.table("household_membership")
    membership = membership.filter(membership.period <= period)
    latest = membership.group_by("person_id").aggregate(
        household_id=membership.household_id.argmax(membership.period)
    )
    tables = set(backend.list_tables())
    reached: dict[tuple[str, str], bool] = {}
    for case in missed:
        dataset = PATTERN_DATASETS.get(str(case["pattern"]), "")
        key = (str(case["household_id"]), str(case["pattern"]))
        if f"staging_{dataset}" not in tables:
            reached[key] = False
            continue
        rows = feed_rows.filter(
            (feed_rows.dataset == dataset)
            & (feed_rows.true_person_id.cast("int64") == int(case["true_person_id"]))
        )
        staged = backend.table(f"staging_{dataset}").select(
            "_record_id", "_source_file", "_sheet", "_row_number"
        )
        traced = staged.inner_join(
            rows,
            [
                staged._source_file == rows.source_file,
                staged._sheet.fill_null("") == rows.sheet.fill_null(""),
                staged._row_number.cast("int64") == rows.row_number.cast("int64"),
            ],
        )
        homes = traced.inner_join(links, "_record_id").inner_join(latest, "person_id")
        found = homes.filter(homes.household_id == key[0]).count()
        reached[key] = int(backend.execute(found)) > 0
    return reached


def _missed_summary(
    missed_rows: list[dict[str, Any]], reached: dict[tuple[str, str], bool]
) -> dict[str, str]:
    summary: dict[str, list[str]] = {}
    for row in sorted(missed_rows, key=lambda r: (r["household_id"], r["pattern"])):
        household, pattern = str(row["household_id"]), str(row["pattern"])
        linked = "evidence linked" if reached.get((household, pattern)) else "evidence not linked"
        summary.setdefault(household, []).append(f"{pattern} ({linked})")
    return {household: "; ".join(items) for household, items in summary.items()}


def _lead_records(lead_rows: list[dict[str, Any]]) -> ir.Table:
    """(household_id, kind, batch_id, sheet, row_number) of every record behind a finding."""
    rows: dict[str, list[Any]] = {
        "household_id": [],
        "kind": [],
        "batch_id": [],
        "sheet": [],
        "row_number": [],
    }
    for lead in lead_rows:
        kinds = str(lead["kinds"]).split(",")
        findings = decode_lead_evidence(str(lead["evidence_json"] or "[]"))
        # Findings are stored in the order of the lead's kinds (one per failed lead rule).
        for kind, finding in zip(kinds, findings, strict=False):
            for records in dict(finding.get("records") or {}).values():
                for record_id in records:
                    batch_id, sheet, row_number = str(record_id).rsplit(":", 2)
                    rows["household_id"].append(lead["household_id"])
                    rows["kind"].append(kind)
                    rows["batch_id"].append(batch_id)
                    rows["sheet"].append(sheet)
                    rows["row_number"].append(int(row_number))
    return ibis.memtable(
        rows,
        schema={
            "household_id": "string",
            "kind": "string",
            "batch_id": "string",
            "sheet": "string",
            "row_number": "int64",
        },
    )


def _confirmed_findings(
    backend: Any, workspace: Workspace, lead_rows: list[dict[str, Any]], mapping: ir.Table
) -> set[tuple[str, str]]:
    """(household_id, kind) of findings whose source records truly belong to the household.

    A record's true household comes from the truth's row mapping (`feed_rows`), not from
    the pipeline's linkage, so a finding resting on someone else's record is not confirmed.
    """
    records = _lead_records(lead_rows)
    batches = backend.table("ingest_batches").select("batch_id", "source_file")
    feed_rows = _truth(backend, workspace, "feed_rows")
    located = records.inner_join(batches, "batch_id")
    traced = located.inner_join(
        feed_rows,
        [
            located.source_file == feed_rows.source_file,
            located.sheet == feed_rows.sheet.fill_null(""),
            located.row_number == feed_rows.row_number.cast("int64"),
        ],
    ).select("household_id", "kind", record_household=feed_rows.true_household_id.cast("int64"))
    matched = traced.inner_join(mapping, "household_id")
    own = matched.filter(matched.record_household == matched.true_household_id)
    rows = backend.to_pyarrow(own.select("household_id", "kind").distinct()).to_pylist()
    return {(str(row["household_id"]), str(row["kind"])) for row in rows}


def evaluate_verify(workspace: Workspace, *, backend: Any) -> dict[str, Any]:
    """Share of planted ineligible beneficiaries found by the problem leads, and false leads.

    A lead is on a planted household, or confirmed (not planted, but one of its findings
    rests on department records that the truth attributes to the household: a car, a flat,
    a business, deposits the simulator gave a beneficiary without planting them), or false
    (neither: the finding rests on records of another household, or on none).

    A missed planted household whose evidence linkage attached to no member (`_evidence_reached`)
    is counted as such (`missed_evidence_not_linked`), and the found share is also given among
    the others (`found_share_of_linked`); the headline `found_share` counts every miss.

    Returns:
        Figures: planted households (in force and still beneficiaries in the panel), found,
        found share, the misses, leads, leads on planted households, confirmed leads, false
        leads and their share, leads on households without a planted pattern (the strict
        reading), and the same per pattern and per lead kind.

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
        true_household_id=planted.true_household_id.cast("int64"),
        true_person_id=planted.true_person_id.cast("int64"),
        pattern=planted.pattern,
    )
    panel = backend.table(PANEL_TABLE)
    beneficiaries = panel.filter(
        (panel.period == period)
        & (panel.is_dibao.fill_null(False) | panel.is_tekun.fill_null(False))
    ).select("household_id")
    in_force = planted.inner_join(mapping, "true_household_id").semi_join(
        beneficiaries, "household_id"
    )
    planted_rows = backend.to_pyarrow(
        in_force.select("household_id", "pattern", "true_person_id")
    ).to_pylist()
    lead_rows = backend.to_pyarrow(
        leads.left_join(mapping, "household_id").select(
            "household_id", "kinds", "evidence_json", "true_household_id"
        )
    ).to_pylist()
    planted_true = {row["true_household_id"] for row in backend.to_pyarrow(planted).to_pylist()}
    confirmed = _confirmed_findings(backend, workspace, lead_rows, mapping) if lead_rows else set()
    led = {row["household_id"] for row in lead_rows}
    planted_households = {row["household_id"] for row in planted_rows}
    found = planted_households & led
    by_pattern: dict[str, dict[str, int]] = {}
    for row in planted_rows:
        figures = by_pattern.setdefault(row["pattern"], {"planted": 0, "found": 0})
        figures["planted"] += 1
        figures["found"] += int(row["household_id"] in led)
    by_kind: dict[str, dict[str, int]] = {}
    verdicts = {"planted": 0, "confirmed": 0, "false": 0}
    for row in lead_rows:
        kinds = str(row["kinds"]).split(",")
        if row["true_household_id"] in planted_true:
            verdict = "planted"
        elif any((row["household_id"], kind) in confirmed for kind in kinds):
            verdict = "confirmed"
        else:
            verdict = "false"
        verdicts[verdict] += 1
        for kind in kinds:
            figures = by_kind.setdefault(
                kind, {"leads": 0, "planted": 0, "confirmed": 0, "false": 0}
            )
            figures["leads"] += 1
            figures[verdict] += 1
    unplanted = verdicts["confirmed"] + verdicts["false"]
    missed_rows = [row for row in planted_rows if row["household_id"] not in led]
    reached = _evidence_reached(backend, workspace, missed_rows, period) if missed_rows else {}
    # A household missed only on patterns whose evidence never reached it.
    unreached = {
        household
        for household in planted_households - found
        if not any(value for (h, _), value in reached.items() if h == household)
    }
    attributable = len(planted_households) - len(unreached)
    return {
        "period": period,
        "planted_households": len(planted_households),
        "found": len(found),
        "found_share": round(len(found) / len(planted_households), 4)
        if planted_households
        else None,
        "missed_evidence_not_linked": len(unreached),
        "found_share_of_linked": round(len(found) / attributable, 4) if attributable else None,
        # household → its missed patterns, each with whether linkage brought the evidence.
        "missed": _missed_summary(missed_rows, reached),
        "leads": len(lead_rows),
        "leads_planted": verdicts["planted"],
        "leads_confirmed": verdicts["confirmed"],
        "false_leads": verdicts["false"],
        "false_lead_share": round(verdicts["false"] / len(lead_rows), 4) if lead_rows else None,
        "leads_not_planted": unplanted,
        "not_planted_share": round(unplanted / len(lead_rows), 4) if lead_rows else None,
        "by_pattern": by_pattern,
        "by_kind": by_kind,
    }
