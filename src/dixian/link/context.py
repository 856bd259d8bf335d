"""Record context: what a department's record says about its person besides identity.

A pension or employment row whose ID number is missing carries only a name and a village;
namesakes in that village cannot be told apart on those. But the same department describes
the same person month after month with the same non-identity values (the pension scheme,
the work place, the household head's ID number of an assistance case, a certificate or
plate number), and almost every one of those other rows carries the ID number. So:

1. **Stable fields, chosen from the data.** For each dataset, the non-identity fields whose
   value stays the same across the rows of one ID number for at least `stability` of the
   ID numbers seen more than once (`choose_context_fields`). Amounts that change every
   year, payment months and claim numbers drop out by themselves.
2. **Context of a record**: its dataset and the values of those fields. A record without
   an ID number keeps its context in its identity profile key, so its profile is its own
   (per dataset and context) instead of being pooled with another department's row.
3. **Context links** (`context_links`): a profile without an ID number nor birth date
   joins the person who is the *only* known person among the records of the same dataset
   with the same context, name and village, when that person recurs there (rows in two
   periods or more). A candidate who already holds a row in the profile's *slot* (the
   dataset's key besides the ID number, e.g. the payment month: one pension per person
   and month) is not counted: of two namesakes drawing a pension in one village, the
   month's row without an ID number belongs to the one whose row is missing that month.
   The rule errs only when a namesake in the same department with the same values has no
   row with an ID number at all; requiring recurrence makes that unlikely (a yearly
   dataset of one year, where every person has one row, never decides).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from dixian.link.records import STAGING_PREFIX, RecordSource, record_sources

CONTEXT_FILE = "context_fields.json"
# Fields that describe the row, not the person (lineage and derived keys).
_NOT_CONTEXT = {"name_key"}


def _candidate_fields(source: RecordSource, columns: Iterable[str]) -> list[str]:
    identity = set(source.fields.values())
    return [
        column
        for column in columns
        if not column.startswith("_") and column not in identity and column not in _NOT_CONTEXT
    ]


def choose_context_fields(
    backend: Any, *, stability: float, min_persons: int
) -> dict[str, list[str]]:
    """The stable non-identity fields of every dataset that has an ID number field.

    Args:
        backend: the warehouse (Ibis backend).
        stability: share of repeated ID numbers whose value of the field never changes.
        min_persons: fewer ID numbers seen more than once than this: no field is trusted.

    Returns:
        dataset -> field names (possibly empty), in catalog order.
    """
    existing = set(backend.list_tables())
    chosen: dict[str, list[str]] = {}
    for source in record_sources():
        name = f"{STAGING_PREFIX}{source.dataset}"
        id_field = source.fields.get("id_number")
        if name not in existing or id_field is None:
            continue
        table = backend.table(name)
        if id_field not in table.columns:
            continue
        if "_is_current" in table.columns:
            table = table.filter(table["_is_current"])
        table = table.filter(table[id_field].notnull() & (table[id_field] != ""))
        fields = _candidate_fields(source, table.columns)
        if not fields:
            chosen[source.dataset] = []
            continue
        n = table.count()
        per_id = table.group_by(id_field).aggregate(
            _n=n,
            **{
                f"s{i}": (table[field].nunique() == 1) & (table[field].count() == n)
                for i, field in enumerate(fields)
            },
        )
        repeated = per_id.filter(per_id["_n"] > 1)
        shares = repeated.aggregate(
            _persons=repeated.count(),
            **{f"s{i}": repeated[f"s{i}"].cast("float64").mean() for i in range(len(fields))},
        ).to_pyarrow()
        persons = int(shares.column("_persons")[0].as_py() or 0)
        chosen[source.dataset] = [
            field
            for i, field in enumerate(fields)
            if persons >= min_persons and (shares.column(f"s{i}")[0].as_py() or 0.0) >= stability
        ]
    return chosen


def load_context_fields(path: Path) -> dict[str, list[str]] | None:
    """Context fields saved by an earlier run (so incremental runs keep profile keys)."""
    if not path.is_file():
        return None
    loaded: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def save_context_fields(path: Path, fields: dict[str, list[str]]) -> None:
    """Save the chosen context fields next to the linkage model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields, ensure_ascii=False, indent=1), encoding="utf-8")


