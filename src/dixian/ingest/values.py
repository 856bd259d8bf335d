"""Typed, normalised values of a raw dataset's fields, computed once per distinct value.

Feeds repeat their values: 36 monthly batches name the same people, villages, programmes and
months again and again. The costly normalisation (ID numbers and their checks, dates,
amounts, code lists, region names) therefore runs over each field's distinct raw values and
is joined back to the rows. Names, free text and plain strings (mostly distinct, cheap to
clean) are normalised in place.

For every field `f` the result has `_t_f` (cleaned text, null when empty) and `_v_f` (the
typed value, null when it cannot be read); an ID number field also has `_id_error_f`,
`_id_birth_f` and `_id_sex_f`; a region field with a region table `_region_ambiguous_f`; a
name field `f_key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from dixian.ingest import normalise as nz
from dixian.standards import Catalog, Dataset, FieldSpec

# Normalised per distinct value; the other types in place.
_BY_VALUE = {"id_number", "date", "integer", "decimal", "boolean", "code", "region_code"}


def key_of(text: str) -> str:
    """Python twin of the engine's value key (for building lookup tables)."""
    return nz.python_match_key(text).lower()


def code_lookup(catalog: Catalog, spec: FieldSpec) -> dict[str, str]:
    """A code field's lookup: value key of every code, label and synonym → code."""
    assert spec.codes is not None
    return {key_of(k): v for k, v in catalog.code_list(spec.codes).lookup_table().items()}


@dataclass(frozen=True)
class CheckContext:
    """What normalising and checking a dataset's values needs besides its rows.

    Attributes:
        catalog: the standard (code lists).
        regions: the region lookup table (`key`, `code`, `ambiguous`), or None when the
            workspace has no region table (then only 12-digit codes are accepted).
        as_of: dates after this are "in the future"; ID birth dates too.
        region_chars: the characters of the region table's keys (keeps the traditional →
            simplified table in the SQL short); None converts every character.
    """

    catalog: Catalog
    regions: ir.Table | None
    as_of: date
    region_chars: str | None = None


def typed_values(raw: ir.Table, dataset: Dataset, context: CheckContext) -> ir.Table:
    """The raw table with every field's cleaned text, typed value and check columns added.

    Args:
        raw: one nullable text column per field (`_u_f` unit factors and `_nk_f` name keys
            where the reader gave them), plus any other columns, kept as they are.
        dataset: the dataset of the standard.
        context: the standard, the region table and the ingestion date.
    """
    table = raw
    for spec in dataset.fields:
        if spec.type not in _BY_VALUE:
            continue
        factor = f"_u_{spec.name}"
        keys = [spec.name, factor] if factor in raw.columns else [spec.name]
        distinct = raw.select(*keys).filter(raw[spec.name].notnull()).distinct()
        values = _normalised(distinct, [spec], context)
        kept = [c for c in values.columns if c not in keys and not _intermediate(c, spec)]
        values = values.select(
            **{f"_d{i}_{spec.name}": values[k] for i, k in enumerate(keys)},
            **{c: values[c] for c in kept},
        )
        predicates = [table[k] == values[f"_d{i}_{spec.name}"] for i, k in enumerate(keys)]
        table = table.left_join(values, predicates).drop(
            *[f"_d{i}_{spec.name}" for i in range(len(keys))]
        )
    in_place = [spec for spec in dataset.fields if spec.type not in _BY_VALUE]
    return _normalised(table, in_place, context)


def _intermediate(column: str, spec: FieldSpec) -> bool:
    return column in {
        f"_k_{spec.name}",
        f"_idu_{spec.name}",
        f"_idb_{spec.name}",
        f"_id_{spec.name}",
        f"_region_code_{spec.name}",
    }


