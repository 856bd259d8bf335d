"""The command line's handling of bad usage."""

from __future__ import annotations

import duckdb
import pytest

from dixian import cli
from tests.conftest import run_cli


def test_an_unexpected_argument_is_a_usage_error_not_a_traceback() -> None:
    result = run_cli("init", "some/folder")
    assert result.exit_code == 2
    assert "unexpected extra argument" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_option_names_the_option() -> None:
    result = run_cli("features", "--no-such-option")
    assert result.exit_code == 2
    assert "--no-such-option" in result.stderr


def test_running_out_of_memory_says_what_to_change_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def exhausted(**_: object) -> None:
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to allocate data of size 16.0 MiB (2.7 GiB/2.7 GiB used)"
        )

    monkeypatch.setattr(cli, "app", exhausted)
    assert cli.main(["features", "--workspace", "W"]) == cli.OUT_OF_MEMORY_EXIT_CODE
    printed = capsys.readouterr().err
    assert "2.7 GiB/2.7 GiB used" in printed
    assert "[engine] memory_limit" in printed
    assert "Traceback" not in printed
