"""Route permissions and the role matrix (AC-01, AC-02).

Every route declares one permission through `require(Permission.X)`; a route without one
must be on `PUBLIC_PATHS` (the route-inventory test checks this). The matrix keeps the three
administrators apart (三员分立): the system admin manages accounts but cannot read cases or the
audit log; the security admin manages roles and sessions; the audit admin reads the audit log
and changes nothing. Which workflow action a business role may take is decided by the case
service's state machine, not here.
"""

from __future__ import annotations

from enum import StrEnum

from dixian.cases.enums import Role


class Permission(StrEnum):
    """What a route needs."""

    DASHBOARD_VIEW = "dashboard.view"
    CASES_READ = "cases.read"
    CASES_ACT = "cases.act"
    HOUSEHOLDS_READ = "households.read"
    PI_UNMASK = "pi.unmask"
    EXPORT = "export"
    DATA_QUALITY_READ = "data_quality.read"
    LINKAGE_REVIEW = "linkage.review"
    VERIFY = "verify.application"
    USERS_MANAGE = "users.manage"
    ROLES_MANAGE = "roles.manage"
    AUDIT_READ = "audit.read"
    NEEDS_READ = "needs.read"
    ACCOUNT_SELF = "account.self"


_BUSINESS_READ = {
    Permission.DASHBOARD_VIEW,
    Permission.CASES_READ,
    Permission.HOUSEHOLDS_READ,
    Permission.ACCOUNT_SELF,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SYSTEM_ADMIN: frozenset({Permission.USERS_MANAGE, Permission.ACCOUNT_SELF}),
    Role.SECURITY_ADMIN: frozenset({Permission.ROLES_MANAGE, Permission.ACCOUNT_SELF}),
    Role.AUDIT_ADMIN: frozenset({Permission.AUDIT_READ, Permission.ACCOUNT_SELF}),
    Role.COUNTY_ANALYST: frozenset(
        _BUSINESS_READ
        | {
            Permission.CASES_ACT,
            Permission.PI_UNMASK,
            Permission.EXPORT,
            Permission.DATA_QUALITY_READ,
            Permission.LINKAGE_REVIEW,
            Permission.VERIFY,
        }
    ),
    Role.TOWNSHIP_REVIEWER: frozenset(
        _BUSINESS_READ
        | {Permission.CASES_ACT, Permission.PI_UNMASK, Permission.EXPORT, Permission.VERIFY}
    ),
    Role.VILLAGE_CASEWORKER: frozenset(
        _BUSINESS_READ | {Permission.CASES_ACT, Permission.PI_UNMASK}
    ),
    Role.LEADER: frozenset(_BUSINESS_READ),
    Role.HELPER_ORG: frozenset({Permission.NEEDS_READ, Permission.ACCOUNT_SELF}),
}

# Paths reachable without signing in (AC-02 allowlist).
PUBLIC_PATHS: frozenset[str] = frozenset(
    {
        "/login",
        "/self-report",
        "/lang/{locale}",
        "/healthz",
        "/api/v1/auth/token",
        "/api/v1/self-reports",
    }
)


def has_permission(role: Role, permission: Permission) -> bool:
    """Whether a role holds a permission."""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def home_path(role: Role) -> str:
    """Where a user lands after signing in."""
    if role is Role.SYSTEM_ADMIN or role is Role.SECURITY_ADMIN:
        return "/admin/users"
    if role is Role.AUDIT_ADMIN:
        return "/audit"
    if role is Role.HELPER_ORG:
        return "/needs"
    return "/dashboard"
