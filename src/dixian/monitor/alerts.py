"""The alert list: triggers and calibrated risk combined, cut to each jurisdiction's capacity.

Ranking. Each household's priority is `1 − (1 − risk) × Π (1 − w_t)` over its trigger hits t:
a hit counts like independent evidence that raises the probability of need, so a household with
modest model risk but two official triggers moves up, and one with no trigger keeps its risk.
Every trigger weighs `trigger_weight`, unless `trigger_lift` is given (the share of households
with each trigger's hit that fell, over the base rate, on the model's validation period): then a
trigger weighs in proportion to how informative it was — nothing up to lift
`NO_WEIGHT_LIFT` (a disaster declared for a whole village or water rated per village says where,
not who), the full weight from lift `FULL_WEIGHT_LIFT`, linearly between. Equal priorities (isotonic
calibration gives whole bands of households one probability) are ordered by the booster's raw
log-odds (`raw_logodds`, when the scores carry it), which calibration maps monotonically.

Budget. Caseworkers in a jurisdiction (a region-code prefix, by default the 9-digit township)
can visit only so many households a month: the list keeps the `budget` highest priorities per
jurisdiction. With `allocation = "need"` the same total (the sum of the jurisdictions'
budgets) is split between jurisdictions in proportion to their expected need, the sum of the
calibrated risks of the households the budget is for, rounded by largest remainders: for a
county whose visiting teams can move between townships. Triggers marked `always_alert` (e.g.
unsafe housing) alert in addition to the budget, because the policy says such households must
be visited whatever the model says; with `always_counts_toward_budget` they take places of the
budget instead.

Each alert's status against the previous period and the townships' workbook: `alert_report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from dixian.errors import UserError
from dixian.monitor._defaults import DEFAULT_TRIGGER_WEIGHT
from dixian.monitor.triggers import summarise_hits

Allocation = Literal["equal", "need"]
ALLOCATIONS: tuple[Allocation, ...] = ("equal", "need")
TriggerScope = Literal["informative", "all"]
TRIGGER_SCOPES: tuple[TriggerScope, ...] = ("informative", "all")
# A trigger whose households fell this many times as often as all households on the validation
# period weighs fully; graded below it, not cut off: a lift measured on one year moves by a few
# tenths from year to year, and the earlier cut-off at 1.5 switched two triggers (lifts 1.49 and
# 1.50) on and off between counties (bench/RESULTS.md, session 5).
FULL_WEIGHT_LIFT = 2.0
# Up to this lift a trigger does not weigh at all: a few hundred households' fall rate within a
# quarter of the county's is within a year's chance.
NO_WEIGHT_LIFT = 1.25


@dataclass(frozen=True)
class AlertPolicy:
    """How many alerts each jurisdiction gets and how triggers weigh.

    Attributes:
        budget: default alerts per jurisdiction (caseworker capacity for the period).
        jurisdiction_digits: region-code prefix length of a jurisdiction (9: township).
        budgets: prefix → budget overrides for particular jurisdictions.
        trigger_weight: how much one (non-always) trigger hit raises the priority.
        min_priority: households below this priority are not alerted even under budget.
        skip_monitored: households already monitoring objects (`registry_status` monitored)
            are not alerted: they are in the case workflow already.
        always_counts_toward_budget: always-alert households take places of the budget
            (default: they come on top of it).
        allocation: `equal` (each jurisdiction its own budget, the default: capacity is the
            township's caseworkers) or `need` (the jurisdictions' budgets pooled and split in
            proportion to expected need, see `allocate_by_need`).
        trigger_scope: `informative` (the default: a trigger weighs by its lift, see
            `weight_of`) or `all` (every trigger weighs `trigger_weight`).
        trigger_lift: trigger id → lift on the model's validation period (`trigger_lifts`,
            kept in the model card); without it every trigger weighs.
    """

    budget: int = 50
    jurisdiction_digits: int = 9
    budgets: Mapping[str, int] = field(default_factory=dict)
    trigger_weight: float = DEFAULT_TRIGGER_WEIGHT
    min_priority: float = 0.0
    skip_monitored: bool = True
    always_counts_toward_budget: bool = False
    allocation: Allocation = "equal"
    trigger_scope: TriggerScope = "informative"
    trigger_lift: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if self.budget < 0 or any(value < 0 for value in self.budgets.values()):
            raise UserError("alert budget must be 0 or more")
        if not 0 <= self.trigger_weight < 1:
            raise UserError("trigger_weight must be in [0, 1)")
        if not 2 <= self.jurisdiction_digits <= 12:
            raise UserError("jurisdiction_digits must be between 2 and 12")
        if self.trigger_scope not in TRIGGER_SCOPES:
            raise UserError(
                f"trigger scope '{self.trigger_scope}': expected one of {', '.join(TRIGGER_SCOPES)}"
            )
        if self.allocation not in ALLOCATIONS:
            raise UserError(
                f"allocation '{self.allocation}': expected one of {', '.join(ALLOCATIONS)}"
            )

    def budget_of(self, jurisdiction: str) -> int:
        """The budget of one jurisdiction (an override, else the default)."""
        return int(self.budgets.get(jurisdiction, self.budget))

    def weight_of(self, trigger_id: str) -> float:
        """The weight of one trigger's hit in the priority: `trigger_weight`, scaled by the
        trigger's lift from 0 at `NO_WEIGHT_LIFT` to 1 at `FULL_WEIGHT_LIFT` under scope
        `informative`."""
        if self.trigger_scope == "all" or self.trigger_lift is None:
            return self.trigger_weight
        lift = self.trigger_lift.get(trigger_id, 0.0)
        share = min(max((lift - NO_WEIGHT_LIFT) / (FULL_WEIGHT_LIFT - NO_WEIGHT_LIFT), 0.0), 1.0)
        return self.trigger_weight * share


def with_card_lift(policy: AlertPolicy, card: Mapping[str, object]) -> AlertPolicy:
    """The policy with the model card's trigger lifts, unless it has its own."""
    lift = card.get("trigger_lift")
    if policy.trigger_lift is not None or not isinstance(lift, Mapping):
        return policy
    return replace(policy, trigger_lift={str(key): float(value) for key, value in lift.items()})


