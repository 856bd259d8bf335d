"""Data quality (county analyst) and de-identified assistance needs (helper organisations)."""

from __future__ import annotations

from typing import Annotated

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from dixian.cases.models import User
from dixian.web.auth import audit
from dixian.web.deps import actor_for, db_session, require, settings_of
from dixian.web.labels import code_labels
from dixian.web.linkage import open_review_items
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
    with db_session(request) as session:
        rows = needs_table(session, actor=actor_for(request, user))
    return render_page(
        request, "needs.html", {"rows": rows, "causes": code_labels("cause", locale)}
    )


@router.get("/linkage", include_in_schema=False)
def linkage_queue(
    request: Request, user: Annotated[User, Depends(require(Permission.LINKAGE_REVIEW))]
) -> Response:
    """Record pairs waiting for a person's decision (关联复核)."""
    items = open_review_items(request.app.state.workspace.warehouse_path)
    return render_page(request, "linkage.html", {"items": items})


@router.post("/linkage/{review_id}", include_in_schema=False)
def linkage_decide(
    request: Request,
    review_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
    user: Annotated[User, Depends(require(Permission.LINKAGE_REVIEW))],
    decision: Annotated[str, Form(pattern=r"^(match|non_match)$")],
) -> Response:
    """Record a decision; the next `dixian link` run applies it (audited)."""
    from dixian.link.review import decide_review

    try:
        decide_review(
            request.app.state.workspace, review_id, decision=decision, reviewer=user.username
        )
    except duckdb.Error as exc:  # the pipeline holds the warehouse's write lock
        raise HTTPException(status_code=503) from exc
    with db_session(request) as session:
        audit(
            session,
            actor=actor_for(request, user),
            event_code="LINKAGE_REVIEWED",
            object_type="link_review",
            object_id=review_id,
            new_values={"decision": decision},
        )
    return RedirectResponse("/linkage", status_code=303)


@router.get("/verify", include_in_schema=False)
def verify_form(
    request: Request, user: Annotated[User, Depends(require(Permission.VERIFY))]
) -> Response:
    """The form for verifying one application (家庭经济状况核对)."""
    return render_page(request, "verify.html", {"result": None, "form": {}})


@router.post("/verify", include_in_schema=False)
async def verify_submit(
    request: Request, user: Annotated[User, Depends(require(Permission.VERIFY))]
) -> Response:
    """Verify the application against the department records; show decision and evidence."""
    from starlette.concurrency import run_in_threadpool

    from dixian.web.verification import declaration_from_form, result_view, verify_for_user

    raw = await request.form(max_files=0, max_fields=40)
    form = {key: str(value) for key, value in raw.items() if isinstance(value, str)}
    declaration = declaration_from_form(form)
    workspace = request.app.state.workspace

    def run() -> dict[str, object]:
        result = verify_for_user(workspace, declaration, jurisdiction=user.jurisdiction)
        view = result_view(result)
        with db_session(request) as session:
            audit(
                session,
                actor=actor_for(request, user),
                event_code="APPLICATION_VERIFIED",
                object_type="household",
                object_id=result.household_id,
                new_values={
                    "application_id": result.application_id,
                    "period": result.period,
                    "statuses": {p["program"]: p["status"] for p in view["on_records"]},
                    "discrepancies": len(result.discrepancies),
                },
            )
        return view

    view = await run_in_threadpool(run)
    safe_form = {k: v for k, v in form.items() if k not in {"members", "csrf_token"}}
    return render_page(request, "verify.html", {"result": view, "form": safe_form})
