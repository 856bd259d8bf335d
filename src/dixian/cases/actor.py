"""Who is acting: a user (or the local system principal) plus where the request came from."""

from __future__ import annotations

from dataclasses import dataclass

from dixian.cases.enums import Role
from dixian.cases.models import User

SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    """The acting principal passed to every service function.

    `role` is a `Role` value, or "system" for the local pipeline principal that records
    department-screening discoveries and bootstraps the first users from the command line.
    `jurisdiction` is a region-code prefix; the empty prefix covers every region.
    """

    user_id: int | None
    username: str
    role: str
    jurisdiction: str
    source_ip: str | None = None
    request_id: str | None = None

    @classmethod
    def from_user(
        cls, user: User, *, source_ip: str | None = None, request_id: str | None = None
    ) -> Actor:
        """The actor for a signed-in user."""
        return cls(
            user_id=user.id,
            username=user.username,
            role=str(user.role),
            jurisdiction=user.jurisdiction,
            source_ip=source_ip,
            request_id=request_id,
        )

    @classmethod
    def system(cls, *, name: str = "system", jurisdiction: str = "") -> Actor:
        """The local system principal (command line, pipeline)."""
        return cls(
            user_id=None,
            username=f"system:{name}",
            role=SYSTEM_ROLE,
            jurisdiction=jurisdiction,
            source_ip="local",
        )

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    def has_role(self, *roles: Role) -> bool:
        """Whether the actor holds one of these roles."""
        return self.role in {str(role) for role in roles}

    def covers(self, region_code: str) -> bool:
        """Whether a region code lies inside this actor's jurisdiction."""
        return region_code.startswith(self.jurisdiction)
