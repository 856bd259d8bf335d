"""Case pages: the list (filters, sort, pages, XLSX export), one case with its workflow actions.

Every read and write goes through `dixian.cases.service`, which filters by the user's
jurisdiction in SQL and answers NotFound (404 here) for another jurisdiction's case. The
changes (the form POSTs) are in `case_changes.py`, whose router this one includes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from dixian.cases import service
from dixian.cases.enums import (
    PRE_DECISION_STATES,
    CaseState,
    MeasureStatus,
    MonitoringObjectType,
)
from dixian.cases.models import User
from dixian.cases.workflow import Transition
from dixian.web.auth import audit
from dixian.web.deps import RecordId, actor_for, now, read_session, require, settings_of
from dixian.web.exports import cases_workbook
from dixian.web.labels import code_labels, enum_label, measure_status_label
from dixian.web.permissions import Permission, has_permission
from dixian.web.render import render_page, request_locale
from dixian.web.routes import case_changes

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


# After the pages, so that the routes keep their order: list, export, detail, then changes.
router.include_router(case_changes.router)
