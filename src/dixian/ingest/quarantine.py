"""The quarantine table: rejected rows with every reason, and whether a later batch fixed them.

A department fixes a rejected row by sending the file again (an edited file: the new batch
replaces the old one) or by sending a correction file for the same period. The quarantine row
is never deleted; its `status` says what became of it:

- `resolved`: a later batch of the same dataset and period accepted the row, either with the
  same version key (all parts known), or (edited file) at the same sheet and row number of the
  batch that replaces the quarantined row's batch, when the quarantined row's key is incomplete
  (the ID number itself was malformed, say) or equal. `_resolved_batch`, `_resolved_record_id`
  and `_resolved_at` say which batch and row fixed it, and when.
- `superseded`: not fixed, but no longer the latest word: its batch was replaced by an edited
  file, or a later quarantined row repeats its key (a correction that still fails).
- `open`: waiting for a fix. Only open rows are `_is_current`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.ingest.ledger import LINEAGE_COLUMNS
from dixian.standards import Dataset

OPEN, RESOLVED, SUPERSEDED = "open", "resolved", "superseded"
_KEY_SEPARATOR = "\x1f"

QUARANTINE_COLUMNS = [
    "_record_id",
    "dataset",
    *LINEAGE_COLUMNS,
    "_period",
    "_batch_seq",
    "original",
    "reasons",
    "_key",
    "status",
    "_resolved_batch",
    "_resolved_record_id",
    "_resolved_at",
    "_is_current",
]


def version_key(
    table: ir.Table, dataset: Dataset, *, reasons: ir.StringValue | None = None
) -> ir.StringValue:
    """The row's version key as one string (typed values joined), null when a part is null.

    With `reasons` (a rejected row's JSON list), a key field that has a reason counts as
    unknown: a malformed ID number does not identify the row.
    """
    parts = []
    for name in dataset.version_keys():
        part = table[name].cast("string")
        if reasons is not None and not name.startswith("_"):
            part = ibis.ifelse(reasons.contains(f'"field": "{name}"'), ibis.null("string"), part)
        parts.append(part)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.concat(_KEY_SEPARATOR, part)
    known: ir.BooleanValue = ibis.literal(True)
    for part in parts:
        known = known & part.notnull()
    return ibis.ifelse(known, joined, ibis.null("string"))


def _json_string(value: ir.StringValue) -> ir.StringValue:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return ibis.ifelse(value.isnull(), ibis.literal("null"), ibis.literal('"').concat(escaped, '"'))


def _original_json(checked: ir.Table, dataset: Dataset) -> ir.StringValue:
    parts: list[Any] = []
    for index, name in enumerate(dataset.field_names()):
        prefix = ("{" if index == 0 else ",") + json.dumps(name) + ":"
        parts.append(ibis.literal(prefix))
        parts.append(_json_string(checked[f"_raw_{name}"]))
    parts.append(ibis.literal("}"))
    result = parts[0]
    for part in parts[1:]:
        result = result.concat(part)
    return result


def quarantine_rows(checked: ir.Table, dataset: Dataset) -> ir.Table:
    """This run's rejected rows of a checked dataset table, in the quarantine's columns."""
    rejected = checked.filter(checked._rejected)
    return rejected.select(
        _record_id=rejected._record_id,
        dataset=ibis.literal(dataset.name),
        _batch_id=rejected._batch_id,
        _source_file=rejected._source_file,
        _sheet=rejected._sheet,
        _row_number=rejected._row_number,
        _row_hash=rejected._row_hash,
        _ingested_at=rejected._ingested_at,
        _period=rejected._period,
        _batch_seq=rejected._batch_seq,
        original=_original_json(rejected, dataset),
        reasons=rejected._reasons,
        _key=version_key(rejected, dataset, reasons=rejected._reasons),
        status=ibis.literal(OPEN),
        _resolved_batch=ibis.null("string"),
        _resolved_record_id=ibis.null("string"),
        _resolved_at=ibis.null("timestamp"),
        _is_current=ibis.literal(True),
    )


def earlier_rows(old: ir.Table, like: ir.Table) -> ir.Table:
    """The committed quarantine in the current columns (tables written before `status` existed
    get it from `_is_current`; their rows have no key, so only an edited file resolves them)."""
    columns: dict[str, ir.Value] = {}
    for name in QUARANTINE_COLUMNS:
        kind = like[name].type()
        if name in old.columns:
            columns[name] = old[name].cast(kind)
        elif name == "status":
            columns[name] = ibis.ifelse(old._is_current, OPEN, SUPERSEDED)
        else:
            columns[name] = ibis.null(kind)
    return old.select(**columns)


def resolutions(
    candidates: ir.Table, accepted: ir.Table, dataset: Dataset, replaces: dict[str, str]
) -> ir.Table:
    """Which accepted row of this run fixes each open quarantined row of the dataset.

    Args:
        candidates: quarantine rows (all columns) that were open before this run's batches.
        accepted: this run's accepted rows of the dataset (checked table, typed columns).
        dataset: the dataset.
        replaces: new batch id → the batch id it replaces (edited files of this run).

    Returns:
        `_record_id` (quarantined), `_resolved_batch`, `_resolved_record_id`: one row per
        quarantined row fixed, by the earliest fixing batch.
    """
    mine = candidates.filter(
        (candidates.dataset == dataset.name) & (candidates.status == OPEN)
    ).select(
        q_id=candidates._record_id,
        q_batch=candidates._batch_id,
        q_seq=candidates._batch_seq,
        q_period=candidates._period,
        q_sheet=candidates._sheet,
        q_row=candidates._row_number,
        q_key=candidates._key,
    )
    replaced_by = ibis.null("string")
    if replaces:
        replaced_by = ibis.cases(
            *[(accepted._batch_id == new, ibis.literal(old)) for new, old in replaces.items()],
            else_=ibis.null("string"),
        )
    fixes = accepted.select(
        r_id=accepted._record_id,
        r_batch=accepted._batch_id,
        r_seq=accepted._batch_seq,
        r_period=accepted._period,
        r_sheet=accepted._sheet,
        r_row=accepted._row_number,
        r_key=version_key(accepted, dataset),
        r_replaces=replaced_by,
    )
    later = mine.q_seq < fixes.r_seq
    by_key = mine.join(
        fixes,
        [mine.q_period == fixes.r_period, mine.q_key == fixes.r_key, later],
    )
    parts = [by_key]
    if replaces:
        by_place = mine.join(
            fixes,
            [
                mine.q_batch == fixes.r_replaces,
                mine.q_sheet == fixes.r_sheet,
                mine.q_row == fixes.r_row,
                mine.q_key.isnull() | (mine.q_key == fixes.r_key),
            ],
        )
        parts.append(by_place)
    found = parts[0].select("q_id", "r_batch", "r_seq", "r_row", "r_id")
    for part in parts[1:]:
        found = found.union(part.select("q_id", "r_batch", "r_seq", "r_row", "r_id"))
    first = ibis.row_number().over(ibis.window(group_by="q_id", order_by=["r_seq", "r_row"]))
    ranked = found.mutate(_rank=first)
    ranked = ranked.filter(ranked._rank == 0)
    return ranked.select(
        _record_id=ranked.q_id, _resolved_batch=ranked.r_batch, _resolved_record_id=ranked.r_id
    )


def final_quarantine(
    rows: ir.Table,
    fixed: ir.Table | None,
    *,
    replaced: list[str],
    resolved_at: datetime,
) -> ir.Table:
    """Every quarantine row with its status after this run.

    Args:
        rows: earlier and new quarantine rows, in `QUARANTINE_COLUMNS`.
        fixed: this run's resolutions (`resolutions`), or None.
        replaced: every batch id that an edited file has replaced.
        resolved_at: the run's time, recorded on rows it resolves.
    """
    if fixed is not None:
        renamed = fixed.select(
            _fix_id=fixed._record_id,
            _fix_batch=fixed._resolved_batch,
            _fix_record=fixed._resolved_record_id,
        )
        joined = rows.left_join(renamed, rows._record_id == renamed._fix_id)
        newly = joined._fix_id.notnull() & (joined.status == OPEN)
        rows = joined.mutate(
            status=ibis.ifelse(newly, ibis.literal(RESOLVED), joined.status),
            _resolved_batch=ibis.ifelse(newly, joined._fix_batch, joined._resolved_batch),
            _resolved_record_id=ibis.ifelse(newly, joined._fix_record, joined._resolved_record_id),
            _resolved_at=ibis.ifelse(
                newly, ibis.literal(resolved_at, type="timestamp"), joined._resolved_at
            ),
        ).drop("_fix_id", "_fix_batch", "_fix_record")
    # A later quarantined row with the same key and period repeats the problem.
    latest = rows._batch_seq.max().over(
        ibis.window(group_by=[rows.dataset, rows._period, rows._key])
    )
    repeated = rows._key.notnull() & (rows._batch_seq < latest)
    stale = repeated | rows._batch_id.isin(replaced) if replaced else repeated
    status = ibis.ifelse((rows.status == OPEN) & stale, ibis.literal(SUPERSEDED), rows.status).name(
        "status"
    )
    updated = rows.mutate(status=status)
    return updated.mutate(_is_current=updated.status == OPEN).select(*QUARANTINE_COLUMNS)
