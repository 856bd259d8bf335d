"""Policy files: every error with its line and column, defaults, parameters by year/province."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dixian.config import Workspace
from dixian.errors import PolicyError
from dixian.policy import (
    DEFAULTS_DIR,
    check_expression,
    check_policy_file,
    load_policy_set,
    panel_field_types,
    parse_expression,
)
from dixian.policy.policyset import policy_files
from tests.conftest import run_cli

_BAD = """\
policy: dixian/v1
name: bad
parameters:
  my_line: {value: 100}
  mixed: {by_year: {2021: 1, 2022: "x"}}
programs:
  x:
    label_zh: 测试
    conditions:
      - id: a
        label_zh: a
        when: income_net_pcc < params.my_lin
      - id: b
        label_zh: b
        when: "member_count > > 2"
      - id: c
        label_zh: c
        when: |
          member_count > 2 and
            is_dibao + 1
      - id: a
        label_zh: again
        when: count_members("aliens") > 0
"""


def _write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_error_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    problems = check_policy_file(_write(tmp_path, _BAD))
    found = [(p.line, p.column, p.message) for p in problems]
    expected = [
        (5, 3, "parameter 'mixed'"),
        (12, 15, "unknown field 'income_net_pcc'; did you mean income_net_pc"),
        (12, 32, "unknown parameter 'params.my_lin'; did you mean params.my_line"),
        (15, 31, "expected an operand"),
        (20, 13, "'+' needs numbers"),
        (20, 13, "'and' joins conditions"),
        (21, 13, "duplicate rule id 'a'"),
        (23, 29, "count_members(): expected one of"),
    ]
    assert len(found) == len(expected)
    for (line, column, message), (want_line, want_column, fragment) in zip(
        found, expected, strict=True
    ):
        assert (line, column) == (want_line, want_column), message
        assert fragment in message


def test_structure_errors_name_the_key(tmp_path: Path) -> None:
    text = "policy: dixian/v2\nname: x\nprograms:\n  p:\n    label_zh: p\n    conditionz: []\n"
    problems = check_policy_file(_write(tmp_path, text))
    messages = {(p.line, p.message.split(":")[0]) for p in problems}
    assert (1, "key 'policy'") in messages
    assert any(line == 6 and "unknown key 'conditionz'" in msg for line, msg in messages)
    assert any("missing key 'programs.p.conditions'" in p.message for p in problems)


def test_not_yaml_reports_position(tmp_path: Path) -> None:
    (problem,) = check_policy_file(_write(tmp_path, "policy: [dixian\nname: x\n"))
    assert problem.line == 2
    assert "not valid YAML" in problem.message


def test_shipped_defaults_are_valid() -> None:
    for path in policy_files(DEFAULTS_DIR):
        assert check_policy_file(path) == [], path
    policy_set = load_policy_set()
    assert set(policy_set.programs) == {"dibao", "tekun", "low_income", "monitoring"}
    assert "disaster" in policy_set.triggers


@pytest.mark.parametrize(
    ("year", "line"), [(2021, 6000), (2022, 7000), (2025, 8600), (2026, 9000), (2030, 9000)]
)
def test_monitoring_line_by_year(year: int, line: int) -> None:
    params = load_policy_set().resolve_parameters(province="52", year=year)
    assert params["monitoring_line"] == line


def test_workspace_file_overrides_a_parameter_by_province(workspace: Workspace) -> None:
    _write(
        workspace.policies_dir,
        "policy: dixian/v1\nname: yunnan\nparameters:\n  monitoring_line:\n"
        "    by_year: {2021: 6000}\n    by_province:\n      '53': {by_year: {2025: 8700}}\n",
        "province.yaml",
    )
    policy_set = load_policy_set([workspace.policies_dir])
    assert policy_set.resolve_parameters(province="53", year=2025)["monitoring_line"] == 8700
    assert policy_set.resolve_parameters(province="52", year=2025)["monitoring_line"] == 6000
    assert policy_set.resolve_parameters(province="53", year=2024).get("monitoring_line") is None


def test_broken_workspace_policy_stops_loading(workspace: Workspace) -> None:
    _write(
        workspace.policies_dir,
        "policy: dixian/v1\nname: w\nprograms:\n  dibao:\n    label_zh: x\n    conditions:\n"
        "      - {id: a, label_zh: a, when: 'deposits > 1'}\n",
        "w.yaml",
    )
    with pytest.raises(PolicyError, match=r"w\.yaml: line 7, column 37: unknown field 'deposits'"):
        load_policy_set([workspace.policies_dir])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("member_count", "expected a boolean expression"),
        ('registry_status < "x"', "orders numbers or dates"),
        ("is_dibao == 1", "compares a boolean with a number"),
        ("sum_over(1, 12) > 0", "expected a field name"),
        ("sum_over(medical_oop_12m, 0) > 0", "whole number of periods"),
        ("months_since(member_count) > 3", "needs a date"),
        ("min(income_net_pc) > 0", "two or more numbers"),
        ('coalesce(income_net_pc, "x") > 0', "expected a number but found a string"),
        ("x in []", "unknown field"),
        ('member_count in [1, "2"]', "list item is a string"),
    ],
)
def test_type_errors(text: str, fragment: str) -> None:
    problems = check_expression(parse_expression(text), params={})
    assert problems
    assert any(fragment in p.message for p in problems), problems


def test_valid_expression_has_no_problems() -> None:
    text = (
        'months_since(last_shock_date) <= 6 and registry_status in ["monitored"] '
        "and abs(coalesce(income_change_yoy, 0)) >= 0.3"
    )
    assert check_expression(parse_expression(text), params={}) == []
    assert "income_net_pc" in panel_field_types()


def test_cli_check_lists_errors_and_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, _BAD)
    result = run_cli("policy", "check", str(path))
    assert result.exit_code == 2
    assert f"{path}:12:15: unknown field 'income_net_pcc'" in result.stderr
    result = run_cli("policy", "check", str(path), "--json")
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert payload["errors"] == 8
    assert payload["problems"][0]["line"] == 5


def test_cli_check_valid_file() -> None:
    result = run_cli("policy", "check", str(DEFAULTS_DIR / "programs.yaml"), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["valid"] is True
    assert payload["programs"] == 4


def test_cli_params_lists_values_in_force(workspace: Workspace) -> None:
    _write(
        workspace.policies_dir,
        "policy: dixian/v1\nname: w\nparameters:\n  monitoring_line: {by_year: {2025: 8700}}\n",
        "w.yaml",
    )
    result = run_cli("policy", "params", "-w", str(workspace.root), "--year", "2025", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["parameters"]["monitoring_line"]["value"] == 8700
    assert payload["parameters"]["dibao_line"] == {
        "value": 8250,
        "label_zh": "农村低保标准（年）",
        "unit": "yuan/person/year",
    }
    assert payload["sources"][-1].endswith("w.yaml")
