"""Results of verification: per condition, per program, and problem leads, with evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A household's standing for one program."""

    ELIGIBLE = "eligible"  # 符合
    NOT_ELIGIBLE = "not_eligible"  # 不符合
    NEEDS_REVIEW = "needs_review"  # 需人工核实


class Outcome(StrEnum):
    """A condition's outcome on a household."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"  # a value it needs is missing


STATUS_ZH = {
    Status.ELIGIBLE: "符合条件",
    Status.NOT_ELIGIBLE: "不符合条件",
    Status.NEEDS_REVIEW: "需人工核实",
}


@dataclass(frozen=True)
class ConditionResult:
    """One condition on one household: outcome, the values, the threshold, the records."""

    id: str
    label_zh: str
    label_en: str
    expression: str
    outcome: Outcome
    value: Any = None
    threshold: Any = None
    fields: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    records: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProgramResult:
    """One household's verification for one program."""

    household_id: str
    period: str
    region_code: str | None
    program: str
    label_zh: str
    status: Status
    is_beneficiary: bool | None
    conditions: tuple[ConditionResult, ...]
    review: tuple[ConditionResult, ...] = ()

    @property
    def failed(self) -> list[ConditionResult]:
        """The conditions the household fails."""
        return [c for c in self.conditions if c.outcome is Outcome.FAIL]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (enums as their values)."""
        return asdict(self)


@dataclass(frozen=True)
class ProblemLead:
    """A current beneficiary who fails conditions of their program (问题线索)."""

    household_id: str
    period: str
    region_code: str | None
    program: str
    strength: float
    kinds: tuple[str, ...]
    reasons_zh: tuple[str, ...]
    evidence: tuple[ConditionResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


def decide_status(conditions: list[ConditionResult], review_fired: bool) -> Status:
    """The program status from condition outcomes: any fail, else any unknown or review."""
    outcomes = {c.outcome for c in conditions}
    if Outcome.FAIL in outcomes:
        return Status.NOT_ELIGIBLE
    if Outcome.UNKNOWN in outcomes or review_fired:
        return Status.NEEDS_REVIEW
    return Status.ELIGIBLE


def lead_strength(strengths: list[float]) -> float:
    """Combined evidence strength of independent findings: 1 - prod(1 - s) (noisy-or)."""
    remaining = 1.0
    for strength in strengths:
        remaining *= 1.0 - strength
    return round(1.0 - remaining, 6)
