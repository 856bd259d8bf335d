"""The dashboard: KPIs, monthly trend, causes, a village map coloured by open cases, townships."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from dixian.cases.models import User
from dixian.web.dashboard import region_names
from dixian.web.dashboard_cache import DashboardData, dashboard_data
from dixian.web.deps import actor_for, now, read_session, require, settings_of
from dixian.web.i18n import translate
from dixian.web.labels import code_labels
from dixian.web.permissions import Permission
from dixian.web.render import render_page, request_locale
from dixian.web.warehouse import file_stamp

router = APIRouter()


def _reference_dir(request: Request) -> Any:
    return request.app.state.workspace.root / "reference"


def cached_dashboard(request: Request, user: User) -> DashboardData:
    """The figures of the user's jurisdiction, from the app's cache when the data is unchanged."""
    with read_session(request) as session:
        return dashboard_data(
            request.app.state.dashboard_cache,
            request.app.state.change_watermark,
            session,
            actor=actor_for(request, user),
            today=now(request).date(),
            warehouse_path=request.app.state.workspace.warehouse_path,
        )


@router.get("/dashboard", include_in_schema=False)
def dashboard(
    request: Request, user: Annotated[User, Depends(require(Permission.DASHBOARD_VIEW))]
) -> Response:
    """KPIs and charts of the user's jurisdiction."""
    locale = request_locale(request, settings_of(request))
    data = cached_dashboard(request, user)
    figures, alerts = data.figures, data.warehouse.alerts_by_period
    cause_counts, causes_caption = figures.causes, translate(locale, "dashboard.causes_cases")
    if not cause_counts:
        # Cases carry a cause only once the county confirms them; until then the current
        # alerts' primary causes keep a fresh workspace's chart from being empty.
        alert_period, cause_counts = data.warehouse.alert_period, data.warehouse.alert_causes
        if alert_period is not None:
            causes_caption = translate(locale, "dashboard.causes_alerts", period=alert_period)
    causes = code_labels("cause", locale)
    names = region_names(_reference_dir(request))
    has_map = (_reference_dir(request) / "villages.geojson").is_file()
    charts = {
        "trend": {
            "labels": figures.months,
            "series": [
                {
                    "name": translate(locale, "dashboard.discoveries"),
                    "values": figures.discoveries_by_month,
                },
                {
                    "name": translate(locale, "dashboard.monitored"),
                    "values": figures.monitored_by_month,
                },
            ]
            + (
                [
                    {
                        "name": translate(locale, "nav.alerts"),
                        "values": [alerts.get(month, 0) for month in figures.months],
                    }
                ]
                if alerts
                else []
            ),
        },
        "causes": {
            "labels": [causes.get(code, code) for code, _ in cause_counts],
            "values": [count for _, count in cause_counts],
        },
        "map": {
            "map": "villages",
            "geojsonUrl": "/dashboard/villages.geojson",
            "nameProperty": "region_code",
            "values": [
                {"name": code, "value": count} for code, count in figures.by_village.items()
            ],
        },
    }
    townships = [
        {**row, "name": names.get(row["code"] + "000", row["code"])} for row in figures.townships
    ]
    return render_page(
        request,
        "dashboard.html",
        {
            "kpis": figures.kpis,
            "charts": charts,
            "townships": townships,
            "has_map": has_map,
            "period": figures.period,
            "period_source": figures.period_source,
            "causes_caption": causes_caption,
            "monitored_source": figures.monitored_source,
        },
    )


@router.get("/dashboard/villages.geojson", include_in_schema=False)
def villages_geojson(
    request: Request, user: Annotated[User, Depends(require(Permission.DASHBOARD_VIEW))]
) -> Response:
    """The villages of the user's jurisdiction from the public reference GeoJSON."""
    path = _reference_dir(request) / "villages.geojson"
    if not path.is_file():
        raise HTTPException(status_code=404)
    # Parsed and filtered once per jurisdiction and file version: a county's file is megabytes.
    body = request.app.state.dashboard_cache.get(
        ("villages", user.jurisdiction, file_stamp(path)),
        lambda: _villages_within(path, user.jurisdiction),
    )
    return Response(body, media_type="application/geo+json")


def _villages_within(path: Path, prefix: str) -> bytes:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = [
        f
        for f in data.get("features", [])
        if str(f.get("properties", {}).get("region_code", "")).startswith(prefix)
    ]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
