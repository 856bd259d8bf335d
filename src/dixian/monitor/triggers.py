"""Triggers (预警触发条件): rules over the panel that flag a household, each hit with evidence.

The trigger logic itself lives in policy files (`dixian.policy`, the `triggers:` section, e.g.
"medical_oop_inpatient_12m >= 20000"); this module only evaluates rules at a period and keeps the
evidence of each hit: the values of every field the rule reads, the rule's expression text and
the panel's source-record pointers for those fields.

A `TriggerRule` holds a compiled condition (a function from the panel table to a boolean Ibis
value), so rules from the policy compiler and rules built in code go through one path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from dixian.monitor.features import parse_period

if TYPE_CHECKING:
    from dixian.policy import PolicySet

HIT_COLUMNS = [
    "household_id",
    "trigger_id",
    "label_zh",
    "cause",
    "always_alert",
    "expression",
    "evidence",
]
_RULE_PREFIX = "_rule_"


@dataclass(frozen=True)
class TriggerRule:
    """One trigger.

    Attributes:
        id: stable identifier (e.g. `medical_inpatient_high`).
        label_zh: what a caseworker reads (e.g. "住院自付累计超过2万元").
        cause: the cause code the trigger points to (its kind).
        always_alert: a hit alerts even beyond the jurisdiction's alert budget.
        condition: the compiled rule: panel table → boolean value per row.
        evidence_fields: panel columns whose values prove the hit.
        expression: the rule's source text, shown with the evidence.
    """

    id: str
    label_zh: str
    cause: str
    always_alert: bool
    condition: Callable[[ir.Table], ir.BooleanValue]
    evidence_fields: tuple[str, ...]
    expression: str = ""


def rules_from_policy(policy_set: PolicySet, *, params: Mapping[str, object]) -> list[TriggerRule]:
    """The monitoring triggers of a policy set (`triggers:` sections), compiled with `params`.

    Args:
        policy_set: from `dixian.policy.load_policy_set`.
        params: parameter values resolved for the province and the period's year.
    """
    from dixian.policy import compile_expression

    rules = []
    for compiled, spec in policy_set.triggers.values():

        def condition(table: ir.Table, expr: Any = compiled.expr) -> ir.BooleanValue:
            value: ir.BooleanValue = compile_expression(expr, table, params=params)
            return value

        rules.append(
            TriggerRule(
                id=compiled.id,
                label_zh=compiled.label_zh,
                cause=spec.cause or "other",
                always_alert=spec.always_alert,
                condition=condition,
                evidence_fields=tuple(compiled.fields),
                expression=compiled.text,
            )
        )
    return rules


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _evidence(row: Mapping[str, Any], rule: TriggerRule, *, with_records: bool) -> str:
    values = {field: _plain(row[field]) for field in rule.evidence_fields if field in row}
    payload: dict[str, Any] = {"values": values}
    if with_records and isinstance(row.get("evidence"), str):
        try:
            pointers = json.loads(row["evidence"])
        except ValueError:
            pointers = {}
        if isinstance(pointers, dict):
            payload["records"] = {
                field: pointers[field] for field in rule.evidence_fields if field in pointers
            }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def trigger_table(panel: ir.Table, rules: Sequence[TriggerRule], *, period: str) -> pa.Table:
    """The households with at least one hit at `period`, from one query for every rule.

    Args:
        panel: the household-period panel.
        rules: the triggers (from the policy files).
        period: the period to evaluate ('YYYY-MM').

    Returns:
        An Arrow table: household_id (string), the fields the rules read, the panel's
        `evidence` record pointers (if the panel has them) and one boolean column per rule,
        `_rule_<i>` for `rules[i]`.
    """
    parse_period(period)
    at_period = panel.filter(panel.period == period)
    flags = {
        f"{_RULE_PREFIX}{index}": rule.condition(at_period).fill_null(False)
        for index, rule in enumerate(rules)
    }
    fields = [field for rule in rules for field in rule.evidence_fields]
    if "evidence" in at_period.columns:
        fields.append("evidence")
    columns = [name for name in dict.fromkeys(fields) if name in at_period.columns]
    columns = [name for name in columns if name != "household_id"]
    if not flags:
        selected = at_period.select("household_id", *columns).limit(0)
    else:
        # Only households with a hit leave the database (fewer rows to move and convert).
        selected = at_period.select(
            household_id=at_period.household_id.cast("string"),
            **{name: at_period[name] for name in columns},
            **flags,
        )
        selected = selected.filter(ibis.or_(*[selected[name] for name in flags]))
    return selected.to_pyarrow()


def collect_hits(
    table: pa.Table,
    rules: Sequence[TriggerRule],
    *,
    households: Collection[str] | None = None,
    evidence: bool = True,
) -> pd.DataFrame:
    """The hits of a `trigger_table`, one row per (household, trigger), in rule order.

    Args:
        table: from `trigger_table` with the same rules.
        rules: the triggers.
        households: only the hits of these households (default: all).
        evidence: build the evidence JSON of each hit (else `evidence` is None). Evidence is
            the costly part at a million households, so the alert list builds it for its own
            households only.

    Returns:
        HIT_COLUMNS, as `evaluate_triggers`.
    """
    if table.num_rows == 0 or not rules:
        return empty_hits()
    ids = np.asarray(table.column("household_id").to_pylist(), dtype=object)
    keep = np.ones(len(ids), dtype=bool)
    if households is not None:
        wanted = pa.array(list(households), type=pa.string())
        keep = pc.is_in(table.column("household_id"), value_set=wanted).to_numpy(
            zero_copy_only=False
        )
    with_records = "evidence" in table.column_names
    frames = []
    for index, rule in enumerate(rules):
        mask = table.column(f"{_RULE_PREFIX}{index}").to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(mask.astype(bool) & keep)
        if not len(rows):
            continue
        texts = None
        if evidence:
            fields = [field for field in rule.evidence_fields if field in table.column_names]
            extra = ["evidence"] if with_records else []
            values = table.select(list(dict.fromkeys([*fields, *extra]))).take(rows).to_pylist()
            texts = [_evidence(row, rule, with_records=with_records) for row in values]
        frames.append(
            pd.DataFrame(
                {
                    "household_id": ids[rows],
                    "trigger_id": rule.id,
                    "label_zh": rule.label_zh,
                    "cause": rule.cause,
                    "always_alert": rule.always_alert,
                    "expression": rule.expression,
                    "evidence": texts,
                }
            )
        )
    if not frames:
        return empty_hits()
    return pd.concat(frames, ignore_index=True)[HIT_COLUMNS]


def evaluate_triggers(
    panel: ir.Table, rules: Sequence[TriggerRule], *, period: str
) -> pd.DataFrame:
    """Every trigger hit of every household at `period`, with its evidence.

    Args:
        panel: the household-period panel.
        rules: the triggers (from the policy files).
        period: the period to evaluate ('YYYY-MM').

    Returns:
        One row per (household, trigger) hit with HIT_COLUMNS; `evidence` is JSON
        `{"values": {field: value}, "records": {field: [_record_id, ...]}}`.
    """
    return collect_hits(trigger_table(panel, rules, period=period), rules)


def empty_hits() -> pd.DataFrame:
    """A hits table with no rows and the right columns."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in HIT_COLUMNS})


