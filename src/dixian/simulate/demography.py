"""Births, deaths, marriages, household splits, migration and schooling, month by month.

All transitions are array operations over the persons who are at risk this month; yearly
hazards are turned into monthly probabilities (1 - (1 - h)^(1/12)).
"""

from __future__ import annotations

import numpy as np

from dixian.simulate._idnumbers import make_id_numbers, unique_sequences
from dixian.simulate.names import draw_names
from dixian.simulate.population import (
    CHILD,
    CHILD_IN_LAW,
    GRANDCHILD,
    HEAD,
    SPOUSE,
    age_at,
)
from dixian.simulate.state import Month, WorldState


def monthly(hazard: np.ndarray | float) -> np.ndarray:
    """Monthly probability of a yearly hazard."""
    return 1.0 - np.power(1.0 - np.clip(hazard, 0.0, 0.999), 1.0 / 12.0)


def deaths(state: WorldState, month: Month, rng: np.random.Generator) -> np.ndarray:
    """Mortality by age (Gompertz), higher for the seriously ill; returns the dead rows."""
    d = state.params.dynamics
    alive = state.p("alive")
    age = age_at(state.p("birth"), month.start)
    hazard = d.mortality_a * np.exp(d.mortality_b * age)
    hazard = hazard * np.where(state.p("serious_ill"), 4.0, 1.0)
    hazard = hazard * np.where(state.p("disability_grade") == 1, 2.0, 1.0)
    dying = alive & (rng.uniform(0, 1, alive.size) < monthly(hazard))
    rows = np.flatnonzero(dying)
    kill(state, rows, month.random_days(rows.size, rng), cause="natural")
    return rows


def kill(state: WorldState, rows: np.ndarray, dates: np.ndarray, *, cause: str) -> None:
    """Mark persons dead and pass headship to the spouse or the oldest adult."""
    if rows.size == 0:
        return
    state.persons["alive"][rows] = False
    state.persons["death"][rows] = dates
    state.log(
        "death",
        person=rows,
        household=state.persons["household"][rows],
        date=dates,
        cause=np.full(rows.size, cause),
    )
    heads = rows[state.persons["relation"][rows] == HEAD]
    if heads.size:
        _reassign_heads(state, state.persons["household"][heads])


def _reassign_heads(state: WorldState, households: np.ndarray) -> None:
    """Households whose head died get a new head: spouse first, else the oldest member."""
    alive = state.p("alive")
    household = state.p("household")
    in_scope = alive & np.isin(household, households)
    rows = np.flatnonzero(in_scope)
    if rows.size == 0:
        return
    relation = state.p("relation")[rows]
    birth = state.p("birth")[rows].astype(np.int64)
    # Rank: spouse first, then oldest; pick the first row per household.
    priority = np.where(relation == SPOUSE, 0, 1).astype(np.int64) * 10**8 + birth
    order = np.lexsort((priority, household[rows]))
    sorted_rows = rows[order]
    first = np.r_[True, np.diff(household[sorted_rows]) != 0]
    new_heads = sorted_rows[first]
    state.persons["relation"][new_heads] = HEAD


def births(state: WorldState, month: Month, rng: np.random.Generator) -> np.ndarray:
    """Married women aged 20-39 give birth; newborns join the mother's household."""
    age = age_at(state.p("birth"), month.start)
    at_risk = state.p("alive") & ~state.p("male") & state.p("married") & (age >= 20) & (age < 40)
    hazard = state.params.dynamics.birth_rate_women_20_39 * 1.9
    mothers = np.flatnonzero(at_risk & (rng.uniform(0, 1, at_risk.size) < monthly(hazard)))
    if mothers.size == 0:
        return mothers
    n = mothers.size
    dates = month.random_days(n, rng)
    male = rng.uniform(0, 1, n) < 0.53  # sex ratio at birth in rural China, about 112
    household = state.persons["household"][mothers]
    mother_relation = state.persons["relation"][mothers]
    relation = np.where(np.isin(mother_relation, (HEAD, SPOUSE)), CHILD, GRANDCHILD).astype(np.int8)
    birth_year = np.full(n, month.year)
    surname, given = draw_names(birth_year, male, rng)
    # Children take the surname of the household head (usually the father's line).
    head_rows = _head_rows(state, household)
    has_head = head_rows >= 0
    surname[has_head] = state.persons["surname"][head_rows[has_head]]
    yyyymmdd = np.char.replace(dates.astype("U10"), "-", "")
    county = state.geography.county_code
    address = np.full(n, county)
    # Offsets keep newborn sequences apart from the founding population's.
    sequence = (unique_sequences(yyyymmdd.astype(np.int64), male, rng) + 2 * 137) % 1000
    sequence = np.where(male, sequence | 1, sequence & ~1)
    id_number = make_id_numbers(address, yyyymmdd, sequence)
    rows = state.add_persons(
        {
            "household": household,
            "relation": relation,
            "male": male,
            "birth": dates,
            "alive": np.ones(n, dtype=bool),
            "surname": surname,
            "given_name": given,
            "name": np.char.add(surname.astype(str), given.astype(str)).astype(object),
            "id_number": id_number,
            "wage_factor": np.exp(rng.normal(0, 0.35, n)),
        }
    )
    _deduplicate_ids(state, rows, rng)
    state.log("birth", person=rows, household=household, date=dates, mother=mothers)
    return rows


