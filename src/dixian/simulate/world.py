"""Running the world: geography, population, then month by month dynamics, shocks, assets,
the official process, and the planted ineligibility patterns; one extra hidden year gives
every household its next-year outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dixian.simulate import demography, income, official, shocks
from dixian.simulate._rng import component_rng
from dixian.simulate.demography import monthly
from dixian.simulate.geography import build_geography
from dixian.simulate.params import SimulationParams
from dixian.simulate.population import build_population
from dixian.simulate.state import Month, WorldState, month_of

PLANTED_PATTERNS = (
    "public_employee",
    "owns_car",
    "registers_business",
    "buys_house",
    "paid_after_death",
)


@dataclass(frozen=True)
class PlantingRates:
    """Share of 低保/特困 households given each ineligibility pattern."""

    public_employee: float = 0.01
    owns_car: float = 0.02
    registers_business: float = 0.01
    buys_house: float = 0.005
    paid_after_death: float = 0.3  # share of deceased beneficiaries still paid for months


def run_world(
    *,
    seed: int,
    persons: int,
    years: int,
    start_year: int,
    county_code: str,
    county_name: str,
    params: SimulationParams,
    planting: PlantingRates,
    progress: Callable[[int], None] | None = None,
) -> WorldState:
    """Simulate the county: `years` visible years plus one hidden year for outcomes."""
    geography = build_geography(
        county_code=county_code,
        county_name=county_name,
        persons=persons,
        params=params.geography,
        rng=component_rng(seed, "geography"),
    )
    start = np.datetime64(f"{start_year:04d}-01-01")
    pop = build_population(
        persons=persons,
        geography=geography,
        params=params.population,
        start=start,
        rng=component_rng(seed, "population"),
    )
    months = 12 * (years + 1)
    state = WorldState.from_population(
        pop, geography=geography, params=params, start=start, months=months
    )
    official.init_official_columns(state)
    _init_registry(state, component_rng(seed, "registry"))
    scales = income.solve_scales(state)
    rngs = {
        name: component_rng(seed, name)
        for name in ("demography", "income", "shocks", "official", "assets", "planting")
    }
    year_factors = np.exp(
        component_rng(seed, "job_loss_years").normal(0, params.shocks.job_loss_year_sd, years + 1)
    )
    township_factor = np.exp(
        component_rng(seed, "job_loss_towns").normal(
            0, params.shocks.job_loss_township_sd, geography.township_code.size
        )
    )
    for index in range(months):
        month = month_of(start, index)
        if month.month == 1 and index > 0:
            income.yearly_update(state, rngs["income"])
        demography.deaths(state, month, rngs["demography"])
        demography.births(state, month, rngs["demography"])
        demography.marriages(state, month, rngs["demography"])
        demography.splits(state, month, rngs["demography"])
        demography.migration(state, month, rngs["demography"])
        entering = demography.schooling(state, month, rngs["demography"])
        shocks.apply_shocks(
            state, month, rngs["shocks"], float(year_factors[index // 12]), township_factor
        )
        income.monthly_income(state, month, scales, rngs["income"])
        if month.month in income.JOB_SNAPSHOT_MONTHS:
            income.log_jobs(state, month, scales)
        shocks.schooling_costs(state, month, entering, rngs["shocks"])
        _assets(state, month, rngs["assets"])
        official.monthly_process(state, month, rngs["official"])
        if index == 0:
            _plant(state, month, planting, rngs["planting"])
        _paid_after_death(state, month, planting, rngs["planting"])
        _snapshot(state, month)
        if progress is not None:
            progress(1)
    return state


def _init_registry(state: WorldState, rng: np.random.Generator) -> None:
    """Formerly poor households left poverty between 2014 and 2020."""
    h = state.households
    n_h = state.n_households
    poor = h["formerly_poor"][:n_h]
    h["exit_year"][:n_h] = np.where(
        poor, rng.choice(np.arange(2014, 2021), n_h, p=[0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.1]), 0
    )


def _assets(state: WorldState, month: Month, rng: np.random.Generator) -> None:
    """Ordinary purchases: cars, houses in town, new businesses (yearly hazards)."""
    h = state.households
    n_h = state.n_households
    members = state.members_count()
    live = members > 0
    u = rng.uniform(0, 1, (3, n_h))
    richer = np.where(h["formerly_poor"][:n_h], 0.4, 1.0)
    car = np.flatnonzero(live & ~h["car"][:n_h] & (u[0] < monthly(0.025 * richer)))
    house = np.flatnonzero(live & (u[1] < monthly(0.006 * richer)))
    business = np.flatnonzero(live & ~h["business"][:n_h] & (u[2] < monthly(0.01 * richer)))
    _buy_car(state, month, car, rng, planted=False)
    _buy_house(state, month, house, rng, planted=False)
    _open_business(state, month, business, rng, planted=False)


def _adult_of(state: WorldState, households: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One living adult (head if alive) of each household; -1 when none."""
    alive = state.p("alive")
    relation = state.p("relation")
    hh = state.p("household")
    lookup = np.full(state.n_households, -1, dtype=np.int64)
    heads = np.flatnonzero(alive & (relation == 0))
    lookup[hh[heads]] = heads
    result: np.ndarray = lookup[households]
    return result


