"""The command line's handling of bad usage."""

from __future__ import annotations

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
