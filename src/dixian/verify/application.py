"""Single-application verification: a household's declaration against department records.

The verification centre (核对中心) receives an application with the members, income and assets
the household declares (its format: `declaration.py`). This module finds the household in the
linked records, lists every discrepancy between the declaration and the records (with the
source records), and verifies each program twice: on the department records (the decision
basis) and on the declaration (to show what the discrepancies change).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from dixian.errors import NotFound, UserError
from dixian.features.panel_schema import EVIDENCE_COLUMN, decode_evidence
from dixian.policy import PolicySet
from dixian.verify.batch import (
    explain_history,
    field_records,
    history_needed,
    program_statuses,
)
from dixian.verify.declaration import Declaration, read_declaration
from dixian.verify.lookup import (
    MissingTable,
    current_households,
    members_of,
    memberships_of,
    panel_history,
)
from dixian.verify.member_lookup import declared_rows, household_members, lookup_is_fresh
from dixian.verify.results import ProgramResult, Status

# A declared amount may be this much below the records before it counts as under-declared:
# department figures are themselves estimates (monthly wages x 12, balances on one day).
INCOME_TOLERANCE_RATIO = 0.10
INCOME_TOLERANCE_YUAN = 1000.0


@dataclass(frozen=True)
class Discrepancy:
    """One difference between the declaration and the department records."""

    item: str
    label_zh: str
    severity: str  # major: the records show more than declared; info: the records show less
    declared: Any
    recorded: Any
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplicationResult:
    """The verification of one application."""

    application_id: str
    household_id: str
    period: str
    declared_members: int
    registered_members: int
    discrepancies: tuple[Discrepancy, ...]
    on_records: tuple[ProgramResult, ...]
    on_declaration: dict[str, Status]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


def _normalise_id(text: str) -> str:
    # Same typing repairs as ingestion: full-width digits, spaces, dashes, lower-case x.
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if ch not in " -\t").upper()


@dataclass(frozen=True)
class _Found:
    """The household of an application and what finding it read."""

    household_id: str
    known: dict[str, str]  # person_id → ID number of the declared persons found
    rows: list[dict[str, Any]]  # their membership rows
    prepared: bool  # read from the prepared member lookup, which also answers for members


def _find_household(backend: Any, declaration: Declaration, period: str | None) -> _Found:
    """The household the declared members belong to."""
    if declaration.household_id is not None:
        return _Found(declaration.household_id, {}, [], prepared=False)
    ids = [_normalise_id(member.id_number) for member in declaration.members]
    prepared = declared_rows(backend, ids)
    if prepared is not None:
        return _Found(_majority_household(prepared, period), {}, prepared, prepared=True)
    try:
        rows = memberships_of(backend, ids, period)
    except MissingTable:
        raise UserError(
            "the warehouse has no linked persons/household_membership: run 'dixian link' "
            "first, or give household_id in the application"
        ) from None
    if not rows:
        raise NotFound("no declared member was found in the household registration records")
    known = {str(row["person_id"]): str(row["id_number"]) for row in rows}
    return _Found(_majority_household(rows, period), known, rows, prepared=False)


def _majority_household(rows: list[dict[str, Any]], period: str | None) -> str:
    # Each declared person's household now (their latest row); the household most of them
    # belong to, the lowest id on a tie.
    counts = Counter(current_households(rows, period).values())
    if not counts:  # registered only after the period
        raise NotFound("no declared member was found in the household registration records")
    top = max(counts.values())
    return min(h for h, n in counts.items() if n == top)


def _registered_ids(backend: Any, found: _Found, period: str) -> dict[str, str] | None:
    # A declared household_id skips `declared_rows`: ask whether the lookup is up to date.
    if found.prepared or lookup_is_fresh(backend):
        return household_members(backend, found.household_id, period)
    try:
        return members_of(
            backend, found.household_id, period, known=found.known, known_rows=found.rows
        )
    except MissingTable:
        return None


def _compare_amount(
    item: str, label: str, declared: float | None, recorded: float | None, records: list[str]
) -> Discrepancy | None:
    if declared is None or recorded is None:
        return None
    if recorded > declared * (1 + INCOME_TOLERANCE_RATIO) + INCOME_TOLERANCE_YUAN:
        return Discrepancy(item, label, "major", declared, round(recorded, 2), tuple(records))
    if declared > recorded * (1 + INCOME_TOLERANCE_RATIO) + INCOME_TOLERANCE_YUAN:
        return Discrepancy(item, label, "info", declared, round(recorded, 2), tuple(records))
    return None


def _compare_count(
    item: str, label: str, declared: int | None, recorded: int | None, records: list[str]
) -> Discrepancy | None:
    if declared is None or recorded is None or declared == recorded:
        return None
    severity = "major" if recorded > declared else "info"
    return Discrepancy(item, label, severity, declared, recorded, tuple(records))


def _per_capita_total(row: dict[str, Any], column: str) -> float | None:
    value, members = row.get(column), row.get("member_count")
    if value is None or not members:
        return None
    return float(value) * float(members)


def compare_declaration(declaration: Declaration, row: dict[str, Any]) -> list[Discrepancy]:
    """Every discrepancy between a declaration and the household's panel row."""
    evidence = decode_evidence(row.get(EVIDENCE_COLUMN))
    found: list[Discrepancy | None] = []
    income = declaration.income
    for source, label in (
        ("wages", "工资性收入"),
        ("operating", "经营净收入"),
        ("property", "财产净收入"),
        ("transfers", "转移净收入"),
    ):
        column = f"income_{source}_pc"
        found.append(
            _compare_amount(
                f"income_{source}",
                f"{label}（年，元）",
                getattr(income, source),
                _per_capita_total(row, column),
                field_records(column, evidence),
            )
        )
    assets = declaration.assets
    for item, label, declared, column in (
        ("vehicles", "车辆数", assets.vehicles, "vehicle_count"),
        (
            "non_exempt_vehicles",
            "非豁免车辆数",
            assets.non_exempt_vehicles,
            "vehicle_non_exempt_count",
        ),
        ("properties", "房产数", assets.properties, "property_count"),
        ("businesses", "经营主体数", assets.businesses, "business_count"),
        (
            "public_payroll",
            "财政供养人数",
            declaration.public_payroll_members,
            "public_payroll_count",
        ),
    ):
        found.append(
            _compare_count(item, label, declared, row.get(column), field_records(column, evidence))
        )
    for item, label, amount, column in (
        ("deposits", "存款（元）", assets.deposits, "deposits_total"),
        ("securities", "证券（元）", assets.securities, "securities_total"),
    ):
        found.append(
            _compare_amount(item, label, amount, row.get(column), field_records(column, evidence))
        )
    return [item for item in found if item is not None]


