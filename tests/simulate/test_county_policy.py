"""The simulated county's own policy file lands in W/policies, a user's file is kept."""

from __future__ import annotations

from pathlib import Path

from dixian.config import Workspace, init_workspace
from dixian.policy import load_policy_set
from dixian.simulate.run import COUNTY_POLICY_FILE, write_county_policy


def test_simulated_county_carries_its_policy(small_county: Workspace) -> None:
    path = small_county.policies_dir / COUNTY_POLICY_FILE
    assert path.is_file()
    policies = load_policy_set([small_county.policies_dir])
    assert policies.resolve_parameters(province="52", year=2023)["max_properties"] == 0


def test_a_users_file_of_the_same_name_is_kept_unless_replaced(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws", province="52", county="522799", name="t")
    target = workspace.policies_dir / COUNTY_POLICY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# the county's own edits\n", encoding="utf-8")
    assert write_county_policy(workspace, replace=False) is None
    assert target.read_text(encoding="utf-8") == "# the county's own edits\n"
    assert write_county_policy(workspace, replace=True) == target
    assert "max_properties" in target.read_text(encoding="utf-8")
