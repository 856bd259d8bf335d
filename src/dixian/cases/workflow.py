"""The case workflow as data: states, transitions, roles, required fields and guards.

Each `Transition` says from which state an action leads where, who may take it, which
fields it needs and which policy guards must pass. `dixian.cases.service.transition_case`
looks the action up here, checks everything, and applies its effect. A refusal is a
`TransitionRefused` naming the state, the action and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dixian.cases.case_models import Case
from dixian.cases.codes import cause_codes
from dixian.cases.enums import CaseState, MeasureStatus, MonitoringObjectType, Role
from dixian.cases.settings import CaseSettings
from dixian.errors import TransitionRefused

S = CaseState
FieldKind = str  # "date", "float", "int", "bool", "text", "causes", "cause", "object_type"


@dataclass(frozen=True)
class GuardContext:
    """What a guard may look at besides the case: the settings, today, the payload."""

    settings: CaseSettings
    today: date
    payload: Mapping[str, Any]


Guard = Callable[[Case, GuardContext], str | None]


@dataclass(frozen=True)
class Transition:
    """One allowed move of the state machine."""

    action: str
    source: CaseState
    target: CaseState
    roles: frozenset[Role]
    required: Mapping[str, FieldKind]
    guards: tuple[Guard, ...] = ()
    optional: Mapping[str, FieldKind] | None = None
    label_zh: str = ""


def months_between(start: date, end: date) -> int:
    """Whole calendar months from start to end (0 when end is before start)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def months_monitored(case: Case, today: date) -> int:
    """Whole months since the county confirmed the household as a monitoring object."""
    return (
        0
        if case.monitoring_started_on is None
        else months_between(case.monitoring_started_on, today)
    )


def measures_delivered(case: Case) -> int:
    """Measures of the case's plans marked delivered."""
    return sum(
        1 for plan in case.plans for m in plan.measures if m.status == MeasureStatus.DELIVERED
    )


def months_above_line(case: Case) -> int:
    """Consecutive monthly follow-ups above the line, counted back from the latest."""
    run = 0
    expected: str | None = None
    for follow_up in sorted(case.follow_ups, key=lambda f: f.period, reverse=True):
        if expected is not None and follow_up.period != expected:
            break
        if not follow_up.income_above_line:
            break
        run += 1
        expected = _previous_period(follow_up.period)
    return run


def _previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def household_has_labour(case: Case) -> bool | None:
    """Labour as last seen at a visit, else as the warehouse said; None when unknown."""
    if case.visits:
        return case.visits[-1].labour_count > 0
    return case.household.has_labour


# --- guards: each returns None when it passes, else why it refused ---------------------


def _authorisation_on_file(case: Case, ctx: GuardContext) -> str | None:
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from dixian.cases.models import HouseholdAuthorisation

    if ctx.payload.get("authorisation_signed_on") is not None:
        return None
    session = object_session(case)
    found = session is not None and session.scalar(
        select(HouseholdAuthorisation.id).where(
            HouseholdAuthorisation.household_pk == case.household_pk
        )
    )
    if found:
        return None
    return "the household's signed authorisation (农户承诺授权) is not on file"


def _notice_long_enough(case: Case, ctx: GuardContext) -> str | None:
    start, end = ctx.payload["notice_start"], ctx.payload["notice_end"]
    days = (end - start).days + 1
    if days < ctx.settings.public_notice_min_days:
        return (
            f"the public notice (公示) ran {days} days, at least "
            f"{ctx.settings.public_notice_min_days} are required"
        )
    if end > ctx.payload["decided_on"]:
        return "the review cannot be decided before the public notice has ended"
    return None


def _causes_valid(case: Case, ctx: GuardContext) -> str | None:
    causes = list(ctx.payload["causes"])
    primary = ctx.payload["primary_cause"]
    if primary not in causes:
        return f"the primary cause '{primary}' is not among the causes {causes}"
    return None


def _labour_present(case: Case, ctx: GuardContext) -> str | None:
    if household_has_labour(case) is False:
        return (
            "the household has no labour: it cannot be marked risk eliminated; "
            "use 'transfer_to_long_term_protection' (纳入兜底保障) instead"
        )
    return None


def _monitored_long_enough(case: Case, ctx: GuardContext) -> str | None:
    months = months_monitored(case, ctx.today)
    needed = ctx.settings.elimination_min_months_monitored
    if months < needed:
        return f"monitored for {months} months, at least {needed} are required"
    return None


