"""`dixian evaluate link`: linkage scored against the simulator's truth.

The only module of this stage that reads `W/truth/` (evaluation, never the pipeline). Feed
rows are joined to their true person through the lineage contract (`source_file`, `sheet`,
`row_number`); then, over the records present in both:

- pairwise precision, recall and F1 (a pair of records is predicted when both have the
  same `person_id`, true when both have the same `true_person_id`), from the contingency
  table of predicted × true clusters, without enumerating pairs;
- B-cubed precision, recall and F1 (per record, averaged);
- ID repairs right or wrong (a repair is right when the repaired records' true person is
  the true person behind the records linked to that ID deterministically);
- the pairwise figures again for the pairs that involve a record with each noise type.
"""

from __future__ import annotations

import json
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import UserError
from dixian.link.store import ID_REPAIRS, PERSON_LINK

TRUTH_FILE = "feed_rows.parquet"
REPORT_FILE = "link_evaluation.json"


def _pairs(n: ir.IntegerValue) -> ir.FloatingValue:
    return (n.cast("float64") * (n.cast("float64") - 1)) / 2


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _scalar(expr: ir.Scalar) -> float:
    value = expr.execute()
    return 0.0 if value is None else float(value)


def _pairwise(joined: ir.Table, flag: str | None = None) -> dict[str, float]:
    """Pairwise counts; with `flag`, only pairs with at least one flagged record."""

    def counted(keys: list[str]) -> ir.Table:
        if flag is None:
            return joined.group_by(keys).aggregate(n=joined.count(), nx=joined.count())
        return joined.group_by(keys).aggregate(
            n=joined.count(), nx=joined[flag].cast("int64").sum()
        )

    def total(table: ir.Table) -> float:
        if flag is None:
            return _scalar(_pairs(table.n).sum())
        return _scalar((_pairs(table.n) - _pairs(table.n - table.nx)).sum())

    true_positive = total(counted(["person_id", "true_person_id"]))
    predicted = total(counted(["person_id"]))
    actual = total(counted(["true_person_id"]))
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    return {
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(_f1(precision, recall), 6),
        "true_pairs": int(actual),
        "predicted_pairs": int(predicted),
        "correct_pairs": int(true_positive),
    }


def _bcubed(joined: ir.Table) -> dict[str, float]:
    cells = joined.group_by(["person_id", "true_person_id"]).aggregate(n=joined.count())
    predicted = joined.group_by("person_id").aggregate(np_=joined.count())
    actual = joined.group_by("true_person_id").aggregate(nt=joined.count())
    table = cells.join(predicted, "person_id").join(actual, "true_person_id")
    squared = table.n.cast("float64") * table.n.cast("float64")
    total = _scalar(joined.count())
    precision = _scalar((squared / table.np_).sum()) / total if total else 1.0
    recall = _scalar((squared / table.nt).sum()) / total if total else 1.0
    return {
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(_f1(precision, recall), 6),
    }


def _repairs(backend: Any, joined: ir.Table) -> dict[str, int]:
    if ID_REPAIRS not in backend.list_tables():
        return {"right": 0, "wrong": 0}
    repairs = backend.table(ID_REPAIRS).select("profile_id", "person_id").distinct()
    repaired = joined.semi_join(repairs, joined.profile_id == repairs.profile_id)
    by_id = joined.filter(joined.match_method == "id")
    identity = by_id.group_by(["person_id", "true_person_id"]).aggregate(n=by_id.count())
    window = ibis.window(group_by=identity.person_id, order_by=ibis.desc(identity.n))
    identity = identity.mutate(rank=ibis.row_number().over(window))
    identity = identity.filter(identity["rank"] == 0).select(
        person_id=identity.person_id, expected=identity.true_person_id
    )
    scored = repaired.left_join(identity, repaired.person_id == identity.person_id)
    right = _scalar((scored.expected == scored.true_person_id).cast("int64").sum())
    total = _scalar(scored.count())
    return {"right": int(right), "wrong": int(total - right)}


def _joined(backend: Any, workspace: Workspace, links: ir.Table) -> ir.Table:
    truth_path = workspace.truth_dir / TRUTH_FILE
    if not truth_path.is_file():
        raise UserError(f"{truth_path}: no linkage truth (only simulated workspaces have it)")
    truth = backend.read_parquet(str(truth_path), table_name="_link_eval_truth")
    truth = truth.filter(truth.true_person_id.notnull())
    joined = links.join(
        truth,
        [
            links._source_file == truth.source_file,
            links._sheet.fill_null("") == truth.sheet.fill_null(""),
            links._row_number.cast("int64") == truth.row_number.cast("int64"),
        ],
    ).select(
        person_id=links.person_id,
        profile_id=links.profile_id,
        match_method=links.match_method,
        true_person_id=truth.true_person_id.cast("string"),
        noise=truth.noise,
    )
    stored: ir.Table = backend.create_table("_link_eval_joined", joined, overwrite=True, temp=True)
    return stored


def _figures(backend: Any, joined: ir.Table, records_linked: int) -> dict[str, Any]:
    noise_types = sorted(
        value
        for value in joined.noise.unnest()
        .name("t")
        .as_table()
        .distinct()
        .to_pyarrow()
        .column(0)
        .to_pylist()
        if value
    )
    figures: dict[str, Any] = {
        "records_evaluated": int(_scalar(joined.count())),
        "records_linked": records_linked,
        "pairwise": _pairwise(joined),
        "bcubed": _bcubed(joined),
        "id_repairs": _repairs(backend, joined),
        "by_noise": {},
    }
    for noise in noise_types:
        flagged = joined.mutate(_flag=joined.noise.contains(noise))
        records = int(_scalar(flagged._flag.cast("int64").sum()))
        figures["by_noise"][noise] = {"records": records, **_pairwise(flagged, "_flag")}
    return figures


def evaluate_link(workspace: Workspace) -> dict[str, Any]:
    """Score the workspace's `person_link` against `W/truth/feed_rows.parquet`.

    Returns:
        The figures (also written to `W/reports/link_evaluation.json`).

    Raises:
        UserError: no truth (not a simulated workspace) or no linkage yet.
    """
    backend = open_backend(workspace)
    if PERSON_LINK not in backend.list_tables():
        raise UserError(f"{workspace.warehouse_path}: no {PERSON_LINK} yet (run 'dixian link')")
    links = backend.table(PERSON_LINK)
    figures = _figures(backend, _joined(backend, workspace, links), int(_scalar(links.count())))
    workspace.reports_dir.mkdir(parents=True, exist_ok=True)
    (workspace.reports_dir / REPORT_FILE).write_text(
        json.dumps(figures, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    return figures


def evaluate_assignment(workspace: Workspace, assignment: Any) -> dict[str, Any]:
    """Score another assignment of identity profiles to persons on the same records.

    Used to put a baseline side by side with `dixian link`: `assignment` is an Arrow
    table (`profile_id`, `person_id`); every record takes its profile's person.
    """
    backend = open_backend(workspace)
    mapping = backend.create_table("_link_eval_assignment", assignment, overwrite=True, temp=True)
    links = backend.table(PERSON_LINK)
    relabelled = links.join(mapping, links.profile_id == mapping.profile_id).select(
        person_id=mapping.person_id,
        profile_id=links.profile_id,
        match_method=ibis.literal("baseline"),
        _source_file=links._source_file,
        _sheet=links._sheet,
        _row_number=links._row_number,
    )
    figures = _figures(
        backend, _joined(backend, workspace, relabelled), int(_scalar(relabelled.count()))
    )
    figures.pop("id_repairs")
    return figures
