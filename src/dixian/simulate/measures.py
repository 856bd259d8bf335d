"""Assistance measures (帮扶措施) and their effects, and 低保/特困 administration.

The effects of measures are model assumptions (documented in docs/simulator.md): a
public-welfare job adds wages, industry support and microcredit add business income, health
support halves out-of-pocket costs, job placement gives a member a local job, and so on.
"""

from __future__ import annotations

import numpy as np

from dixian.simulate.population import LABOUR_NORMAL, age_at
from dixian.simulate.shocks import labour_capacity
from dixian.simulate.state import Month, WorldState

MONITORED, ELIMINATED, PROTECTED = 1, 2, 3
CAUSE_NAMES = (
    "illness",
    "disability",
    "schooling",
    "disaster",
    "lack_of_land",
    "lack_of_water",
    "lack_of_skills",
    "lack_of_labour",
    "lack_of_capital",
    "poor_transport",
    "low_motivation",
    "accident",
    "unstable_employment",
    "failed_project",
    "unsafe_housing",
    "unsafe_water",
    "other",
)

MEASURES = np.array(
    [
        "industry_support",
        "employment_support",
        "public_welfare_job",
        "labour_export",
        "skills_training",
        "microcredit",
        "education_support",
        "health_support",
        "housing_safety",
        "drinking_water",
        "dibao",
        "tekun",
        "temporary_assistance",
        "disability_subsidies",
        "consumption_support",
        "social_support",
    ]
)
_MEASURE = {name: i for i, name in enumerate(MEASURES)}
# Measures chosen for a primary cause (bit positions in the measures mask).
_MEASURES_FOR_CAUSE = {
    "illness": ("health_support", "consumption_support"),
    "disability": ("disability_subsidies", "public_welfare_job"),
    "schooling": ("education_support", "employment_support"),
    "disaster": ("temporary_assistance", "industry_support"),
    "accident": ("temporary_assistance", "health_support"),
    "unstable_employment": ("employment_support", "labour_export"),
    "failed_project": ("microcredit", "industry_support"),
    "lack_of_labour": ("dibao", "consumption_support"),
    "lack_of_skills": ("skills_training", "public_welfare_job"),
    "unsafe_housing": ("housing_safety",),
    "lack_of_water": ("drinking_water", "industry_support"),
}


def assign_measures(
    state: WorldState,
    month: Month,
    rows: np.ndarray,
    primary: np.ndarray,
    dates: np.ndarray,
    rng: np.random.Generator,
) -> None:
    h = state.households
    for cause_index in np.unique(primary):
        chosen = rows[primary == cause_index]
        names = _MEASURES_FOR_CAUSE.get(
            CAUSE_NAMES[int(cause_index)], ("industry_support", "consumption_support")
        )
        for name in names:
            take = chosen[rng.uniform(0, 1, chosen.size) < 0.85]
            h["measures"][take] |= 1 << _MEASURE[name]
            if take.size:
                state.log(
                    "process",
                    household=take,
                    date=dates[np.isin(rows, take)],
                    event=np.full(take.size, "measure"),
                    detail=np.full(take.size, name),
                )
    none = rows[h["measures"][rows] == 0]
    h["measures"][none] |= 1 << _MEASURE["consumption_support"]
    # Job placement (就业帮扶): one able member without work gets a local job.
    placed = rows[(h["measures"][rows] >> _MEASURE["employment_support"]) & 1 == 1]
    if placed.size:
        able = (
            state.p("alive")
            & ~state.p("migrant")
            & ~state.p("local_job")
            & ~state.p("public_employee")
            & (labour_capacity(state, month.start) <= 1)
            & np.isin(state.p("household"), placed)
        )
        candidates = np.flatnonzero(able)
        _, first = np.unique(state.p("household")[candidates], return_index=True)
        state.persons["local_job"][candidates[first]] = True


def _has(state: WorldState, name: str) -> np.ndarray:
    result: np.ndarray = (
        state.households["measures"][: state.n_households] >> _MEASURE[name]
    ) & 1 == 1
    return result


