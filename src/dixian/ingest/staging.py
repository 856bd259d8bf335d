"""The next version of a dataset's staging table, built from the run's checked rows.

`stage_dataset` writes `staging_<dataset>__next` (earlier rows and this run's accepted rows,
`_is_current` settled) and returns this run's rejected rows in the quarantine's columns and
its accepted rows (for quarantine resolution). What every dataset of a run is staged with
(backend, replaced batches, first batch number, table tracker) is one `StagingRun`.

On DuckDB the checked rows are written once: earlier and new rows go into the `__next` table
together with the check's columns (`_rejected`, `_reasons`, the original text of rejected
rows), the rejected rows are copied out for the quarantine, then deleted, the check's columns
dropped and `_is_current` updated for the few rows a later version supersedes; all on the
`__next` table, which the run swaps in only at the end. Other engines (Spark) materialise the
checked rows and build the table with one Ibis expression; both give the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.engine import STAGED_SUFFIX
from dixian.ingest import quarantine as qr
from dixian.ingest.ledger import LINEAGE_COLUMNS, STAGING_PREFIX
from dixian.standards import Dataset

NEXT = STAGED_SUFFIX


@dataclass(frozen=True)
class StagingRun:
    """What every dataset of one ingest run is staged with.

    Attributes:
        backend: the Ibis backend.
        replaced: every batch id an edited file has replaced.
        first_seq: the lowest batch number of this run (its rows have this or more).
        track: called with the name of every table created, so a failed run drops it.
    """

    backend: Any
    replaced: list[str]
    first_seq: int
    track: Callable[[str], None]


@dataclass
class Staged:
    """What `stage_dataset` wrote and found."""

    staging: ir.Table
    rejected: ir.Table
    accepted_now: ir.Table


def staging_columns(dataset: Dataset) -> list[str]:
    """The staging table's columns: the fields (a key after every name) and the lineage."""
    columns: list[str] = []
    for spec in dataset.fields:
        columns.append(spec.name)
        if spec.type == "name":
            columns.append(f"{spec.name}_key")
    return [
        *columns,
        "_record_id",
        *LINEAGE_COLUMNS,
        "_is_current",
        "_period",
        "_batch_seq",
        "_flags",
    ]


def stage_dataset(run: StagingRun, dataset: Dataset, checked: ir.Table) -> Staged:
    """Write `staging_<dataset>__next` from the committed table (if any) and the checked rows.

    Args:
        run: the run's backend, replaced batches, first batch number and table tracker.
        dataset: the dataset.
        checked: `validate.check_dataset` with lineage: this run's rows, unmaterialised.
    """
    name = f"{STAGING_PREFIX}{dataset.name}"
    old = run.backend.table(name) if name in run.backend.list_tables() else None
    stage = _stage_in_place if run.backend.name == "duckdb" else _stage_generic
    return stage(run, dataset, checked, old)


def _stage_generic(
    run: StagingRun, dataset: Dataset, checked: ir.Table, old: ir.Table | None
) -> Staged:
    backend = run.backend
    name = f"_ingest_checked_{dataset.name}"
    run.track(name)
    materialised = backend.create_table(name, checked, overwrite=True)
    columns = staging_columns(dataset)
    fresh = materialised.filter(~materialised._rejected).mutate(_is_current=ibis.literal(True))
    fresh = fresh.select(*columns)
    combined = fresh
    if old is not None:
        earlier = old.select(*[old[c].cast(fresh[c].type()).name(c) for c in columns])
        combined = earlier.union(fresh)
    combined = with_current(combined, dataset, run.replaced)
    target = f"{STAGING_PREFIX}{dataset.name}{NEXT}"
    run.track(target)
    written = backend.create_table(target, combined, overwrite=True)
    return Staged(
        staging=written,
        rejected=qr.quarantine_rows(materialised, dataset),
        accepted_now=materialised.filter(~materialised._rejected),
    )


def _extra_columns(dataset: Dataset) -> list[str]:
    return ["_rejected", "_reasons", *[f"_raw_{name}" for name in dataset.field_names()]]


