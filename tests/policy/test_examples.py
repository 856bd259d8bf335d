"""The example county file: valid, and it changes what the shipped defaults allow."""

from __future__ import annotations

from dixian.policy import EXAMPLES_DIR, check_policy_file, load_policy_set
from dixian.verify import Status, explain_history
from tests.verify.households import family


def test_every_example_file_is_valid() -> None:
    files = sorted(EXAMPLES_DIR.glob("*.yaml"))
    assert files
    for path in files:
        assert check_policy_file(path) == [], path


def _dibao(folders: list, **row: object) -> Status:
    policy_set = load_policy_set(folders)
    params = policy_set.resolve_parameters(province="52", year=2024)
    (result,) = explain_history([family(**row)], policy_set, params=params, programs=["dibao"])
    return result.status


def test_simulated_county_excludes_a_purchased_flat_and_any_business() -> None:
    flat = {"property_count": 1}
    small_business = {"business_count": 1, "business_capital_total": 20000.0}
    for row in (flat, small_business):
        assert _dibao([], **row) is not Status.NOT_ELIGIBLE  # the generic defaults allow it
        assert _dibao([EXAMPLES_DIR], **row) is Status.NOT_ELIGIBLE
    assert _dibao([EXAMPLES_DIR], property_count=0) is not Status.NOT_ELIGIBLE
