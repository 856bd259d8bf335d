"""Reading the linked department records the panel is built from.

Each staged row of a person dataset carries its `person_id` through `person_link`; village
datasets are read as they are. A dataset whose staging table is missing (the department is not
connected yet) yields None, and the panel leaves its columns NULL rather than zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

LINK_TABLE = "person_link"
MEMBERSHIP_TABLE = "household_membership"
PERSONS_TABLE = "persons"


def staging_table_name(dataset: str) -> str:
    """The warehouse table holding a dataset's accepted rows."""
    return f"staging_{dataset}"


def current_rows(backend: BaseBackend, dataset: str) -> ir.Table | None:
    """The current (not superseded) staged rows of a dataset, or None if not ingested."""
    name = staging_table_name(dataset)
    if name not in backend.list_tables():
        return None
    staged = backend.table(name)
    if "_is_current" in staged.columns:
        staged = staged.filter(staged._is_current)
    return staged


def linked_rows(backend: BaseBackend, dataset: str, columns: list[str]) -> ir.Table | None:
    """Current rows of a person dataset with their `person_id`, keeping `columns`.

    Returns:
        A table (person_id, _record_id, *columns), or None when the dataset is not ingested.
    """
    staged = current_rows(backend, dataset)
    if staged is None or LINK_TABLE not in backend.list_tables():
        return None
    links = backend.table(LINK_TABLE)
    links = links.filter(links.dataset == dataset).select("_record_id", "person_id")
    joined = staged.inner_join(links, "_record_id")
    missing = [column for column in columns if column not in joined.columns]
    if missing:
        # An optional field the department never sends is absent, which means "no data".
        joined = joined.mutate(**{column: _null_of(dataset, column) for column in missing})
    return joined.select("person_id", "_record_id", *columns)


def optional_column(
    table: ir.Table, name: str, dtype: str = "float64", *, default: float | None = None
) -> ir.Value:
    """A column of `table`, or a NULL of `dtype` where the table lacks it.

    A panel column comes from one department's data; where that department is not connected
    the column is absent, and the derived columns treat it as unknown (or as `default`).

    Args:
        table: the table (usually the panel being built).
        name: the column's name.
        dtype: the type of the NULL that stands in for an absent column.
        default: when given, the value is cast to `dtype` and NULLs become `default`.
    """
    value = table[name] if name in table.columns else ibis.null(dtype)
    if default is None:
        return value
    return value.cast(dtype).fill_null(default)


_IBIS_TYPES = {
    "date": "date",
    "integer": "int64",
    "decimal": "float64",
    "boolean": "boolean",
}


def _null_of(dataset: str, column: str) -> ir.Value:
    from dixian.standards import load_catalog

    try:
        field_type = load_catalog().dataset(dataset).field(column).type
    except KeyError:
        field_type = "string"
    return ibis.null(_IBIS_TYPES.get(field_type, "string"))


def month_index(value: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0, so that month arithmetic is integer arithmetic on every engine."""
    return value.year().cast("int64") * 12 + value.month().cast("int64") - 1


def membership_months(backend: BaseBackend) -> ir.Table:
    """`household_membership` with `m_month`, the month index of each row's period."""
    membership = backend.table(MEMBERSHIP_TABLE)
    return membership.mutate(
        m_month=membership.period.left(4).cast("int64") * 12
        + membership.period.right(2).cast("int64")
        - 1
    )


def death_dates(backend: BaseBackend) -> ir.Table | None:
    """(person_id, death_date): each person's first registered death; None when household
    registration is not ingested."""
    exits = linked_rows(backend, "household_registration", ["registration_status", "status_date"])
    if exits is None:
        return None
    deaths = exits.filter((exits.registration_status == "deceased") & exits.status_date.notnull())
    return deaths.group_by("person_id").aggregate(death_date=deaths.status_date.min())
