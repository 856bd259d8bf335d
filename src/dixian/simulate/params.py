"""Parameters of the digital-twin county, with their sources.

Every figure that shapes the world lives here, grouped by component, so `docs/simulator.md`
can list it beside its source. `SOURCES` names where each figure comes from; figures marked
[U] in `parameters.md` (read only in a secondary copy) and the model's own assumptions are
configurable defaults, never constants buried in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from dixian.errors import UserError

CountyType = Literal["poor_western", "plain_agricultural", "suburban"]
COUNTY_TYPES: tuple[str, ...] = ("poor_western", "plain_agricultural", "suburban")

# National rural per-capita disposable income, yuan (NBS yearly releases; 2023 and 2024 are in
# parameters.md, 2021-2022 from the same NBS series).
NATIONAL_RURAL_INCOME: dict[int, float] = {
    2020: 17_131.0,
    2021: 18_931.0,
    2022: 20_133.0,
    2023: 21_691.0,
    2024: 23_119.0,
    2025: 24_500.0,
}
# Rural per-capita disposable income of the 832 formerly poor counties (脱贫县), yuan, as
# published in the NBS statistical communiqués (2023: 16,396 = 75.6% of the national mean).
# Recalled from the communiqués, not re-read in this session: configurable [U].
FORMERLY_POOR_COUNTY_INCOME: dict[int, float] = {
    2021: 14_051.0,
    2022: 15_111.0,
    2023: 16_396.0,
    2024: 17_522.0,
}
# Monitoring line (防返贫监测线) per person per year, yuan: 6,000 in 2021 (China Daily 2020,
# 1.5x the poverty line); later years follow the provincial examples of parameters.md
# (Liaoning +10% in 2022; Yuanmou 8,050 in 2023; Yunnan 8,700 in 2025 [U]).
MONITORING_LINE: dict[int, float] = {
    2020: 6_000.0,
    2021: 6_000.0,
    2022: 6_600.0,
    2023: 7_300.0,
    2024: 8_050.0,
    2025: 8_700.0,
    2026: 9_000.0,
    2027: 9_300.0,
}


def year_value(table: dict[int, float], year: int) -> float:
    """The value for a year, extrapolating beyond the table at the last growth rate."""
    if year in table:
        return table[year]
    years = sorted(table)
    if year < years[0]:
        return table[years[0]]
    last, previous = table[years[-1]], table[years[-2]]
    return last * (last / previous) ** (year - years[-1])


@dataclass(frozen=True)
class GeographyParams:
    """Villages, townships and their traits."""

    persons_per_village: int = 1_400
    villages_per_township: int = 12
    terrain_shares: tuple[float, float, float] = (0.6, 0.3, 0.1)  # mountain, hill, plain
    max_distance_km: float = 80.0
    road_access_share: float = 0.8
    water_supply_share: float = 0.85
    flood_exposure: float = 0.25
    drought_exposure: float = 0.30
    landslide_exposure: float = 0.35
    hail_exposure: float = 0.20
    centre_lat: float = 26.6
    centre_lon: float = 106.7


@dataclass(frozen=True)
class PopulationParams:
    """Household structure and person traits at the start."""

    # Rural household size 1..6+ (NBS agricultural census table, parameters.md).
    household_size_shares: tuple[float, ...] = (0.055, 0.130, 0.228, 0.280, 0.178, 0.129)
    formerly_poor_share: float = 0.30  # share of households registered poor (建档立卡) before 2020
    migrant_share_working_age: float = 0.38
    chronic_illness_share_60plus: float = 0.45
    chronic_illness_share_adult: float = 0.10
    serious_illness_share: float = 0.012
    disability_share: float = 0.065  # 2006 national disability sample survey: 6.34%
    public_employee_share_adult: float = 0.015
    car_share_households: float = 0.22
    business_share_households: float = 0.07
    # Houses rated C or D (危房) at the start, before the formerly-poor factor below; not
    # sourced. The 2020 poverty-exit checks required every registered poor household's house
    # to be safe (住房安全有保障), so formerly poor households start with a fifth of this
    # rate (damage since), the others with 1.2 times it.
    unsafe_housing_share: float = 0.03
    unsafe_housing_formerly_poor_factor: float = 0.2
    mean_land_mu: float = 4.5
    education_shares_adult: tuple[float, ...] = (0.08, 0.37, 0.40, 0.10, 0.05)


@dataclass(frozen=True)
class IncomeParams:
    """Income level, composition and persistence."""

    income_ratio_to_national: float = 0.756  # 16,396 / 21,691 in 2023 for 脱贫县
    # 2023 national composition (parameters.md [U]): wages, business, property, transfers.
    target_shares: tuple[float, float, float, float] = (0.422, 0.343, 0.025, 0.210)
    median_mean_ratio: float = 0.85  # NBS 2024 rural median/mean
    persistence_yearly: float = 0.75
    monthly_noise_sd: float = 0.08
    migrant_wage_month: float = 4_700.0  # NBS migrant worker monitoring report 2023: 4,780
    local_wage_month: float = 2_300.0
    basic_pension_month: float = 190.0  # national minimum 123 (2024) plus provincial top-up
    dibao_standard_year: float = 6_500.0  # western provinces' rural 低保 standard, 2023 [U]


@dataclass(frozen=True)
class DynamicsParams:
    """Demographic events (yearly hazards unless stated)."""

    birth_rate_women_20_39: float = 0.055
    marriage_rate_single_22_35: float = 0.09
    split_rate_married_children: float = 0.03
    migration_start_rate: float = 0.06
    migration_return_rate: float = 0.08
    # Gompertz mortality: annual hazard = a * exp(b * age).
    mortality_a: float = 0.00003
    mortality_b: float = 0.098


@dataclass(frozen=True)
class ShockParams:
    """Shock hazards (yearly) and effect sizes."""

    serious_illness_rate: float = 0.012
    illness_oop_mean: float = 18_000.0
    illness_income_effect: float = 0.060  # Wang, Jin & Yuan 2023: per-capita income -6.0%/year
    disability_onset_rate: float = 0.002
    accident_rate_working_age: float = 0.003
    accident_death_share: float = 0.15
    job_loss_rate_migrant: float = 0.06
    job_loss_year_sd: float = 0.5  # log-scale spread of the county-year job-loss factor
    job_loss_township_sd: float = 0.4
    disaster_village_rate: float = 0.10
    disaster_affected_share: float = 0.35
    disaster_loss_mean: float = 9_000.0
    project_failure_rate: float = 0.04
    project_failure_loss_mean: float = 12_000.0
    high_school_cost_year: float = 6_000.0
    university_cost_year: float = 16_000.0


@dataclass(frozen=True)
class OfficialParams:
    """The official process: discovery channels, measures, risk elimination."""

    self_report_monthly: float = 0.012
    screening_monthly: float = 0.22  # department data screening, given a data-visible shock
    canvass_month: int = 11  # the yearly canvass (排查) month
    canvass_detection: float = 0.30
    rigid_spending_ratio: float = 0.5  # spending surge: rigid spending > half of income
    measure_income_effect: float = 0.25  # share of the gap to the line closed per measure-year
    elimination_months: int = 6  # income stably above the line for >= 6 months (county rules)
    # Dynamic clearance of rated unsafe houses (危房动态清零), monthly chance that a house rated
    # C or D is renovated or rebuilt. Argued, not sourced: since 2021 the housing department
    # renovates the unsafe houses it finds among low-income households (formerly poor,
    # monitoring objects, 低保, 特困: 农村危房改造) within the year it finds them (0.15 a month:
    # 86% within 12 months, median about 4 months for assessment, approval, building and
    # acceptance); other owners repair or rebuild themselves, more slowly (0.08: median about
    # 8 months, 63% within a year). Before, only monitoring objects with the housing measure
    # were ever repaired, so disaster damage piled up (10% of households by year 2).
    housing_repair_monthly_priority: float = 0.15
    housing_repair_monthly_other: float = 0.08


@dataclass(frozen=True)
class SimulationParams:
    """All parameters of one simulated county."""

    county_type: str = "poor_western"
    geography: GeographyParams = field(default_factory=GeographyParams)
    population: PopulationParams = field(default_factory=PopulationParams)
    income: IncomeParams = field(default_factory=IncomeParams)
    dynamics: DynamicsParams = field(default_factory=DynamicsParams)
    shocks: ShockParams = field(default_factory=ShockParams)
    official: OfficialParams = field(default_factory=OfficialParams)


def params_for_county_type(county_type: str) -> SimulationParams:
    """The parameter preset of a county type.

    Args:
        county_type: poor_western (脱贫县, the default), plain_agricultural or suburban.

    Returns:
        The parameters.

    Raises:
        UserError: an unknown county type.
    """
    if county_type not in COUNTY_TYPES:
        raise UserError(
            f"--county-type: unknown '{county_type}'; expected one of {', '.join(COUNTY_TYPES)}"
        )
    base = SimulationParams(county_type=county_type)
    if county_type == "poor_western":
        return base
    if county_type == "plain_agricultural":
        return replace(
            base,
            geography=replace(
                base.geography,
                terrain_shares=(0.05, 0.25, 0.70),
                landslide_exposure=0.05,
                flood_exposure=0.35,
                centre_lat=34.6,
                centre_lon=114.3,
            ),
            population=replace(
                base.population,
                formerly_poor_share=0.12,
                migrant_share_working_age=0.30,
                mean_land_mu=7.0,
                car_share_households=0.30,
            ),
            income=replace(base.income, income_ratio_to_national=0.92),
            shocks=replace(base.shocks, disaster_village_rate=0.06),
        )
    return replace(
        base,
        geography=replace(
            base.geography,
            terrain_shares=(0.0, 0.2, 0.8),
            max_distance_km=30.0,
            road_access_share=0.98,
            water_supply_share=0.98,
            landslide_exposure=0.02,
            centre_lat=30.6,
            centre_lon=114.1,
        ),
        population=replace(
            base.population,
            formerly_poor_share=0.04,
            migrant_share_working_age=0.12,
            mean_land_mu=1.5,
            car_share_households=0.45,
            business_share_households=0.15,
            public_employee_share_adult=0.03,
        ),
        income=replace(
            base.income,
            income_ratio_to_national=1.35,
            target_shares=(0.55, 0.20, 0.05, 0.20),
            local_wage_month=4_200.0,
        ),
        shocks=replace(base.shocks, disaster_village_rate=0.03),
    )


def params_as_rows(params: SimulationParams) -> list[dict[str, Any]]:
    """Flatten the parameters into rows (component, name, value) for docs and reports."""
    rows: list[dict[str, Any]] = []
    for group in fields(params):
        value = getattr(params, group.name)
        if not hasattr(value, "__dataclass_fields__"):
            rows.append({"component": "county", "name": group.name, "value": value})
            continue
        for item in fields(value):
            rows.append(
                {"component": group.name, "name": item.name, "value": getattr(value, item.name)}
            )
    return rows
