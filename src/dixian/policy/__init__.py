"""The policy language: rule expressions, policy files, compilation to engine expressions.

Typical use::

    policy_set = load_policy_set([workspace.policies_dir])
    params = policy_set.resolve_parameters(province="52", year=2024)
    program = policy_set.program("dibao")
    columns = rule_columns(panel, program.conditions, params=params)
"""

from __future__ import annotations

from dixian.policy.ast import Expr, field_names, param_names
from dixian.policy.compiler import compile_expression, referenced_fields
from dixian.policy.evaluate import evaluate_triggers, rule_columns
from dixian.policy.files import (
    ConditionSpec,
    LeadSpec,
    ParameterSpec,
    PolicyFileSpec,
    ProgramSpec,
    TriggerSpec,
    read_policy_document,
)
from dixian.policy.parser import parse_expression
from dixian.policy.policyset import (
    DEFAULTS_DIR,
    EXAMPLES_DIR,
    CompiledRule,
    PolicySet,
    Program,
    check_policy_file,
    load_policy_set,
    resolve_parameter,
)
from dixian.policy.printer import format_expression
from dixian.policy.problems import ExpressionError, Problem
from dixian.policy.typecheck import ValueType, check_expression, nearest_names, panel_field_types

__all__ = [
    "DEFAULTS_DIR",
    "EXAMPLES_DIR",
    "CompiledRule",
    "ConditionSpec",
    "Expr",
    "ExpressionError",
    "LeadSpec",
    "ParameterSpec",
    "PolicyFileSpec",
    "PolicySet",
    "Problem",
    "Program",
    "ProgramSpec",
    "TriggerSpec",
    "ValueType",
    "check_expression",
    "check_policy_file",
    "compile_expression",
    "evaluate_triggers",
    "field_names",
    "format_expression",
    "load_policy_set",
    "nearest_names",
    "panel_field_types",
    "param_names",
    "parse_expression",
    "read_policy_document",
    "referenced_fields",
    "resolve_parameter",
    "rule_columns",
]
