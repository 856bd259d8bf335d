"""ORM models of a case: discoveries, cases, visits, reviews, plans, measures, follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dixian.cases.enums import (
    CaseState,
    Channel,
    MeasureStatus,
    MonitoringObjectType,
    ReviewLevel,
    ReviewPurpose,
)
from dixian.cases.models import Base, Household, JsonType, enum_column, utc_now


class Discovery(Base):
    """A risk clue from one of the three channels, with its evidence; opens or joins a case."""

    __tablename__ = "discoveries"
    __table_args__ = (UniqueConstraint("household_pk", "period", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_pk: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    discovered_on: Mapped[date] = mapped_column(Date)
    risk_score: Mapped[float | None] = mapped_column(Float, default=None)
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    source: Mapped[str | None] = mapped_column(String(200), default=None)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    household: Mapped[Household] = relationship()
    case: Mapped[Case | None] = relationship()


class Case(Base):
    """The workflow of one household from discovery to risk elimination (a version-locked row)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_pk: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState), index=True)
    object_type: Mapped[MonitoringObjectType | None] = mapped_column(
        enum_column(MonitoringObjectType), default=None
    )
    primary_cause: Mapped[str | None] = mapped_column(String(40), default=None)
    causes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    opened_on: Mapped[date] = mapped_column(Date)
    decision_due: Mapped[date] = mapped_column(Date, index=True)
    decided_on: Mapped[date | None] = mapped_column(Date, default=None)
    monitoring_started_on: Mapped[date | None] = mapped_column(Date, default=None)
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    # SQLAlchemy adds "AND version = :old" to every UPDATE and raises StaleDataError when a
    # concurrent writer got there first; the service turns that into ConflictError.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    household: Mapped[Household] = relationship()
    visits: Mapped[list[Visit]] = relationship(back_populates="case", order_by="Visit.id")
    reviews: Mapped[list[Review]] = relationship(back_populates="case", order_by="Review.id")
    plans: Mapped[list[AssistancePlan]] = relationship(
        back_populates="case", order_by="AssistancePlan.id"
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="case", order_by="FollowUp.period"
    )
    notes: Mapped[list[Note]] = relationship(back_populates="case", order_by="Note.id")


class Visit(Base):
    """Findings of a home visit (入户核实): income, spending, 两不愁三保障 and water."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    per_capita_income: Mapped[float] = mapped_column(Float)
    annual_expenses: Mapped[float | None] = mapped_column(Float, default=None)
    labour_count: Mapped[int] = mapped_column(Integer)
    food_clothing_secure: Mapped[bool] = mapped_column(Boolean)
    education_secure: Mapped[bool] = mapped_column(Boolean)
    medical_secure: Mapped[bool] = mapped_column(Boolean)
    housing_secure: Mapped[bool] = mapped_column(Boolean)
    water_secure: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[str | None] = mapped_column(Text, default=None)
    authorisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("household_authorisations.id"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    case: Mapped[Case] = relationship(back_populates="visits")


class Review(Base):
    """A village democratic review (with its public notice), township review or county decision."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[ReviewLevel] = mapped_column(enum_column(ReviewLevel))
    purpose: Mapped[ReviewPurpose] = mapped_column(enum_column(ReviewPurpose))
    approved: Mapped[bool] = mapped_column(Boolean)
    decided_on: Mapped[date] = mapped_column(Date)
    opinion: Mapped[str | None] = mapped_column(Text, default=None)
    notice_start: Mapped[date | None] = mapped_column(Date, default=None)
    notice_end: Mapped[date | None] = mapped_column(Date, default=None)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    case: Mapped[Case] = relationship(back_populates="reviews")


class AssistancePlan(Base):
    """An assistance plan (帮扶计划) of a monitored household; holds its measures."""

    __tablename__ = "assistance_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    case: Mapped[Case] = relationship(back_populates="plans")
    measures: Mapped[list[Measure]] = relationship(back_populates="plan", order_by="Measure.id")


class Measure(Base):
    """One assistance measure (帮扶措施) with cost, provider and status."""

    __tablename__ = "measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("assistance_plans.id"), index=True)
    measure_type: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    provider: Mapped[str | None] = mapped_column(String(200), default=None)
    cost: Mapped[float | None] = mapped_column(Float, default=None)
    status: Mapped[MeasureStatus] = mapped_column(enum_column(MeasureStatus))
    started_on: Mapped[date | None] = mapped_column(Date, default=None)
    delivered_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    plan: Mapped[AssistancePlan] = relationship(back_populates="measures")


class FollowUp(Base):
    """A monthly follow-up (跟踪回访) of a monitored household: income against the line."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("case_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    followed_on: Mapped[date] = mapped_column(Date)
    per_capita_income: Mapped[float] = mapped_column(Float)
    monitoring_line: Mapped[float] = mapped_column(Float)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    case: Mapped[Case] = relationship(back_populates="follow_ups")

    @property
    def income_above_line(self) -> bool:
        return self.per_capita_income > self.monitoring_line


class RiskElimination(Base):
    """The evidence behind a risk-elimination proposal (风险消除), fixed when it was made."""

    __tablename__ = "risk_eliminations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    proposed_on: Mapped[date] = mapped_column(Date)
    months_monitored: Mapped[int] = mapped_column(Integer)
    measures_delivered: Mapped[int] = mapped_column(Integer)
    months_above_line: Mapped[int] = mapped_column(Integer)
    confirmed_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Note(Base):
    """A free-text note on a case."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    case: Mapped[Case] = relationship(back_populates="notes")


class Attachment(Base):
    """A file reference (photo, signed form) kept in the workspace, with its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    household_pk: Mapped[int | None] = mapped_column(ForeignKey("households.id"), default=None)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), default=None)
    file_ref: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(100), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    uploaded_at: Mapped[datetime] = mapped_column(default=utc_now)
