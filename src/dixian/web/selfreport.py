"""Resident self-report (农户自主申报): a public form that records a self-report discovery.

The resident is not a user, so the discovery is recorded by the public-form principal (the
system role, limited to the county) with the client address in the audit entry. The
household is not known to the form: a new placeholder household (`self-report:<random>`) is
created in the chosen village, and the caseworker who visits links it to the registered
household. Submissions are rate limited per client address (WEB-06).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from dixian.cases import service
from dixian.cases.actor import SYSTEM_ROLE, Actor
from dixian.cases.enums import Channel


@dataclass(frozen=True)
class SelfReport:
    """What a resident tells: where, who, what difficulty."""

    village_code: str
    head_name: str
    category: str
    description: str
    member_count: int | None = None


def submit_self_report(
    session: Session,
    *,
    report: SelfReport,
    county: str,
    today: date,
    ip: str,
    request_id: str | None,
) -> int:
    """Record the report as a self-report discovery; returns the case id it opened or joined."""
    actor = Actor(
        user_id=None,
        username="public:self-report",
        role=SYSTEM_ROLE,
        jurisdiction=county,
        source_ip=ip,
        request_id=request_id,
    )
    household_id = f"self-report:{secrets.token_hex(8)}"
    result = service.record_discoveries(
        session,
        actor=actor,
        discoveries=[
            service.DiscoveryInput(
                household_id=household_id,
                region_code=report.village_code,
                period=f"{today.year:04d}-{today.month:02d}",
                channel=Channel.SELF_REPORT,
                discovered_on=today,
                evidence={"category": report.category, "description": report.description},
                source="self-report form",
                head_name=report.head_name,
                member_count=report.member_count,
            )
        ],
    )
    return result.case_ids[0]
