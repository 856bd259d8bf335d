"""Monthly income by source, calibrated to the sourced level and composition.

Sources follow the NBS definition of disposable income: wages (local, migrant, public
payroll), net business income (farming, farming projects, registered businesses), net
property income (interest, land rent) and net transfers (pensions, disability subsidies,
family support; 低保/特困 payments are kept apart as `assistance`). Scale factors per
source are solved once at the start so that the county's expected per-capita income and
its composition match the targets; persistence comes from yearly AR(1) updates of the
person wage factor and the household farm factor, seasonality from month weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dixian.simulate.params import (
    FORMERLY_POOR_COUNTY_INCOME,
    NATIONAL_RURAL_INCOME,
    SimulationParams,
    year_value,
)
from dixian.simulate.population import age_at
from dixian.simulate.state import Month, WorldState

# Migrant wages dip around the Spring Festival; farm income peaks at harvest.
WAGE_SEASON = np.array([0.75, 0.65, 1.0, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.1, 1.05, 1.1])
FARM_SEASON = np.array([0.4, 0.4, 0.5, 0.6, 0.8, 1.0, 1.4, 1.7, 1.8, 1.6, 1.0, 0.8])
FARM_SEASON = FARM_SEASON / FARM_SEASON.mean()
WAGE_SEASON = WAGE_SEASON / WAGE_SEASON.mean()
PUBLIC_WAGE_MONTH = 5_200.0
# The employment department reports quarter-end snapshots of who is in paid work.
JOB_SNAPSHOT_MONTHS = (3, 6, 9, 12)
DISABILITY_SUBSIDY_MONTH = 90.0  # 残疾人两项补贴, typical county rate


def target_income(params: SimulationParams, year: int) -> float:
    """Target mean per-capita disposable income of the county in a year."""
    ratio = params.income.income_ratio_to_national
    if params.county_type == "poor_western" and year in FORMERLY_POOR_COUNTY_INCOME:
        return FORMERLY_POOR_COUNTY_INCOME[year] * ratio / 0.756
    return year_value(NATIONAL_RURAL_INCOME, year) * ratio


@dataclass
class IncomeScales:
    """Scale factors solved at the start, one per source."""

    wages: float
    business: float
    property: float
    family_support: float


def _raw_rates(state: WorldState, when: np.datetime64) -> dict[str, np.ndarray]:
    """Yearly amounts per household before scaling (no shocks, no seasonality)."""
    p = state.params.income
    household = state.p("household")
    alive = state.p("alive")
    age = age_at(state.p("birth"), when)
    n_h = state.n_households
    wage_person = np.where(
        state.p("migrant"),
        p.migrant_wage_month * 12,
        np.where(state.p("local_job"), p.local_wage_month * 10, 0.0),
    ) * state.p("wage_factor")
    wage_person = np.where(state.p("public_employee"), PUBLIC_WAGE_MONTH * 12.0, wage_person)
    wage_person = np.where(alive, wage_person, 0.0)
    wages = np.bincount(household, weights=wage_person, minlength=n_h)
    h = state.households
    working = alive & (age >= 16) & (age < 70) & ~state.p("migrant") & ~state.p("public_employee")
    farmers = np.bincount(household, weights=working, minlength=n_h)
    farming = np.where(farmers > 0, h["land_mu"][:n_h] * 1_100.0, 0.0) * h["farm_factor"][:n_h]
    business = (
        farming
        + np.where(h["project"][:n_h], 5_000.0 * h["farm_factor"][:n_h], 0.0)
        + h["business_capital"][:n_h] * 0.3
    )
    land_rent = np.where(farmers > 0, 0.0, h["land_mu"][:n_h] * 300.0)
    property_ = h["deposits"][:n_h] * 0.015 + land_rent
    members = np.bincount(household[alive], minlength=n_h).astype(float)
    return {"wages": wages, "business": business, "property": property_, "members": members}


def fixed_transfers_year(state: WorldState, when: np.datetime64) -> np.ndarray:
    """Pensions and disability subsidies per household per year (not scaled)."""
    p = state.params.income
    alive = state.p("alive")
    age = age_at(state.p("birth"), when)
    pension = np.where(alive & (age >= 60), p.basic_pension_month * 12, 0.0)
    subsidy = np.where(
        alive & (state.p("disability_grade") >= 1) & (state.p("disability_grade") <= 2),
        DISABILITY_SUBSIDY_MONTH * 12,
        0.0,
    )
    return np.bincount(
        state.p("household"), weights=pension + subsidy, minlength=state.n_households
    )


def solve_scales(state: WorldState) -> IncomeScales:
    """Scale factors so the expected first-year income matches the target mean and shares."""
    year = int(state.start.astype("datetime64[Y]").astype(int)) + 1970
    target = target_income(state.params, year)
    shares = np.asarray(state.params.income.target_shares)
    raw = _raw_rates(state, state.start)
    persons = raw["members"].sum()
    fixed = fixed_transfers_year(state, state.start).sum() / persons
    # Family support (赡养, remittances) closes the gap to the sourced transfer share; a
    # flat per-household amount, larger where elderly live alone, as in survey data.
    transfer_gap = max(target * shares[3] - fixed, target * 0.02)
    # Shocks, idle months and job losses take about 7% off the expected earned income.
    return IncomeScales(
        wages=1.08 * target * shares[0] / (raw["wages"].sum() / persons),
        business=1.04 * target * shares[1] / (raw["business"].sum() / persons),
        property=target * shares[2] / (raw["property"].sum() / persons),
        family_support=transfer_gap,
    )


def yearly_update(state: WorldState, rng: np.random.Generator) -> None:
    """AR(1) persistence of the person wage factor and the household farm factor."""
    rho = state.params.income.persistence_yearly
    n, h = state.n_persons, state.n_households
    for table, key, size, sd in (
        (state.persons, "wage_factor", n, 0.35),
        (state.households, "farm_factor", h, 0.4),
    ):
        log_f = np.log(np.maximum(table[key][:size], 1e-6))
        table[key][:size] = np.exp(rho * log_f + np.sqrt(1 - rho**2) * rng.normal(0, sd, size))


def monthly_income(
    state: WorldState,
    month: Month,
    scales: IncomeScales,
    rng: np.random.Generator,
) -> None:
    """Fill this month's wages, business, property and transfers series."""
    year = month.year
    start_year = int(state.start.astype("datetime64[Y]").astype(int)) + 1970
    growth = target_income(state.params, year) / target_income(state.params, start_year)
    raw = _raw_rates(state, month.start)
    # Persons out of work this month (ill, injured, between migrant jobs) earn nothing.
    idle = (state.p("ill_until") >= month.start) | (state.p("jobless_until") >= month.start)
    lost = np.bincount(
        state.p("household"),
        weights=np.where(idle & state.p("alive"), _person_wage(state), 0.0),
        minlength=state.n_households,
    )
    noise = state.params.income.monthly_noise_sd
    n_h = state.n_households
    m = month.month - 1
    wages = (raw["wages"] - lost) * scales.wages * WAGE_SEASON[m] / 12.0
    business = raw["business"] * scales.business * FARM_SEASON[m] / 12.0
    shock = rng.lognormal(-(noise**2) / 2, noise, (2, n_h))
    members = raw["members"]
    support = np.where(members > 0, scales.family_support * np.sqrt(members) * 1.9, 0.0)
    transfers = (fixed_transfers_year(state, month.start) + support * growth) / 12.0
    # A household caring for a seriously ill member earns less (care, lost farm work); with
    # the patient's own lost wages this gives about the sourced -6% yearly income effect.
    ill_now = idle & state.p("alive") & state.p("serious_ill")
    caring = np.bincount(state.p("household")[ill_now], minlength=n_h) > 0
    care = np.where(caring, 1.0 - 1.5 * state.params.shocks.illness_income_effect, 1.0)
    series = state.series
    series["wages"][month.index, :n_h] = np.maximum(wages * growth * shock[0] * care, 0.0)
    series["business"][month.index, :n_h] = business * growth * shock[1] * care
    series["property"][month.index, :n_h] = raw["property"] * scales.property * growth / 12.0
    series["transfers"][month.index, :n_h] = transfers


