"""Person records and identity profiles from the staging tables.

Every staging dataset whose catalog fields play the `id_number` or `name` identity role
contributes one person record per current row. Records with the same identity values
(ID number, name, sex, birth date, village, address) form one *identity profile*; a
county has tens of millions of rows but far fewer distinct profiles (the same person is
described identically month after month and department after department), so linkage
works on profiles and every record inherits its profile's person.

A record without an ID number also keeps its *context* (its dataset and the values of the
dataset's stable non-identity fields, see `dixian.link.context`) in its profile key: such
a profile then stays within one department and one context, where the other periods of
the same record identify the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.standards import Dataset, load_catalog

STAGING_PREFIX = "staging_"
# Identity roles a record can carry, in profile-key order.
PROFILE_ROLES = ("id_number", "name", "sex", "birth_date", "region_code", "address")
_KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class RecordSource:
    """Which field of a dataset plays which identity role."""

    dataset: str
    fields: dict[str, str]
    household_number: str | None
    relation_to_head: str | None
    # The dataset's key fields other than the ID number when they include a time (a date
    # or a year): a person has at most one row per value of them (e.g. the payment month).
    # Empty otherwise (a plate number in the key is the vehicle, not a time slot).
    slot_fields: tuple[str, ...] = ()
    # The field naming the household head's ID number (an assistance case's applicant).
    household_head: str | None = None


def record_sources() -> list[RecordSource]:
    """The datasets that describe persons, with their identity fields."""
    sources: list[RecordSource] = []
    catalog = load_catalog()
    for dataset in catalog.datasets:
        fields = _identity_fields(dataset)
        if "id_number" in fields or "name" in fields:
            household = dataset.field_with_role("household_number")
            relation = dataset.field_with_role("relation_to_head")
            head = dataset.field_with_role("household_head_id")
            id_field = fields.get("id_number")
            rest = tuple(key for key in dataset.key_fields if key != id_field)
            timed = any(_is_time(dataset, key) for key in rest)
            slot = rest if id_field in dataset.key_fields and timed else ()
            sources.append(
                RecordSource(
                    dataset=dataset.name,
                    fields=fields,
                    household_number=household.name if household else None,
                    relation_to_head=relation.name if relation else None,
                    slot_fields=slot,
                    household_head=head.name if head else None,
                )
            )
    return sources


def _is_time(dataset: Dataset, name: str) -> bool:
    spec = dataset.field(name)
    return spec.type == "date" or (spec.type == "integer" and name.endswith("year"))


def _identity_fields(dataset: Dataset) -> dict[str, str]:
    fields: dict[str, str] = {}
    for role in PROFILE_ROLES:
        spec = dataset.field_with_role(role)
        if spec is not None:
            fields[role] = spec.name
    return fields


def _existing_tables(backend: Any) -> set[str]:
    return set(backend.list_tables())


def profile_key(table: ir.Table) -> ir.StringValue:
    """The identity profile key of each record: its identity values joined, nulls as ''.

    A record without an ID number adds its context and slot (when the table has them).
    """
    parts = []
    for role in PROFILE_ROLES:
        value = table[role].cast("string").fill_null("")
        parts.append(value)
    key = parts[0]
    for part in parts[1:]:
        key = key.concat(_KEY_SEPARATOR, part)
    if "context" in table.columns:
        no_id = table["id_number"].isnull() | (table["id_number"] == "")
        context = key.concat(_KEY_SEPARATOR, table["context"])
        if "slot" in table.columns:
            # One slot (e.g. one payment month) each: the rows without an ID number of two
            # namesakes in different months must not share a profile.
            context = context.concat(_KEY_SEPARATOR, table["slot"].fill_null(""))
        key = ibis.ifelse(no_id, context, key)
    return key


def context_column(table: ir.Table, dataset: str, fields: list[str]) -> ir.StringValue:
    """A record's context: its dataset and its values of the context fields."""
    value: ir.StringValue = ibis.literal(dataset)
    for field in fields:
        if field in table.columns:
            value = value.concat(_KEY_SEPARATOR, table[field].cast("string").fill_null(""))
    return value


def _slot_column(table: ir.Table, fields: tuple[str, ...]) -> ir.StringValue:
    if not fields or any(field not in table.columns for field in fields):
        return ibis.null().cast("string")
    value: ir.StringValue = table[fields[0]].cast("string").fill_null("")
    for field in fields[1:]:
        value = value.concat(_KEY_SEPARATOR, table[field].cast("string").fill_null(""))
    return value


def _household_column(table: ir.Table, source: RecordSource) -> ir.StringValue:
    # The household a record names: its household number, or its household head's ID
    # number (prefixed, so the two kinds never compare equal).
    if source.household_number and source.household_number in table.columns:
        return table[source.household_number].cast("string")
    if source.household_head and source.household_head in table.columns:
        head = table[source.household_head].cast("string").upper().strip()
        return ibis.ifelse(head == "", ibis.null().cast("string"), "head:" + head)
    return ibis.null().cast("string")


def person_records(
    backend: Any, *, context_fields: dict[str, list[str]] | None = None
) -> ir.Table | None:
    """All current person records of the staging tables, as one expression.

    Columns: `_record_id`, `dataset`, `_period`, `_source_file`, `_sheet`, `_row_number`,
    the identity roles (`id_number`, `name`, `sex`, `birth_date` as date, `region_code`,
    `address`), `context` (the dataset and its `context_fields` values; just the dataset
    when none are given), `slot` (the dataset's key values besides the ID number, null
    when the ID number is not part of the key), `household` (the household number, or
    `head:` and the household head's ID number, where the dataset names one) and
    `profile_key`. None when no staging table exists yet.
    """
    context_fields = context_fields or {}
    existing = _existing_tables(backend)
    parts: list[ir.Table] = []
    for source in record_sources():
        name = f"{STAGING_PREFIX}{source.dataset}"
        if name not in existing:
            continue
        table = backend.table(name)
        if "_is_current" in table.columns:
            table = table.filter(table["_is_current"])
        columns: dict[str, Any] = {
            "_record_id": table["_record_id"].cast("string"),
            "dataset": ibis.literal(source.dataset),
            "_period": _column_or_null(table, "_period", "string"),
            "_source_file": _column_or_null(table, "_source_file", "string"),
            "_sheet": _column_or_null(table, "_sheet", "string"),
            "_row_number": _column_or_null(table, "_row_number", "int64"),
            "context": context_column(
                table, source.dataset, context_fields.get(source.dataset, [])
            ),
            "slot": _slot_column(table, source.slot_fields),
            "household": _household_column(table, source),
        }
        for role in PROFILE_ROLES:
            field = source.fields.get(role)
            kind = "date" if role == "birth_date" else "string"
            if field is not None and field in table.columns:
                columns[role] = table[field].cast(kind)
            else:
                columns[role] = ibis.null().cast(kind)
        parts.append(table.select(**columns))
    if not parts:
        return None
    records = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    return records.mutate(profile_key=profile_key(records))


def _column_or_null(table: ir.Table, name: str, kind: str) -> ir.Value:
    if name in table.columns:
        return table[name].cast(kind)
    return ibis.null().cast(kind)


def distinct_profiles(records: ir.Table) -> ir.Table:
    """One row per identity profile with how many records share it.

    `context` and `slot` are meaningful only for profiles without an ID number (they are
    part of their key); for the others they are those of one of their records.
    """
    return records.group_by(["profile_key", *PROFILE_ROLES]).aggregate(
        n_records=records["_record_id"].count(),
        context=records["context"].max(),
        slot=records["slot"].max(),
    )
