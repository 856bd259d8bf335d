"""The education feed reports each school year's stage of the student at the time."""

from __future__ import annotations

import numpy as np
import pytest

from dixian.simulate.extract import Extractor
from dixian.simulate.extract_services import students
from dixian.simulate.population import age_at
from dixian.simulate.state import WorldState
from tests.simulate.conftest import small_world

YEARS = 3
TERTIARY = ("undergraduate", "higher_vocational")
HIGH_SCHOOL = ("senior_secondary", "secondary_vocational")


@pytest.fixture(scope="module")
def rows() -> list[tuple[int, int, str, int]]:
    world: WorldState = small_world(seed=12, years=YEARS)
    extractor = Extractor(world, YEARS, np.random.default_rng(1))
    out = []
    for batch in students(extractor):
        year = int(batch.columns["school_year"][0])
        ages = age_at(batch.columns["birth_date"], np.datetime64(f"{year}-09-01"))
        for person, stage, age in zip(
            batch.person, batch.columns["school_stage"], ages, strict=True
        ):
            out.append((int(person), year, str(stage), int(age)))
    return out


def test_stages_fit_the_students_age_that_year(rows: list[tuple[int, int, str, int]]) -> None:
    tertiary_ages = {age for _, _, stage, age in rows if stage in TERTIARY}
    high_school_ages = {age for _, _, stage, age in rows if stage in HIGH_SCHOOL}
    assert tertiary_ages and min(tertiary_ages) >= 18 and max(tertiary_ages) <= 21
    assert high_school_ages and min(high_school_ages) >= 15 and max(high_school_ages) <= 17


def test_university_entrants_appear_in_their_first_year(
    rows: list[tuple[int, int, str, int]],
) -> None:
    by_person: dict[int, dict[int, str]] = {}
    for person, year, stage, _ in rows:
        by_person.setdefault(person, {})[year] = stage
    entered = [
        years
        for years in by_person.values()
        if any(years.get(year) in TERTIARY and years.get(year - 1) in HIGH_SCHOOL for year in years)
    ]
    assert entered
    # The kind of school stays the same while the student stays in it.
    for years in by_person.values():
        kinds = {stage for stage in years.values() if stage in TERTIARY}
        assert len(kinds) <= 1
