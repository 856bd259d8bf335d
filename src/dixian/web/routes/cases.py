"""Case pages: the list (filters, sort, pages, XLSX export), one case with its workflow actions.

Every read and write goes through `dixian.cases.service`, which filters by the user's
jurisdiction in SQL and answers NotFound (404 here) for another jurisdiction's case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dixian.cases import service
from dixian.cases.actor import Actor
from dixian.cases.enums import (
    PRE_DECISION_STATES,
    CaseState,
    MeasureStatus,
    MonitoringObjectType,
)
from dixian.cases.models import User
from dixian.cases.workflow import Transition
from dixian.web.auth import audit
from dixian.web.deps import (
    RecordId,
    actor_for,
    db_session,
    now,
    read_session,
    require,
    settings_of,
)
from dixian.web.exports import cases_workbook
from dixian.web.labels import code_labels, enum_label, measure_status_label
from dixian.web.permissions import Permission, has_permission
from dixian.web.render import render_page, request_locale

router = APIRouter()

PAGE_SIZE = 50
_FIELD_INPUTS = {
    "date": "date",
    "float": "number",
    "int": "number",
    "text": "textarea",
    "bool": "bool",
    "cause": "cause",
    "causes": "causes",
    "object_type": "object_type",
}


def _action_forms(transitions: list[Transition]) -> list[dict[str, Any]]:
    forms = []
    for transition in transitions:
        fields = [
            {"name": name, "kind": _FIELD_INPUTS.get(kind, "text"), "required": True}
            for name, kind in transition.required.items()
        ] + [
            {"name": name, "kind": _FIELD_INPUTS.get(kind, "text"), "required": False}
            for name, kind in (transition.optional or {}).items()
        ]
        forms.append(
            {"action": transition.action, "label_zh": transition.label_zh, "fields": fields}
        )
    return forms


@router.get("/cases", include_in_schema=False)
def case_list(
    request: Request,
    user: Annotated[User, Depends(require(Permission.CASES_READ))],
    state: Annotated[str, Query(max_length=40)] = "",
    region: Annotated[str, Query(pattern=r"^(\d{2,12})?$")] = "",
    overdue: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The cases of the user's jurisdiction."""
    rows = _case_rows(
        request, user, state=state, region=region, overdue=overdue,
        limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    locale = request_locale(request, settings_of(request))
    return render_page(
        request,
        "cases.html",
        {
            "rows": rows[:PAGE_SIZE],
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "filters": {"state": state, "region": region, "overdue": overdue},
            "states": [(s.value, enum_label(s, locale)) for s in CaseState],
            "can_export": has_permission(user.role, Permission.EXPORT),
        },
    )


def _states(state: str) -> list[CaseState] | None:
    if not state:
        return None
    try:
        return [CaseState(state)]
    except ValueError:
        raise HTTPException(status_code=422) from None


def _case_rows(
    request: Request,
    user: User,
    *,
    state: str,
    region: str,
    overdue: bool = False,
    limit: int,
    offset: int = 0,
    export: bool = False,
) -> list[dict[str, Any]]:
    """The user's cases as table rows, filtered and paginated (an export is audited)."""
    states = _states(state)
    today = now(request).date()
    with read_session(request) as session:
        actor = actor_for(request, user)
        cases = service.list_cases(
            session, actor=actor, states=states, region_prefix=region or None,
            overdue_on=today if overdue else None, limit=limit, offset=offset,
        )  # fmt: skip
        rows = [_case_row(case, today) for case in cases]
        if export:
            audit(
                session, actor=actor, event_code="EXPORTED", object_type="case",
                new_values={"rows": len(rows), "format": "xlsx", "state": state, "region": region},
            )  # fmt: skip
    return rows


def _case_row(case: Any, today: date) -> dict[str, Any]:
    household = case.household
    return {
        "id": case.id,
        "household_pk": household.id,
        "household_id": household.household_id,
        "region_code": household.region_code,
        "head_name": household.head_name,
        "state": case.state,
        "object_type": case.object_type,
        "primary_cause": case.primary_cause,
        "opened_on": case.opened_on,
        "decision_due": case.decision_due,
        "overdue": case.state in PRE_DECISION_STATES and case.decision_due < today,
        "version": case.version,
    }


@router.get("/cases/export.xlsx", include_in_schema=False)
def case_export(
    request: Request,
    user: Annotated[User, Depends(require(Permission.EXPORT))],
    state: Annotated[str, Query(max_length=40)] = "",
    region: Annotated[str, Query(pattern=r"^(\d{2,12})?$")] = "",
) -> Response:
    """The filtered case list as an XLSX workbook (rate limited, audited)."""
    _states(state)
    settings = settings_of(request)
    if not request.app.state.limiter.hit(
        f"export:{user.id}", limit=settings.exports_per_user_per_hour, window_seconds=3600
    ):
        raise HTTPException(status_code=429)
    locale = request_locale(request, settings)
    rows = _case_rows(request, user, state=state, region=region, limit=1000, export=True)
    content = cases_workbook(rows, locale=locale)
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="cases.xlsx"'},
    )