def trigger_lifts(labels: pd.Series, hits: pd.DataFrame) -> dict[str, float]:
    """Each trigger's lift: the fall rate of households with its hit over the overall rate.

    Args:
        labels: 0/1 outcome indexed by household_id (e.g. the validation period's labels).
        hits: trigger hits of the same period.
    """
    base = float(labels.mean()) if len(labels) else 0.0
    if base <= 0 or hits.empty:
        return {}
    outcome = hits["household_id"].map(labels)
    rates = outcome.groupby(hits["trigger_id"]).mean().dropna()
    return {str(trigger): float(rate / base) for trigger, rate in rates.items()}


def allocate_by_need(need: Mapping[str, float], *, total: int) -> dict[str, int]:
    """Split `total` alerts between jurisdictions in proportion to their need.

    Largest-remainder (Hamilton) rounding: each jurisdiction gets the integer part of its
    share, the places left go to the largest fractional parts (ties by jurisdiction name), so
    the budgets add up to `total` exactly. Without any need the total is split equally.

    Args:
        need: jurisdiction → expected need (e.g. the sum of calibrated risks), 0 or more.
        total: alerts to allocate.
    """
    names = sorted(need)
    if not names or total <= 0:
        return dict.fromkeys(names, 0)
    weights = np.array([max(float(need[name]), 0.0) for name in names])
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        weights = np.ones(len(names))
    quota = total * weights / weights.sum()
    floors = np.floor(quota).astype(np.int64)
    left = total - int(floors.sum())
    # Largest fractional part first; a stable sort keeps name order among equal remainders.
    order = np.argsort(-(quota - floors), kind="stable")
    floors[order[:left]] += 1
    return {name: int(value) for name, value in zip(names, floors, strict=True)}