def summarise_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """Per household: number of hits, whether any always alerts, trigger ids and labels."""
    if hits.empty:
        return pd.DataFrame(
            columns=["household_id", "trigger_count", "always_alert", "triggers", "trigger_labels"]
        )
    rows, households = pd.factorize(hits["household_id"], sort=True)
    always = np.zeros(len(households), dtype=bool)
    np.logical_or.at(always, rows, hits["always_alert"].to_numpy(dtype=bool))
    triggers, counts = _sorted_sets(rows, hits["trigger_id"], len(households))
    labels, _ = _sorted_sets(rows, hits["label_zh"], len(households))
    return pd.DataFrame(
        {
            "household_id": households,
            "trigger_count": counts,
            "always_alert": always,
            "triggers": triggers,
            "trigger_labels": labels,
        }
    )


def _sorted_sets(
    rows: NDArray[np.intp], values: pd.Series, groups: int
) -> tuple[list[list[Any]], NDArray[np.int64]]:
    """Per group, the sorted distinct values as a list, and how many there are.

    A group's set is a bit mask over the sorted distinct values (policy files hold a few dozen
    triggers at most), so a million households cost a few array operations and a list each
    instead of a sort of every hit by household and value.
    """
    codes, distinct = pd.factorize(values, sort=True)
    names = list(distinct)
    known = codes >= 0  # a missing value is not a member
    rows, codes = rows[known], codes[known]
    if len(names) > 62:
        pairs = pd.DataFrame({"group": rows, "code": codes}).drop_duplicates()
        members = pairs.sort_values(["group", "code"]).groupby("group")["code"].agg(list)
        lists = [[names[code] for code in members.get(group, [])] for group in range(groups)]
        return lists, np.asarray([len(item) for item in lists], dtype=np.int64)
    masks = np.zeros(groups, dtype=np.int64)
    np.bitwise_or.at(masks, rows, np.left_shift(np.int64(1), codes.astype(np.int64)))
    unique_masks, group_mask = np.unique(masks, return_inverse=True)
    decoded = [
        [name for bit, name in enumerate(names) if mask >> bit & 1]
        for mask in unique_masks.tolist()
    ]
    sizes = np.asarray([len(members) for members in decoded], dtype=np.int64)
    # A list of its own per group: a caller may change one household's list.
    return [list(decoded[index]) for index in group_mask.tolist()], sizes[group_mask]