def _deduplicate_ids(state: WorldState, rows: np.ndarray, rng: np.random.Generator) -> None:
    """Newborns of one month share birth dates only with each other: give a clashing one
    another sequence number (founders were all born before the simulation started)."""
    for _ in range(50):
        ids = state.persons["id_number"][rows]
        _, first = np.unique(ids, return_index=True)
        clash = np.setdiff1d(np.arange(rows.size), first)
        if clash.size == 0:
            return
        target = rows[clash]
        male = state.persons["male"][target]
        body = state.persons["id_number"][target].astype("U14")
        seq = rng.integers(0, 500, clash.size) * 2 + male
        state.persons["id_number"][target] = make_id_numbers(
            body.astype("U6"), np.array([b[6:14] for b in body.tolist()]), seq
        )


def _head_rows(state: WorldState, households: np.ndarray) -> np.ndarray:
    """Row of the living head of each given household (-1 when none)."""
    heads = np.flatnonzero(state.p("alive") & (state.p("relation") == HEAD))
    lookup = np.full(state.n_households, -1, dtype=np.int64)
    lookup[state.persons["household"][heads]] = heads
    result: np.ndarray = lookup[households]
    return result


def marriages(state: WorldState, month: Month, rng: np.random.Generator) -> int:
    """Single women marry single men and move into the man's household (and village)."""
    age = age_at(state.p("birth"), month.start)
    single = state.p("alive") & ~state.p("married") & (age >= 20) & (age < 40)
    hazard = monthly(state.params.dynamics.marriage_rate_single_22_35)
    draw = rng.uniform(0, 1, single.size) < hazard
    women = np.flatnonzero(single & ~state.p("male") & draw)
    men = np.flatnonzero(single & state.p("male") & draw)
    count = min(women.size, men.size)
    if count == 0:
        return 0
    women = rng.permutation(women)[:count]
    men = rng.permutation(men)[:count]
    same = state.persons["household"][women] == state.persons["household"][men]
    women, men = women[~same], men[~same]
    if women.size == 0:
        return 0
    old = state.persons["household"][women].copy()
    was_head = state.persons["relation"][women] == HEAD
    new = state.persons["household"][men]
    man_relation = state.persons["relation"][men]
    state.persons["household"][women] = new
    state.persons["relation"][women] = np.where(man_relation == HEAD, SPOUSE, CHILD_IN_LAW)
    state.persons["married"][women] = True
    state.persons["married"][men] = True
    state.log(
        "marriage",
        person=women,
        spouse=men,
        from_household=old,
        to_household=new,
        date=month.random_days(women.size, rng),
    )
    # A woman who headed her own household leaves it to the oldest remaining member.
    _reassign_heads(state, old[was_head])
    _dissolve_empty(state, old, month)
    return int(women.size)


def splits(state: WorldState, month: Month, rng: np.random.Generator) -> int:
    """A married son and his wife (and their children) found their own household."""
    household = state.p("household")
    relation = state.p("relation")
    alive = state.p("alive")
    sons = np.flatnonzero(alive & (relation == CHILD) & state.p("married") & state.p("male"))
    wives = np.flatnonzero(alive & (relation == CHILD_IN_LAW))
    candidates = np.intersect1d(household[sons], household[wives])
    hazard = monthly(state.params.dynamics.split_rate_married_children)
    chosen = candidates[rng.uniform(0, 1, candidates.size) < hazard]
    if chosen.size == 0:
        return 0
    son = _first_per_household(sons, household, chosen)
    wife = _first_per_household(wives, household, chosen)
    old = household[son]
    new_rows = state.add_households(
        {
            "village": state.households["village"][old],
            "formerly_poor": state.households["formerly_poor"][old],
            "land_mu": np.round(state.households["land_mu"][old] * 0.4, 1),
            "housing_grade": np.zeros(chosen.size, dtype=np.int8),
            "car": np.zeros(chosen.size, dtype=bool),
            "business": np.zeros(chosen.size, dtype=bool),
            "deposits": np.round(state.households["deposits"][old] * 0.3, -1),
            "farm_factor": state.households["farm_factor"][old],
            "project": np.zeros(chosen.size, dtype=bool),
            "split_from": old + 1,
            "created": np.full(chosen.size, month.start),
            "dissolved": np.full(chosen.size, np.datetime64("NaT"), dtype="datetime64[D]"),
        }
    )
    state.households["land_mu"][old] = np.round(state.households["land_mu"][old] * 0.6, 1)
    lookup = np.full(state.n_households, -1, dtype=np.int64)
    lookup[old] = new_rows
    # Grandchildren of the old household follow their parents.
    household = state.p("household")
    grandchildren = np.flatnonzero(
        state.p("alive") & (state.p("relation") == GRANDCHILD) & (lookup[household] >= 0)
    )
    movers = np.concatenate([son, wife, grandchildren])
    from_household = household[movers].copy()
    state.persons["household"][movers] = lookup[from_household]
    state.persons["relation"][son] = HEAD
    state.persons["relation"][wife] = SPOUSE
    state.persons["relation"][grandchildren] = CHILD
    dates = month.random_days(chosen.size, rng)
    date_by_household = np.full(state.n_households, np.datetime64("NaT"), dtype="datetime64[D]")
    date_by_household[old] = dates
    state.log(
        "split",
        person=movers,
        from_household=from_household,
        to_household=lookup[from_household],
        date=date_by_household[from_household],
    )
    return int(chosen.size)


