"""Normalising and validating a dataset's raw text columns into typed standard columns.

`check_dataset` turns a raw table (one text column per field, plus lineage) into a table of
typed, normalised standard fields with two JSON lists per row: `_reasons` (errors: the row
goes to quarantine) and `_flags` (warnings: the row is accepted, the problem reported).
Everything is one Ibis expression, so it runs vectorised on DuckDB and on Spark.

Errors: a required field empty; a value that is not of its type (date, number, yes/no); a
value outside the field's range; a code not in its code list; a date in the future; a region
name or code the workspace's region table does not know; an ID number of the wrong length or
characters; a row whose cells did not match the header.

Warnings (security checklist ID-04: consistency problems are flags, not rejections, and
linkage repairs or resolves them): an ID number missing, failing its check character, with
an impossible birth date or unknown province; the ID's birth date or sex disagreeing with the
birth date or sex columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.ingest.values import CheckContext, key_of, typed_values
from dixian.standards import Dataset, FieldSpec

# Field type → staging column type.
STAGING_TYPES = {
    "string": "string",
    "text": "string",
    "name": "string",
    "id_number": "string",
    "region_code": "string",
    "date": "date",
    "integer": "int64",
    "decimal": "float64",
    "boolean": "boolean",
    "code": "string",
}

_TYPE_WORDS = {
    "date": ("日期（如 2020-01-02）", "a date (e.g. 2020-01-02)"),
    "integer": ("整数", "a whole number"),
    "decimal": ("数值", "a number"),
    "boolean": ("是/否", "yes/no"),
}


@dataclass(frozen=True)
class Rule:
    """A validation rule: machine code and message templates ({label} = field label)."""

    code: str
    zh: str
    en: str
    error: bool


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "row_malformed",
            "行的单元格数与表头不一致",
            "the row's cells do not match the header",
            True,
        ),
        Rule("required_missing", "必填字段“{label}”为空", "required field {name} is empty", True),
        Rule("invalid_type", "“{label}”应为{type_zh}", "{name} must be {type_en}", True),
        Rule("out_of_range", "“{label}”超出范围 {range}", "{name} is outside {range}", True),
        Rule(
            "code_unknown",
            "“{label}”不在代码表“{codes}”中",
            "{name} is not in code list {codes}",
            True,
        ),
        Rule("date_in_future", "“{label}”晚于今天", "{name} is in the future", True),
        Rule(
            "region_unknown", "“{label}”无法对应到区划代码", "{name} matches no region code", True
        ),
        Rule(
            "region_ambiguous",
            "“{label}”对应多个区划，请写明乡镇",
            "{name} matches several regions; name the township",
            True,
        ),
        Rule(
            "id_malformed",
            "“{label}”长度或字符不对",
            "{name} has the wrong length or characters",
            True,
        ),
        Rule(
            "id_missing",
            "“{label}”为空，需人员匹配",
            "{name} is missing; linkage must resolve the person",
            False,
        ),
        Rule("id_check_failed", "“{label}”校验码不符", "{name} fails its check character", False),
        Rule(
            "id_birth_date_invalid",
            "“{label}”中的出生日期无效",
            "{name} holds an impossible birth date",
            False,
        ),
        Rule(
            "id_region_unknown",
            "“{label}”地址码省份无效",
            "{name} has an unknown province code",
            False,
        ),
        Rule(
            "id_birth_date_mismatch",
            "“{label}”与出生日期不一致",
            "{name} disagrees with the birth date column",
            False,
        ),
        Rule(
            "id_sex_mismatch",
            "“{label}”与性别不一致",
            "{name} disagrees with the sex column",
            False,
        ),
    )
}

_ID_ERROR_RULES = {
    "length": "id_malformed",
    "characters": "id_malformed",
    "check_character": "id_check_failed",
    "birth_date": "id_birth_date_invalid",
    "region": "id_region_unknown",
}


def reason_json(code: str, spec: FieldSpec | None) -> str:
    """One reason as a JSON object: {code, field, message_zh, message_en}."""
    rule = RULES[code]
    values: dict[str, Any] = {
        "label": spec.label_zh if spec else "",
        "name": spec.name if spec else "",
        "codes": spec.codes if spec else "",
        "range": f"[{_fmt(spec.min) if spec else ''}, {_fmt(spec.max) if spec else ''}]",
        "type_zh": _TYPE_WORDS.get(spec.type, ("", ""))[0] if spec else "",
        "type_en": _TYPE_WORDS.get(spec.type, ("", ""))[1] if spec else "",
    }
    return json.dumps(
        {
            "code": code,
            "field": spec.name if spec else "",
            "message_zh": rule.zh.format(**values),
            "message_en": rule.en.format(**values),
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


class _Collector:
    """Collects (condition, reason) pairs and renders them as a JSON list expression."""

    def __init__(self) -> None:
        self.items: list[tuple[ir.BooleanValue, str]] = []

    def add(self, condition: ir.BooleanValue, code: str, spec: FieldSpec | None) -> None:
        self.items.append((condition, reason_json(code, spec)))

    def json(self) -> ir.StringValue:
        if not self.items:
            return ibis.literal("[]")
        parts = [
            ibis.ifelse(condition.fill_null(False), ibis.literal(text + ","), ibis.literal(""))
            for condition, text in self.items
        ]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined.concat(part)
        listed = ibis.literal("[").concat(joined.re_replace(",$", ""), "]")
        # Most rows have no reason: the list is only assembled for the rows that have one.
        return ibis.ifelse(self.any(), listed, ibis.literal("[]"))

    def any(self) -> ir.BooleanValue:
        result: ir.BooleanValue = ibis.literal(False)
        for condition, _ in self.items:
            result = result | condition.fill_null(False)
        return result


@dataclass(frozen=True)
class RegionLookup:
    """A region table in the engine: `key` (normalised name or code) → `code`, `ambiguous`."""

    table: ir.Table | None


def region_lookup_rows(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Lookup rows from `reference/regions.csv` rows (region_code, name, level, parent_code).

    Keys: the code itself; the name; township + village; county + township + village. A key
    shared by several regions is kept as ambiguous.
    """
    by_code = {row["region_code"]: row for row in rows}

    def chain(row: dict[str, str]) -> list[str]:
        names: list[str] = []
        current: dict[str, str] | None = row
        guard = 0
        while current is not None and guard < 6:
            names.append(current["name"])
            current = by_code.get(current.get("parent_code") or "")
            guard += 1
        return list(reversed(names))

    keys: dict[str, set[str]] = {}
    for row in rows:
        code = row["region_code"]
        keys.setdefault(code, set()).add(code)
        names = chain(row)
        for start in range(len(names)):
            keys.setdefault(key_of("".join(names[start:])), set()).add(code)
    return [
        {
            "key": key,
            "code": sorted(codes)[0] if len(codes) == 1 else None,
            "ambiguous": len(codes) > 1,
        }
        for key, codes in sorted(keys.items())
    ]