@router.get("/cases/{case_id}", include_in_schema=False)
def case_detail(
    request: Request,
    case_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_READ))],
) -> Response:
    """One case: household, state, history, and the actions the user may take."""
    locale = request_locale(request, settings_of(request))
    with read_session(request) as session:
        actor = actor_for(request, user)
        case = service.get_case(session, actor=actor, case_id=case_id)
        actions = (
            service.available_actions(case, actor=actor)
            if has_permission(user.role, Permission.CASES_ACT)
            else []
        )
        context = {
            "case": case,
            "household": case.household,
            "visits": list(case.visits),
            "reviews": list(case.reviews),
            "plans": [(plan, list(plan.measures)) for plan in case.plans],
            "follow_ups": list(case.follow_ups),
            "notes": list(case.notes),
            "action_forms": _action_forms(actions),
            "can_act": has_permission(user.role, Permission.CASES_ACT),
            "assisted": case.state
            in {
                CaseState.MONITORING,
                CaseState.ELIMINATION_PROPOSED,
                CaseState.ELIMINATION_VILLAGE_REVIEWED,
                CaseState.ELIMINATION_TOWNSHIP_REVIEWED,
                CaseState.LONG_TERM_PROTECTION,
            },
            "state_label": enum_label(case.state, locale),
            "object_type_label": enum_label(case.object_type, locale) if case.object_type else "",
            "causes": code_labels("cause", locale),
            "measures": code_labels("measure", locale),
            "object_types": [(m.value, enum_label(m, locale)) for m in MonitoringObjectType],
            "measure_statuses": [(m.value, measure_status_label(m, locale)) for m in MeasureStatus],
            "measure_status_label": lambda s: measure_status_label(s, locale),
            "today": now(request).date().isoformat(),
        }
        return render_page(request, "case.html", context)


