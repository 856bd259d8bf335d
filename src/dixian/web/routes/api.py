"""The JSON API under /api/v1: same service layer, same permissions and jurisdiction as pages.

Machine clients obtain a bearer token from `POST /api/v1/auth/token` (password and, when
required, the TOTP code); it is a server-side session with the same idle timeout and
absolute lifetime as a browser's. Browser sessions may call the API too (then CSRF applies).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from dixian.cases import service
from dixian.cases.case_models import Case
from dixian.cases.enums import CaseState
from dixian.cases.models import User
from dixian.web.auth import end_session, sign_in
from dixian.web.deps import (
    RecordId,
    actor_for,
    db_session,
    now,
    read_session,
    request_context,
    require,
    session_token,
    settings_of,
)
from dixian.web.permissions import ROLE_PERMISSIONS, Permission
from dixian.web.routes.dashboard import cached_dashboard
from dixian.web.routes.households import household_file
from dixian.web.schemas import (
    AuditEntryPublic,
    AuditPublic,
    CasePublic,
    CasesPublic,
    DashboardPublic,
    HouseholdPublic,
    MePublic,
    RevealPublic,
    RevealRequest,
    SelfReportPublic,
    SelfReportRequest,
    TokenPublic,
    TokenRequest,
    TransitionRequest,
)
from dixian.web.security import origin_is_foreign
from dixian.web.selfreport import SelfReport, submit_self_report

router = APIRouter(prefix="/api/v1", tags=["api"])

_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "not allowed for this role, or CSRF token missing"},
}


def _refuse_foreign_origin(request: Request) -> None:
    # Public endpoints have no session to bind a CSRF token to; a browser on another site
    # still announces itself through Origin / Sec-Fetch-Site (WEB-02).
    if origin_is_foreign(request):
        raise HTTPException(status_code=403)


def _case_public(case: Case, actions: list[str] | None = None) -> CasePublic:
    return CasePublic(
        id=case.id,
        household_id=case.household.household_id,
        region_code=case.household.region_code,
        state=case.state.value,
        object_type=case.object_type.value if case.object_type else None,
        primary_cause=case.primary_cause,
        causes=list(case.causes or []),
        opened_on=case.opened_on,
        decision_due=case.decision_due,
        version=case.version,
        available_actions=actions or [],
    )


@router.post("/auth/token", response_model=TokenPublic, responses={401: {"description": "refused"}})
def create_token(request: Request, body: TokenRequest) -> TokenPublic:
    """Exchange credentials for a bearer token."""
    _refuse_foreign_origin(request)
    settings = settings_of(request)
    ctx = request_context(request)
    if not request.app.state.limiter.hit(
        f"login-ip:{ctx.ip}", limit=settings.login_attempts_per_ip_per_minute, window_seconds=60
    ):
        raise HTTPException(status_code=429)
    started = now(request)
    with db_session(request) as session:
        result = sign_in(
            session,
            username=body.username,
            password=body.password,
            totp_code=body.totp_code,
            settings=settings,
            now=started,
            ctx=ctx,
        )
    if not result.ok or result.token is None:
        raise HTTPException(status_code=401)
    if result.must_change_password:
        raise HTTPException(status_code=403)
    return TokenPublic(
        token=result.token,
        idle_timeout_seconds=settings.session_idle_seconds,
        expires_at=started + timedelta(seconds=settings.session_absolute_seconds),
    )


@router.delete("/auth/token", status_code=204, responses=_AUTH_RESPONSES)
def delete_token(
    request: Request, user: Annotated[User, Depends(require(Permission.ACCOUNT_SELF))]
) -> Response:
    """End the session of this token."""
    token, _ = session_token(request)
    if token:
        with db_session(request) as session:
            end_session(session, token=token, actor=actor_for(request, user), now=now(request))
    return Response(status_code=204)


@router.get("/me", response_model=MePublic, responses=_AUTH_RESPONSES)
def me(user: Annotated[User, Depends(require(Permission.ACCOUNT_SELF))]) -> MePublic:
    """The signed-in user and their permissions."""
    return MePublic(
        username=user.username,
        display_name=user.display_name,
        role=user.role.value,
        jurisdiction=user.jurisdiction,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS.get(user.role, frozenset())),
    )


@router.get("/cases", response_model=CasesPublic, responses=_AUTH_RESPONSES)
def api_cases(
    request: Request,
    user: Annotated[User, Depends(require(Permission.CASES_READ))],
    state: Annotated[CaseState | None, Query()] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    overdue: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasesPublic:
    """Cases of the user's jurisdiction, newest first, paginated."""
    with read_session(request) as session:
        cases = service.list_cases(
            session,
            actor=actor_for(request, user),
            states=[state] if state else None,
            region_prefix=region,
            overdue_on=now(request).date() if overdue else None,
            limit=page_size + 1,
            offset=(page - 1) * page_size,
        )
        items = [_case_public(c) for c in cases[:page_size]]
    return CasesPublic(items=items, page=page, page_size=page_size, has_next=len(cases) > page_size)


@router.get(
    "/cases/{case_id}",
    response_model=CasePublic,
    responses={**_AUTH_RESPONSES, 404: {"description": "not found"}},
)
def api_case(
    request: Request,
    case_id: RecordId,
    user: Annotated[User, Depends(require(Permission.CASES_READ))],
) -> CasePublic:
    """One case with the workflow actions this user may take."""
    with read_session(request) as session:
        actor = actor_for(request, user)
        case = service.get_case(session, actor=actor, case_id=case_id)
        actions = sorted({t.action for t in service.available_actions(case, actor=actor)})
        return _case_public(case, actions)