def _measure_delivered(case: Case, ctx: GuardContext) -> str | None:
    count = measures_delivered(case)
    needed = ctx.settings.elimination_min_measures_delivered
    if count < needed:
        return f"{count} assistance measures delivered, at least {needed} required"
    return None


def _income_above_line_long_enough(case: Case, ctx: GuardContext) -> str | None:
    months = months_above_line(case)
    needed = ctx.settings.elimination_min_months_above_line
    if months < needed:
        return (
            f"income above the monitoring line for {months} consecutive months of follow-up, "
            f"at least {needed} are required"
        )
    return None


def _no_labour(case: Case, ctx: GuardContext) -> str | None:
    if household_has_labour(case) is not False:
        return "long-term protection (兜底保障) is for households without labour"
    return None


# --- the state machine -----------------------------------------------------------------

_VILLAGE = frozenset({Role.VILLAGE_CASEWORKER})
_TOWNSHIP = frozenset({Role.TOWNSHIP_REVIEWER})
_COUNTY = frozenset({Role.COUNTY_ANALYST})
_VISITORS = frozenset({Role.VILLAGE_CASEWORKER, Role.TOWNSHIP_REVIEWER})

_VISIT_FIELDS: dict[str, FieldKind] = {
    "visited_on": "date",
    "per_capita_income": "float",
    "labour_count": "int",
    "food_clothing_secure": "bool",
    "education_secure": "bool",
    "medical_secure": "bool",
    "housing_secure": "bool",
    "water_secure": "bool",
}
_NOTICE_FIELDS: dict[str, FieldKind] = {
    "decided_on": "date",
    "notice_start": "date",
    "notice_end": "date",
}
_DECISION: dict[str, FieldKind] = {"decided_on": "date"}
_REFUSAL: dict[str, FieldKind] = {"decided_on": "date", "reason": "text"}

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "record_visit", S.DISCOVERED, S.VISITED, _VISITORS, _VISIT_FIELDS,
        (_authorisation_on_file,),
        optional={"annual_expenses": "float", "findings": "text",
                  "authorisation_signed_on": "date", "authorisation_scope": "text",
                  "authorisation_form_sha256": "text"},
        label_zh="入户核实",
    ),
    Transition(
        "village_review", S.VISITED, S.VILLAGE_REVIEWED, _VILLAGE, _NOTICE_FIELDS,
        (_notice_long_enough,), optional={"opinion": "text"}, label_zh="村级民主评议并公示",
    ),
    Transition(
        "township_review", S.VILLAGE_REVIEWED, S.TOWNSHIP_REVIEWED, _TOWNSHIP, _DECISION,
        optional={"opinion": "text"}, label_zh="乡镇审核",
    ),
    Transition(
        "county_confirm", S.TOWNSHIP_REVIEWED, S.MONITORING, _COUNTY,
        {"decided_on": "date", "object_type": "object_type", "causes": "causes",
         "primary_cause": "cause"},
        (_causes_valid,), optional={"opinion": "text"}, label_zh="县级确认为监测对象",
    ),
    Transition("reject", S.DISCOVERED, S.NOT_IDENTIFIED, _VISITORS, _REFUSAL,
               label_zh="核实后不予纳入"),
    Transition("reject", S.VISITED, S.NOT_IDENTIFIED, _VILLAGE, _REFUSAL,
               label_zh="村级评议不予纳入"),
    Transition("reject", S.VILLAGE_REVIEWED, S.NOT_IDENTIFIED, _TOWNSHIP, _REFUSAL,
               label_zh="乡镇审核不予纳入"),
    Transition("reject", S.TOWNSHIP_REVIEWED, S.NOT_IDENTIFIED, _COUNTY, _REFUSAL,
               label_zh="县级不予确认"),
    Transition(
        "propose_elimination", S.MONITORING, S.ELIMINATION_PROPOSED, _VISITORS,
        {"proposed_on": "date"},
        (_labour_present, _monitored_long_enough, _measure_delivered,
         _income_above_line_long_enough),
        label_zh="提出风险消除",
    ),
    Transition(
        "village_review_elimination", S.ELIMINATION_PROPOSED, S.ELIMINATION_VILLAGE_REVIEWED,
        _VILLAGE, _NOTICE_FIELDS, (_notice_long_enough,), optional={"opinion": "text"},
        label_zh="风险消除村级评议并公示",
    ),
    Transition(
        "township_review_elimination", S.ELIMINATION_VILLAGE_REVIEWED,
        S.ELIMINATION_TOWNSHIP_REVIEWED, _TOWNSHIP, _DECISION, optional={"opinion": "text"},
        label_zh="风险消除乡镇审核",
    ),
    Transition(
        "county_confirm_elimination", S.ELIMINATION_TOWNSHIP_REVIEWED, S.RISK_ELIMINATED,
        _COUNTY, _DECISION, (_labour_present,), optional={"opinion": "text"},
        label_zh="县级确认风险消除",
    ),
    Transition("reject_elimination", S.ELIMINATION_PROPOSED, S.MONITORING, _VILLAGE, _REFUSAL,
               label_zh="村级评议不同意消除"),
    Transition("reject_elimination", S.ELIMINATION_VILLAGE_REVIEWED, S.MONITORING, _TOWNSHIP,
               _REFUSAL, label_zh="乡镇审核不同意消除"),
    Transition("reject_elimination", S.ELIMINATION_TOWNSHIP_REVIEWED, S.MONITORING, _COUNTY,
               _REFUSAL, label_zh="县级不同意消除"),
    Transition(
        "transfer_to_long_term_protection", S.MONITORING, S.LONG_TERM_PROTECTION, _COUNTY,
        _REFUSAL, (_no_labour,), label_zh="无劳动能力，纳入兜底保障",
    ),
)  # fmt: skip

