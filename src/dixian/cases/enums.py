"""Enumerations of the case database: roles, channels, monitoring object types, states.

Values are stable English keys stored in the database; `zh` gives the Chinese label shown
to users.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role. The three admin roles are kept apart (三员分立)."""

    SYSTEM_ADMIN = "system_admin"
    SECURITY_ADMIN = "security_admin"
    AUDIT_ADMIN = "audit_admin"
    COUNTY_ANALYST = "county_analyst"
    TOWNSHIP_REVIEWER = "township_reviewer"
    VILLAGE_CASEWORKER = "village_caseworker"
    LEADER = "leader"
    HELPER_ORG = "helper_org"

    @property
    def zh(self) -> str:
        return _ROLE_ZH[self]

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


_ROLE_ZH = {
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
    Role.COUNTY_ANALYST: "县级监测分析员",
    Role.TOWNSHIP_REVIEWER: "乡镇审核员",
    Role.VILLAGE_CASEWORKER: "村级信息员",
    Role.LEADER: "领导（只读）",
    Role.HELPER_ORG: "帮扶主体",
}

ADMIN_ROLES: frozenset[Role] = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

# Roles that may see case data of their jurisdiction (admins and helpers may not).
CASE_READER_ROLES: frozenset[Role] = frozenset(
    {Role.COUNTY_ANALYST, Role.TOWNSHIP_REVIEWER, Role.VILLAGE_CASEWORKER, Role.LEADER}
)


class Channel(StrEnum):
    """How a household at risk was discovered (three channels of 中农组发〔2021〕7号)."""

    SELF_REPORT = "self_report"
    CADRE_CANVASS = "cadre_canvass"
    DEPARTMENT_SCREENING = "department_screening"

    @property
    def zh(self) -> str:
        return {
            Channel.SELF_REPORT: "农户自主申报",
            Channel.CADRE_CANVASS: "基层干部排查",
            Channel.DEPARTMENT_SCREENING: "部门筛查预警",
        }[self]


class MonitoringObjectType(StrEnum):
    """The kind of monitoring object (监测对象) a confirmed household becomes."""

    UNSTABLE_AFTER_EXIT = "unstable_after_exit"
    MARGINAL_AT_RISK = "marginal_at_risk"
    SUDDEN_HARDSHIP = "sudden_hardship"

    @property
    def zh(self) -> str:
        return {
            MonitoringObjectType.UNSTABLE_AFTER_EXIT: "脱贫不稳定户",
            MonitoringObjectType.MARGINAL_AT_RISK: "边缘易致贫户",
            MonitoringObjectType.SUDDEN_HARDSHIP: "突发严重困难户",
        }[self]


class CaseState(StrEnum):
    """The states of a case; transitions between them are in `dixian.cases.workflow`."""

    DISCOVERED = "discovered"
    VISITED = "visited"
    VILLAGE_REVIEWED = "village_reviewed"
    TOWNSHIP_REVIEWED = "township_reviewed"
    MONITORING = "monitoring"
    ELIMINATION_PROPOSED = "elimination_proposed"
    ELIMINATION_VILLAGE_REVIEWED = "elimination_village_reviewed"
    ELIMINATION_TOWNSHIP_REVIEWED = "elimination_township_reviewed"
    RISK_ELIMINATED = "risk_eliminated"
    LONG_TERM_PROTECTION = "long_term_protection"
    NOT_IDENTIFIED = "not_identified"

    @property
    def zh(self) -> str:
        return _STATE_ZH[self]


_STATE_ZH = {
    CaseState.DISCOVERED: "待入户核实",
    CaseState.VISITED: "已入户核实",
    CaseState.VILLAGE_REVIEWED: "村级民主评议通过",
    CaseState.TOWNSHIP_REVIEWED: "乡镇审核通过",
    CaseState.MONITORING: "监测帮扶中",
    CaseState.ELIMINATION_PROPOSED: "拟风险消除",
    CaseState.ELIMINATION_VILLAGE_REVIEWED: "风险消除村级评议通过",
    CaseState.ELIMINATION_TOWNSHIP_REVIEWED: "风险消除乡镇审核通过",
    CaseState.RISK_ELIMINATED: "风险已消除",
    CaseState.LONG_TERM_PROTECTION: "纳入兜底保障",
    CaseState.NOT_IDENTIFIED: "未纳入监测",
}

# States before the identification decision: the ≤ 15-day deadline runs while a case is here.
PRE_DECISION_STATES: frozenset[CaseState] = frozenset(
    {
        CaseState.DISCOVERED,
        CaseState.VISITED,
        CaseState.VILLAGE_REVIEWED,
        CaseState.TOWNSHIP_REVIEWED,
    }
)

CLOSED_STATES: frozenset[CaseState] = frozenset(
    {CaseState.RISK_ELIMINATED, CaseState.NOT_IDENTIFIED}
)


class ReviewLevel(StrEnum):
    """Who reviewed: village democratic review, township review, county confirmation."""

    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"


class ReviewPurpose(StrEnum):
    """What a review decides on: identification as a monitoring object, or risk elimination."""

    IDENTIFICATION = "identification"
    ELIMINATION = "elimination"


class MeasureStatus(StrEnum):
    """Progress of one assistance measure."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """Outcome of an audited event."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"