def _person_wage(state: WorldState) -> np.ndarray:
    p = state.params.income
    wage = np.where(
        state.p("migrant"),
        p.migrant_wage_month * 12,
        np.where(state.p("local_job"), p.local_wage_month * 10, 0.0),
    ) * state.p("wage_factor")
    return np.where(state.p("public_employee"), PUBLIC_WAGE_MONTH * 12.0, wage)


def log_jobs(state: WorldState, month: Month, scales: IncomeScales) -> None:
    """Record who is in paid work at the end of the month and their monthly wage.

    The employment feed reports these snapshots, so its wages are the wages the truth's income
    holds (the same scale, growth and yearly wage factor), not the final state of the run.
    Persons out of work this month (ill, between jobs) and public employees (paid through the
    payroll) are not in it.
    """
    p = state.params.income
    start_year = int(state.start.astype("datetime64[Y]").astype(int)) + 1970
    growth = target_income(state.params, month.year) / target_income(state.params, start_year)
    idle = (state.p("ill_until") >= month.start) | (state.p("jobless_until") >= month.start)
    migrant = state.p("migrant")
    working = (
        state.p("alive") & (migrant | state.p("local_job")) & ~state.p("public_employee") & ~idle
    )
    rows = np.flatnonzero(working)
    monthly = np.where(migrant[rows], p.migrant_wage_month, p.local_wage_month)
    wage = monthly * state.p("wage_factor")[rows] * scales.wages * growth
    state.log(
        "jobs",
        month=np.full(rows.size, month.index, dtype=np.int16),
        person=rows.astype(np.int32),
        migrant=migrant[rows].copy(),
        wage=wage.astype(np.float32),
    )
