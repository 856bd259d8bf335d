"""The policies in force: the shipped defaults, overridden by the workspace's policy files.

A workspace file may redefine a parameter, a program or a trigger by name; the latest file
(defaults first, then the workspace's files in name order) wins. Every expression is parsed
and checked before use, and all problems of all files are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dixian.errors import PolicyError
from dixian.policy.ast import Expr, param_names
from dixian.policy.compiler import referenced_fields
from dixian.policy.files import (
    ConditionSpec,
    LeadSpec,
    ParameterSpec,
    ParameterValues,
    PolicyDocument,
    ProgramSpec,
    ReviewSpec,
    Scalar,
    TriggerSpec,
    read_policy_document,
)
from dixian.policy.parser import parse_expression
from dixian.policy.problems import ExpressionError, Problem
from dixian.policy.typecheck import ValueType, check_expression, nearest_names, value_type

DEFAULTS_DIR = Path(__file__).parent / "defaults"
# Example county files (not loaded unless copied into a workspace's policies/ folder).
EXAMPLES_DIR = Path(__file__).parent / "examples"


@dataclass(frozen=True)
class CompiledRule:
    """A checked rule expression with what it reads (for evidence)."""

    id: str
    label_zh: str
    label_en: str
    text: str
    expr: Expr
    fields: tuple[str, ...]
    params: tuple[str, ...]
    lead: LeadSpec | None = None


@dataclass(frozen=True)
class Program:
    """A program ready to evaluate: checked conditions, review rules, beneficiary rule."""

    id: str
    label_zh: str
    label_en: str
    beneficiary: CompiledRule | None
    conditions: tuple[CompiledRule, ...]
    review: tuple[CompiledRule, ...]


@dataclass
class PolicySet:
    """All parameters, programs and triggers in force, with the files they came from."""

    parameters: dict[str, ParameterSpec] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    triggers: dict[str, tuple[CompiledRule, TriggerSpec]] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)
    _resolved: dict[tuple[str, int], dict[str, Scalar]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Values other stages derive from the rules (e.g. how much history they read), kept for
    # the set's lifetime so that a single application does not walk every rule again.
    derived: dict[tuple[str, tuple[str, ...]], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def program(self, program_id: str) -> Program:
        """The program by id.

        Raises:
            PolicyError: no such program (naming the nearest ones).
        """
        if program_id in self.programs:
            return self.programs[program_id]
        near = nearest_names(program_id, self.programs) or sorted(self.programs)
        raise PolicyError(f"unknown program '{program_id}'; known programs: {', '.join(near)}")

    def resolve_parameters(self, *, province: str, year: int) -> dict[str, Scalar]:
        """Parameter values for a province and year (parameters without one are left out)."""
        key = (province, year)
        if key not in self._resolved:
            values: dict[str, Scalar] = {}
            for name, spec in self.parameters.items():
                found = resolve_parameter(spec, province=province, year=year)
                if found is not None:
                    values[name] = found
            self._resolved[key] = values
        # A copy: callers may add or change values for their own use.
        return dict(self._resolved[key])


def resolve_parameter(spec: ParameterSpec, *, province: str, year: int) -> Scalar | None:
    """One parameter's value: the province's own if given, then by the latest year <= year."""
    chosen: ParameterValues = spec
    if spec.by_province and province in spec.by_province:
        chosen = spec.by_province[province]
    if chosen.by_year:
        years = sorted(y for y in chosen.by_year if y <= year)
        if years:
            return chosen.by_year[years[-1]]
        return chosen.value
    return chosen.value


def _parameter_values(spec: ParameterSpec) -> list[Scalar]:
    values: list[Scalar] = []
    for part in [spec, *(spec.by_province or {}).values()]:
        if part.value is not None:
            values.append(part.value)
        values.extend((part.by_year or {}).values())
    return values


def parameter_type(spec: ParameterSpec) -> ValueType | None:
    """The expression type of a parameter (None when it has no values or mixed types)."""
    types = {value_type(value) for value in _parameter_values(spec)}
    return types.pop() if len(types) == 1 else None


def _check_rule(
    document: PolicyDocument,
    path: tuple[Any, ...],
    text: str,
    params: Mapping[str, ValueType],
    problems: list[Problem],
) -> Expr | None:
    try:
        expr = parse_expression(text)
    except ExpressionError as exc:
        problems.extend(document.expression_problem(path, p) for p in exc.problems)
        return None
    found = check_expression(expr, params=params)
    problems.extend(document.expression_problem(path, p) for p in found)
    return None if found else expr


def _rule(
    document: PolicyDocument,
    path: tuple[Any, ...],
    spec: Any,
    params: Mapping[str, ValueType],
    problems: list[Problem],
) -> CompiledRule | None:
    expr = _check_rule(document, path, spec.when, params, problems)
    if expr is None:
        return None
    return CompiledRule(
        id=spec.id,
        label_zh=spec.label_zh,
        label_en=spec.label_en,
        text=spec.when,
        expr=expr,
        fields=tuple(referenced_fields(expr)),
        params=tuple(_params_of(expr)),
        lead=getattr(spec, "lead", None),
    )


def _params_of(expr: Expr) -> list[str]:
    return param_names(expr)


def _compile_program(
    document: PolicyDocument,
    program_id: str,
    spec: ProgramSpec,
    params: Mapping[str, ValueType],
    problems: list[Problem],
) -> Program | None:
    base = ("programs", program_id)
    beneficiary = None
    count_before = len(problems)
    if spec.beneficiary is not None:
        expr = _check_rule(document, (*base, "beneficiary"), spec.beneficiary, params, problems)
        if expr is not None:
            beneficiary = CompiledRule(
                "beneficiary",
                "现受益对象",
                "current beneficiary",
                spec.beneficiary,
                expr,
                tuple(referenced_fields(expr)),
                tuple(_params_of(expr)),
            )
    conditions: list[CompiledRule] = []
    review: list[CompiledRule] = []
    seen: set[str] = set()
    groups: list[tuple[str, Sequence[ConditionSpec | ReviewSpec], list[CompiledRule]]] = [
        ("conditions", spec.conditions, conditions),
        ("review", spec.review, review),
    ]
    for key, rules, target in groups:
        for index, rule_spec in enumerate(rules):
            if rule_spec.id in seen:
                line, column = document.located.position((*base, key, index, "id"))
                problems.append(
                    Problem(
                        line,
                        column,
                        f"duplicate rule id '{rule_spec.id}' in program '{program_id}'",
                    )
                )
            seen.add(rule_spec.id)
            compiled = _rule(document, (*base, key, index, "when"), rule_spec, params, problems)
            if compiled is not None:
                target.append(compiled)
    if len(problems) > count_before:
        return None
    return Program(
        program_id, spec.label_zh, spec.label_en, beneficiary, tuple(conditions), tuple(review)
    )


def check_documents(
    documents: Sequence[PolicyDocument], *, base: Mapping[str, ParameterSpec] | None = None
) -> tuple[PolicySet, list[tuple[PolicyDocument, list[Problem]]]]:
    """Merge documents in order and check every expression against the merged parameters.

    Returns:
        The merged policy set (programs with errors left out) and the problems per document.
    """
    merged: dict[str, ParameterSpec] = dict(base or {})
    for document in documents:
        merged.update(document.spec.parameters)
    param_types: dict[str, ValueType] = {}
    result = PolicySet(parameters=merged, sources=[d.path for d in documents])
    report: list[tuple[PolicyDocument, list[Problem]]] = []
    for name, spec in merged.items():
        found = parameter_type(spec)
        if found is not None:
            param_types[name] = found
    for document in documents:
        problems: list[Problem] = []
        for name, spec in document.spec.parameters.items():
            if parameter_type(spec) is None:
                line, column = document.located.position(("parameters", name, "__key__"))
                problems.append(
                    Problem(
                        line,
                        column,
                        f"parameter '{name}': expected 'value' or 'by_year' values of one type",
                    )
                )
        for program_id, program_spec in document.spec.programs.items():
            program = _compile_program(document, program_id, program_spec, param_types, problems)
            if program is not None:
                result.programs[program_id] = program
        for index, trigger in enumerate(document.spec.triggers):
            rule = _rule(document, ("triggers", index, "when"), trigger, param_types, problems)
            if rule is not None:
                result.triggers[trigger.id] = (rule, trigger)
        report.append((document, sorted(problems, key=lambda p: (p.line, p.column))))
    return result, report


def policy_files(folder: Path) -> list[Path]:
    """The policy files of a folder (*.yaml, *.yml), in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _raise_if_problems(report: Iterable[tuple[PolicyDocument, list[Problem]]]) -> None:
    lines = [f"{doc.path}: {problem}" for doc, problems in report for problem in problems]
    if lines:
        raise PolicyError("; ".join(lines))