def rank_alerts(
    scores: pd.DataFrame,
    hits: pd.DataFrame,
    *,
    policy: AlertPolicy,
    need: NDArray[np.float64] | None = None,
) -> pd.DataFrame:
    """Rank every scored household and mark the alerts within each jurisdiction's budget.

    Args:
        scores: household_id, region_code, risk (calibrated probability), other columns kept.
        hits: trigger hits (`evaluate_triggers` output) of the scored households.
        policy: budgets and weights.
        need: each scored household's expected need for `allocation = "need"` (aligned with
            `scores`; default its risk).

    Returns:
        scores with jurisdiction, trigger_count, always_alert, triggers, trigger_labels,
        priority, rank (within the jurisdiction, 1 = first) and alerted (bool), sorted by
        jurisdiction then rank; households already monitored are left out.
    """
    missing = {"household_id", "region_code", "risk"} - set(scores.columns)
    if missing:
        raise UserError(f"scores lack column(s) {sorted(missing)}")
    summary = summarise_hits(hits)
    table = scores.reset_index(drop=True)
    table["_need"] = table["risk"].astype(float).to_numpy() if need is None else np.asarray(need)
    # Each household's summary row by position (a merge copied and re-sorted a million rows).
    position = _positions(table["household_id"], summary["household_id"])
    found = position >= 0
    counts = np.zeros(len(table), dtype=np.int64)
    counts[found] = summary["trigger_count"].to_numpy(dtype=np.int64)[position[found]]
    always = np.zeros(len(table), dtype=bool)
    always[found] = summary["always_alert"].to_numpy(dtype=bool)[position[found]]
    table["trigger_count"] = counts
    table["always_alert"] = always
    table["triggers"] = _lists_at(summary["triggers"], position)
    table["trigger_labels"] = _lists_at(summary["trigger_labels"], position)
    risk = table["risk"].astype(float).clip(0.0, 1.0).to_numpy()
    # Ties of priority in the booster's order (isotonic steps), else by household id.
    table["_tie"] = (
        table["raw_logodds"].astype(float).fillna(-np.inf).to_numpy()
        if "raw_logodds" in table.columns
        else np.zeros(len(table))
    )
    if "raw_logodds" in table.columns:
        risk = risk_within_bands(risk, table["_tie"].to_numpy())
    table["priority"] = 1.0 - (1.0 - risk) * _trigger_factor(table["household_id"], hits, policy)
    table["jurisdiction"] = table["region_code"].astype(str).str[: policy.jurisdiction_digits]
    monitored = np.zeros(len(table), dtype=bool)
    if policy.skip_monitored and "registry_status" in table.columns:
        monitored = (table["registry_status"].astype("string") == "monitored").fillna(False)
        monitored = monitored.to_numpy(dtype=bool)
    table["already_monitored"] = monitored
    table = table.iloc[np.flatnonzero(~monitored)].reset_index(drop=True)
    table = table.iloc[_ranking_order(table)].reset_index(drop=True)
    # Rows are grouped by jurisdiction now: each row's group starts at the last change before it.
    jurisdiction = table["jurisdiction"].to_numpy(dtype=object)
    row = np.arange(len(table), dtype=np.int64)
    starts_group = np.ones(len(table), dtype=bool)
    starts_group[1:] = jurisdiction[1:] != jurisdiction[:-1]
    start = np.maximum.accumulate(np.where(starts_group, row, 0)) if len(table) else row
    table["rank"] = row - start + 1
    budgets = table["jurisdiction"].map(_budgets(table, policy))
    place = table["rank"]
    if not policy.always_counts_toward_budget:
        # Places among the households the budget is for: those without an always-alert hit.
        counted = np.cumsum(~table["always_alert"].to_numpy(dtype=bool))
        before = np.r_[0, counted][start]
        place = pd.Series(counted - before, index=table.index)
    within = (place <= budgets) & (table["priority"] >= policy.min_priority)
    table["alerted"] = (within | table["always_alert"]).astype(bool)
    return table.drop(columns=["_need", "_tie"])


