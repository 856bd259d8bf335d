"""ORM models of people and access: users, web sessions, households, persons, authorisations.

Case records are in `dixian.cases.case_models`, the audit ledger in
`dixian.cases.ledger_models`; all share `Base.metadata`, which the Alembic migrations in
`dixian/cases/migrations` build from an empty database.
"""

from __future__ import annotations

import enum
import unicodedata
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dixian.cases.enums import Role

# Stable constraint names, so migrations can refer to them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """A portable enum column storing the member values as short strings."""
    return Enum(
        enum_class,
        native_enum=False,
        length=40,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def utc_now() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def normalise_username(username: str) -> str:
    """The unique form of a username: NFKC, case-folded, trimmed (AUTH-01)."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


class Base(DeclarativeBase):
    """Declarative base of every case-database table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JsonType,
    }


class User(Base):
    """A person who signs in: role, jurisdiction (region-code prefix) and auth state."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    # Region-code prefix: "522799" is the county, 9 digits a township, 12 a village.
    jurisdiction: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The last five password hashes, newest first, so a reused password can be refused.
    password_history: Mapped[list[str]] = mapped_column(JsonType, default=list)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    sessions: Mapped[list[WebSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class WebSession(Base):
    """A server-side web session; only the hash of its token is stored (AUTH-04)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64), default=None)

    user: Mapped[User] = relationship(back_populates="sessions")


class Household(Base):
    """A household the case database knows: the warehouse id and the few fields a case needs."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    head_name: Mapped[str | None] = mapped_column(String(100), default=None)
    member_count: Mapped[int | None] = mapped_column(Integer, default=None)
    # Households without labour are never "risk eliminated": they go to long-term protection.
    has_labour: Mapped[bool | None] = mapped_column(Boolean, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    persons: Mapped[list[Person]] = relationship(back_populates="household")


class Person(Base):
    """A member of a household; `id_number` is sensitive and read only with a logged reason."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), unique=True)
    household_pk: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(18), default=None)
    sex: Mapped[str | None] = mapped_column(String(1), default=None)
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    relation_to_head: Mapped[str | None] = mapped_column(String(32), default=None)

    household: Mapped[Household] = relationship(back_populates="persons")


class HouseholdAuthorisation(Base):
    """The household's signed promise and authorisation (农户承诺授权) to check its data."""

    __tablename__ = "household_authorisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_pk: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    signed_on: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(Text)
    # SHA-256 of the scanned, signed form, so the stored file can be checked later.
    form_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    collected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
