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
   periods or more). Among several namesakes there, a candidate who already holds a row
   in the profile's *slot* (the dataset's key besides the ID number, e.g. the payment
   month: one pension per person and month) is not the person: of two namesakes drawing
   a pension in one village, the month's row without an ID number belongs to the one whose
   series has a gap in that month (rows before and after it are required, so that a
   series that merely ended or began is no evidence).
   The rule errs when a namesake in the same department with the same values has no row
   with an ID number at all; requiring recurrence makes that unlikely (a yearly dataset
   of one year, where every person has one row, never decides). A duplicated row whose
   copy lost its ID number occupies its own person's slot; the gap rule then needs the
   other namesake to miss exactly that month, which is rare. When the context names a
   household (a registry household number, the household head's ID number of an
   assistance case) recurrence is not needed: a household has no two members of one name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from dixian.errors import ConfigError
from dixian.link.ledger import no_links
from dixian.link.records import STAGING_PREFIX, RecordSource, record_sources

CONTEXT_FILE = "context_fields.json"
_SEPARATOR = "\x1f"  # as in `dixian.link.records`
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
    try:
        loaded: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(
            f"{path}: not valid JSON ({exc}); delete it and run 'dixian link --full'"
        ) from exc
    return loaded


def save_context_fields(path: Path, fields: dict[str, list[str]]) -> None:
    """Save the chosen context fields next to the linkage model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields, ensure_ascii=False, indent=1), encoding="utf-8")


WEAK_SQL = """
select p.profile_id, p.profile_key, p.context, p.slot, p.n_records, p.name, p.name_key,
       p.region_code, split_part(p.context, chr(31), 1) as dataset
from profiles p anti join decided d using (profile_id)
where p.id_norm is null and p.eff_birth is null and p.name is not null
"""


def weak_profiles(con: Any) -> int:
    """Table `weak`: the undecided profiles with neither an ID number nor a birth date.

    Only those are decided by context: a birth date lets the probabilistic step tell
    namesakes apart. Returns their number.
    """
    con.execute(f"create or replace table weak as {WEAK_SQL}")
    row = con.sql("select count(*) from weak").fetchone()
    return int(row[0]) if row else 0


def household_context(fields: dict[str, list[str]]) -> set[str]:
    """The datasets whose context fields include a household number or head's ID number."""
    chosen: set[str] = set()
    for source in record_sources():
        household = {source.household_number, source.household_head} - {None}
        if household & set(fields.get(source.dataset, [])):
            chosen.add(source.dataset)
    return chosen


def _group_rows(records: ir.Table, weak_keys: pa.Table) -> pa.Table:
    """The records of the weak profiles' datasets with the same name (engine side)."""
    keys = ibis.memtable(weak_keys)
    joined = records.join(
        keys, [records["dataset"] == keys["dataset"], records["name"] == keys["name"]]
    )
    # One row per (context, village, profile) with the periods it spans: a pension series
    # is hundreds of monthly rows, of which only the first and last period matter here.
    rows = joined.group_by(
        [records["context"], records["region_code"], records["profile_key"]]
    ).aggregate(first_period=records["_period"].min(), last_period=records["_period"].max())
    table: pa.Table = rows.to_pyarrow()
    return table


def _held_slots(records: ir.Table, persons: pa.Table) -> pa.Table:
    """Every (dataset, slot) the given persons hold, whatever the name or village."""
    keys = ibis.memtable(persons)
    joined = records.join(keys, records["profile_key"] == keys["profile_key"])
    held = joined.filter(records["slot"].notnull()).select(
        dataset=records["dataset"], slot=records["slot"], person_id=keys["person_id"]
    )
    table: pa.Table = held.distinct().to_pyarrow()
    return table


_CANDIDATES_SQL = """
with r as (
    select r.context, r.first_period, r.last_period, r.region_code, p.profile_id, p.name_key
    from rows r join profiles p on r.profile_key = p.profile_key
    where p.name_key is not null
),
members as (
    select r.context, r.name_key, r.region_code, k.person_id,
           min(r.first_period) as first_period, max(r.last_period) as last_period
    from r join known k using (profile_id)
    group by all
),
weak_span as (
    select profile_id, min(first_period) as first_period, max(last_period) as last_period
    from r semi join weak_ctx using (profile_id) group by all
)
select w.profile_id, w.dataset, w.slot, w.n_records, w.household, m.person_id,
       m.first_period < m.last_period as recurs,
       m.first_period < s.first_period or m.last_period > s.last_period as elsewhen,
       (m.first_period < s.first_period or s.first_period <= b.first_period)
       and (m.last_period > s.last_period or s.last_period >= b.last_period) as around,
       count(*) over (partition by w.profile_id) as namesakes
from weak_ctx w
join members m
  on w.context = m.context and w.name_key = m.name_key
 and w.region_code is not distinct from m.region_code
join weak_span s using (profile_id)
join bounds b on b.dataset = w.dataset
"""

