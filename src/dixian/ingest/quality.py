"""Data quality (数据质量, the seeds' 二次确认): how good each department's data is.

Measured on the current rows of the staging tables and the quarantine, per dataset and field:
completeness (share of staged rows with a value), validity (share of rows without an error on
the field), uniqueness (rows sharing a key within a department), timeliness (days between the
event and the end of the period it was reported in), and cross-department checks that matter
here: people dead in household registration but still paid assistance or a pension, students
enrolled while registered as migrant workers, disability grades that disagree.

Each department gets a score from 0 to 100:
`100 × (0.5 × validity + 0.3 × completeness of required fields + 0.2 × uniqueness)`,
weighted by rows over its datasets, and a list of its worst problems with example record ids
(`_record_id`, never personal data). The figures of each dataset come from `dataset_quality`;
this module adds the cross-department checks and the departments' scores and worst problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis.expr.types as ir

from dixian.ingest.dataset_quality import current_rows, dataset_quality, one_row, reason_marker
from dixian.ingest.ledger import LEDGER_TABLE, QUARANTINE_TABLE, STAGING_PREFIX
from dixian.ingest.quarantine import OPEN, RESOLVED, SUPERSEDED
from dixian.ingest.validate import RULES
from dixian.standards import Catalog, load_catalog

EXAMPLES_PER_PROBLEM = 3
WORST_PROBLEMS = 5


@dataclass(frozen=True)
class CrossCheck:
    """A cross-department consistency check."""

    code: str
    department: str
    zh: str
    en: str


CROSS_CHECKS = (
    CrossCheck(
        "deceased_still_assisted",
        "civil_affairs",
        "户籍已死亡注销但仍领取社会救助",
        "dead in household registration but still paid social assistance",
    ),
    CrossCheck(
        "deceased_drawing_pension",
        "human_resources",
        "户籍已死亡注销但仍领取养老金",
        "dead in household registration but still drawing a pension",
    ),
    CrossCheck(
        "student_registered_as_migrant",
        "education",
        "在读学生同时登记为外出务工",
        "enrolled student also registered as a migrant worker",
    ),
    CrossCheck(
        "disability_grade_conflict",
        "disabled_federation",
        "同一人的残疾等级记录不一致",
        "one person's disability grade differs between records",
    ),
)


def _table(backend: Any, name: str) -> ir.Table | None:
    return backend.table(name) if name in backend.list_tables() else None


def _examples(backend: Any, table: ir.Table, limit: int = EXAMPLES_PER_PROBLEM) -> list[str]:
    rows = backend.to_pyarrow(table.select("_record_id").order_by("_record_id").limit(limit))
    return [str(value) for value in rows.column("_record_id").to_pylist()]


def _cross_checks(backend: Any) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def staged(name: str) -> ir.Table | None:
        table = _table(backend, f"{STAGING_PREFIX}{name}")
        return None if table is None else current_rows(table)

    registration = staged("household_registration")
    deaths = None
    if registration is not None:
        dead = registration.filter(
            (registration.registration_status == "deceased")
            & registration.id_number.notnull()
            & registration.status_date.notnull()
        )
        deaths = dead.group_by("id_number").aggregate(_death=dead.status_date.min())
    for code, name, month in (
        ("deceased_still_assisted", "civil_affairs_assistance", "payment_month"),
        ("deceased_drawing_pension", "pensions", "payment_month"),
    ):
        paid = staged(name)
        if deaths is None or paid is None:
            continue
        joined = paid.inner_join(deaths, "id_number")
        # Paid for a month that starts after the death.
        hits = joined.filter(joined[month] > joined._death)
        results[code] = _check_result(backend, hits)
    students, employment = staged("students"), staged("employment")
    if students is not None and employment is not None:
        enrolled = students.filter(
            (students.student_status == "enrolled") & students.id_number.notnull()
        ).select("id_number", "school_year", "_record_id")
        migrant = employment.filter(
            (employment.employment_type == "migrant") & (employment.employment_status == "employed")
        ).select("id_number", "report_month")
        joined = enrolled.inner_join(migrant, "id_number")
        month = joined.report_month
        # A school year Y runs from September of Y to August of Y + 1.
        in_year = ((month.year() == joined.school_year) & (month.month() >= 9)) | (
            (month.year() == joined.school_year + 1) & (month.month() <= 8)
        )
        results["student_registered_as_migrant"] = _check_result(backend, joined.filter(in_year))
    disability = staged("disability")
    if disability is not None:
        graded = disability.filter(
            disability.id_number.notnull() & disability.disability_grade.notnull()
        )
        conflicts = graded.group_by("id_number").aggregate(grades=graded.disability_grade.nunique())
        conflicts = conflicts.filter(conflicts.grades > 1)
        hits = graded.semi_join(conflicts, "id_number")
        results["disability_grade_conflict"] = _check_result(backend, hits)
    return results


def _check_result(backend: Any, hits: ir.Table) -> dict[str, Any]:
    found = one_row(backend, hits.aggregate(records=hits.count(), persons=hits.id_number.nunique()))
    return {
        "records": int(found.get("records") or 0),
        "persons": int(found.get("persons") or 0),
        "examples": _examples(backend, hits),
    }


def quality_report(
    backend: Any, *, catalog: Catalog | None = None, workspace_name: str = ""
) -> dict[str, Any]:
    """Measure the quality of everything ingested so far.

    Args:
        backend: the warehouse (Ibis backend) holding staging, quarantine and the ledger.
        catalog: the data standard (default: the shipped one).
        workspace_name: shown in the report.

    Returns:
        JSON-ready figures: `datasets` (per dataset and field), `cross_checks`,
        `departments` (score, worst problems with example record ids), `overall`.
    """
    catalog = catalog or load_catalog()
    quarantine = _table(backend, QUARANTINE_TABLE)
    datasets: dict[str, Any] = {}
    for dataset in catalog.datasets:
        staged = _table(backend, f"{STAGING_PREFIX}{dataset.name}")
        if staged is None:
            continue
        datasets[dataset.name] = dataset_quality(backend, dataset, staged, quarantine)
    cross = _cross_checks(backend)
    departments = _departments(backend, catalog, datasets, cross, quarantine)
    total = sum(d["rows"] for d in datasets.values())
    ledger = _table(backend, LEDGER_TABLE)
    batches = one_row(backend, ledger.aggregate(n=ledger.count())) if ledger is not None else {}
    return {
        "workspace": workspace_name,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "overall": {
            "batches": int(batches.get("n") or 0),
            "rows": total,
            "rows_quarantined": sum(d["rows_quarantined"] for d in datasets.values()),
            "quarantine": {
                status: sum(d["quarantine"][status] for d in datasets.values())
                for status in (OPEN, RESOLVED, SUPERSEDED)
            },
            "score": round(sum(d["score"] * d["rows"] for d in datasets.values()) / total, 1)
            if total
            else None,
        },
        "datasets": datasets,
        "cross_checks": {
            check.code: {
                "department": check.department,
                "zh": check.zh,
                "en": check.en,
                **cross[check.code],
            }
            for check in CROSS_CHECKS
            if check.code in cross
        },
        "departments": departments,
    }


def _departments(
    backend: Any,
    catalog: Catalog,
    datasets: dict[str, Any],
    cross: dict[str, Any],
    quarantine: ir.Table | None,
) -> dict[str, Any]:
    labels = {code.code: code.zh for code in catalog.code_list("department").codes}
    result: dict[str, Any] = {}
    for name, figures in datasets.items():
        entry = result.setdefault(
            figures["department"],
            {"label_zh": labels.get(figures["department"], ""), "rows": 0, "datasets": [],
             "_weighted": 0.0, "problems": []},
        )  # fmt: skip
        entry["rows"] += figures["rows"]
        entry["datasets"].append(name)
        entry["_weighted"] += figures["score"] * figures["rows"]
        for key, count in figures["problems"].items():
            code, _, field = key.partition("|")
            entry["problems"].append(
                {"dataset": name, "code": code, "field": field, "rows": count,
                 "zh": RULES[code].zh.split("“")[0] or RULES[code].zh, "en": RULES[code].en}
            )  # fmt: skip
        if figures["duplicate_rows"]:
            entry["problems"].append(
                {"dataset": name, "code": "duplicate_key", "field": ",".join(
                    catalog.dataset(name).key_fields), "rows": figures["duplicate_rows"],
                 "zh": "同一主键重复出现", "en": "rows sharing a key"}
            )  # fmt: skip
    for check in CROSS_CHECKS:
        found = cross.get(check.code)
        if found and found["records"] and check.department in result:
            result[check.department]["problems"].append(
                {"dataset": "", "code": check.code, "field": "", "rows": found["records"],
                 "zh": check.zh, "en": check.en, "examples": found["examples"]}
            )  # fmt: skip
    for entry in result.values():
        entry["score"] = round(entry.pop("_weighted") / entry["rows"], 1) if entry["rows"] else None
        worst = sorted(entry["problems"], key=lambda p: -p["rows"])[:WORST_PROBLEMS]
        for problem in worst:
            if "examples" not in problem:
                problem["examples"] = _problem_examples(backend, problem, quarantine)
        entry["problems"] = worst
    return dict(sorted(result.items(), key=lambda item: item[1]["score"] or 0))


def _problem_examples(
    backend: Any, problem: dict[str, Any], quarantine: ir.Table | None
) -> list[str]:
    if problem["code"] == "duplicate_key":
        return []
    if quarantine is None:
        return []
    chosen = quarantine.filter(
        (quarantine.dataset == problem["dataset"])
        & quarantine._is_current
        & quarantine.reasons.contains(reason_marker(problem["code"], problem["field"]))
    )
    return _examples(backend, chosen)
