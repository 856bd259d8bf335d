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
from sqlalchemy import (
    BindParameter,
    Boolean,
    Float,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from dixian.cases import service
from dixian.cases.audit import mask_id_number
from dixian.cases.case_models import (
    AssistancePlan,
    Case,
    Discovery,
    FollowUp,
    Measure,
    Review,
    Visit,
)
from dixian.cases.models import Household, Person, User
from dixian.web.deps import actor_for, db_session, read_session, require, settings_of
from dixian.web.labels import code_labels, enum_label
from dixian.web.permissions import Permission, has_permission
from dixian.web.render import render_page, request_locale

router = APIRouter()


def household_file(session: Any, household: Household, *, locale: str) -> dict[str, Any]:
    """The household's members (masked) and the timeline of its discoveries and cases.

    Column queries, not ORM objects: a page view builds dictionaries anyway, and loading
    entities (identity map, relationship loaders) was most of the page's CPU. One query per
    collection for all the household's cases, not one per case (N+1); none for the case
    collections when the household has no case.
    """
    hpk = household.id
    members = [
        {
            "person_id": p.person_id,
            "name": p.name,
            "id_number_masked": mask_id_number(p.id_number) if p.id_number else "",
            "sex": p.sex,
            "birth_year": p.birth_date.year if p.birth_date else None,
            "relation_to_head": p.relation_to_head,
        }
        for p in session.execute(_MEMBERS, {"hpk": hpk})
    ]
    events: list[dict[str, Any]] = [
        {
            "date": d.discovered_on,
            "kind": "discovery",
            "text": enum_label(d.channel, locale),
            "period": d.period,
            "risk_score": d.risk_score,
            "evidence": d.evidence,
            "case_id": d.case_id,
        }
        for d in session.execute(_DISCOVERIES, {"hpk": hpk})
    ]
    cases = session.execute(_CASES, {"hpk": hpk}).all()
    if cases:
        events.extend(_case_events(session, hpk))
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


def _case_events(session: Any, hpk: int) -> list[dict[str, Any]]:
    """Visits, reviews, measures and follow-ups of every case of one household (one query)."""
    events: list[dict[str, Any]] = []
    for e in session.execute(_CASE_EVENTS, {"hpk": hpk}):
        kind = _EVENT_KINDS[e.k]
        event: dict[str, Any] = {"date": e.on, "kind": kind, "case_id": e.case_id}
        if kind == "visit":
            event["income"] = e.n1
        elif kind == "review":
            event.update(level=e.s1, approved=e.flag)
        elif kind == "measure":
            event.update(measure_type=e.s1, status=e.s2, cost=e.n1)
        else:
            event.update(period=e.s1, income=e.n1, line=e.n2)
        events.append(event)
    return events


# The household file's statements, built once: SQLAlchemy then finds their compiled form in
# its cache by identity instead of building and hashing a new statement per request.
_HPK: BindParameter[int] = bindparam("hpk", type_=Integer)
_OF_HOUSEHOLD = Case.household_pk == _HPK
_MEMBERS = (
    select(Person.person_id, Person.name, Person.id_number, Person.sex, Person.birth_date,
           Person.relation_to_head)
    .where(Person.household_pk == _HPK)
    .order_by(Person.id)
)  # fmt: skip
_DISCOVERIES = (
    select(Discovery.discovered_on, Discovery.channel, Discovery.period, Discovery.risk_score,
           Discovery.evidence, Discovery.case_id)
    .where(Discovery.household_pk == _HPK)
    .order_by(Discovery.id)
)  # fmt: skip
_CASES = (
    select(Case.id, Case.state, Case.object_type, Case.causes, Case.opened_on)
    .where(_OF_HOUSEHOLD)
    .order_by(Case.id)
)
# The four collections of the household's cases in one statement (one round trip to the
# database instead of four), as columns k (kind), case_id, a and b (ids, for the order), on
# (date), n1 and n2 (numbers), s1 and s2 (texts), flag; the first branch sets the types.
_EVENT_KINDS = {1: "visit", 2: "review", 3: "measure", 4: "follow_up"}


def _typed_null(type_: Any) -> Any:
    return cast(null(), type_)


def _kind(number: int) -> Any:
    return literal_column(str(number), Integer)


_CASE_EVENTS = union_all(
    select(_kind(1).label("k"), Visit.case_id.label("case_id"), Visit.id.label("a"),
           _kind(0).label("b"), Visit.visited_on.label("on"),
           Visit.per_capita_income.label("n1"), _typed_null(Float).label("n2"),
           _typed_null(String).label("s1"), _typed_null(String).label("s2"),
           _typed_null(Boolean).label("flag"))
    .join(Case, Case.id == Visit.case_id).where(_OF_HOUSEHOLD),
    select(_kind(2), Review.case_id, Review.id, _kind(0), Review.decided_on,
           _typed_null(Float), _typed_null(Float), cast(Review.level, String),
           _typed_null(String), Review.approved)
    .join(Case, Case.id == Review.case_id).where(_OF_HOUSEHOLD),
    select(_kind(3), AssistancePlan.case_id, AssistancePlan.id, Measure.id,
           func.coalesce(Measure.delivered_on, Measure.started_on, AssistancePlan.created_on),
           Measure.cost, _typed_null(Float), Measure.measure_type, cast(Measure.status, String),
           _typed_null(Boolean))
    .join(AssistancePlan, AssistancePlan.id == Measure.plan_id)
    .join(Case, Case.id == AssistancePlan.case_id).where(_OF_HOUSEHOLD),
    select(_kind(4), FollowUp.case_id, FollowUp.id, _kind(0), FollowUp.followed_on,
           FollowUp.per_capita_income, FollowUp.monitoring_line, FollowUp.period,
           _typed_null(String), _typed_null(Boolean))
    .join(Case, Case.id == FollowUp.case_id).where(_OF_HOUSEHOLD),
).order_by(literal_column("k"), literal_column("case_id"), literal_column("a"),
           literal_column("b"))  # fmt: skip


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
