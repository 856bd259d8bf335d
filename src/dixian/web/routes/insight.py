"""Data quality (county analyst) and de-identified assistance needs (helper organisations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dixian.cases.models import User
from dixian.web.deps import actor_for, database, require, settings_of
from dixian.web.labels import code_labels
from dixian.web.needs import needs_table
from dixian.web.permissions import Permission
from dixian.web.render import render_page, request_locale
from dixian.web.warehouse import summarise_warehouse

router = APIRouter()


@router.get("/data-quality", include_in_schema=False)
def data_quality(
    request: Request, user: Annotated[User, Depends(require(Permission.DATA_QUALITY_READ))]
) -> Response:
    """Warehouse tables, quarantine reasons and ingest batches."""
    summary = summarise_warehouse(request.app.state.workspace.warehouse_path)
    return render_page(request, "data_quality.html", {"summary": summary})


@router.get("/needs", include_in_schema=False)
def needs(
    request: Request, user: Annotated[User, Depends(require(Permission.NEEDS_READ))]
) -> Response:
    """Open needs by township and cause, with small counts suppressed."""
    locale = request_locale(request, settings_of(request))
    with database(request).session() as session:
        rows = needs_table(session, actor=actor_for(request, user))
    return render_page(
        request, "needs.html", {"rows": rows, "causes": code_labels("cause", locale)}
    )
