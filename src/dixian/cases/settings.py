"""Workflow settings: deadlines and risk-elimination thresholds (sourced in parameters.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dixian.config import Workspace
from dixian.errors import ConfigError

DEADLINE_ENV_VAR = "DIXIAN_CASE_DECISION_DAYS"


@dataclass(frozen=True)
class CaseSettings:
    """Numbers the workflow enforces; every one is a setting, not a constant in the rules.

    Defaults: ≤ 15 days from risk clue to identification (Qin'an county; Hainan allows 20
    working days); village public notice ≥ 5 days; risk elimination after ≥ 6 months
    monitored, ≥ 1 measure delivered and income above the line for ≥ 6 months (Yijiang,
    Zongyang and Hainan rules); audit retention from dixian.toml (≥ 184 days).
    """

    decision_deadline_days: int = 15
    public_notice_min_days: int = 5
    elimination_min_months_monitored: int = 6
    elimination_min_measures_delivered: int = 1
    elimination_min_months_above_line: int = 6
    audit_retention_days: int = 1095

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> CaseSettings:
        """Settings of a workspace ([cases] in dixian.toml); the environment may override the
        deadline."""
        deadline = workspace.config.cases.decision_deadline_days
        raw = os.environ.get(DEADLINE_ENV_VAR)
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= 90:
                raise ConfigError(f"${DEADLINE_ENV_VAR}: expected a number of days 1..90")
            deadline = int(raw)
        return cls(
            decision_deadline_days=deadline,
            public_notice_min_days=workspace.config.cases.public_notice_min_days,
            audit_retention_days=workspace.config.cases.audit_retention_days,
        )
