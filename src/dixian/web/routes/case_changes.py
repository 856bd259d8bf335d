"""Case changes: workflow actions, assistance plans and measures, follow-ups and notes.

Each change is a form POST that runs in its own transaction through `dixian.cases.service`
(which checks role, jurisdiction, state and version and writes the audit entry) and then
shows the case again. `cases.py` includes this router after its pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dixian.cases import service
from dixian.cases.actor import Actor
from dixian.cases.enums import MeasureStatus
from dixian.cases.models import User
from dixian.web.deps import RecordId, actor_for, db_session, now, require
from dixian.web.permissions import Permission

router = APIRouter()


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
