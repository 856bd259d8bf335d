"""Case management (监测帮扶台账): the workflow of each household at risk, with an audit ledger.

Open the database with `CasesDatabase`, act through `dixian.cases.service`, read the
state machine in `dixian.cases.workflow`. See `docs/cases.md`.
"""

from __future__ import annotations

from dixian.cases.actor import Actor
from dixian.cases.audit import AuditKey, load_audit_key
from dixian.cases.case_models import (
    AssistancePlan,
    Attachment,
    Case,
    Discovery,
    FollowUp,
    Measure,
    Note,
    Review,
    RiskElimination,
    Visit,
)
from dixian.cases.chain import VerifyResult, verify_chain
from dixian.cases.db import CasesDatabase, create_cases_engine, grant_app_role, upgrade_database
from dixian.cases.enums import (
    CaseState,
    Channel,
    MeasureStatus,
    MonitoringObjectType,
    Outcome,
    ReviewLevel,
    ReviewPurpose,
    Role,
)
from dixian.cases.ledger_models import AuditEntry
from dixian.cases.models import (
    Base,
    Household,
    HouseholdAuthorisation,
    Person,
    User,
    WebSession,
    normalise_username,
)
from dixian.cases.settings import CaseSettings
from dixian.cases.workflow import TRANSITIONS, Transition

__all__ = [
    "TRANSITIONS",
    "Actor",
    "AssistancePlan",
    "Attachment",
    "AuditEntry",
    "AuditKey",
    "Base",
    "Case",
    "CaseSettings",
    "CaseState",
    "CasesDatabase",
    "Channel",
    "Discovery",
    "FollowUp",
    "Household",
    "HouseholdAuthorisation",
    "Measure",
    "MeasureStatus",
    "MonitoringObjectType",
    "Note",
    "Outcome",
    "Person",
    "Review",
    "ReviewLevel",
    "ReviewPurpose",
    "RiskElimination",
    "Role",
    "Transition",
    "User",
    "VerifyResult",
    "Visit",
    "WebSession",
    "create_cases_engine",
    "grant_app_role",
    "load_audit_key",
    "normalise_username",
    "upgrade_database",
    "verify_chain",
]