def check_dataset(raw: ir.Table, dataset: Dataset, context: CheckContext) -> ir.Table:
    """Normalise and validate a raw dataset table.

    The values are normalised by `values.typed_values` (once per distinct value), then every
    rule is checked per row.

    Args:
        raw: one nullable text column per field of the dataset, plus `_parse_error` and
            lineage columns (kept as they are).
        dataset: the dataset of the standard.
        context: the standard (code lists), the region table and the ingestion date.

    Returns:
        The table with typed standard fields, `<name>_key` for every name field, `_reasons`
        and `_flags` (JSON lists), `_rejected` (bool) and `_raw_<field>` (the original text).
    """
    fields = dataset.fields
    stage4 = typed_values(raw, dataset, context)
    ids = [spec.name for spec in fields if spec.type == "id_number"]
    if ids:
        # A row without the value has no match in the per-value table: its ID is empty.
        stage4 = stage4.mutate(
            **{
                f"_id_error_{name}": ibis.ifelse(
                    stage4[name].isnull(), ibis.literal("empty"), stage4[f"_id_error_{name}"]
                )
                for name in ids
            }
        )
    errors, flags = _Collector(), _Collector()
    errors.add(stage4["_parse_error"].notnull(), "row_malformed", None)
    for spec in fields:
        present = stage4[f"_t_{spec.name}"].notnull()
        typed = stage4[f"_v_{spec.name}"]
        if spec.type == "id_number":
            _check_id(stage4, spec, errors, flags)
        elif spec.required:
            errors.add(~present, "required_missing", spec)
        if spec.type in {"date", "integer", "decimal", "boolean"}:
            errors.add(present & typed.isnull(), "invalid_type", spec)
        if spec.type == "code":
            errors.add(present & typed.isnull(), "code_unknown", spec)
        if spec.type == "region_code":
            if context.regions is not None:
                ambiguous = stage4[f"_region_ambiguous_{spec.name}"].fill_null(False)
                errors.add(present & ambiguous, "region_ambiguous", spec)
                errors.add(present & typed.isnull() & ~ambiguous, "region_unknown", spec)
            else:
                errors.add(present & typed.isnull(), "region_unknown", spec)
        if spec.min is not None or spec.max is not None:
            errors.add(_outside(typed, spec), "out_of_range", spec)
        if spec.type == "date":
            errors.add(typed > ibis.literal(context.as_of), "date_in_future", spec)
    _cross_check_id(stage4, dataset, flags)
    out: dict[str, ir.Value] = {}
    for spec in fields:
        out[spec.name] = stage4[f"_v_{spec.name}"].cast(STAGING_TYPES[spec.type])
        if spec.type == "name":
            out[f"{spec.name}_key"] = stage4[f"{spec.name}_key"]
    lineage = [
        c
        for c in raw.columns
        if c.startswith("_") and c != "_parse_error" and not c.startswith(("_u_", "_nk_"))
    ]
    return stage4.select(
        **out,
        **{c: stage4[c] for c in lineage},
        _reasons=errors.json(),
        _flags=flags.json(),
        _rejected=errors.any(),
        **{f"_raw_{spec.name}": stage4[spec.name] for spec in fields},
        _raw_parse_error=stage4["_parse_error"],
    )


