"""What a monitoring run reads from the workspace: the panel, the policy files (monitoring
lines) and the feature list of a saved model's card."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import UserError
from dixian.monitor.features import FeatureSpec

PANEL_TABLE = "household_period"


def open_panel(workspace: Workspace) -> tuple[Any, ir.Table]:
    """The workspace's backend and its panel table.

    Raises:
        UserError: the panel has not been built yet.
    """
    backend = open_backend(workspace)
    if PANEL_TABLE not in backend.list_tables():
        raise UserError(
            f"{workspace.warehouse_path}: no table '{PANEL_TABLE}' (build the panel first: "
            "dixian features --workspace W)"
        )
    return backend, backend.table(PANEL_TABLE)


def load_policies(workspace: Workspace) -> Any:
    from dixian.policy import load_policy_set

    return load_policy_set([workspace.policies_dir])


def monitoring_lines(workspace: Workspace, years: list[int]) -> dict[int, float]:
    """The monitoring line (yuan per person per year) of each year, from the policy files."""
    policy_set = load_policies(workspace)
    province = workspace.config.region.province
    lines = {}
    for year in years:
        value = policy_set.resolve_parameters(province=province, year=year).get("monitoring_line")
        if value is None:
            raise UserError(f"policy parameter 'monitoring_line' has no value for {year}")
        lines[year] = float(value)
    return lines


def features_of_card(card: dict[str, Any]) -> list[FeatureSpec]:
    """The feature specifications a model was trained with, from its card."""
    return [
        FeatureSpec(
            name=item["name"],
            source=item["source"],
            aggregation=item["aggregation"],
            cause=item["cause"],
            monotone=int(item["monotone"]),
            window=int(item.get("window", 12)),
            denominator=item.get("denominator"),
            label_zh=item.get("label_zh", ""),
        )
        for item in card["features"]
    ]