def load_policy_set(folders: Sequence[Path] = ()) -> PolicySet:
    """The shipped defaults overridden by the policy files of the given folders.

    The result is shared between calls while the files are unchanged: do not modify it.

    Args:
        folders: folders of policy files, e.g. ``[workspace.policies_dir]``.

    Raises:
        PolicyError: any file has any error (every error of every file is listed).
    """
    paths = policy_files(DEFAULTS_DIR)
    for folder in folders:
        paths.extend(policy_files(folder))
    # Parsing and type-checking every rule costs ~10 ms; a web request or a service verifying
    # applications one after another reuses the result while no file has changed.
    key = tuple(_file_key(path) for path in paths)
    cached = _LOADED.get(key)
    if cached is not None:
        return cached
    policy_set = _load(paths)
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = policy_set
    return policy_set


_LOADED: dict[tuple[tuple[str, int, int], ...], PolicySet] = {}
_LOADED_MAX = 8


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def _load(paths: Sequence[Path]) -> PolicySet:
    documents: list[PolicyDocument] = []
    structural: list[str] = []
    for path in paths:
        try:
            documents.append(read_policy_document(path))
        except ExpressionError as exc:
            structural.append(str(exc))
    if structural:
        raise PolicyError("; ".join(structural))
    policy_set, report = check_documents(documents)
    _raise_if_problems(report)
    return policy_set


def check_policy_file(path: Path) -> list[Problem]:
    """Every problem of one policy file, checked on top of the shipped defaults.

    Returns:
        The problems (empty: the file is valid), each with the file's line and column.
    """
    try:
        document = read_policy_document(path)
    except ExpressionError as exc:
        return exc.problems
    base_docs = [
        read_policy_document(p) for p in policy_files(DEFAULTS_DIR) if p.resolve() != path.resolve()
    ]
    base: dict[str, ParameterSpec] = {}
    for doc in base_docs:
        base.update(doc.spec.parameters)
    _, report = check_documents([document], base=base)
    return report[0][1]
