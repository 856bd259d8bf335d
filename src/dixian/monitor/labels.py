"""Forward labels: did the household fall within the horizon after P?

The department data's own inclusion test (`below_line_target`, in `features`) and the official
identification as a monitoring object (`monitoring_object_target`, from the poverty registry)
are both outcomes the pipeline observes in later periods; `combine_labels` turns them into the
training label. The simulator's truth is never read here (only `dixian evaluate` reads it).
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dixian.monitor.features import parse_period, period_index

Target = str | Callable[[ir.Table], ir.BooleanValue]


def monitoring_object_target(table: ir.Table) -> ir.BooleanValue:
    """The household is a monitoring object (监测对象) that month, per the poverty registry.

    Identification follows a household visit and an income check by village and township, so a
    household that becomes a monitoring object is the pipeline's own evidence of a real fall.
    Panels without `registry_status` (e.g. a bring-your-own table) never hold it.
    """
    if "registry_status" not in table.columns:
        return ibis.literal(False)
    return (table.registry_status.cast("string") == "monitored").fill_null(False)


def _target_value(table: ir.Table, target: Target) -> ir.BooleanValue:
    if isinstance(target, str):
        return table[target].cast("float64") > 0
    return target(table)


def build_labels(
    panel: ir.Table,
    *,
    period: str,
    target: Target,
    horizon: int = 12,
    identified: Target | None = None,
) -> ir.Table:
    """The forward label of each household present in `period`.

    `label` is 1 if the target (a 0/1 panel column, or a boolean expression over panel rows such
    as `below_line_target`) holds in any month of (P, P + horizon];
    `at_period` says whether it already holds at P (such households are usually left out of
    training: they have already fallen, there is nothing to predict);
    `months_to_event` is the number of months from P to the first such month (null if none);
    `observed_months` counts the months of the horizon the household appears in.
    With `identified` (e.g. `monitoring_object_target`) the same three figures are added for it
    as `identified_label`, `identified_at_period` and `identified_months`.

    Args:
        panel: the household-period panel.
        period: the as-of period P.
        target: a 0/1 panel column name, or a function of the panel rows giving a boolean.
        horizon: months ahead.
        identified: a second target, the official identification (see `combine_labels`).
    """
    index = parse_period(period)
    indexed = panel.mutate(_pidx=period_index(panel))
    now = indexed.filter(indexed._pidx == index)
    ahead = indexed.filter((indexed._pidx > index) & (indexed._pidx <= index + horizon))
    targets = {"": target} if identified is None else {"": target, "identified_": identified}
    present_aggregates: dict[str, ir.Value] = {}
    forward_aggregates: dict[str, ir.Value] = {"observed_months": ahead.count()}
    for prefix, rule in targets.items():
        present_aggregates[f"{prefix}at_period"] = (
            _target_value(now, rule).fill_null(False).cast("int64").max()
        )
        hit = _target_value(ahead, rule).fill_null(False)
        forward_aggregates[f"{prefix}label"] = hit.cast("int64").max()
        forward_aggregates[f"_{prefix}first"] = ahead._pidx.min(where=hit)
    present = now.group_by("household_id").aggregate(**present_aggregates)
    forward = ahead.group_by("household_id").aggregate(**forward_aggregates)
    joined = present.left_join(forward, "household_id")
    columns: dict[str, ir.Value] = {
        "household_id": present.household_id,
        "period": ibis.literal(period),
    }
    for prefix in targets:
        months = "months_to_event" if not prefix else f"{prefix}months"
        columns[f"{prefix}label"] = joined[f"{prefix}label"].fill_null(0).cast("int64")
        columns[f"{prefix}at_period"] = present[f"{prefix}at_period"].cast("int64")
        columns[months] = (joined[f"_{prefix}first"] - index).cast("int64")
    columns["observed_months"] = joined.observed_months.fill_null(0).cast("int64")
    return joined.select(**columns)


def combine_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows to learn from and their label, from `build_labels` output with `identified`.

    Households that are monitoring objects at P are left out: they are in the case workflow,
    alerts skip them. Otherwise a household falls if it becomes a monitoring object within the
    horizon, or — unless the department data already put it below the line at P — if the
    department data put it below the line within the horizon. For a household already below
    the line by department data, more months below say nothing new (the estimate misses farm
    income and casual work); only the official identification after a visit does.

    Without the `identified_*` columns the old rule applies: rows with `at_period` 0, `label`.
    """
    if "identified_label" not in frame.columns:
        return frame[frame["at_period"] == 0]
    rows = frame[frame["identified_at_period"] == 0].copy()
    below_now = rows["at_period"] == 1
    from_panel = np.where(below_now, 0, rows["label"])
    rows["label"] = np.maximum(from_panel, rows["identified_label"]).astype("int64")
    panel_months = rows["months_to_event"].where(~below_now)
    rows["months_to_event"] = pd.concat([panel_months, rows["identified_months"]], axis=1).min(
        axis=1
    )
    return rows
