"""Medical claims: accidents' hospital stays reach the claims feed with an injury diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dixian.simulate.extract import Extractor
from dixian.simulate.extract_services import INJURY_DIAGNOSES, medical_claims
from dixian.simulate.state import WorldState
from tests.simulate.conftest import small_world

YEARS = 2


@pytest.fixture(scope="module")
def world() -> WorldState:
    return small_world(seed=11, years=YEARS)


def test_every_visible_accident_has_an_injury_stay_of_its_victim(world: WorldState) -> None:
    extractor = Extractor(world, YEARS, np.random.default_rng(1))
    shocks = extractor.events("shock")
    accident = (shocks["kind"] == "accident") & extractor.in_visible(shocks["date"])
    assert accident.sum() > 0
    expected = {
        (int(person), str(np.datetime64(date, "M")))
        for person, date in zip(shocks["person"][accident], shocks["date"][accident], strict=True)
    }
    injured: set[tuple[int, str]] = set()
    oop_by_victim: dict[int, float] = {}
    for batch in medical_claims(extractor):
        cols = batch.columns
        injury = np.isin(cols["diagnosis_category"], INJURY_DIAGNOSES)
        # Injury diagnoses are inpatient stays, and only accidents carry them.
        assert (cols["visit_type"][injury] == "inpatient").all()
        for person, admitted, oop in zip(
            batch.person[injury],
            cols["admission_date"][injury],
            cols["out_of_pocket"][injury],
            strict=True,
        ):
            injured.add((int(person), str(np.datetime64(admitted, "M"))))
            oop_by_victim[int(person)] = oop_by_victim.get(int(person), 0.0) + float(oop)
    assert injured == expected
    # The victim's household pays a real share of the stay.
    assert all(value > 0 for value in oop_by_victim.values())


def test_fatal_accidents_are_claimed_for_the_victims_household(world: WorldState) -> None:
    extractor = Extractor(world, YEARS, np.random.default_rng(1))
    shocks = extractor.events("shock")
    accident = (shocks["kind"] == "accident") & extractor.in_visible(shocks["date"])
    victims = shocks["person"][accident]
    households = dict(zip(victims.tolist(), shocks["household"][accident].tolist(), strict=True))
    fatal = {int(p) for p in victims if not world.persons["alive"][p]}
    claimed: dict[int, int] = {}
    for batch in medical_claims(extractor):
        injury = np.isin(batch.columns["diagnosis_category"], INJURY_DIAGNOSES)
        claimed.update(
            zip(batch.person[injury].tolist(), batch.household[injury].tolist(), strict=True)
        )
    assert fatal
    assert {p: claimed[p] for p in fatal} == {p: households[p] for p in fatal}
