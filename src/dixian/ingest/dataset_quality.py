"""The quality of one dataset: completeness, validity, uniqueness, timeliness, its score.

Measured on the current rows of `staging_<dataset>` and the dataset's rows in the quarantine:
completeness per field (share of staged rows with a value), validity per field (share of rows
without an error on it), uniqueness (rows sharing the versioning key), timeliness (days between
the event and the end of the period it was reported in), and the quarantine by status. The
score is `100 × (0.5 × validity + 0.3 × completeness of required fields + 0.2 × uniqueness)`.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.ingest.quarantine import OPEN, RESOLVED, SUPERSEDED
from dixian.ingest.validate import RULES
from dixian.standards import Dataset

SCORE_WEIGHTS = {"validity": 0.5, "completeness": 0.3, "uniqueness": 0.2}
# A report more than this many days after the event counts as late.
LATE_AFTER_DAYS = 90


def current_rows(table: ir.Table) -> ir.Table:
    """The rows of a staging table that no later correction superseded."""
    return table.filter(table._is_current)


def one_row(backend: Any, expr: ir.Table) -> dict[str, Any]:
    """The single row of an aggregate as a dict (empty if there is none)."""
    rows = backend.to_pyarrow(expr).to_pylist()
    return rows[0] if rows else {}


def reason_marker(code: str, field: str) -> str:
    """The text that a quarantine row's `reasons` JSON contains when it has this problem."""
    # reasons are JSON objects with sorted keys: code, field, message_en, message_zh.
    return f'"code": "{code}", "field": "{field}"'


def _event_date_field(dataset: Dataset) -> str | None:
    dates = [spec.name for spec in dataset.fields if spec.type == "date"]
    keyed = [name for name in dataset.key_fields if name in dates]
    chosen = keyed or dates
    return chosen[0] if chosen else None


def dataset_quality(
    backend: Any, dataset: Dataset, staged: ir.Table, quarantine: ir.Table | None
) -> dict[str, Any]:
    """The figures of one dataset, JSON-ready, as `quality_report` lists them under `datasets`."""
    current = current_rows(staged)
    fields = dataset.fields
    counts = one_row(
        backend,
        current.aggregate(
            rows=current.count(),
            flagged=(current._flags != "[]").sum(),
            **{f"filled_{s.name}": current[s.name].count() for s in fields},
            **{
                f"warn_{s.name}": current._flags.contains(f'"field": "{s.name}"').sum()
                for s in fields
            },
        ),
    )
    staged_rows = int(counts.get("rows") or 0)
    reasons: dict[str, int] = {}
    quarantined = 0
    if quarantine is not None:
        mine = quarantine.filter((quarantine.dataset == dataset.name) & quarantine._is_current)
        problems = {
            f"{code}|{spec.name}": mine.reasons.contains(reason_marker(code, spec.name)).sum()
            for spec in fields
            for code in RULES
            if RULES[code].error
        }
        problems["row_malformed|"] = mine.reasons.contains(reason_marker("row_malformed", "")).sum()
        found = one_row(
            backend,
            mine.aggregate(
                rows=mine.count(), **{f"p{i}": expr for i, expr in enumerate(problems.values())}
            ),
        )
        quarantined = int(found.get("rows") or 0)
        for index, key in enumerate(problems):
            value = int(found.get(f"p{index}") or 0)
            if value:
                reasons[key] = value
    total = staged_rows + quarantined
    per_field: dict[str, Any] = {}
    for spec in fields:
        errors = sum(v for k, v in reasons.items() if k.endswith(f"|{spec.name}"))
        per_field[spec.name] = {
            "completeness": round(int(counts.get(f"filled_{spec.name}") or 0) / staged_rows, 4)
            if staged_rows
            else None,
            "validity": round(1 - errors / total, 4) if total else None,
            "warnings": int(counts.get(f"warn_{spec.name}") or 0),
            "required": spec.required,
        }
    uniqueness, duplicates = _uniqueness(backend, current, dataset, staged_rows)
    statuses = _quarantine_statuses(backend, quarantine, dataset.name)
    required = [per_field[s.name]["completeness"] for s in fields if s.required]
    completeness = (
        sum(v for v in required if v is not None) / len(required)
        if required and staged_rows
        else 1.0
    )
    validity = staged_rows / total if total else 1.0
    score = 100 * (
        SCORE_WEIGHTS["validity"] * validity
        + SCORE_WEIGHTS["completeness"] * completeness
        + SCORE_WEIGHTS["uniqueness"] * uniqueness
    )
    return {
        "department": dataset.department,
        "label_zh": dataset.label_zh,
        "rows": total,
        "rows_staged": staged_rows,
        "rows_quarantined": quarantined,
        "quarantine": statuses,
        "rows_flagged": int(counts.get("flagged") or 0),
        "validity": round(validity, 4),
        "completeness": round(completeness, 4),
        "uniqueness": round(uniqueness, 4),
        "duplicate_rows": duplicates,
        "timeliness": _timeliness(backend, current, dataset),
        "score": round(score, 1),
        "fields": per_field,
        "problems": reasons,
    }


