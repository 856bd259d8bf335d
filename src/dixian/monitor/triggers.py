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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

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
    parse_period(period)
    at_period = panel.filter(panel.period == period)
    with_records = "evidence" in panel.columns
    frames = []
    for rule in rules:
        fields = [field for field in rule.evidence_fields if field in at_period.columns]
        extra = ["evidence"] if with_records else []
        selected = at_period.filter(rule.condition(at_period).fill_null(False)).select(
            "household_id", *dict.fromkeys([*fields, *extra])
        )
        found = selected.to_pandas()
        if found.empty:
            continue
        found["evidence_json"] = [
            _evidence(row, rule, with_records=with_records)
            for row in found.to_dict(orient="records")
        ]
        frames.append(
            pd.DataFrame(
                {
                    "household_id": found["household_id"].astype(str),
                    "trigger_id": rule.id,
                    "label_zh": rule.label_zh,
                    "cause": rule.cause,
                    "always_alert": rule.always_alert,
                    "expression": rule.expression,
                    "evidence": found["evidence_json"],
                }
            )
        )
    if not frames:
        return empty_hits()
    return pd.concat(frames, ignore_index=True)[HIT_COLUMNS]


def empty_hits() -> pd.DataFrame:
    """A hits table with no rows and the right columns."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in HIT_COLUMNS})


def summarise_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """Per household: number of hits, whether any always alerts, trigger ids and labels."""
    if hits.empty:
        return pd.DataFrame(
            columns=["household_id", "trigger_count", "always_alert", "triggers", "trigger_labels"]
        )
    grouped = hits.groupby("household_id", sort=True)
    # Sorted distinct ids and labels per household, by sorting once and splitting (a Python
    # function per group costs seconds at a million households).
    return pd.DataFrame(
        {
            "trigger_count": grouped["trigger_id"].nunique(),
            "always_alert": grouped["always_alert"].any().astype(bool),
            "triggers": _sorted_sets(hits, "trigger_id"),
            "trigger_labels": _sorted_sets(hits, "label_zh"),
        }
    ).reset_index()


def _sorted_sets(hits: pd.DataFrame, column: str) -> pd.Series:
    """Per household (sorted), the sorted distinct values of `column` as a list."""
    pairs = hits[["household_id", column]].drop_duplicates()
    pairs = pairs.sort_values(["household_id", column], kind="stable")
    households = pairs["household_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, households[1:] != households[:-1]])
    pieces = np.split(pairs[column].to_numpy(dtype=object), starts[1:])
    return pd.Series(
        [piece.tolist() for piece in pieces],
        index=pd.Index(households[starts], name="household_id"),
        dtype="object",
    )
