"""An application's declaration (申请): the members, income and assets a household declares.

The JSON format of an application file and reading it; `application.py` verifies a
declaration against the department records.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dixian.errors import UserError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclaredMember(_Model):
    """A member as declared on the application."""

    id_number: str = Field(min_length=15, max_length=20)
    name: str = ""
    relation_to_head: str = ""


class DeclaredIncome(_Model):
    """Household income over the last 12 months by source, yuan."""

    wages: float | None = Field(default=None, ge=0)
    operating: float | None = Field(default=None, ge=0)
    property: float | None = Field(default=None, ge=0)
    transfers: float | None = Field(default=None, ge=0)


class DeclaredAssets(_Model):
    """Assets of all members as declared."""

    vehicles: int | None = Field(default=None, ge=0)
    non_exempt_vehicles: int | None = Field(default=None, ge=0)
    properties: int | None = Field(default=None, ge=0)
    businesses: int | None = Field(default=None, ge=0)
    deposits: float | None = Field(default=None, ge=0)
    securities: float | None = Field(default=None, ge=0)


class Declaration(_Model):
    """An application (申请) as a JSON file."""

    application_id: str = ""
    household_id: str | None = None
    period: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    programs: list[str] | None = None
    members: list[DeclaredMember] = Field(min_length=1)
    income: DeclaredIncome = DeclaredIncome()
    assets: DeclaredAssets = DeclaredAssets()
    public_payroll_members: int | None = Field(default=None, ge=0)


def read_declaration(path: Path) -> Declaration:
    """Read an application JSON file.

    Raises:
        UserError: missing file, bad JSON, or a field that does not fit (all named).
    """
    if not path.is_file():
        raise UserError(f"{path}: application file not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    try:
        return Declaration.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"'{'.'.join(str(p) for p in item['loc'])}': {item['msg']}" for item in exc.errors()
        ]
        raise UserError(f"{path}: " + "; ".join(problems)) from None


__all__ = [
    "Declaration",
    "DeclaredAssets",
    "DeclaredIncome",
    "DeclaredMember",
    "read_declaration",
]