def _quarantine_statuses(
    backend: Any, quarantine: ir.Table | None, dataset_name: str
) -> dict[str, int]:
    """Quarantined rows still open, fixed by a later batch, or superseded (see quarantine.py)."""
    counts = dict.fromkeys((OPEN, RESOLVED, SUPERSEDED), 0)
    if quarantine is None or "status" not in quarantine.columns:
        if quarantine is not None:  # written before rows could be resolved
            mine = quarantine.filter(quarantine.dataset == dataset_name)
            found = one_row(backend, mine.aggregate(n=mine.count(), current=mine._is_current.sum()))
            counts[OPEN] = int(found.get("current") or 0)
            counts[SUPERSEDED] = int(found.get("n") or 0) - counts[OPEN]
        return counts
    mine = quarantine.filter(quarantine.dataset == dataset_name)
    grouped = mine.group_by("status").aggregate(n=mine.count())
    for row in backend.to_pyarrow(grouped).to_pylist():
        counts[row["status"]] = int(row["n"])
    return counts


def _uniqueness(
    backend: Any, current: ir.Table, dataset: Dataset, staged_rows: int
) -> tuple[float, int]:
    # The same keys that version rows on ingestion (a per-period register counts per period).
    keys = list(dataset.version_keys())
    if not keys or not staged_rows:
        return 1.0, 0
    keyed = current
    for key in keys:
        keyed = keyed.filter(keyed[key].notnull())
    grouped = keyed.group_by(keys).aggregate(n=keyed.count())
    found = one_row(
        backend,
        grouped.aggregate(rows=grouped.n.sum(), groups=grouped.count()),
    )
    rows, groups = int(found.get("rows") or 0), int(found.get("groups") or 0)
    duplicates = rows - groups
    return (1 - duplicates / rows if rows else 1.0), duplicates


def _timeliness(backend: Any, current: ir.Table, dataset: Dataset) -> dict[str, Any] | None:
    field = _event_date_field(dataset)
    if field is None:
        return None
    period = current._period
    period_end = ibis.ifelse(
        period.length() == 7,
        period.concat("-01").try_cast("date") + ibis.interval(months=1) - ibis.interval(days=1),
        period.concat("-12-31").try_cast("date"),
    )
    lagged = current.mutate(_lag=period_end.cast("date").delta(current[field], unit="day"))
    lagged = lagged.filter(lagged._lag.notnull())
    found = one_row(
        backend,
        lagged.aggregate(
            n=lagged.count(),
            median=lagged._lag.approx_median(),
            late=(lagged._lag > LATE_AFTER_DAYS).sum(),
        ),
    )
    n = int(found.get("n") or 0)
    if not n:
        return None
    return {
        "event_field": field,
        "median_lag_days": float(found["median"]) if found.get("median") is not None else None,
        "share_late": round(int(found.get("late") or 0) / n, 4),
        "late_after_days": LATE_AFTER_DAYS,
    }