# A person who already holds a row in the profile's slot (anywhere in the dataset) is not
# the person of a second row there. The candidate left must have rows in other periods
# than the profile's (in a yearly dataset of one year nobody does: every row there is a
# person's only one, and a namesake's row says nothing). Of several namesakes the one
# left must have rows before and after the profile's (a gap where it is; at the first or
# last period of the data that side cannot be seen). Without slots (the ID number is not
# in the dataset's key, or the key has no time) the candidate must recur (two periods),
# unless the context names a household (a registry household number, the household head's
# ID number): one household has no two members of one name and relation.
_DECIDE_SQL = """
with free as (
    select c.* from candidates c
    anti join held h on h.dataset = c.dataset and h.slot = c.slot and h.person_id = c.person_id
    where c.slot is null or c.n_records = 1
)
select profile_id, any_value(person_id) as person_id from free
group by profile_id
having count(*) = 1
   and bool_and(elsewhen and (recurs or slot is not null or household))
   and bool_and(namesakes = 1 or around)
"""


def _bounds(records: ir.Table, datasets: list[str]) -> pa.Table:
    """First and last period of each dataset (engine side)."""
    chosen = records.filter(records["dataset"].isin(datasets))
    table: pa.Table = (
        chosen.group_by("dataset")
        .aggregate(first_period=chosen["_period"].min(), last_period=chosen["_period"].max())
        .to_pyarrow()
    )
    return table


def context_links(
    records: ir.Table, con: Any, *, household_datasets: Iterable[str] = ()
) -> pa.Table:
    """Weak profiles that their department's context links to one person.

    The candidates of a weak profile are the known persons among the records of the same
    dataset, context, name and village. A candidate who already holds a row in the
    profile's slot anywhere in the dataset (a person draws one pension a month) is out;
    a profile with two records in one slot (two namesakes, or a duplicate) is left
    alone. The profile joins the one candidate left when that person has rows in other
    periods than the profile's and, if there were namesakes, rows before and after the
    profile's (or the profile is at the edge of the data); in a dataset without slots the
    candidate must recur (two periods).

    Args:
        records: `dixian.link.records.person_records` (with `context` and `slot`).
        con: the run's local DuckDB (`dixian.link.ledger`) with tables `profiles`,
            `decided` and `weak` (`weak_profiles`).
        household_datasets: datasets whose context names a household
            (`household_context`).

    Returns:
        `profile_id`, `person_id` of the profiles the rule decides.
    """
    weak_keys = con.sql(
        "select distinct dataset, name from weak where dataset is not null"
    ).fetch_arrow_table()
    if weak_keys.num_rows == 0:
        return no_links()
    con.register("rows", _group_rows(records, weak_keys))
    con.register(
        "_household_datasets",
        pa.table({"dataset": pa.array(sorted(household_datasets), pa.string())}),
    )
    con.execute(
        "create or replace temp view weak_ctx as select w.*, "
        "w.dataset in (select dataset from _household_datasets) as household from weak w"
    )
    con.execute("create or replace temp view known as select profile_id, person_id from decided")
    con.register("bounds", _bounds(records, weak_keys.column("dataset").unique().to_pylist()))
    con.execute("create or replace temp table candidates as " + _CANDIDATES_SQL)
    keys = con.sql(
        "select p.profile_key, k.person_id from known k "
        "semi join (select distinct person_id from candidates) c using (person_id) "
        "join profiles p on p.profile_id = k.profile_id"
    ).fetch_arrow_table()
    con.register("held", _held_slots(records, keys))
    del keys
    decided: pa.Table = con.sql(_DECIDE_SQL).fetch_arrow_table()
    for view in ("rows", "bounds", "held", "_household_datasets"):
        con.unregister(view)
    con.execute("drop view weak_ctx")
    con.execute("drop view known")
    con.execute("drop table candidates")
    return decided


__all__ = [
    "CONTEXT_FILE",
    "choose_context_fields",
    "context_links",
    "household_context",
    "load_context_fields",
    "save_context_fields",
    "weak_profiles",
]
