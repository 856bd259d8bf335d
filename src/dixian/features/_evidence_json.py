"""The `evidence` column: one JSON object per household-period naming, for each column, the
`_record_id`s of the staged rows behind its value.

The JSON is aggregated from every source record behind every value (about 35 per
household-period); DuckDB cannot spill those string aggregates, so a county-wide build runs out
of memory unless the periods are aggregated a few at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ibis

from dixian.features._columns import KEYS
from dixian.features._intermediates import INTERMEDIATE_PREFIX, materialise

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend


def evidence_json(rows: list[ir.Table], households: ir.Table) -> ir.Table:
    """One JSON object per household-period: column name → the source `_record_id`s."""
    if not rows:
        return households.select(*KEYS, evidence=ibis.literal("{}"))
    union = rows[0]
    for more in rows[1:]:
        union = union.union(more)
    union = union.distinct()
    quoted = union.mutate(quoted=ibis.literal('"') + union._record_id + ibis.literal('"'))
    per_column = quoted.group_by([*KEYS, "column"]).aggregate(ids=quoted.quoted.group_concat(","))
    items = per_column.mutate(
        item=ibis.literal('"')
        + per_column.column
        + ibis.literal('":[')
        + per_column.ids
        + ibis.literal("]")
    )
    per_household = items.group_by(KEYS).aggregate(body=items.item.group_concat(","))
    return per_household.select(
        *KEYS, evidence=ibis.literal("{") + per_household.body + ibis.literal("}")
    )


def evidence_in_steps(
    backend: BaseBackend,
    rows: list[ir.Table],
    members: ir.Table,
    periods: list[str],
    *,
    per_step: int,
    step: Callable[[str], None],
) -> ir.Table:
    """The `evidence` JSON per household-period, aggregated a group of periods at a time.

    Args:
        backend: the connection the intermediate table `evidence` is computed in.
        rows: the evidence rows of every panel part (household_id, period, column, _record_id).
        members: the household-periods of the panel.
        periods: the periods of the build, sorted.
        per_step: about how many household-periods one step aggregates.
        step: called with a short name after each step (progress).
    """
    per_period = max(1, int(members.count().to_pyarrow().as_py()) // max(1, len(periods)))
    size = max(1, per_step // per_period)
    starts = range(0, len(periods), size)
    table: ir.Table | None = None
    for number, start in enumerate(starts, start=1):
        chosen = periods[start : start + size]
        expression = evidence_json(
            [row.filter(row.period.isin(chosen)) for row in rows],
            members.filter(members.period.isin(chosen)),
        )
        if table is None:
            table = materialise(backend, "evidence", expression)
        else:
            backend.insert(f"{INTERMEDIATE_PREFIX}evidence", expression)
        step(f"证据 evidence {number}/{len(starts)}")
    if table is None:
        return materialise(backend, "evidence", evidence_json([], members))
    return table
