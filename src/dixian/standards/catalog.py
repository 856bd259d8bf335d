"""The data standard (数据标准): datasets, fields and code lists, loaded from YAML and validated.

The catalog is data (`codes.yaml`, `datasets/*.yaml`); this module reads it with pydantic and
reports every problem at once, each with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dixian.errors import CatalogError

STANDARD_DIR = Path(__file__).parent

FieldType = Literal[
    "string",  # short text compared exactly (codes, numbers kept as text)
    "text",  # free text (addresses, names of units)
    "name",  # a person's name
    "id_number",  # resident ID number (GB 11643)
    "region_code",  # 12-digit statistical region code (统计用区划代码)
    "date",
    "integer",
    "decimal",  # amounts and measures, in the field's unit
    "boolean",
    "code",  # a value of the code list named in `codes`
]
Grain = Literal["person", "household", "event", "village"]
Frequency = Literal["monthly", "yearly", "event"]
# How rows of different batches relate: "latest" — a later row with the same key replaces an
# earlier one (registers of things: vehicles, certificates); "per_period" — each batch period
# is an observation of its own (extracts of a register at a date), and only a correction of
# the same period replaces a row.
History = Literal["latest", "per_period"]
IdentityRole = Literal[
    "id_number",
    "name",
    "sex",
    "birth_date",
    "region_code",
    "address",
    "household_number",
    "household_head_id",
    "relation_to_head",
]
Sensitivity = Literal["L2", "L3", "L4"]

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Code(_Strict):
    """One value of a code list."""

    code: str
    zh: str
    en: str
    synonyms: tuple[str, ...] = ()


class CodeList(_Strict):
    """A named code list (代码表)."""

    name: str
    label_zh: str
    label_en: str
    codes: tuple[Code, ...]

    def code_values(self) -> tuple[str, ...]:
        return tuple(code.code for code in self.codes)

    def lookup_table(self) -> dict[str, str]:
        """Every accepted spelling (code, zh label, synonyms; case-folded) → the code."""
        table: dict[str, str] = {}
        for code in self.codes:
            for spelling in (code.code, code.zh, code.en, *code.synonyms):
                table.setdefault(spelling.strip().casefold(), code.code)
        return table


class FieldSpec(_Strict):
    """One field of a dataset."""

    name: str
    label_zh: str
    label_en: str
    type: FieldType
    unit: str | None = None
    required: bool = False
    codes: str | None = None
    min: float | None = None
    max: float | None = None
    aliases: tuple[str, ...] = ()
    role: IdentityRole | None = None
    sensitivity: Sensitivity = "L2"
    description: str = ""

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _SNAKE.match(value):
            raise ValueError(f"field name '{value}' must be snake_case ASCII")
        return value

    def all_names(self) -> tuple[str, ...]:
        """The standard name, the Chinese label and every alias."""
        return (self.name, self.label_zh, *self.aliases)


class Dataset(_Strict):
    """A department dataset: who sends it, at what grain and frequency, with which fields."""

    name: str
    label_zh: str
    label_en: str
    department: str
    grain: Grain
    frequency: Frequency
    description: str = ""
    key_fields: tuple[str, ...]
    history: History = "latest"
    fields: tuple[FieldSpec, ...] = Field(min_length=1)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"dataset '{self.name}' has no field '{name}'")

    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    def field_with_role(self, role: str) -> FieldSpec | None:
        """The field playing an identity role (id_number, name, ...), if any."""
        for spec in self.fields:
            if spec.role == role:
                return spec
        return None

    def required_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.fields if spec.required)

    def version_keys(self) -> tuple[str, ...]:
        """The columns whose equal values make a later row replace an earlier one."""
        if self.history == "per_period":
            return (*self.key_fields, "_period")
        return self.key_fields


class Catalog(_Strict):
    """The whole data standard."""

    datasets: tuple[Dataset, ...]
    code_lists: tuple[CodeList, ...]

    def dataset(self, name: str) -> Dataset:
        for dataset in self.datasets:
            if dataset.name == name:
                return dataset
        raise KeyError(f"no dataset '{name}' in the data standard")

    def code_list(self, name: str) -> CodeList:
        for code_list in self.code_lists:
            if code_list.name == name:
                return code_list
        raise KeyError(f"no code list '{name}' in the data standard")

    def dataset_names(self) -> tuple[str, ...]:
        return tuple(dataset.name for dataset in self.datasets)

    def datasets_of(self, department: str) -> tuple[Dataset, ...]:
        return tuple(d for d in self.datasets if d.department == department)


# --- loading with line numbers -------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: Iterable[Any]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if key_node.value == part:
                    found = value_node
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            break
        if node is not None:
            line = node.start_mark.line + 1
    return line


# libyaml's safe loader reads the standard about five times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (libyaml's, if built)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise CatalogError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    return data, node


def _pydantic_problems(
    path: Path, node: yaml.Node | None, error: ValidationError, prefix: tuple[Any, ...] = ()
) -> list[str]:
    problems = []
    for item in error.errors():
        loc = (*prefix, *item["loc"])
        line = _line_of(node, loc)
        where = f"{path}:{line}" if line else str(path)
        key = ".".join(str(part) for part in loc)
        problems.append(f"{where}: {key}: {item['msg']}")
    return problems


def _cross_check(
    datasets: list[tuple[Path, yaml.Node | None, Dataset]], code_lists: dict[str, CodeList]
) -> list[str]:
    """References between datasets and code lists, and duplicate names or aliases."""
    problems: list[str] = []
    departments = (
        set(code_lists["department"].code_values()) if "department" in code_lists else set()
    )
    seen: dict[str, Path] = {}
    for path, node, dataset in datasets:
        if dataset.name in seen:
            problems.append(
                f"{path}:1: dataset '{dataset.name}' also defined in {seen[dataset.name]}"
            )
        seen[dataset.name] = path
        if path.stem != dataset.name:
            problems.append(f"{path}:1: file name must be the dataset name '{dataset.name}.yaml'")
        if dataset.department not in departments:
            line = _line_of(node, ["department"])
            problems.append(f"{path}:{line}: unknown department '{dataset.department}'")
        names = dataset.field_names()
        for key in dataset.key_fields:
            if key not in names:
                line = _line_of(node, ["key_fields"])
                problems.append(f"{path}:{line}: key field '{key}' is not a field of the dataset")
        spellings: dict[str, str] = {}
        for index, spec in enumerate(dataset.fields):
            line = _line_of(node, ["fields", index])
            if spec.type == "code" and spec.codes is None:
                problems.append(f"{path}:{line}: field '{spec.name}' of type code needs 'codes'")
            if spec.codes is not None and spec.codes not in code_lists:
                problems.append(
                    f"{path}:{line}: field '{spec.name}': unknown code list '{spec.codes}'"
                )
            for spelling in spec.all_names():
                owner = spellings.get(spelling)
                if owner is not None and owner != spec.name:
                    problems.append(
                        f"{path}:{line}: '{spelling}' names both '{owner}' and '{spec.name}'"
                    )
                spellings[spelling] = spec.name
    return problems


def load_catalog_from(directory: Path) -> Catalog:
    """Load and validate a catalog folder (`codes.yaml` + `datasets/*.yaml`).

    Args:
        directory: the folder holding the catalog.

    Returns:
        The validated catalog.

    Raises:
        CatalogError: every problem found, each with file, line and reason.
    """
    problems: list[str] = []
    codes_path = directory / "codes.yaml"
    code_lists: dict[str, CodeList] = {}
    data, node = _read_yaml(codes_path)
    raw_lists = data.get("code_lists", []) if isinstance(data, dict) else []
    for index, raw in enumerate(raw_lists):
        try:
            code_list = CodeList.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(codes_path, node, exc, prefix=("code_lists", index)))
            continue
        if code_list.name in code_lists:
            line = _line_of(node, ["code_lists", index])
            problems.append(f"{codes_path}:{line}: code list '{code_list.name}' defined twice")
        code_lists[code_list.name] = code_list

    datasets: list[tuple[Path, yaml.Node | None, Dataset]] = []
    for path in sorted((directory / "datasets").glob("*.yaml")):
        data, node = _read_yaml(path)
        try:
            datasets.append((path, node, Dataset.model_validate(data)))
        except ValidationError as exc:
            problems.extend(_pydantic_problems(path, node, exc))
    problems.extend(_cross_check(datasets, code_lists))
    if problems:
        raise CatalogError(
            f"the data standard has {len(problems)} problem(s):\n" + "\n".join(problems)
        )
    return Catalog(
        datasets=tuple(dataset for _, _, dataset in datasets),
        code_lists=tuple(code_lists.values()),
    )


@cache
def load_catalog() -> Catalog:
    """The data standard shipped with dixian (cached)."""
    return load_catalog_from(STANDARD_DIR)