def _normalised(table: ir.Table, specs: list[FieldSpec], context: CheckContext) -> ir.Table:
    """Stages of normalisation (clean text, keys and IDs, checks and region joins, typed
    values), each referring to the previous stage's columns, so the SQL stays small."""
    if not specs:
        return table
    stage1 = table.mutate(**{f"_t_{spec.name}": _clean(table[spec.name], spec) for spec in specs})
    keyed: dict[str, ir.Value] = {}
    for spec in specs:
        text = stage1[f"_t_{spec.name}"]
        if spec.type == "code":
            only = list(code_lookup(context.catalog, spec))
            keyed[f"_k_{spec.name}"] = nz.to_simplified(text, only=only).upper().lower()
        if spec.type == "region_code":
            chars = None if context.region_chars is None else [context.region_chars]
            keyed[f"_k_{spec.name}"] = nz.to_simplified(text, only=chars).upper().lower()
        if spec.type == "name":
            given = f"_nk_{spec.name}"
            # Keys computed per distinct name by the reader (see spool._name_keys), else here.
            keyed[f"{spec.name}_key"] = (
                stage1[given] if given in stage1.columns else nz.to_simplified(text).upper()
            )
        if spec.type == "id_number":
            keyed[f"_idu_{spec.name}"] = text.replace("-", "").upper()
    stage2 = stage1.mutate(**keyed) if keyed else stage1
    ids = [spec.name for spec in specs if spec.type == "id_number"]
    if ids:
        stage2 = stage2.mutate(
            **{f"_idb_{name}": nz.id_body_of_15(stage2[f"_idu_{name}"]) for name in ids}
        )
        stage2 = stage2.mutate(
            **{
                f"_id_{name}": ibis.ifelse(
                    stage2[f"_idb_{name}"].notnull(),
                    nz.id_with_check(stage2[f"_idb_{name}"]),
                    stage2[f"_idu_{name}"],
                )
                for name in ids
            }
        )
    checks: dict[str, ir.Value] = {}
    for spec in specs:
        if spec.type == "id_number":
            number = stage2[f"_id_{spec.name}"]
            checks[f"_id_error_{spec.name}"] = nz.id_number_error(number, today=context.as_of)
            checks[f"_id_birth_{spec.name}"] = nz.id_birth_date(number)
            checks[f"_id_sex_{spec.name}"] = nz.id_sex(number)
    stage3 = stage2.mutate(**checks) if checks else stage2
    for spec in specs:
        if spec.type == "region_code" and context.regions is not None:
            stage3 = _join_region(stage3, spec.name, context.regions)
    return stage3.mutate(**{f"_v_{spec.name}": _typed(stage3, spec, context) for spec in specs})


def _clean(value: ir.StringValue, spec: FieldSpec) -> ir.StringValue:
    if spec.type == "name":
        # The name keeps its original text (only trimmed); matching uses <name>_key.
        trimmed = value.strip()
        return ibis.ifelse(trimmed == "", ibis.null("string"), trimmed)
    if spec.type == "text":
        return nz.clean_text(value)
    if spec.type == "date":
        return nz.strip_time(nz.compact(value))
    return nz.compact(value)


def _join_region(table: ir.Table, field_name: str, regions: ir.Table) -> ir.Table:
    key = f"_k_{field_name}"
    lookup = regions.select(
        **{
            f"_rk_{field_name}": regions.key,
            f"_region_code_{field_name}": regions.code,
            f"_region_ambiguous_{field_name}": regions.ambiguous,
        }
    )
    joined = table.left_join(lookup, table[key] == lookup[f"_rk_{field_name}"])
    return joined.drop(f"_rk_{field_name}")


def _typed(table: ir.Table, spec: FieldSpec, context: CheckContext) -> ir.Value:
    text = table[f"_t_{spec.name}"]
    if spec.type == "date":
        return nz.parse_date(text)
    if spec.type == "integer":
        return nz.parse_int(text)
    if spec.type == "decimal":
        if spec.unit != "yuan":
            return nz.parse_float(text)
        factor = f"_u_{spec.name}"
        if factor in table.columns:
            return nz.parse_amount(text, default_factor=table[factor].fill_null(1.0))
        return nz.parse_amount(text)
    if spec.type == "boolean":
        return nz.parse_bool(text)
    if spec.type == "code":
        lookup = code_lookup(context.catalog, spec)
        key = table[f"_k_{spec.name}"]
        return ibis.cases(
            *[(key == k, ibis.literal(v)) for k, v in lookup.items()], else_=ibis.null("string")
        )
    if spec.type == "region_code":
        if context.regions is None:
            return ibis.ifelse(text.re_search(r"^\d{12}$"), text, ibis.null("string"))
        return table[f"_region_code_{spec.name}"]
    if spec.type == "id_number":
        number = table[f"_id_{spec.name}"]
        return ibis.ifelse(number == "", ibis.null("string"), number)
    return text