def weak_profiles(profiles: pa.Table, todo: Iterable[str]) -> pa.Table:
    """The profiles still to link that have neither an ID number nor a birth date.

    Only those are decided by context: a birth date lets the probabilistic step tell
    namesakes apart.
    """
    waiting = pa.array(list(todo), pa.string())
    mask = pc.and_(
        pc.and_(pc.is_in(profiles.column("profile_id"), waiting), pc.is_null(profiles["id_norm"])),
        pc.and_(pc.is_null(profiles["eff_birth"]), pc.is_valid(profiles["name"])),
    )
    return profiles.filter(mask)


def context_rows(records: ir.Table, weak: pa.Table) -> pa.Table:
    """The records that share a weak profile's context, name and village (engine side).

    Columns: `context`, `profile_key`, `slot`, `_period` (distinct).
    """
    keys = ibis.memtable(
        weak.select(["context", "name", "region_code"])
        .group_by(["context", "name", "region_code"])
        .aggregate([])
    )
    joined = records.join(
        keys,
        [
            records["context"] == keys["context"],
            records["name"] == keys["name"],
            records["region_code"].identical_to(keys["region_code"]),
        ],
    )
    rows = joined.select(
        context=records["context"],
        profile_key=records["profile_key"],
        slot=records["slot"],
        period=records["_period"],
    ).distinct()
    table: pa.Table = rows.to_pyarrow()
    return table


_LINKS_SQL = """
with r as (
    select r.context, r.slot, r.period, p.profile_id, p.name_key, p.region_code
    from rows r join profiles p on r.profile_key = p.profile_key
    where p.name_key is not null
),
weak_slots as (
    select distinct r.profile_id, r.slot from r semi join weak w on r.profile_id = w.profile_id
    where r.slot is not null
),
members as (
    select r.context, r.name_key, r.region_code, k.person_id,
           min(r.period) < max(r.period) as recurs
    from r join known k on r.profile_id = k.profile_id
    group by all
),
-- A person who already has a row in the same slot (e.g. the same payment month) of the
-- same dataset is not the person of a second row there.
occupied as (
    select distinct s.profile_id, k.person_id
    from weak_slots s
    join r on r.slot = s.slot
    join known k on r.profile_id = k.profile_id
    join weak w on w.profile_id = s.profile_id
    where r.context = w.context and r.name_key = w.name_key
      and r.region_code is not distinct from w.region_code
),
candidates as (
    select w.profile_id, m.person_id, m.recurs
    from weak w join members m
      on w.context = m.context and w.name_key = m.name_key
     and w.region_code is not distinct from m.region_code
),
free as (
    select c.* from candidates c
    anti join occupied o on c.profile_id = o.profile_id and c.person_id = o.person_id
)
select profile_id, any_value(person_id) from free
group by profile_id having count(*) = 1 and bool_or(recurs)
"""


def context_links(
    rows: pa.Table,
    profiles: pa.Table,
    weak: pa.Table,
    *,
    known: dict[str, tuple[str, str, float | None]],
) -> dict[str, str]:
    """Weak profiles that their department's context links to one person.

    A weak profile joins person j when j is the only known person among the records of
    the same dataset, context, name and village who does not already hold a row in one of
    the profile's slots (a person has one pension row per month), and j recurs there.

    Args:
        rows: `context_rows` of the weak profiles.
        profiles: identity profiles (`profile_key`, `profile_id`, `name_key`,
            `region_code`).
        weak: `weak_profiles` (with `context`).
        known: profile id -> (person, method, probability) decided so far.

    Returns:
        profile id -> person id, for the profiles the rule decides.
    """
    con = duckdb.connect()
    con.register("rows", rows)
    con.register(
        "profiles", profiles.select(["profile_key", "profile_id", "name_key", "region_code"])
    )
    con.register("weak", weak.select(["profile_id", "context", "name_key", "region_code"]))
    con.register(
        "known",
        pa.table(
            {
                "profile_id": pa.array(list(known), pa.string()),
                "person_id": pa.array([value[0] for value in known.values()], pa.string()),
            }
        ),
    )
    return dict(con.sql(_LINKS_SQL).fetchall())


__all__ = [
    "CONTEXT_FILE",
    "choose_context_fields",
    "context_links",
    "context_rows",
    "load_context_fields",
    "save_context_fields",
    "weak_profiles",
]
