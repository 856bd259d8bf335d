"""Unsafe houses: dynamic clearance in the world and acceptance rows in the housing feed."""

from __future__ import annotations

import numpy as np
import pytest

from dixian.simulate.extract import Extractor
from dixian.simulate.extract_assets import house_safety
from dixian.simulate.state import WorldState
from tests.simulate.conftest import small_world

YEARS = 3


@pytest.fixture(scope="module")
def world() -> WorldState:
    return small_world(seed=5, years=YEARS)


def test_unsafe_houses_of_every_household_are_cleared(world: WorldState) -> None:
    renovated = world.log_table("renovation")
    assert renovated is not None and renovated.num_rows > 0
    households = renovated["household"].to_numpy()
    # Not only registered or monitored households: owners repair their own houses too.
    assert (~world.households["formerly_poor"][households]).any()
    # Damage does not pile up: few houses are rated C or D at any June.
    for m in range(5, 12 * (YEARS + 1), 12):
        grade = world.logs["status"][m]["housing_grade"]
        assert (grade >= 2).mean() < 0.03, m


def test_housing_feed_rates_a_renovated_house_safe_on_the_day(world: WorldState) -> None:
    extractor = Extractor(world, YEARS, np.random.default_rng(1))
    batches = list(house_safety(extractor))
    assert [b.period for b in batches] == ["2021", "2022", "2023"]
    renovation = extractor.events("renovation")
    visible = extractor.in_visible(renovation["date"])
    accepted = 0
    for batch in batches:
        cols = batch.columns
        done = cols["renovated"] & (cols["assessment_date"] == cols["renovation_date"])
        assert (cols["safety_rating"][done] == "A").all()
        accepted += int(done.sum())
        # A house rated C or D is never marked renovated: the rating is of new damage.
        unsafe = np.isin(cols["safety_rating"], ["C", "D"])
        assert not cols["renovated"][unsafe].any()
    # Every visible renovation of a household with a living head has its acceptance row.
    assert 0.9 * int(visible.sum()) <= accepted <= int(visible.sum())
