"""The alert list (预警名单): filters, sort, pages, XLSX export, and its API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from dixian.cases.models import User
from dixian.web.alerts import ALERT_COLUMNS, SORTS, STATUSES, list_alerts
from dixian.web.deps import actor_for, db_session, require, settings_of
from dixian.web.exports import workbook_bytes
from dixian.web.i18n import translate
from dixian.web.labels import code_labels
from dixian.web.permissions import Permission, has_permission
from dixian.web.render import render_page, request_locale

router = APIRouter()
PAGE_SIZE = 50

Period = Annotated[str, Query(pattern=r"^(\d{4}(-\d{2})?)?$")]
Status = Annotated[str, Query(pattern=r"^(new|continuing|resolved)?$")]
Region = Annotated[str, Query(pattern=r"^(\d{2,12})?$")]
Sort = Annotated[str, Query(pattern=r"^(risk|rank|region)$")]


@router.get("/alerts", include_in_schema=False)
def alerts_page(
    request: Request,
    user: Annotated[User, Depends(require(Permission.CASES_READ))],
    period: Period = "",
    status: Status = "",
    region: Region = "",
    sort: Sort = "risk",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Alerts of the user's jurisdiction."""
    result = list_alerts(
        request.app.state.workspace.warehouse_path,
        jurisdiction=user.jurisdiction,
        period=period or None,
        status=status or None,
        region=region or None,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    locale = request_locale(request, settings_of(request))
    return render_page(
        request,
        "alerts.html",
        {
            "result": result,
            "filters": {"period": period, "status": status, "region": region, "sort": sort},
            "statuses": STATUSES,
            "sorts": list(SORTS),
            "page": page,
            "causes": code_labels("cause", locale),
            "can_export": has_permission(user.role, Permission.EXPORT),
        },
    )


@router.get("/alerts/export.xlsx", include_in_schema=False)
def alerts_export(
    request: Request,
    user: Annotated[User, Depends(require(Permission.EXPORT))],
    period: Period = "",
    status: Status = "",
    region: Region = "",
) -> Response:
    """The filtered alert list as XLSX (rate limited, audited)."""
    settings = settings_of(request)
    if not request.app.state.limiter.hit(
        f"export:{user.id}", limit=settings.exports_per_user_per_hour, window_seconds=3600
    ):
        raise HTTPException(status_code=429)
    result = list_alerts(
        request.app.state.workspace.warehouse_path,
        jurisdiction=user.jurisdiction,
        period=period or None,
        status=status or None,
        region=region or None,
        limit=100_000,
    )
    if not result.available:
        raise HTTPException(status_code=404)
    with db_session(request) as session:
        from dixian.web.auth import audit

        audit(
            session,
            actor=actor_for(request, user),
            event_code="EXPORTED",
            object_type="alert",
            new_values={"rows": len(result.rows), "format": "xlsx", "period": period},
        )
    locale = request_locale(request, settings)
    headers = [translate(locale, f"alerts.col.{name}") for name in ALERT_COLUMNS]
    return Response(
        workbook_bytes(ALERT_COLUMNS, headers, result.rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="alerts.xlsx"'},
    )


class AlertsPublic(BaseModel):
    available: bool
    periods: list[str]
    items: list[dict[str, object]]
    page: int
    page_size: int
    has_next: bool


@router.get(
    "/api/v1/alerts",
    response_model=AlertsPublic,
    tags=["api"],
    responses={401: {"description": "not signed in"}, 403: {"description": "not allowed"}},
)
def api_alerts(
    request: Request,
    user: Annotated[User, Depends(require(Permission.CASES_READ))],
    period: Period = "",
    status: Status = "",
    region: Region = "",
    sort: Sort = "risk",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertsPublic:
    """Alerts of the user's jurisdiction (latest period by default), paginated."""
    result = list_alerts(
        request.app.state.workspace.warehouse_path,
        jurisdiction=user.jurisdiction,
        period=period or None,
        status=status or None,
        region=region or None,
        sort=sort,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return AlertsPublic(
        available=result.available,
        periods=result.periods,
        items=result.rows,
        page=page,
        page_size=page_size,
        has_next=result.has_next,
    )
