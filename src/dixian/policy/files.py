"""Policy files: YAML with named parameters (by year and province), programs and triggers.

A file is read with the position of every node kept, so that each error, whether in the YAML
structure or inside a rule expression, is reported with the file's own line and column.
Every problem is collected before anything is raised.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dixian.policy.problems import ExpressionError, Problem

FORMAT_VERSION = "dixian/v1"
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"

Scalar = bool | int | float | str | date


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterValues(_Model):
    """A value, or values by year (the latest year not after the one asked for applies)."""

    value: Scalar | None = None
    by_year: dict[int, Scalar] | None = None


class ParameterSpec(ParameterValues):
    """A named parameter with its label, unit, source and optional per-province values."""

    label_zh: str = ""
    unit: str = ""
    source: str = ""
    by_province: dict[str, ParameterValues] | None = None

    @field_validator("by_province")
    @classmethod
    def _province_codes(cls, value: dict[str, ParameterValues] | None) -> Any:
        for code in value or {}:
            if not (len(code) == 2 and code.isdigit()):
                raise ValueError(f"province key '{code}': expected a 2-digit province code")
        return value


class LeadSpec(_Model):
    """How a failed condition of a current beneficiary becomes a problem lead (问题线索)."""

    kind: str = Field(pattern=_ID_PATTERN)
    label_zh: str
    strength: float = Field(gt=0.0, le=1.0)


class ConditionSpec(_Model):
    """A condition a household must meet (`when` must be true)."""

    id: str = Field(pattern=_ID_PATTERN)
    label_zh: str
    label_en: str = ""
    when: str
    lead: LeadSpec | None = None


class ReviewSpec(_Model):
    """A situation that sends an otherwise eligible household to manual review."""

    id: str = Field(pattern=_ID_PATTERN)
    label_zh: str
    label_en: str = ""
    when: str


class ProgramSpec(_Model):
    """An assistance program: who is a current beneficiary, and the conditions to qualify."""

    label_zh: str
    label_en: str = ""
    beneficiary: str | None = None
    conditions: list[ConditionSpec] = Field(min_length=1)
    review: list[ReviewSpec] = []


class TriggerSpec(_Model):
    """A monitoring trigger (预警触发条件): an expression that flags a household."""

    id: str = Field(pattern=_ID_PATTERN)
    label_zh: str
    label_en: str = ""
    cause: str = ""
    when: str
    always_alert: bool = False


class PolicyFileSpec(_Model):
    """The whole content of one policy file."""

    policy: Literal["dixian/v1"]
    name: str
    description: str = ""
    parameters: dict[str, ParameterSpec] = {}
    programs: dict[str, ProgramSpec] = {}
    triggers: list[TriggerSpec] = []


class _Located:
    """Positions of the nodes of a YAML document, by path of keys and indexes."""

    def __init__(self, text: str, root: yaml.Node) -> None:
        self.lines = text.splitlines()
        self.nodes: dict[tuple[Any, ...], yaml.Node] = {}
        self._index(root, ())

    def _index(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.nodes[path] = node
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                key_value = _scalar_key(key)
                self.nodes[(*path, key_value, "__key__")] = key
                self._index(value, (*path, key_value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._index(item, (*path, index))

    def position(self, path: tuple[Any, ...]) -> tuple[int, int]:
        """1-based line and column of the deepest known node on the path."""
        for cut in range(len(path), -1, -1):
            node = self.nodes.get(path[:cut])
            if node is not None:
                return node.start_mark.line + 1, node.start_mark.column + 1
        return 1, 1

    def expression_position(self, path: tuple[Any, ...], line: int, column: int) -> tuple[int, int]:
        """Map a position inside an expression scalar to the file's line and column."""
        node = self.nodes.get(path)
        if not isinstance(node, yaml.ScalarNode):
            return self.position(path)
        mark = node.start_mark
        if node.style in ("|", ">"):
            first = mark.line + 1
            row = first + line - 1
            text = self.lines[first] if first < len(self.lines) else ""
            indent = len(text) - len(text.lstrip(" "))
            return row + 1, indent + column
        if line == 1:
            offset = 1 if node.style in ("'", '"') else 0
            return mark.line + 1, mark.column + offset + column
        return mark.line + line, column


def _scalar_key(node: yaml.Node) -> Any:
    value = node.value
    if isinstance(node, yaml.ScalarNode) and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _loc_to_path(loc: tuple[int | str, ...]) -> tuple[Any, ...]:
    # pydantic reports a wrong dict key as "<key>,[key]"; keep the key, drop the marker
    return tuple(part for part in loc if part not in ("[key]",))


def _describe_validation(item: Any) -> str:
    key = ".".join(str(part) for part in item["loc"])
    if item["type"] == "extra_forbidden":
        return f"unknown key '{item['loc'][-1]}' in {key.rsplit('.', 1)[0] or 'the file'}"
    if item["type"] == "missing":
        return f"missing key '{key}'"
    if item["type"] == "literal_error":
        return f"key '{key}': expected '{FORMAT_VERSION}'"
    return f"key '{key}': {item['msg']}"


class PolicyDocument:
    """A parsed policy file: the validated spec plus positions for error messages."""

    def __init__(self, path: Path, spec: PolicyFileSpec, located: _Located) -> None:
        self.path = path
        self.spec = spec
        self.located = located

    def expression_problem(self, path: tuple[Any, ...], problem: Problem) -> Problem:
        """The problem re-positioned from the expression to the file."""
        line, column = self.located.expression_position(path, problem.line, problem.column)
        return Problem(line, column, problem.message)


def read_policy_document(path: Path, *, text: str | None = None) -> PolicyDocument:
    """Read and validate the structure of a policy file (expressions are checked later).

    Files are cached by path, size and modification time, so that repeated verification
    (one application after another) does not re-read unchanged policies.

    Raises:
        ExpressionError: the file is missing, not YAML, or has structural errors (all listed).
    """
    if text is not None:
        return _read_document(path, text)
    if not path.is_file():
        raise ExpressionError([Problem(1, 1, "file not found")], source=str(path))
    stat = path.stat()
    return _cached_document(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=128)
def _cached_document(path: str, mtime_ns: int, size: int) -> PolicyDocument:
    del mtime_ns, size  # part of the cache key only
    return _read_document(Path(path), Path(path).read_text(encoding="utf-8"))


def _read_document(path: Path, text: str) -> PolicyDocument:
    source = str(path)
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ExpressionError(
                [Problem(1, 1, f"empty file: expected a mapping with 'policy: {FORMAT_VERSION}'")],
                source=source,
            )
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ExpressionError(
            [Problem(line, column, f"not valid YAML: {exc.problem}")], source=source
        ) from None
    finally:
        loader.dispose()
    located = _Located(text, root)
    if not isinstance(data, dict):
        raise ExpressionError(
            [Problem(1, 1, f"expected a mapping with 'policy: {FORMAT_VERSION}' at the top")],
            source=source,
        )
    try:
        spec = PolicyFileSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            path_in_file = _loc_to_path(tuple(item["loc"]))
            if item["type"] == "extra_forbidden":
                path_in_file = (*path_in_file, "__key__")
            line, column = located.position(path_in_file)
            problems.append(Problem(line, column, _describe_validation(item)))
        raise ExpressionError(
            sorted(problems, key=lambda p: (p.line, p.column)), source=source
        ) from None
    return PolicyDocument(path, spec, located)