ACTIONS: frozenset[str] = frozenset(t.action for t in TRANSITIONS)


def transitions_from(state: CaseState) -> list[Transition]:
    """Every transition leaving a state."""
    return [t for t in TRANSITIONS if t.source == state]


def find_transition(state: CaseState, action: str) -> Transition:
    """The transition for an action in a state.

    Raises:
        TransitionRefused: unknown action, or not possible in this state.
    """
    if action not in ACTIONS:
        raise TransitionRefused(
            f"unknown action '{action}'; known actions: {', '.join(sorted(ACTIONS))}"
        )
    for transition in transitions_from(state):
        if transition.action == action:
            return transition
    possible = sorted({t.action for t in transitions_from(state)}) or ["none: the case is closed"]
    raise TransitionRefused(
        f"case in state '{state}' ({state.zh}): action '{action}' is not possible here; "
        f"possible: {', '.join(possible)}"
    )


def coerce_payload(
    transition: Transition, state: CaseState, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """Check and convert the fields an action needs; unknown fields are refused.

    Raises:
        TransitionRefused: a required field is missing, a value has the wrong form, or a
            field is not part of this action.
    """
    fields = {**transition.required, **(transition.optional or {})}
    unknown = sorted(set(payload) - set(fields))
    prefix = f"case in state '{state}': action '{transition.action}'"
    if unknown:
        raise TransitionRefused(f"{prefix}: unexpected field(s) {', '.join(unknown)}")
    result: dict[str, Any] = {}
    for name, kind in fields.items():
        value = payload.get(name)
        if value is None or value == "":
            if name in transition.required:
                raise TransitionRefused(f"{prefix}: needs field '{name}' ({kind})")
            continue
        try:
            result[name] = _coerce(kind, value)
        except (TypeError, ValueError) as exc:
            raise TransitionRefused(f"{prefix}: field '{name}': {exc}") from exc
    return result


def _coerce(kind: FieldKind, value: Any) -> Any:
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind == "float":
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if kind == "bool":
        return _coerce_bool(value)
    if kind == "text":
        return str(value).strip()
    if kind == "object_type":
        try:
            return MonitoringObjectType(str(value))
        except ValueError:
            options = ", ".join(f"{m.value} ({m.zh})" for m in MonitoringObjectType)
            raise ValueError(f"expected one of {options}") from None
    if kind == "cause":
        return _coerce_cause(value)
    if kind == "causes":
        items = value.split(",") if isinstance(value, str) else list(value)
        causes = [_coerce_cause(item) for item in items]
        if not causes:
            raise ValueError("expected at least one cause")
        return list(dict.fromkeys(causes))
    raise ValueError(f"unknown field kind {kind}")


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "是", "y"}:
        return True
    if text in {"false", "no", "0", "否", "n"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _coerce_cause(value: Any) -> str:
    code = str(value).strip()
    known = cause_codes()
    if code not in known:
        raise ValueError(f"'{code}' is not a cause code of the data standard")
    return code
