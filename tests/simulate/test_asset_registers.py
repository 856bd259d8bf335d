"""Vehicle and real-estate registers carry the owner's household-registration address."""

from __future__ import annotations

import numpy as np
import pytest

from dixian.simulate.extract import Extractor, household_registration
from dixian.simulate.extract_assets import (
    REAL_ESTATE_ADDRESS_BLANK,
    VEHICLE_ADDRESS_BLANK,
    real_estate,
    vehicles,
)
from dixian.simulate.state import WorldState
from dixian.simulate.world import PlantingRates
from dixian.standards import load_catalog
from tests.simulate.conftest import small_world

YEARS = 2


@pytest.fixture(scope="module")
def world() -> WorldState:
    return small_world(seed=8, years=YEARS, planting=PlantingRates(owns_car=0.3, buys_house=0.3))


def test_owner_address_is_an_optional_address_field_of_both_registers() -> None:
    catalog = load_catalog()
    for name in ("vehicles", "real_estate"):
        spec = catalog.dataset(name).field("owner_address")
        assert spec.role == "address" and not spec.required and spec.sensitivity == "L3"


@pytest.mark.parametrize(
    ("extract", "blank_share"),
    [(vehicles, VEHICLE_ADDRESS_BLANK), (real_estate, REAL_ESTATE_ADDRESS_BLANK)],
)
def test_owner_address_is_the_registered_address_of_the_owners_household(
    world: WorldState, extract: object, blank_share: float
) -> None:
    extractor = Extractor(world, YEARS, np.random.default_rng(3))
    # The household register's own text for each household (its January extract).
    register = next(household_registration(extractor))
    registered = dict(
        zip(register.household.tolist(), register.columns["address"].tolist(), strict=True)
    )
    batches = list(extract(extractor))  # type: ignore[operator]
    addresses = np.concatenate([b.columns["owner_address"] for b in batches])
    households = np.concatenate([b.household for b in batches])
    assert addresses.size >= 30
    filled = addresses != ""
    # Blank on about the argued share of rows (a few dozen rows here), filled on the rest.
    assert float((~filled).mean()) <= blank_share + 0.1
    compared = 0
    for household, address in zip(households[filled], addresses[filled], strict=True):
        if int(household) in registered:
            assert address == registered[int(household)]
            compared += 1
    assert compared > 0.5 * int(filled.sum())
