"""Shared fixtures: workspaces, the CLI runner, and the engines."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dixian.config import Workspace, init_workspace


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run the dixian CLI in-process and capture its output."""
    from dixian.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> type[CliResult]:
    return run_cli  # type: ignore[return-value]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace in a temporary folder."""
    return init_workspace(tmp_path / "ws", province="52", county="522799", name="test county")


@pytest.fixture(scope="session")
def spark_backend() -> Any:
    """An Ibis PySpark backend on one local Spark session shared by the whole test process.

    Mark Spark tests with `@pytest.mark.spark` and `@pytest.mark.xdist_group("spark")` so
    that they share one worker and one JVM.
    """
    from dixian.engine import open_spark

    return open_spark(master="local[2]", driver_memory="2g")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the real PostgreSQL the suite runs against; CI must have one."""
    url = os.environ.get("DIXIAN_TEST_PG_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("DIXIAN_TEST_PG_URL is not set in CI; 'make test' starts PostgreSQL")
        pytest.skip("DIXIAN_TEST_PG_URL not set")
    yield url
