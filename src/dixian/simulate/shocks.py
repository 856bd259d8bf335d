"""Shocks with their causes: serious illness, disability onset, accidents, migrant job loss,
village disasters, failed farming projects and schooling costs.

Each shock is logged with the household, the person (where there is one), the date, the
cause code of the data standard and the money involved, so the truth can say why a
household fell. Hazards are yearly (see `ShockParams`); job loss is correlated through a
county-year factor and a township factor, disasters hit whole villages.
"""

from __future__ import annotations

import numpy as np

from dixian.simulate.demography import kill, monthly
from dixian.simulate.population import LABOUR_NORMAL, age_at
from dixian.simulate.state import Month, WorldState

DISASTER_TYPES = np.array(["flood", "drought", "landslide", "hail"])
# Months in which each disaster type strikes (flood/landslide in the rainy season).
_DISASTER_MONTHS = np.array(
    [
        [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0],
        [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)


def _log_shock(
    state: WorldState,
    month: Month,
    rng: np.random.Generator,
    *,
    kind: str,
    cause: str,
    households: np.ndarray,
    persons: np.ndarray,
    amounts: np.ndarray,
) -> np.ndarray:
    dates = month.random_days(households.size, rng)
    state.log(
        "shock",
        household=households,
        person=persons,
        date=dates,
        kind=np.full(households.size, kind),
        cause=np.full(households.size, cause),
        amount=amounts.astype(np.float64),
    )
    return dates


def apply_shocks(
    state: WorldState,
    month: Month,
    rng: np.random.Generator,
    year_factor: float,
    township_factor: np.ndarray,
) -> None:
    """Draw this month's shocks and write their money effects into the monthly series."""
    s = state.params.shocks
    i = month.index
    n = state.n_persons
    alive = state.p("alive")
    age = age_at(state.p("birth"), month.start)
    household = state.p("household")
    u = rng.uniform(0, 1, (4, n))

    # Serious illness: older people more often; months off work, large out-of-pocket costs
    # spread over the first months of treatment.
    ill_p = monthly(s.serious_illness_rate * np.clip(np.exp((age - 45) / 25.0), 0.3, 4.0))
    ill = np.flatnonzero(alive & ~state.p("serious_ill") & (u[0] < ill_p))
    if ill.size:
        oop = rng.lognormal(np.log(s.illness_oop_mean) - 0.5, 1.0, ill.size)
        duration = rng.integers(2, 10, ill.size)
        state.persons["serious_ill"][ill] = True
        state.persons["ill_until"][ill] = month.start + (duration * 30).astype("timedelta64[D]")
        dates = _log_shock(
            state,
            month,
            rng,
            kind="serious_illness",
            cause="illness",
            households=household[ill],
            persons=ill,
            amounts=oop,
        )
        state.log("illness_onset", person=ill, date=dates, oop=oop, household=household[ill])
        for k, share in enumerate((0.5, 0.3, 0.2)):
            if i + k < state.months:
                np.add.at(state.series["medical_oop"][i + k], household[ill], oop * share)

    # Disability onset (permanent; lowers labour capacity).
    dis = np.flatnonzero(
        alive
        & (state.p("disability_type") == 0)
        & (u[1] < monthly(s.disability_onset_rate * np.clip(age / 40.0, 0.2, 3.0)))
    )
    if dis.size:
        state.persons["disability_type"][dis] = rng.choice(7, dis.size) + 1
        state.persons["disability_grade"][dis] = (
            rng.choice(4, dis.size, p=[0.15, 0.2, 0.3, 0.35]) + 1
        )
        state.persons["migrant"][dis] = False
        dates = _log_shock(
            state,
            month,
            rng,
            kind="disability_onset",
            cause="disability",
            households=household[dis],
            persons=dis,
            amounts=np.zeros(dis.size),
        )
        state.log("disability_onset", person=dis, date=dates)

    # Accidents of working-age persons; some are fatal (loss of a main labourer).
    working = alive & (age >= 18) & (age < 60)
    acc = np.flatnonzero(working & (u[2] < monthly(s.accident_rate_working_age)))
    if acc.size:
        fatal = rng.uniform(0, 1, acc.size) < s.accident_death_share
        cost = rng.lognormal(np.log(12_000), 0.8, acc.size)
        dates = _log_shock(
            state,
            month,
            rng,
            kind="accident",
            cause="accident",
            households=household[acc],
            persons=acc,
            amounts=cost,
        )
        kill(state, acc[fatal], dates[fatal], cause="accident")
        hurt = acc[~fatal]
        state.persons["ill_until"][hurt] = month.start + np.timedelta64(120, "D")
        np.add.at(state.series["medical_oop"][i], household[acc], cost)

    # Migrant job loss, correlated by year and township.
    village = state.households["village"][household]
    town = state.geography.village_township[village]
    hazard = s.job_loss_rate_migrant * year_factor * township_factor[town]
    migrant = state.p("migrant") & alive & ~(state.p("jobless_until") >= month.start)
    lost = np.flatnonzero(migrant & (u[3] < monthly(hazard)))
    if lost.size:
        months_out = rng.integers(2, 9, lost.size)
        state.persons["jobless_until"][lost] = month.start + (months_out * 30).astype(
            "timedelta64[D]"
        )
        dates = _log_shock(
            state,
            month,
            rng,
            kind="job_loss",
            cause="unstable_employment",
            households=household[lost],
            persons=lost,
            amounts=months_out * state.params.income.migrant_wage_month,
        )
        state.log("job_loss", person=lost, date=dates, months=months_out)

    _disasters(state, month, rng)
    _project_failures(state, month, rng)


def _disasters(state: WorldState, month: Month, rng: np.random.Generator) -> None:
    s = state.params.shocks
    g = state.geography
    season = _DISASTER_MONTHS[:, month.month - 1] / _DISASTER_MONTHS.sum(axis=1)
    # Per village and type: yearly rate scaled by exposure, spread over the season.
    p = s.disaster_village_rate * g.exposure * season[None, :] * 3.0
    hit = rng.uniform(0, 1, p.shape) < p
    villages, types = np.nonzero(hit)
    if villages.size == 0:
        return
    n_h = state.n_households
    hv = state.households["village"][:n_h]
    members = state.members_count()
    for v, t in zip(villages.tolist(), types.tolist(), strict=True):
        homes = np.flatnonzero((hv == v) & (members > 0))
        affected = homes[rng.uniform(0, 1, homes.size) < s.disaster_affected_share]
        if affected.size == 0:
            continue
        loss = rng.lognormal(np.log(s.disaster_loss_mean) - 0.4, 0.9, affected.size)
        crop_mu = np.round(
            state.households["land_mu"][affected] * rng.uniform(0.2, 1.0, affected.size), 1
        )
        damaged = rng.uniform(0, 1, affected.size) < (0.25 if t in (0, 2) else 0.05)
        state.households["housing_grade"][affected[damaged]] = np.maximum(
            state.households["housing_grade"][affected[damaged]], 2
        )
        date = month.random_days(1, rng)[0]
        state.log(
            "disaster",
            household=affected,
            village=np.full(affected.size, v),
            kind=np.full(affected.size, DISASTER_TYPES[t]),
            date=np.full(affected.size, date),
            loss=loss,
            house_damaged=damaged,
            crop_mu=crop_mu,
        )
        state.log(
            "shock",
            household=affected,
            person=np.full(affected.size, -1),
            date=np.full(affected.size, date),
            kind=np.full(affected.size, "disaster_" + DISASTER_TYPES[t]),
            cause=np.full(affected.size, "disaster"),
            amount=loss,
        )
        state.series["disaster_loss"][month.index, affected] += loss
        # Lost harvest: a share of the loss is income lost over the next months.
        for k in range(3):
            if month.index + k < state.months:
                state.series["business"][month.index + k, affected] -= loss * 0.2


def _project_failures(state: WorldState, month: Month, rng: np.random.Generator) -> None:
    s = state.params.shocks
    n_h = state.n_households
    project = state.households["project"][:n_h] | state.households["business"][:n_h]
    fail = np.flatnonzero(project & (rng.uniform(0, 1, n_h) < monthly(s.project_failure_rate)))
    if fail.size == 0:
        return
    loss = rng.lognormal(np.log(s.project_failure_loss_mean) - 0.3, 0.8, fail.size)
    _log_shock(
        state,
        month,
        rng,
        kind="project_failure",
        cause="failed_project",
        households=fail,
        persons=np.full(fail.size, -1),
        amounts=loss,
    )
    state.series["business"][month.index, fail] -= loss
    state.households["project"][fail] = False


def schooling_costs(
    state: WorldState, month: Month, entering: np.ndarray, rng: np.random.Generator
) -> None:
    """Charge yearly costs of high school and university in September (and log entries)."""
    if month.month != 9 and month.index != 0:
        return
    s = state.params.shocks
    stage = state.p("school_stage")
    alive = state.p("alive")
    cost = np.where(
        stage == 3, s.university_cost_year, np.where(stage == 2, s.high_school_cost_year, 0.0)
    )
    cost = np.where(alive, cost * rng.uniform(0.8, 1.2, cost.size), 0.0)
    np.add.at(state.series["schooling"][month.index], state.p("household"), cost)
    if entering.size:
        uni = entering[stage[entering] == 3]
        if uni.size:
            _log_shock(
                state,
                month,
                rng,
                kind="university_entry",
                cause="schooling",
                households=state.p("household")[uni],
                persons=uni,
                amounts=cost[uni],
            )


def labour_capacity(state: WorldState, when: np.datetime64) -> np.ndarray:
    """Labour capacity code per person (see `population.LABOUR_*`)."""
    age = age_at(state.p("birth"), when)
    grade = state.p("disability_grade")
    lost = (grade == 1) | (grade == 2) | (state.p("serious_ill") & (state.p("ill_until") >= when))
    weak = (age >= 60) | state.p("chronic") | (grade == 3)
    none = (age < 16) | (age >= 75) | (state.p("school_stage") > 0)
    return np.where(none, 3, np.where(lost, 2, np.where(weak, 1, LABOUR_NORMAL))).astype(np.int8)