def _form_payload(form: dict[str, Any], names: set[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in names:
        if name == "causes":
            values = [v for v in form.get("causes_list", []) if v]
            if values:
                payload[name] = values
            continue
        value = form.get(name)
        if isinstance(value, str) and value.strip() != "":
            payload[name] = value.strip()
    return payload


@router.post("/cases/{case_id}/actions/{action}", include_in_schema=False)
async def case_action(
    request: Request,
    case_id: RecordId,
    action: str,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
) -> Response:
    """Take a workflow action; the service checks role, fields, guards and version."""
    from dixian.cases.workflow import ACTIONS, TRANSITIONS

    if action not in ACTIONS:
        raise HTTPException(status_code=404)
    raw = await request.form(max_files=0, max_fields=100)
    form: dict[str, Any] = {key: raw.get(key) for key in raw}
    form["causes_list"] = raw.getlist("causes")
    names = {
        name
        for t in TRANSITIONS
        if t.action == action
        for name in (*t.required, *(t.optional or {}))
    }
    version = _version(form)
    payload = _form_payload(form, names)
    today = now(request).date()

    def run() -> Response:
        return _act(
            request,
            user,
            case_id,
            lambda session, actor: service.transition_case(
                session, actor=actor, case_id=case_id, action=action, expected_version=version,
                payload=payload, today=today,
            ),
        )  # fmt: skip

    # The form is read asynchronously; the database work runs in the thread pool.
    return await run_in_threadpool(run)


def _version(form: dict[str, Any]) -> int:
    value = form.get("version")
    if not isinstance(value, str) or not value.isdigit():
        raise HTTPException(status_code=422)
    return int(value)


def _act(
    request: Request, user: User, case_id: int, change: Callable[[Session, Actor], object]
) -> Response:
    """Run one change of a case in its own transaction, then show the case again.

    The service checks role, jurisdiction, state and version and writes the audit entry;
    a refusal raises and becomes the error page (409 for a stale form).
    """
    with db_session(request) as session:
        change(session, actor_for(request, user))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/plans", include_in_schema=False)
def case_add_plan(
    request: Request,
    case_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
    version: Annotated[int, Form()],
    summary: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Add an assistance plan."""
    today = now(request).date()
    return _act(
        request,
        user,
        case_id,
        lambda session, actor: service.add_plan(
            session, actor=actor, case_id=case_id, expected_version=version, summary=summary,
            created_on=today,
        ),
    )  # fmt: skip


@router.post("/cases/{case_id}/plans/{plan_id}/measures", include_in_schema=False)
def case_add_measure(
    request: Request,
    case_id: RecordId,
    plan_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
    version: Annotated[int, Form()],
    measure_type: Annotated[str, Form(max_length=40)],
    status: Annotated[MeasureStatus, Form()] = MeasureStatus.PLANNED,
    provider: Annotated[str, Form(max_length=200)] = "",
    cost: Annotated[float | None, Form(ge=0)] = None,
    description: Annotated[str, Form(max_length=2000)] = "",
    on: Annotated[date | None, Form()] = None,
) -> Response:
    """Add a measure to a plan."""
    day = on or now(request).date()

    def change(session: Session, actor: Actor) -> None:
        case = service.get_case(session, actor=actor, case_id=case_id)
        if plan_id not in {plan.id for plan in case.plans}:
            raise HTTPException(status_code=404)
        service.add_measure(
            session, actor=actor, plan_id=plan_id, expected_version=version,
            measure_type=measure_type, provider=provider or None, cost=cost,
            description=description or None, status=status, on=day,
        )  # fmt: skip

    return _act(request, user, case_id, change)


@router.post("/cases/{case_id}/measures/{measure_id}/status", include_in_schema=False)
def case_measure_status(
    request: Request,
    case_id: RecordId,
    measure_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
    version: Annotated[int, Form()],
    status: Annotated[MeasureStatus, Form()],
    on: Annotated[date | None, Form()] = None,
) -> Response:
    """Move a measure to another status."""
    day = on or now(request).date()

    def change(session: Session, actor: Actor) -> None:
        case = service.get_case(session, actor=actor, case_id=case_id)
        if measure_id not in {m.id for plan in case.plans for m in plan.measures}:
            raise HTTPException(status_code=404)
        service.set_measure_status(
            session, actor=actor, measure_id=measure_id, expected_version=version,
            status=status, on=day,
        )  # fmt: skip

    return _act(request, user, case_id, change)


@router.post("/cases/{case_id}/follow-ups", include_in_schema=False)
def case_follow_up(
    request: Request,
    case_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
    version: Annotated[int, Form()],
    period: Annotated[str, Form(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    per_capita_income: Annotated[float, Form(ge=0)],
    monitoring_line: Annotated[float, Form(gt=0)],
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record a monthly follow-up."""
    today = now(request).date()
    return _act(
        request,
        user,
        case_id,
        lambda session, actor: service.record_follow_up(
            session, actor=actor, case_id=case_id, expected_version=version, period=period,
            per_capita_income=per_capita_income, monitoring_line=monitoring_line,
            followed_on=today, notes=notes or None,
        ),
    )  # fmt: skip


@router.post("/cases/{case_id}/notes", include_in_schema=False)
def case_note(
    request: Request,
    case_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
    version: Annotated[int, Form()],
    text: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    """Add a note."""
    return _act(
        request,
        user,
        case_id,
        lambda session, actor: service.add_note(
            session, actor=actor, case_id=case_id, expected_version=version, text=text
        ),
    )
