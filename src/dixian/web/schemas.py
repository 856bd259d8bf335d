"""JSON shapes of the API (/api/v1). Inputs refuse unknown fields (WEB-05)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(_In):
    """Credentials of a machine client (same rules as the sign-in page)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(default=None, max_length=16)


class TokenPublic(BaseModel):
    """A bearer token: an opaque server-side session with idle and absolute expiry."""

    token: str
    token_type: str = "bearer"  # noqa: S105
    idle_timeout_seconds: int
    expires_at: datetime


class MePublic(BaseModel):
    username: str
    display_name: str
    role: str
    jurisdiction: str
    permissions: list[str]


class CasePublic(BaseModel):
    id: int
    household_id: str
    region_code: str
    state: str
    object_type: str | None
    primary_cause: str | None
    causes: list[str]
    opened_on: date
    decision_due: date
    version: int
    available_actions: list[str] = Field(default_factory=list)


class CasesPublic(BaseModel):
    items: list[CasePublic]
    page: int
    page_size: int
    has_next: bool


class TransitionRequest(_In):
    """A workflow action with the version the client saw (optimistic locking)."""

    action: str = Field(min_length=1, max_length=60, pattern=r"^[a-z_]+$")
    expected_version: int = Field(ge=1)
    payload: dict[str, Any] = Field(default_factory=dict)


class MemberPublic(BaseModel):
    person_id: str
    name: str
    id_number_masked: str
    sex: str | None
    birth_year: int | None
    relation_to_head: str | None


class HouseholdPublic(BaseModel):
    household_id: str
    region_code: str
    head_name: str | None
    member_count: int | None
    has_labour: bool | None
    members: list[MemberPublic]
    cases: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


class RevealRequest(_In):
    """Why the full ID number is needed (查看事由); logged with the reveal."""

    reason: str = Field(min_length=2, max_length=200)


class RevealPublic(BaseModel):
    person_id: str
    id_number: str


class DashboardPublic(BaseModel):
    kpis: dict[str, int]
    months: list[str]
    period: str
    discoveries_by_month: list[int]
    monitored_by_month: list[int]
    # "warehouse": registry status per data period; "cases": case monitoring dates.
    monitored_source: str
    causes: dict[str, int]
    townships: list[dict[str, Any]]


class AuditEntryPublic(BaseModel):
    seq: int
    ts: datetime
    actor_name: str
    actor_role: str
    event_code: str
    object_type: str
    object_id: str | None
    outcome: str
    reason: str | None
    source_ip: str | None


class AuditPublic(BaseModel):
    items: list[AuditEntryPublic]
    page: int
    page_size: int
    has_next: bool


class SelfReportRequest(_In):
    """A resident's self-report."""

    village_code: str = Field(pattern=r"^\d{12}$")
    head_name: str = Field(min_length=1, max_length=50)
    category: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=2, max_length=1000)
    member_count: int | None = Field(default=None, ge=1, le=30)


class SelfReportPublic(BaseModel):
    case_id: int