@router.post(
    "/cases/{case_id}/transitions",
    response_model=CasePublic,
    responses={
        **_AUTH_RESPONSES,
        404: {"description": "not found"},
        409: {"description": "refused or conflict"},
    },
)
def api_transition(
    request: Request,
    case_id: RecordId,
    body: TransitionRequest,
    user: Annotated[User, Depends(require(Permission.CASES_ACT))],
) -> CasePublic:
    """Take a workflow action; 409 names the state, the action and why when refused."""
    with db_session(request) as session:
        actor = actor_for(request, user)
        case = service.transition_case(
            session,
            actor=actor,
            case_id=case_id,
            action=body.action,
            expected_version=body.expected_version,
            payload=body.payload,
            today=now(request).date(),
        )
        actions = sorted({t.action for t in service.available_actions(case, actor=actor)})
        return _case_public(case, actions)


@router.get(
    "/households/{household_id}",
    response_model=HouseholdPublic,
    responses={**_AUTH_RESPONSES, 404: {"description": "not found"}},
)
def api_household(
    request: Request,
    household_id: str,
    user: Annotated[User, Depends(require(Permission.HOUSEHOLDS_READ))],
) -> HouseholdPublic:
    """The household file with masked ID numbers."""
    with read_session(request) as session:
        household = service.get_household(
            session, actor=actor_for(request, user), household_id=household_id
        )
        data = household_file(session, household, locale="en")
    return HouseholdPublic(
        **data["household"], members=data["members"], cases=data["cases"], timeline=data["timeline"]
    )


@router.post(
    "/households/{household_id}/persons/{person_id}/reveal",
    response_model=RevealPublic,
    responses={**_AUTH_RESPONSES, 404: {"description": "not found"}},
)
def api_reveal(
    request: Request,
    household_id: str,
    person_id: str,
    body: RevealRequest,
    user: Annotated[User, Depends(require(Permission.PI_UNMASK))],
) -> RevealPublic:
    """Reveal one member's full ID number for a stated reason (logged as PI_UNMASKED)."""
    with db_session(request) as session:
        actor = actor_for(request, user)
        household = service.get_household(session, actor=actor, household_id=household_id)
        if person_id not in {p.person_id for p in household.persons}:
            raise HTTPException(status_code=404)
        value = service.reveal_id_number(
            session, actor=actor, person_id=person_id, reason=body.reason
        )
    return RevealPublic(person_id=person_id, id_number=value)


@router.get("/dashboard", response_model=DashboardPublic, responses=_AUTH_RESPONSES)
def api_dashboard(
    request: Request, user: Annotated[User, Depends(require(Permission.DASHBOARD_VIEW))]
) -> DashboardPublic:
    """Dashboard figures of the user's jurisdiction."""
    figures = cached_dashboard(request, user).figures
    return DashboardPublic(
        kpis=figures.kpis,
        months=figures.months,
        period=figures.period,
        discoveries_by_month=figures.discoveries_by_month,
        monitored_by_month=figures.monitored_by_month,
        monitored_source=figures.monitored_source,
        causes=dict(figures.causes),
        townships=figures.townships,
    )


@router.get("/audit", response_model=AuditPublic, responses=_AUTH_RESPONSES)
def api_audit(
    request: Request,
    user: Annotated[User, Depends(require(Permission.AUDIT_READ))],
    event_code: Annotated[str | None, Query(pattern=r"^[A-Z_]{1,40}$")] = None,
    object_type: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 100,
) -> AuditPublic:
    """Audit ledger entries, newest first (audit admin only; the query is itself logged)."""
    with db_session(request) as session:
        entries = service.query_audit_log(
            session,
            actor=actor_for(request, user),
            event_code=event_code,
            object_type=object_type,
            object_id=object_id,
            limit=page_size + 1,
            offset=(page - 1) * page_size,
        )
        items = [
            AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries[:page_size]
        ]
    return AuditPublic(
        items=items, page=page, page_size=page_size, has_next=len(entries) > page_size
    )


@router.post("/self-reports", response_model=SelfReportPublic, status_code=201)
def api_self_report(request: Request, body: SelfReportRequest) -> SelfReportPublic:
    """A resident's self-report (public, rate limited per client address)."""
    from dixian.web.labels import code_labels
    from dixian.web.routes.public import _villages

    _refuse_foreign_origin(request)
    ctx = request_context(request)
    if body.village_code not in dict(_villages(request)) or body.category not in code_labels(
        "cause", "en"
    ):
        raise HTTPException(status_code=422)
    if not request.app.state.limiter.hit(
        f"self-report:{ctx.ip}",
        limit=settings_of(request).self_reports_per_ip_per_hour,
        window_seconds=3600,
    ):
        raise HTTPException(status_code=429)
    with db_session(request) as session:
        case_id = submit_self_report(
            session,
            report=SelfReport(
                body.village_code,
                body.head_name,
                body.category,
                body.description,
                body.member_count,
            ),
            county=request.app.state.workspace.config.region.county,
            today=now(request).date(),
            ip=ctx.ip,
            request_id=ctx.request_id,
        )
    return SelfReportPublic(case_id=case_id)
