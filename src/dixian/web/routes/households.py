"""The household file (一户一档): members with masked identifiers, reveal with a reason, timeline.

The household is read through `dixian.cases.service.get_household`, which filters by the
user's jurisdiction (another village's household is a 404, and the attempt is audited).
ID numbers are masked by default; revealing one needs the `pi.unmask` permission and a
stated reason, and writes a `PI_UNMASKED` audit entry (AC-04).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dixian.cases import service
from dixian.cases.audit import mask_id_number
from dixian.cases.case_models import AssistancePlan, Case, Discovery
from dixian.cases.models import Household, User
from dixian.web.deps import actor_for, db_session, read_session, require, settings_of
from dixian.web.labels import code_labels, enum_label
from dixian.web.permissions import Permission, has_permission
from dixian.web.render import render_page, request_locale

router = APIRouter()


def household_file(session: Any, household: Household, *, locale: str) -> dict[str, Any]:
    """The household's members (masked) and the timeline of its discoveries and cases."""
    members = [
        {
            "person_id": p.person_id,
            "name": p.name,
            "id_number_masked": mask_id_number(p.id_number) if p.id_number else "",
            "sex": p.sex,
            "birth_year": p.birth_date.year if p.birth_date else None,
            "relation_to_head": p.relation_to_head,
        }
        for p in household.persons
    ]
    discoveries = list(
        session.scalars(
            select(Discovery).where(Discovery.household_pk == household.id).order_by(Discovery.id)
        )
    )
    # The timeline reads every case's visits, reviews, plans with measures and follow-ups:
    # one query per collection for all cases, not one per case (N+1).
    cases = list(
        session.scalars(
            select(Case)
            .where(Case.household_pk == household.id)
            .order_by(Case.id)
            .options(
                selectinload(Case.visits),
                selectinload(Case.reviews),
                selectinload(Case.plans).selectinload(AssistancePlan.measures),
                selectinload(Case.follow_ups),
            )
        )
    )
    events: list[dict[str, Any]] = []
    for d in discoveries:
        events.append(
            {
                "date": d.discovered_on,
                "kind": "discovery",
                "text": enum_label(d.channel, locale),
                "period": d.period,
                "risk_score": d.risk_score,
                "evidence": d.evidence,
                "case_id": d.case_id,
            }
        )
    for case in cases:
        for v in case.visits:
            events.append(
                {
                    "date": v.visited_on,
                    "kind": "visit",
                    "income": v.per_capita_income,
                    "case_id": case.id,
                }
            )
        for r in case.reviews:
            events.append(
                {
                    "date": r.decided_on,
                    "kind": "review",
                    "level": r.level.value,
                    "approved": r.approved,
                    "case_id": case.id,
                }
            )
        for plan in case.plans:
            for m in plan.measures:
                events.append(
                    {
                        "date": m.delivered_on or m.started_on or plan.created_on,
                        "kind": "measure",
                        "measure_type": m.measure_type,
                        "status": m.status.value,
                        "cost": m.cost,
                        "case_id": case.id,
                    }
                )
        for f in case.follow_ups:
            events.append(
                {
                    "date": f.followed_on,
                    "kind": "follow_up",
                    "period": f.period,
                    "income": f.per_capita_income,
                    "line": f.monitoring_line,
                    "case_id": case.id,
                }
            )
    events.sort(key=lambda e: (e["date"], e["kind"]))
    return {
        "household": {
            "household_id": household.household_id,
            "region_code": household.region_code,
            "head_name": household.head_name,
            "member_count": household.member_count,
            "has_labour": household.has_labour,
        },
        "members": members,
        "cases": [
            {
                "id": c.id,
                "state": c.state.value,
                "state_label": enum_label(c.state, locale),
                "object_type": c.object_type.value if c.object_type else None,
                "causes": list(c.causes or []),
                "opened_on": c.opened_on,
            }
            for c in cases
        ],
        "timeline": events,
    }


@router.get("/households/{household_id}", include_in_schema=False)
def household_page(
    request: Request,
    household_id: str,
    user: Annotated[User, Depends(require(Permission.HOUSEHOLDS_READ))],
) -> Response:
    """The household file."""
    locale = request_locale(request, settings_of(request))
    with read_session(request) as session:
        household = service.get_household(
            session, actor=actor_for(request, user), household_id=household_id
        )
        context = household_file(session, household, locale=locale)
    context["can_unmask"] = has_permission(user.role, Permission.PI_UNMASK)
    context["causes"] = code_labels("cause", locale)
    context["measures"] = code_labels("measure", locale)
    return render_page(request, "household.html", context)


@router.post("/households/{household_id}/persons/{person_id}/reveal", include_in_schema=False)
def reveal(
    request: Request,
    household_id: str,
    person_id: str,
    user: Annotated[User, Depends(require(Permission.PI_UNMASK))],
    reason: Annotated[str, Form(min_length=2, max_length=200)],
) -> Response:
    """Reveal one member's ID number for a stated reason (htmx fragment; logged)."""
    with db_session(request) as session:
        actor = actor_for(request, user)
        household = service.get_household(session, actor=actor, household_id=household_id)
        if person_id not in {p.person_id for p in household.persons}:
            from fastapi import HTTPException

            raise HTTPException(status_code=404)
        value = service.reveal_id_number(session, actor=actor, person_id=person_id, reason=reason)
    return HTMLResponse(
        f'<span class="revealed" data-person="{escape(person_id)}">{escape(value)}</span>'
    )
