"""Property (AC-03): whatever the region tree and the user, a list never leaves the jurisdiction."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dixian.cases import Actor, CasesDatabase, Channel, upgrade_database
from dixian.cases.service import (
    DiscoveryInput,
    count_cases_by_state,
    list_cases,
    record_discoveries,
)
from tests.cases.conftest import TEST_KEY

_TOWNSHIPS = ["101", "102", "203"]
_VILLAGES = ["201", "202", "305"]
_village_codes = st.builds(
    lambda county, township, village: f"52{county}{township}{village}",
    st.sampled_from(["2799", "2701"]),
    st.sampled_from(_TOWNSHIPS),
    st.sampled_from(_VILLAGES),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    regions=st.lists(_village_codes, min_size=1, max_size=15),
    user_region=_village_codes,
    depth=st.sampled_from([4, 6, 9, 12]),
)
def test_lists_stay_inside_the_jurisdiction(
    tmp_path_factory: object, regions: list[str], user_region: str, depth: int
) -> None:
    folder: Path = tmp_path_factory.mktemp("prop")  # type: ignore[attr-defined]
    database = CasesDatabase.open(f"sqlite:///{folder / 'cases.sqlite'}", audit_key=TEST_KEY)
    upgrade_database(database.engine)
    with database.session() as session:
        record_discoveries(session, actor=Actor.system(), discoveries=[
            DiscoveryInput(household_id=f"H{n}", region_code=region, period="2025-01",
                           channel=Channel.DEPARTMENT_SCREENING, discovered_on=date(2025, 1, 2))
            for n, region in enumerate(regions)
        ])  # fmt: skip
    prefix = user_region[:depth]
    user = Actor(user_id=None, username="u", role="village_caseworker", jurisdiction=prefix)
    with database.session() as session:
        listed = [case.household.region_code for case in list_cases(session, actor=user)]
        counted = sum(count_cases_by_state(session, actor=user).values())
    database.dispose()
    expected = sorted(region for region in regions if region.startswith(prefix))
    assert sorted(listed) == expected
    assert counted == len(expected)