def _stage_in_place(
    run: StagingRun, dataset: Dataset, checked: ir.Table, old: ir.Table | None
) -> Staged:
    backend = run.backend
    columns = staging_columns(dataset)
    extras = _extra_columns(dataset)
    new = checked.mutate(_is_current=ibis.literal(True)).select(*columns, *extras)
    wide = new
    if old is not None:
        earlier = old.select(
            *[old[c].cast(new[c].type()).name(c) for c in columns],
            _rejected=ibis.literal(False),
            **{c: ibis.null(new[c].type()) for c in extras if c != "_rejected"},
        )
        wide = earlier.union(new)
    target = f"{STAGING_PREFIX}{dataset.name}{NEXT}"
    run.track(target)
    table = backend.create_table(target, wide, overwrite=True)
    mine = table.filter(table._batch_seq >= run.first_seq)
    rejected_name = f"_ingest_rejected_{dataset.name}"
    run.track(rejected_name)
    rejected = backend.create_table(
        rejected_name, qr.quarantine_rows(mine, dataset), overwrite=True, temp=True
    )
    connection = backend.con
    quoted = f'"{target}"'
    connection.execute(f"DELETE FROM {quoted} WHERE _rejected")
    for column in extras:
        connection.execute(f'ALTER TABLE {quoted} DROP COLUMN "{column}"')
    _update_current(connection, quoted, dataset, run.replaced)
    staging = backend.table(target)
    return Staged(
        staging=staging,
        rejected=rejected,
        accepted_now=staging.filter(staging._batch_seq >= run.first_seq),
    )


def _update_current(connection: Any, quoted: str, dataset: Dataset, replaced: list[str]) -> None:
    # History only grows, so a row once superseded stays so: only flips to false are needed.
    keys = [f'"{key}"' for key in dataset.version_keys()]
    known = " AND ".join(f"{key} IS NOT NULL" for key in keys)
    order = "{t}._period || '#' || lpad(CAST({t}._batch_seq AS VARCHAR), 12, '0')"
    joined = " AND ".join(f"s.{key} = r.{key}" for key in keys)
    connection.execute(
        f"UPDATE {quoted} AS s SET _is_current = false FROM ("
        f"SELECT {', '.join(keys)}, max({order.format(t=quoted)}) AS _latest FROM {quoted} "
        f"WHERE {known} GROUP BY {', '.join(keys)} HAVING count(*) > 1) AS r "
        f"WHERE {joined} AND {order.format(t='s')} < r._latest AND s._is_current"
    )
    if replaced:
        connection.execute(
            f"UPDATE {quoted} SET _is_current = false WHERE _batch_id IN "
            f"(SELECT unnest(?::VARCHAR[])) AND _is_current",
            [replaced],
        )


def with_current(table: ir.Table, dataset: Dataset, replaced: list[str]) -> ir.Table:
    """`_is_current`: false for a row a later row with the same version key supersedes
    (later period, then later batch) and for every row of a replaced batch.

    Only keys with several rows can hold a superseded row: they are found by one grouping,
    their latest version computed on their rows alone and joined back (a window over every
    key would sort the whole table).
    """
    keys = list(dataset.version_keys())
    keyed: ir.BooleanValue = ibis.literal(True)
    for key in keys:
        keyed = keyed & table[key].notnull()
    present = table.filter(keyed)
    counted = present.group_by(keys).aggregate(_n=present.count())
    repeated = counted.filter(counted._n > 1).select(*keys)
    rows = present.semi_join(repeated, keys)
    latest = rows.group_by(keys).aggregate(_latest=_order(rows).max())
    latest = latest.select(
        **{f"_vk{i}": latest[key] for i, key in enumerate(keys)}, _latest=latest._latest
    )
    joined = table.left_join(
        latest, [table[key] == latest[f"_vk{i}"] for i, key in enumerate(keys)]
    )
    superseded = ibis.ifelse(
        joined._latest.notnull(), _order(joined) < joined._latest, ibis.literal(False)
    )
    if replaced:
        superseded = superseded | joined._batch_id.isin(replaced)
    return joined.mutate(_is_current=~superseded).select(*table.columns)


def _order(table: ir.Table) -> ir.StringValue:
    # Later period first, then later batch.
    return table._period.concat("#", table._batch_seq.cast("string").lpad(12, "0"))
