"""De-identified assistance needs for helper organisations (企业、社会组织).

Helpers see counts of monitored households by township and primary cause, never a name, a
household id or a village. Counts from 1 to 9 are shown as "<10" (small-cell suppression as
in the security checklist SDC-01; zeros stay visible), so no household can be singled out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.case_models import Case
from dixian.cases.models import Household
from dixian.web.dashboard import OPEN_MONITORING_STATES

SUPPRESSION_THRESHOLD = 10


def protect_count(count: int) -> str:
    """A count as published: 0 stays 0, 1..9 becomes '<10'."""
    if 0 < count < SUPPRESSION_THRESHOLD:
        return f"<{SUPPRESSION_THRESHOLD}"
    return str(count)


def needs_table(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    """Monitored households per township and primary cause, protected."""
    township = func.substr(Household.region_code, 1, 9)
    rows = session.execute(
        select(township, Case.primary_cause, func.count())
        .join(Case.household)
        .where(Household.region_code.startswith(actor.jurisdiction, autoescape=True))
        .where(Case.state.in_(OPEN_MONITORING_STATES))
        .group_by(township, Case.primary_cause)
        .order_by(township, Case.primary_cause)
    ).all()
    return [
        {"township": code, "cause": cause or "other", "households": protect_count(int(n))}
        for code, cause, n in rows
    ]