def _first_per_household(rows: np.ndarray, household: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    picked = rows[np.isin(household[rows], chosen)]
    _, first = np.unique(household[picked], return_index=True)
    return picked[first]


def _dissolve_empty(state: WorldState, households: np.ndarray, month: Month) -> None:
    members = state.members_count()
    empty = np.unique(households[members[households] == 0])
    state.households["dissolved"][empty] = month.start


def migration(state: WorldState, month: Month, rng: np.random.Generator) -> None:
    """Working-age persons start or stop migrant work."""
    d = state.params.dynamics
    age = age_at(state.p("birth"), month.start)
    alive = state.p("alive")
    able = (
        alive
        & (age >= 18)
        & (age < 55)
        & ~state.p("public_employee")
        & (state.p("disability_grade") == 0)
        & ~state.p("serious_ill")
        & (state.p("school_stage") == 0)
    )
    u = rng.uniform(0, 1, alive.size)
    start = able & ~state.p("migrant") & (u < monthly(d.migration_start_rate))
    stop = state.p("migrant") & ((u < monthly(d.migration_return_rate)) | (age >= 55) | ~able)
    state.persons["migrant"][: state.n_persons] = (state.p("migrant") | start) & ~stop
    state.persons["local_job"][: state.n_persons] &= ~start
    local = able & ~state.p("migrant") & ~state.p("local_job") & (u > 0.995)
    state.persons["local_job"][: state.n_persons] |= local
    if start.any() or stop.any():
        rows = np.flatnonzero(start | stop)
        state.log(
            "migration",
            person=rows,
            date=month.random_days(rows.size, rng),
            started=start[rows],
        )


def schooling(state: WorldState, month: Month, rng: np.random.Generator) -> np.ndarray:
    """In September pupils move on: high school at 15, university or college at 18."""
    age = age_at(state.p("birth"), month.start)
    alive = state.p("alive")
    stage = state.p("school_stage")
    # 1 compulsory (6-14), 2 high school (15-17), 3 university/college (18-21).
    if month.month != 9 and month.index != 0:
        return np.zeros(0, dtype=np.int64)
    u = rng.uniform(0, 1, alive.size)
    new_stage = np.where((age >= 6) & (age < 15), 1, 0)
    keep_high = (stage == 2) & (age < 18)
    keep_uni = (stage == 3) & (age < 22)
    enter_high = (age == 15) & (u < 0.62) if month.index else (age >= 15) & (age < 18) & (u < 0.6)
    enter_uni = (age == 18) & (stage == 2) & (u < 0.7)
    if month.index == 0:
        enter_uni = (age >= 18) & (age < 22) & (u < 0.4)
    new_stage = np.where(keep_high | enter_high, 2, new_stage)
    new_stage = np.where(keep_uni | enter_uni, 3, new_stage)
    new_stage = np.where(alive, new_stage, 0).astype(np.int8)
    entering = np.flatnonzero((new_stage >= 2) & (new_stage != stage))
    state.persons["school_stage"][: state.n_persons] = new_stage
    state.persons["migrant"][: state.n_persons] &= new_stage == 0
    state.persons["local_job"][: state.n_persons] &= new_stage == 0
    education = state.p("education")
    state.persons["education"][: state.n_persons] = np.maximum(
        education, np.where(new_stage == 3, 3, np.where(new_stage == 2, 2, 0))
    ).astype(np.int8)
    # This school year's stage of everyone beyond compulsory school: the education feed
    # reports each September's stage, not the stage the person reaches by the end of the run.
    enrolled = np.flatnonzero(new_stage >= 2)
    state.log(
        "school_stages",
        month=np.full(enrolled.size, month.index, dtype=np.int16),
        person=enrolled.astype(np.int32),
        stage=new_stage[enrolled],
    )
    state.log(
        "school_entry",
        person=entering,
        household=state.persons["household"][entering],
        stage=new_stage[entering],
        date=np.full(entering.size, month.start),
    )
    return entering