def risk_within_bands(risk: NDArray[np.float64], raw: NDArray[np.float64]) -> NDArray[np.float64]:
    """The calibrated risk spread inside each band of equal risk, in the booster's raw order,
    from the band's risk up to (not reaching) the next band's.

    Isotonic calibration gives whole bands of households one probability. Ranked on that alone,
    any trigger weight, however small, lifts its households over every other household of the
    band; spread by the model's own order inside the band, a weight moves a household by about
    what it is worth. The top band is not spread (there is no next risk to spread up to).
    """
    order = np.lexsort((raw, risk))
    ordered = risk[order]
    levels, first, size = np.unique(ordered, return_index=True, return_counts=True)
    gap = np.append(np.diff(levels), 0.0)
    position = np.arange(len(ordered)) - np.repeat(first, size)
    spread = ordered + position / np.repeat(size, size) * np.repeat(gap, size)
    result: NDArray[np.float64] = np.empty(len(spread), dtype=np.float64)
    result[order] = spread
    return result


def _trigger_factor(
    households: pd.Series, hits: pd.DataFrame, policy: AlertPolicy
) -> NDArray[np.float64]:
    """Π (1 − w_t) over each household's trigger hits (1 without a hit that weighs)."""
    factor = np.ones(len(households), dtype=np.float64)
    if hits.empty:
        return factor
    triggers = hits["trigger_id"].astype(str)
    weights = triggers.map({trigger: policy.weight_of(trigger) for trigger in triggers.unique()})
    logs = np.log1p(-weights.to_numpy(dtype=np.float64))
    per_household = pd.Series(logs).groupby(hits["household_id"].to_numpy()).sum()
    position = _positions(households, pd.Series(per_household.index))
    found = position >= 0
    factor[found] = np.exp(per_household.to_numpy()[position[found]])
    return factor


def _budgets(table: pd.DataFrame, policy: AlertPolicy) -> dict[str, int]:
    """Each jurisdiction's budget: its own, or its share of the pooled total by need."""
    own = {name: policy.budget_of(name) for name in table["jurisdiction"].unique()}
    if policy.allocation == "equal":
        return own
    # Need is counted among the households the budget is for.
    counted = table
    if not policy.always_counts_toward_budget:
        counted = table[~table["always_alert"].to_numpy(dtype=bool)]
    need = counted.groupby("jurisdiction")["_need"].sum().reindex(list(own), fill_value=0.0)
    return allocate_by_need(need.to_dict(), total=sum(own.values()))


_ORDER = [
    ("jurisdiction", "ascending"),
    ("always_alert", "descending"),
    ("priority", "descending"),
    ("_tie", "descending"),
    ("household_id", "ascending"),
]


def _ranking_order(table: pd.DataFrame) -> NDArray[np.intp]:
    """Row positions by jurisdiction, always-alert first, priority, raw log-odds, household.

    A stable multi-key sort in Arrow: pandas factorised a million household ids to sort them.
    """
    try:
        keys = pa.table({name: pa.array(table[name]) for name, _ in _ORDER})
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed id types: let pandas compare them
        ordered = table.sort_values(
            [name for name, _ in _ORDER],
            ascending=[direction == "ascending" for _, direction in _ORDER],
            kind="stable",
        )
        return np.asarray(ordered.index, dtype=np.intp)
    order: NDArray[np.intp] = pc.sort_indices(keys, sort_keys=_ORDER).to_numpy()
    return order


def _positions(values: pd.Series, keys: pd.Series) -> NDArray[np.intp]:
    """The position of each value among `keys` (distinct), −1 where it is not there."""
    if keys.empty:
        return np.full(len(values), -1, dtype=np.intp)
    try:  # Arrow's hash lookup: pandas' is several times slower on a million strings
        found = pc.index_in(pa.array(values), value_set=pa.array(keys))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return np.asarray(pd.Index(keys).get_indexer(values), dtype=np.intp)
    return np.asarray(found.fill_null(-1).to_numpy(), dtype=np.intp)


def _lists_at(lists: pd.Series, position: NDArray[np.intp]) -> NDArray[np.object_]:
    """The list at each position (a new empty list where the position is -1)."""
    out = np.empty(len(position), dtype=object)
    found = position >= 0
    out[found] = lists.to_numpy(dtype=object)[position[found]]
    for row in np.flatnonzero(~found).tolist():
        out[row] = []
    return out
