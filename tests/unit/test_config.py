from __future__ import annotations

from pathlib import Path

import pytest

from dixian.config import Workspace, init_workspace, load_config
from dixian.errors import ConfigError, WorkspaceError
from tests.conftest import run_cli


def test_init_writes_a_commented_valid_config(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "w", province="53", county="532301")
    text = ws.config_path.read_text(encoding="utf-8")
    assert text.startswith("# dixian workspace configuration")
    config = load_config(ws.config_path)
    assert config.region.province == "53"
    assert config.region.county == "532301"
    assert ws.feeds_dir.is_dir() and ws.policies_dir.is_dir()


def test_init_refuses_to_overwrite(workspace: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(workspace.root)


def test_unknown_key_is_named(workspace: Workspace) -> None:
    path = workspace.config_path
    path.write_text(path.read_text() + "\n[extra]\ncolour = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'extra'"):
        load_config(path)


def test_invalid_value_names_the_key(workspace: Workspace) -> None:
    path = workspace.config_path
    path.write_text(path.read_text().replace('kind = "duckdb"', 'kind = "oracle"'))
    with pytest.raises(ConfigError, match=r"engine\.kind"):
        load_config(path)


def test_county_outside_province_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not lie in"):
        init_workspace(tmp_path / "w", province="52", county="532301")


def test_missing_workspace_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        Workspace.open(tmp_path / "nowhere")


def test_cli_init_json_and_error_exit_code(tmp_path: Path) -> None:
    import json

    result = run_cli("init", "--workspace", str(tmp_path / "w"), "--json")
    assert result.exit_code == 0
    figures = json.loads(result.stdout)
    assert figures["county"] == "522799"
    again = run_cli("init", "--workspace", str(tmp_path / "w"))
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_case_deadlines_come_from_the_workspace(workspace: Workspace) -> None:
    from dixian.cases import CaseSettings

    path = workspace.config_path
    path.write_text(
        path.read_text().replace("decision_deadline_days = 15", "decision_deadline_days = 20"),
        encoding="utf-8",
    )
    opened = Workspace.open(workspace.root)
    assert CaseSettings.from_workspace(opened).decision_deadline_days == 20
    path.write_text(
        path.read_text().replace("public_notice_min_days = 5", "public_notice_min_days = 3")
    )
    with pytest.raises(ConfigError, match=r"cases\.public_notice_min_days"):
        load_config(path)