def _outside(typed: ir.Value, spec: FieldSpec) -> ir.BooleanValue:
    condition: ir.BooleanValue = ibis.literal(False)
    if spec.min is not None:
        condition = condition | (typed < spec.min)
    if spec.max is not None:
        condition = condition | (typed > spec.max)
    return condition


def _check_id(table: ir.Table, spec: FieldSpec, errors: _Collector, flags: _Collector) -> None:
    error = table[f"_id_error_{spec.name}"]
    if spec.required or spec.role == "id_number":
        flags.add(error == "empty", "id_missing", spec)
    for label, code in _ID_ERROR_RULES.items():
        target = errors if RULES[code].error else flags
        target.add(error == label, code, spec)


def _cross_check_id(table: ir.Table, dataset: Dataset, flags: _Collector) -> None:
    id_spec = dataset.field_with_role("id_number")
    if id_spec is None or id_spec.type != "id_number":
        return
    valid = table[f"_id_error_{id_spec.name}"].isnull()
    birth = dataset.field_with_role("birth_date")
    if birth is not None and birth.type == "date":
        value = table[f"_v_{birth.name}"]
        flags.add(
            valid & value.notnull() & (table[f"_id_birth_{id_spec.name}"] != value),
            "id_birth_date_mismatch",
            id_spec,
        )
    sex = dataset.field_with_role("sex")
    if sex is not None:
        value = table[f"_v_{sex.name}"]
        flags.add(
            valid & value.notnull() & (table[f"_id_sex_{id_spec.name}"] != value),
            "id_sex_mismatch",
            id_spec,
        )