def apply_measures(
    state: WorldState, month: Month, r: dict[str, np.ndarray], rng: np.random.Generator
) -> None:
    """Effects of measures on the monitored (model assumptions, see docs/simulator.md)."""
    h = state.households
    n_h = state.n_households
    i = month.index
    # Support continues for a year after risk elimination (帮扶政策保持稳定).
    recently = (h["mon_state"][:n_h] == ELIMINATED) & (
        h["eliminated_on"][:n_h] >= month.start - np.timedelta64(365, "D")
    )
    active = np.isin(h["mon_state"][:n_h], (MONITORED, PROTECTED)) | recently
    effect = state.params.official.measure_income_effect
    s = state.series
    job = active & (_has(state, "public_welfare_job") | _has(state, "employment_support"))
    s["wages"][i, :n_h] += np.where(job, 800.0 * effect / 0.25, 0.0)
    industry = active & (_has(state, "industry_support") | _has(state, "microcredit"))
    s["business"][i, :n_h] += np.where(industry, 350.0 * effect / 0.25, 0.0)
    consumption = active & _has(state, "consumption_support")
    s["business"][i, :n_h] += np.where(consumption, 120.0, 0.0)
    health = active & _has(state, "health_support")
    s["medical_oop"][i, :n_h] *= np.where(health, 0.5, 1.0)
    training = active & _has(state, "skills_training")
    s["wages"][i, :n_h] += np.where(training, 250.0, 0.0)
    if month.month == 9:
        edu = active & _has(state, "education_support")
        s["transfers"][i, :n_h] += np.where(edu, 3_000.0, 0.0)
    new_temp = active & _has(state, "temporary_assistance") & (h["mon_since"][:n_h] >= month.start)
    s["assistance"][i, :n_h] += np.where(new_temp, 3_000.0, 0.0)
    if new_temp.any():
        rows = np.flatnonzero(new_temp)
        state.log(
            "temporary_assistance",
            household=rows,
            date=month.random_days(rows.size, rng),
            amount=np.full(rows.size, 3_000.0),
        )
    clear_unsafe_houses(state, month, rng, priority=active & _has(state, "housing_safety"))
    labour_export = active & _has(state, "labour_export")
    if labour_export.any() and month.month in (2, 3):
        able = (
            state.p("alive")
            & ~state.p("migrant")
            & ~state.p("public_employee")
            & (labour_capacity(state, month.start) == LABOUR_NORMAL)
            & labour_export[state.p("household")]
        )
        movers = np.flatnonzero(able & (rng.uniform(0, 1, able.size) < 0.3))
        state.persons["migrant"][movers] = True
        state.persons["jobless_until"][movers] = np.datetime64("NaT")


def run_dibao(
    state: WorldState, month: Month, r: dict[str, np.ndarray], rng: np.random.Generator
) -> None:
    """低保: apply when poor, paid monthly per member; yearly review; 特困 for lone elderly."""
    p = state.params.income
    h = state.households
    n_h = state.n_households
    standard = p.dibao_standard_year * (1.06 ** (month.year - 2021))
    pc = r["pc"]
    members = r["members"]
    assets_ok = (h["deposits"][:n_h] < 30_000 * np.maximum(members, 1)) & ~h["car"][:n_h]
    enrolled = h["dibao"][:n_h] | h["tekun"][:n_h]
    apply = (
        (~enrolled)
        & (members > 0)
        & (pc < standard)
        & assets_ok
        & (rng.uniform(0, 1, n_h) < (0.75 if month.index == 0 else 0.07))
    )
    alive = state.p("alive")
    hh = state.p("household")
    age = age_at(state.p("birth"), month.start)
    lone_elder = (members == 1) & (
        np.bincount(hh[alive], weights=age[alive] >= 60, minlength=n_h) == 1
    )
    tekun = apply & lone_elder & (rng.uniform(0, 1, n_h) < 0.5)
    dibao = apply & ~tekun
    dates = month.random_days(n_h, rng)
    h["dibao"][np.flatnonzero(dibao)] = True
    h["tekun"][np.flatnonzero(tekun)] = True
    new = np.flatnonzero(apply)
    h["dibao_since"][new] = dates[new]
    if month.month == 12:
        leave = (h["dibao"][:n_h]) & (pc > standard * 1.2) & (rng.uniform(0, 1, n_h) < 0.7)
        h["dibao"][np.flatnonzero(leave)] = False
    enrolled = h["dibao"][:n_h] | h["tekun"][:n_h]
    gap = np.clip(standard - pc, standard * 0.25, standard) / 12.0
    per_member = np.where(h["tekun"][:n_h], standard * 1.3 / 12.0, gap)
    state.series["assistance"][month.index, :n_h] += np.where(enrolled, per_member * members, 0.0)
    rows = np.flatnonzero(enrolled)
    state.log(
        "assistance_month",
        household=rows,
        month=np.full(rows.size, month.index),
        program=np.where(h["tekun"][rows], "tekun", "dibao"),
        per_member=np.round(per_member[rows], 0),
        approved=h["dibao_since"][rows],
    )


def clear_unsafe_houses(
    state: WorldState, month: Month, rng: np.random.Generator, *, priority: np.ndarray
) -> np.ndarray:
    """Renovate houses rated C or D (dynamic clearance, 危房动态清零), of every household.

    Low-income households (formerly poor, 低保, 特困, and `priority`: monitoring objects with
    the housing measure) are renovated by the housing department's programme at
    `housing_repair_monthly_priority`, the others by their owners at
    `housing_repair_monthly_other` (see `OfficialParams`).

    Returns:
        The household rows renovated this month.
    """
    h = state.households
    n_h = state.n_households
    p = state.params.official
    low_income = h["formerly_poor"][:n_h] | h["dibao"][:n_h] | h["tekun"][:n_h] | priority
    rate = np.where(low_income, p.housing_repair_monthly_priority, p.housing_repair_monthly_other)
    unsafe = (h["housing_grade"][:n_h] >= 2) & (state.members_count() > 0)
    fixed = np.flatnonzero(unsafe & (rng.uniform(0, 1, n_h) < rate))
    if fixed.size:
        h["housing_grade"][fixed] = 0
        state.log("renovation", household=fixed, date=month.random_days(fixed.size, rng))
    return fixed
