"""Fixtures of the ingestion tests: workspaces of the test county (regions in place)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dixian.config import Workspace, init_workspace
from tests.ingest.feeds import add_regions


@pytest.fixture
def county(workspace: Workspace) -> Workspace:
    """The fresh workspace with the test county's `reference/regions.csv`."""
    add_regions(workspace)
    return workspace


@pytest.fixture
def new_county(tmp_path: Path) -> Callable[[str], Workspace]:
    """Makes more county workspaces by name, for tests that compare two runs."""

    def make(name: str) -> Workspace:
        created = init_workspace(tmp_path / name)
        add_regions(created)
        return created

    return make