def _buy_car(
    state: WorldState, month: Month, rows: np.ndarray, rng: np.random.Generator, *, planted: bool
) -> None:
    if rows.size == 0:
        return
    owner = _adult_of(state, rows, rng)
    rows, owner = rows[owner >= 0], owner[owner >= 0]
    state.households["car"][rows] = True
    price = np.round(rng.lognormal(np.log(80_000), 0.5, rows.size), -2)
    if planted:
        # The planted pattern is a passenger car, which no policy exempts; the vehicle feed
        # lists vehicles up to 30,000 yuan as motorcycles or farm vehicles.
        price = np.maximum(price, 35_000.0)
    state.households["car_value"][rows] = price
    state.log(
        "vehicle",
        household=rows,
        person=owner,
        date=month.random_days(rows.size, rng),
        price=price,
        planted=np.full(rows.size, planted),
    )


def _buy_house(
    state: WorldState, month: Month, rows: np.ndarray, rng: np.random.Generator, *, planted: bool
) -> None:
    if rows.size == 0:
        return
    owner = _adult_of(state, rows, rng)
    rows, owner = rows[owner >= 0], owner[owner >= 0]
    price = np.round(rng.lognormal(np.log(420_000), 0.4, rows.size), -3)
    area = np.round(rng.uniform(70, 140, rows.size), 1)
    state.log(
        "house",
        household=rows,
        person=owner,
        date=month.random_days(rows.size, rng),
        price=price,
        area=area,
        planted=np.full(rows.size, planted),
    )


def _open_business(
    state: WorldState, month: Month, rows: np.ndarray, rng: np.random.Generator, *, planted: bool
) -> None:
    if rows.size == 0:
        return
    owner = _adult_of(state, rows, rng)
    rows, owner = rows[owner >= 0], owner[owner >= 0]
    capital = np.round(rng.lognormal(np.log(50_000), 0.9, rows.size), -3)
    state.households["business"][rows] = True
    state.households["business_capital"][rows] = capital
    state.log(
        "business",
        household=rows,
        person=owner,
        date=month.random_days(rows.size, rng),
        capital=capital,
        planted=np.full(rows.size, planted),
    )


def _plant(state: WorldState, month: Month, rates: PlantingRates, rng: np.random.Generator) -> None:
    """Give some 低保/特困 households a trait that makes them ineligible."""
    h = state.households
    n_h = state.n_households
    beneficiaries = np.flatnonzero(h["dibao"][:n_h] | h["tekun"][:n_h])
    u = rng.uniform(0, 1, (4, beneficiaries.size))
    pub = beneficiaries[u[0] < rates.public_employee]
    person = _adult_of(state, pub, rng)
    pub, person = pub[person >= 0], person[person >= 0]
    state.persons["public_employee"][person] = True
    state.persons["migrant"][person] = False
    state.log(
        "planted",
        household=pub,
        person=person,
        pattern=np.full(pub.size, "public_employee"),
        date=np.full(pub.size, state.start),
    )
    car = beneficiaries[u[1] < rates.owns_car]
    _buy_car(state, month, car, rng, planted=True)
    state.log(
        "planted",
        household=car,
        person=_adult_of(state, car, rng),
        pattern=np.full(car.size, "owns_car"),
        date=np.full(car.size, state.start),
    )
    biz = beneficiaries[u[2] < rates.registers_business]
    _open_business(state, month, biz, rng, planted=True)
    state.log(
        "planted",
        household=biz,
        person=_adult_of(state, biz, rng),
        pattern=np.full(biz.size, "registers_business"),
        date=np.full(biz.size, state.start),
    )
    house = beneficiaries[u[3] < rates.buys_house]
    _buy_house(state, month, house, rng, planted=True)
    state.log(
        "planted",
        household=house,
        person=_adult_of(state, house, rng),
        pattern=np.full(house.size, "buys_house"),
        date=np.full(house.size, state.start),
    )


def _paid_after_death(
    state: WorldState, month: Month, rates: PlantingRates, rng: np.random.Generator
) -> None:
    """Civil affairs keeps paying some deceased beneficiaries for a few months."""
    chunks = state.logs.get("death", [])
    if not chunks:
        return
    last = chunks[-1]
    h = state.households
    dead = last["person"]
    hh = last["household"]
    beneficiary = h["dibao"][hh] | h["tekun"][hh]
    chosen = beneficiary & (rng.uniform(0, 1, dead.size) < rates.paid_after_death)
    if chosen.any() and "paid_after_death_seen" not in state.households:
        pass
    rows = dead[chosen]
    state.log(
        "planted",
        household=hh[chosen],
        person=rows,
        pattern=np.full(rows.size, "paid_after_death"),
        date=last["date"][chosen],
    )
    state.log(
        "paid_after_death",
        person=rows,
        household=hh[chosen],
        months=rng.integers(2, 7, rows.size),
        from_month=np.full(rows.size, month.index),
    )


def _snapshot(state: WorldState, month: Month) -> None:
    """Membership and status at the end of the month (for the truth)."""
    alive = np.flatnonzero(state.p("alive"))
    state.log(
        "membership",
        month=np.full(alive.size, month.index, dtype=np.int16),
        person=alive.astype(np.int32),
        household=state.persons["household"][alive].astype(np.int32),
        relation=state.persons["relation"][alive],
    )
    n_h = state.n_households
    h = state.households
    state.log(
        "status",
        month=np.full(n_h, month.index, dtype=np.int16),
        household=np.arange(n_h, dtype=np.int32),
        mon_state=h["mon_state"][:n_h].copy(),
        mon_type=h["mon_type"][:n_h].copy(),
        dibao=(h["dibao"][:n_h] | h["tekun"][:n_h]).copy(),
        housing_grade=h["housing_grade"][:n_h].copy(),
        car=h["car"][:n_h].copy(),
        business=h["business"][:n_h].copy(),
    )