def _declared_row(declaration: Declaration, row: dict[str, Any]) -> dict[str, Any]:
    """The panel row with the declared values in place of the recorded ones."""
    declared = dict(row)
    members = len(declaration.members)
    declared["member_count"] = members
    income = declaration.income
    total = 0.0
    complete = True
    for source in ("wages", "operating", "property", "transfers"):
        value = getattr(income, source)
        if value is None:
            complete = False
            continue
        declared[f"income_{source}_pc"] = value / members
        total += value
    if complete:
        declared["income_net_total"] = total
        declared["income_net_pc"] = total / members
    assets = declaration.assets
    replacements = {
        "vehicle_count": assets.vehicles,
        "vehicle_non_exempt_count": assets.non_exempt_vehicles,
        "property_count": assets.properties,
        "business_count": assets.businesses,
        "deposits_total": assets.deposits,
        "securities_total": assets.securities,
        "public_payroll_count": declaration.public_payroll_members,
    }
    declared.update({k: v for k, v in replacements.items() if v is not None})
    if assets.deposits is not None or assets.securities is not None:
        money = (assets.deposits or 0.0) + (assets.securities or 0.0)
        declared["financial_assets_pc"] = money / members
    return declared


def verify_application(
    declaration: Declaration,
    *,
    policy_set: PolicySet,
    params_for_year: Any,
    backend: Any,
) -> ApplicationResult:
    """Verify one application against the department records.

    Args:
        declaration: the application.
        policy_set: the policies in force.
        params_for_year: a function year -> parameter values for the workspace's province.
        backend: the Ibis backend holding the warehouse.

    Raises:
        NotFound: the household or its panel row does not exist.
    """
    found = _find_household(backend, declaration, declaration.period)
    household_id = found.household_id
    programs = declaration.programs
    try:
        rows = panel_history(
            backend,
            household_id,
            declaration.period,
            last=history_needed(policy_set, programs),
        )
    except MissingTable:
        raise UserError(
            "the warehouse has no 'household_period' table yet: run 'dixian features' first"
        ) from None
    if not rows:
        raise NotFound(f"household {household_id} has no household_period row for that period")
    row = rows[-1]
    period = str(row["period"])
    params = params_for_year(int(period[:4]))
    registered = _registered_ids(backend, found, period)
    discrepancies = _member_discrepancies(declaration, registered)
    discrepancies.extend(compare_declaration(declaration, row))
    on_records = explain_history(rows, policy_set, params=params, programs=programs)
    on_declaration = program_statuses(
        [*rows[:-1], _declared_row(declaration, row)],
        policy_set,
        params=params,
        programs=programs,
    )
    return ApplicationResult(
        application_id=declaration.application_id,
        household_id=household_id,
        period=period,
        declared_members=len(declaration.members),
        registered_members=len(registered)
        if registered is not None
        else int(row["member_count"] or 0),
        discrepancies=tuple(discrepancies),
        on_records=tuple(on_records),
        on_declaration=on_declaration,
    )


def _member_discrepancies(
    declaration: Declaration, registered: dict[str, str] | None
) -> list[Discrepancy]:
    if registered is None:
        return []
    declared = {_normalise_id(member.id_number) for member in declaration.members}
    found: list[Discrepancy] = []
    for id_number in sorted(set(registered) - declared):
        found.append(
            Discrepancy(
                "member_not_declared",
                "户籍家庭成员未申报",
                "major",
                None,
                _mask(id_number),
                (f"person:{registered[id_number]}",),
            )
        )
    for id_number in sorted(declared - set(registered)):
        found.append(
            Discrepancy(
                "member_not_registered", "申报成员不在户籍家庭中", "info", _mask(id_number), None
            )
        )
    return found


def _mask(id_number: str) -> str:
    # Results are shown to caseworkers and written to logs: never the full ID number (AC-04).
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


# Declaration and read_declaration are re-exported: dixian.verify.workspace imports them here.
__all__ = [
    "ApplicationResult",
    "Declaration",
    "Discrepancy",
    "compare_declaration",
    "read_declaration",
    "verify_application",
]
