"""The service layer of the case database: the only way anything writes to it.

Every function takes a SQLAlchemy `Session` (one transaction, opened through
`CasesDatabase.session()`) and the acting `Actor`, keyword-only. Lists are filtered by the
actor's jurisdiction inside the SQL WHERE clause; a single record outside it is reported
as `NotFound` and the attempt is audited. Every change writes its audit entry in the same
transaction (fail closed).
"""

from __future__ import annotations

from dixian.cases.service.assistance import (
    add_attachment,
    add_measure,
    add_note,
    add_plan,
    record_follow_up,
    set_measure_status,
)
from dixian.cases.service.cases import (
    DiscoveryInput,
    DiscoveryResult,
    available_actions,
    count_cases_by_state,
    get_case,
    list_cases,
    list_overdue,
    record_discoveries,
    update_case,
)
from dixian.cases.service.ledger import purge_audit_log, query_audit_log, verify_audit_chain
from dixian.cases.service.people import (
    HouseholdInput,
    PersonInput,
    can_read_cases,
    change_role,
    create_user,
    get_household,
    get_user,
    record_authorisation,
    record_event,
    reveal_id_number,
    set_user_disabled,
    upsert_household,
    upsert_households,
)
from dixian.cases.service.transitions import transition_case

__all__ = [
    "DiscoveryInput",
    "DiscoveryResult",
    "HouseholdInput",
    "PersonInput",
    "add_attachment",
    "add_measure",
    "add_note",
    "add_plan",
    "available_actions",
    "can_read_cases",
    "change_role",
    "count_cases_by_state",
    "create_user",
    "get_case",
    "get_household",
    "get_user",
    "list_cases",
    "list_overdue",
    "purge_audit_log",
    "query_audit_log",
    "record_authorisation",
    "record_discoveries",
    "record_event",
    "record_follow_up",
    "reveal_id_number",
    "set_measure_status",
    "set_user_disabled",
    "transition_case",
    "update_case",
    "upsert_household",
    "upsert_households",
    "verify_audit_chain",
]
