"""The starting population: households and persons as columnar arrays.

Households get a size from the rural size distribution, a head whose age depends on the
size, and members by relation (spouse, children, children-in-law, grandchildren, parents)
with ages consistent with the head's. Persons then get education by cohort, health,
disability, labour capacity, migrant work, public employment, names and ID numbers;
households get land, housing, vehicles, businesses and deposits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dixian.simulate._idnumbers import make_id_numbers, unique_sequences
from dixian.simulate.geography import Geography
from dixian.simulate.names import draw_names
from dixian.simulate.params import PopulationParams

# Relation to head (与户主关系), codes as in GB/T 4761 family relation groups.
HEAD, SPOUSE, CHILD, CHILD_IN_LAW, GRANDCHILD, PARENT, SIBLING = range(7)
RELATION_NAMES = np.array(
    ["head", "spouse", "child", "child_in_law", "grandchild", "parent", "sibling"]
)
# Labour capacity (劳动能力): normal 普通劳动力, weak 弱劳动力, lost 丧失劳动力, none 无劳动力.
LABOUR_NORMAL, LABOUR_WEAK, LABOUR_LOST, LABOUR_NONE = range(4)
LABOUR_NAMES = np.array(["normal", "weak", "lost", "none"])
EDUCATION_NAMES = np.array(["none", "primary", "junior", "senior", "college"])
# Disability types (残疾类别) 1..7: vision, hearing, speech, physical, intellectual, mental,
# multiple; shares from the 2006 second national disability sample survey.
DISABILITY_TYPE_SHARES = np.array([0.149, 0.242, 0.015, 0.291, 0.067, 0.074, 0.162])
DISABILITY_GRADE_SHARES = np.array([0.10, 0.15, 0.30, 0.45])
HOUSING_GRADES = np.array(["A", "B", "C", "D"])


@dataclass
class Population:
    """Persons and households as dicts of equally long numpy arrays."""

    persons: dict[str, np.ndarray] = field(default_factory=dict)
    households: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_persons(self) -> int:
        return int(self.persons["person_id"].size)

    @property
    def n_households(self) -> int:
        return int(self.households["household_id"].size)


def _years(days: np.ndarray) -> np.ndarray:
    return days.astype("timedelta64[D]").astype(np.int64) / 365.25


def age_at(birth: np.ndarray, when: np.datetime64) -> np.ndarray:
    """Completed years of age at a date."""
    result: np.ndarray = np.floor(_years(when - birth)).astype(np.int64)
    return result


def _household_sizes(
    persons: int, shares: tuple[float, ...], rng: np.random.Generator
) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    p = p / p.sum()
    draws = rng.choice(np.arange(1, p.size + 1), size=int(persons / 3.0) + 16, p=p)
    # 6+ households are 6, 7 or 8 persons.
    big = draws == p.size
    draws[big] += rng.choice([0, 1, 2], size=int(big.sum()), p=[0.6, 0.3, 0.1])
    cumulative = np.cumsum(draws)
    while cumulative[-1] < persons:
        draws = np.concatenate([draws, draws])
        cumulative = np.cumsum(draws)
    n = int(np.searchsorted(cumulative, persons)) + 1
    sizes = draws[:n].copy()
    sizes[-1] -= int(cumulative[n - 1] - persons)
    return sizes[sizes > 0]


def _member_relations(
    sizes: np.ndarray, head_age: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relation, age and household index of every member (vectorised over slots)."""
    household = np.repeat(np.arange(sizes.size), sizes)
    slot = np.arange(household.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    hage = head_age[household].astype(float)
    relation = np.full(household.size, CHILD, dtype=np.int8)
    relation[slot == 0] = HEAD
    u = rng.uniform(0, 1, household.size)
    relation[(slot == 1) & (u < 0.86)] = SPOUSE
    young = hage < 50
    other = slot >= 2
    # Young heads live with children and sometimes a parent; older heads with adult
    # children, their spouses and grandchildren.
    relation[other & young & (u < 0.30)] = PARENT
    relation[other & young & (u >= 0.30) & (u < 0.33)] = SIBLING
    relation[other & ~young & (u < 0.22)] = CHILD_IN_LAW
    relation[other & ~young & (u >= 0.22) & (u < 0.55)] = GRANDCHILD
    relation[(slot == 1) & (u >= 0.86) & (hage < 40) & (u < 0.93)] = PARENT

    age = hage.copy()
    n = household.size
    age = np.where(relation == SPOUSE, hage + rng.normal(-2.0, 3.0, n), age)
    age = np.where(relation == CHILD, hage - rng.uniform(21, 35, n), age)
    age = np.where(relation == CHILD_IN_LAW, hage - rng.uniform(21, 33, n), age)
    age = np.where(relation == GRANDCHILD, hage - rng.uniform(45, 60, n), age)
    age = np.where(relation == PARENT, hage + rng.uniform(22, 32, n), age)
    age = np.where(relation == SIBLING, hage + rng.normal(0, 6, n), age)
    # A grandchild who would not be born yet is a child instead.
    bad = (relation == GRANDCHILD) & (age < 0)
    relation[bad] = CHILD
    age[bad] = hage[bad] - rng.uniform(21, 30, int(bad.sum()))
    age = np.clip(age, 0.0, 99.0)
    return relation, age, household


def build_population(
    *,
    persons: int,
    geography: Geography,
    params: PopulationParams,
    start: np.datetime64,
    rng: np.random.Generator,
) -> Population:
    """Draw the households and persons of the county at the start date."""
    sizes = _household_sizes(persons, params.household_size_shares, rng)
    n_households = sizes.size
    # Single-person and couple households are mostly elderly.
    mean_age = np.select([sizes == 1, sizes == 2, sizes <= 4], [69.0, 65.0, 53.0], 59.0)
    head_age = np.clip(rng.normal(mean_age, 11.0), 21, 92)
    relation, age, household = _member_relations(sizes, head_age, rng)
    n = relation.size

    male = rng.uniform(0, 1, n) < 0.51
    male[relation == HEAD] = rng.uniform(0, 1, n_households) < 0.86
    spouse = relation == SPOUSE
    male[spouse] = ~male[np.flatnonzero(spouse) - 1]
    male[relation == CHILD_IN_LAW] = rng.uniform(0, 1, int((relation == CHILD_IN_LAW).sum())) < 0.2

    birth = (
        start
        - (age * 365.25).astype("timedelta64[D]")
        - rng.integers(0, 365, n).astype("timedelta64[D]")
    )
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    age_now = age_at(birth, start)

    # Village sizes vary; households are spread over villages with those weights.
    weights = rng.gamma(4.0, 1.0, geography.n_villages)
    village = rng.choice(geography.n_villages, size=n_households, p=weights / weights.sum())

    # Education by cohort: younger cohorts stayed longer at school.
    shares = np.asarray(params.education_shares_adult)
    shift = np.clip((birth_year - 1965) / 30.0, -1.0, 1.5)
    u = np.clip(rng.uniform(0, 1, n) - 0.18 * shift, 0, 0.999)
    education = np.searchsorted(np.cumsum(shares / shares.sum()), u, side="right").astype(np.int8)
    education = np.where(age_now < 7, 0, education)
    education = np.where((age_now >= 7) & (age_now < 13), 1, education)
    education = np.where((age_now >= 13) & (age_now < 16), np.minimum(education, 2), education)
    education = education.astype(np.int8)

    chronic_p = np.where(
        age_now >= 60,
        params.chronic_illness_share_60plus,
        np.where(age_now >= 18, params.chronic_illness_share_adult, 0.01),
    )
    chronic = rng.uniform(0, 1, n) < chronic_p
    serious = rng.uniform(0, 1, n) < params.serious_illness_share * np.where(
        age_now >= 50, 2.0, 0.5
    )
    disabled_p = params.disability_share * np.clip(age_now / 45.0, 0.2, 3.0)
    disabled = rng.uniform(0, 1, n) < disabled_p * (params.disability_share / 0.085)
    disability_type = np.where(
        disabled, rng.choice(7, size=n, p=DISABILITY_TYPE_SHARES) + 1, 0
    ).astype(np.int8)
    disability_grade = np.where(
        disabled, rng.choice(4, size=n, p=DISABILITY_GRADE_SHARES) + 1, 0
    ).astype(np.int8)

    # Birth place: mostly this county; wives and in-laws often from elsewhere in the province.
    from_elsewhere = (relation == CHILD_IN_LAW) | (spouse & ~male)
    other_county = geography.county_code[:2] + np.char.zfill(
        rng.integers(100, 9999, n).astype("U4"), 4
    )
    address = np.where(
        from_elsewhere & (rng.uniform(0, 1, n) < 0.45), other_county, geography.county_code
    )
    yyyymmdd = np.char.replace(birth.astype("U10"), "-", "")
    group = np.unique(address, return_inverse=True)[1].astype(
        np.int64
    ) * 100_000_000 + yyyymmdd.astype(np.int64)
    sequence = unique_sequences(group, male, rng)
    id_number = make_id_numbers(address, yyyymmdd, sequence)
    surname, given = draw_names(birth_year, male, rng)
    # Children take the head's surname when the head is their father.
    head_index = np.cumsum(sizes) - sizes
    inherit = np.isin(relation, (CHILD, GRANDCHILD)) & male[head_index][household]
    surname[inherit] = surname[head_index][household][inherit]
    name = np.char.add(surname.astype(str), given.astype(str)).astype(object)

    person_ids = np.arange(n, dtype=np.int64) + 1
    pop = Population()
    pop.persons = {
        "person_id": person_ids,
        "household": household.astype(np.int64),
        "relation": relation,
        "male": male,
        "birth": birth,
        "alive": np.ones(n, dtype=bool),
        "death": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        "education": education,
        "chronic": chronic,
        "serious_ill": serious,
        "ill_until": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        "disability_type": disability_type,
        "disability_grade": disability_grade,
        "married": np.isin(relation, (HEAD, SPOUSE, CHILD_IN_LAW, PARENT)) & (age_now >= 20),
        "surname": surname,
        "given_name": given,
        "name": name,
        "id_number": id_number,
        "wage_factor": np.exp(rng.normal(0.0, 0.35, n)),
        "public_employee": np.zeros(n, dtype=bool),
        "migrant": np.zeros(n, dtype=bool),
        "local_job": np.zeros(n, dtype=bool),
        "jobless_until": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        "school_stage": np.zeros(n, dtype=np.int8),
    }
    working = (age_now >= 18) & (age_now < 60) & ~serious & ~(disability_grade.astype(int) == 1)
    public = working & (age_now >= 22) & (rng.uniform(0, 1, n) < params.public_employee_share_adult)
    migrant_p = (
        params.migrant_share_working_age
        * np.where((age_now < 45), 1.3, 0.6)
        * np.where(male, 1.15, 0.85)
    )
    migrant = working & ~public & (rng.uniform(0, 1, n) < migrant_p)
    local = working & ~public & ~migrant & (rng.uniform(0, 1, n) < 0.35)
    pop.persons["public_employee"] = public
    pop.persons["migrant"] = migrant
    pop.persons["local_job"] = local

    members = sizes.astype(float)
    poor_latent = (
        rng.normal(0, 1, n_households)
        - 0.4 * (geography.terrain[village] == 0)
        + 0.3 * (np.bincount(household, weights=migrant, minlength=n_households) / members)
    )
    threshold = np.quantile(poor_latent, params.formerly_poor_share)
    formerly_poor = poor_latent <= threshold
    land = np.round(
        rng.gamma(2.0, params.mean_land_mu / 2.0, n_households) * np.sqrt(members / 3.3), 1
    )
    housing_u = rng.uniform(0, 1, n_households)
    unsafe = params.unsafe_housing_share * np.where(
        formerly_poor, params.unsafe_housing_formerly_poor_factor, 1.2
    )
    housing = np.where(
        housing_u < unsafe * 0.3,
        3,
        np.where(housing_u < unsafe, 2, np.where(housing_u < 0.35, 1, 0)),
    ).astype(np.int8)
    has_public = np.bincount(household, weights=public, minlength=n_households) > 0
    car_p = (
        params.car_share_households
        * np.where(formerly_poor, 0.4, 1.15)
        * np.where(has_public, 2.5, 1.0)
    )
    car = rng.uniform(0, 1, n_households) < car_p
    business = rng.uniform(0, 1, n_households) < params.business_share_households * np.where(
        formerly_poor, 0.5, 1.1
    )
    pop.persons["wage_factor"] = pop.persons["wage_factor"] * np.where(
        formerly_poor[household], 0.85, 1.03
    )
    pop.households = {
        "household_id": np.arange(n_households, dtype=np.int64) + 1,
        "village": village.astype(np.int64),
        "formerly_poor": formerly_poor,
        "land_mu": land,
        "housing_grade": housing,
        "car": car,
        "car_value": np.where(
            car, np.round(rng.lognormal(np.log(60_000), 0.5, n_households), -2), 0.0
        ),
        "business": business,
        "business_capital": np.where(
            business, np.round(rng.lognormal(np.log(50_000), 0.9, n_households), -3), 0.0
        ),
        "deposits": np.round(
            rng.lognormal(np.log(20_000), 1.2, n_households) * np.where(formerly_poor, 0.35, 1.0),
            -1,
        ),
        # Formerly poor households farm and earn less (the reason they were registered).
        "farm_factor": np.exp(rng.normal(0.0, 0.4, n_households))
        * np.where(formerly_poor, 0.75, 1.05),
        "project": rng.uniform(0, 1, n_households) < np.where(formerly_poor, 0.25, 0.08),
        "split_from": np.zeros(n_households, dtype=np.int64),
        "created": np.full(n_households, start, dtype="datetime64[D]"),
        "dissolved": np.full(n_households, np.datetime64("NaT"), dtype="datetime64[D]"),
    }
    return pop
