"""Panel columns as at the period's end: assets, spending, housing and water (with disasters and
public payroll), and the registry's status of the household."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from dixian.features._columns import (
    EXEMPT_VEHICLES,
    HIGH_SCHOOL_STAGES,
    KEYS,
    NON_COMPULSORY_STAGES,
    TERTIARY_STAGES,
    Window,
    _evidence,
    _outer,
    _part,
    _school_year,
    _with_month,
)
from dixian.features.sources import current_rows, linked_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part


def _latest(joined: ir.Table, partition: list[str], order: str) -> ir.Table:
    # Ties (one registry row per member of the same month) go to the first record id, so
    # that DuckDB and Spark name the same evidence record.
    keys = [ibis.desc(joined[order])]
    if "_record_id" in joined.columns:
        keys.append(joined._record_id)
    rank = ibis.row_number().over(group_by=partition, order_by=keys)
    ranked = joined.mutate(_rank=rank)
    return ranked.filter(ranked._rank == 0).drop("_rank")


class _Collected:
    """Values of several sources outer-joined on the keys, with their evidence rows."""

    def __init__(self) -> None:
        self.values: ir.Table | None = None
        self.evidence: list[ir.Table] = []

    def add(self, values: ir.Table) -> None:
        self.values = values if self.values is None else _outer(self.values, values)

    def part(self) -> _Part | None:
        return None if self.values is None else _part(self.values, self.evidence)


def assets(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """Vehicles, property, businesses, deposits and provident fund, as at the period's end."""
    collected = _Collected()
    add, evidence = collected.add, collected.evidence

    vehicles = linked_rows(
        backend,
        "vehicles",
        ["vehicle_type", "registration_date", "purchase_price", "vehicle_status"],
    )
    if vehicles is not None:
        held = _with_month(
            vehicles.filter(vehicles.vehicle_status == "normal"), "registration_date"
        )
        joined = window(held, grid, "e_month", 0, point_in_time=True)
        non_exempt = ~joined.vehicle_type.isin(list(EXEMPT_VEHICLES)).fill_null(False)
        add(
            joined.group_by(KEYS).aggregate(
                vehicle_count=joined.count(),
                vehicle_non_exempt_count=joined.count(where=non_exempt),
                vehicle_value_total=joined.purchase_price.sum(),
            )
        )
        evidence.append(_evidence(joined, "vehicle_count"))
    estate = linked_rows(backend, "real_estate", ["area_sqm", "registration_date"])
    if estate is not None:
        joined = window(
            _with_month(estate, "registration_date"), grid, "e_month", 0, point_in_time=True
        )
        recent = joined.e_month > joined.p_month - settings.window_months
        add(
            joined.group_by(KEYS).aggregate(
                property_count=joined.count(),
                property_area_total=joined.area_sqm.sum(),
                property_purchased_12m=joined.count(where=recent),
            )
        )
        evidence.append(_evidence(joined, "property_count"))
    business = linked_rows(
        backend,
        "business_registration",
        ["registered_capital", "registration_date", "business_status"],
    )
    if business is not None:
        active = _with_month(
            business.filter(business.business_status == "active"), "registration_date"
        )
        joined = window(active, grid, "e_month", 0, point_in_time=True)
        add(
            joined.group_by(KEYS).aggregate(
                business_count=joined.count(),
                business_capital_total=joined.registered_capital.sum(),
            )
        )
        evidence.append(_evidence(joined, "business_count"))
    deposits = linked_rows(
        backend, "deposits", ["institution", "deposit_balance", "securities_value", "as_of_date"]
    )
    if deposits is not None:
        joined = window(_with_month(deposits, "as_of_date"), grid, "e_month", 0, point_in_time=True)
        joined = _latest(
            joined, ["household_id", "period", "person_id", "institution"], "as_of_date"
        )
        add(
            joined.group_by(KEYS).aggregate(
                deposits_total=joined.deposit_balance.sum(),
                securities_total=joined.securities_value.sum(),
            )
        )
        evidence.append(_evidence(joined, "deposits_total"))
    fund = linked_rows(
        backend, "tax_and_provident_fund", ["tax_year", "provident_fund_contributions"]
    )
    if fund is not None:
        dated = fund.filter(fund.tax_year.notnull()).mutate(
            e_month=fund.tax_year.cast("int64") * 12 + 11
        )
        joined = window(dated, grid, "e_month", 0, point_in_time=True)
        joined = _latest(joined, ["household_id", "period", "person_id"], "tax_year")
        add(
            joined.group_by(KEYS).aggregate(
                provident_fund_contributions_12m=joined.provident_fund_contributions.sum()
            )
        )
        evidence.append(_evidence(joined, "provident_fund_contributions_12m"))
    return collected.part()


# Words of a diagnosis that make a claim an injury's (ICD-10 chapter XIX, 损伤、中毒及外因):
# fractures, injuries, burns and scalds, wounds, poisoning.
INJURY_TERMS = ("骨折", "损伤", "外伤", "创伤", "烧伤", "烫伤", "中毒", "多发伤")


def is_injury(diagnosis: ir.StringValue) -> ir.BooleanValue:
    """Whether a claim's diagnosis text names an injury (never NULL: Spark counts NULL as NULL)."""
    hit = ibis.literal(False)
    for term in INJURY_TERMS:
        hit |= diagnosis.contains(term)
    return hit.fill_null(False)


def spending(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """Out-of-pocket medical spending over 12 months and schooling costs of the school year."""
    values: ir.Table | None = None
    evidence: list[ir.Table] = []
    claims = linked_rows(
        backend,
        "medical_claims",
        ["visit_type", "settlement_date", "out_of_pocket", "diagnosis_category"],
    )
    if claims is not None:
        joined = window(
            _with_month(claims, "settlement_date"), grid, "e_month", settings.window_months
        )
        outpatient = joined.visit_type.isin(["outpatient", "chronic_outpatient"])
        injury = is_injury(joined.diagnosis_category)
        values = joined.group_by(KEYS).aggregate(
            medical_oop_12m=joined.out_of_pocket.sum(),
            medical_oop_inpatient_12m=joined.out_of_pocket.sum(
                where=joined.visit_type == "inpatient"
            ),
            medical_oop_outpatient_month=joined.out_of_pocket.sum(
                where=outpatient & (joined.e_month == joined.p_month)
            ),
            medical_oop_injury_12m=joined.out_of_pocket.sum(where=injury),
        )
        evidence.append(_evidence(joined, "medical_oop_12m"))
        evidence.append(_evidence(joined, "medical_oop_injury_12m", injury))
    students = linked_rows(
        backend, "students", ["school_stage", "school_year", "annual_fees", "aid_amount"]
    )
    if students is not None:
        g = grid.select(
            g_person="person_id",
            household_id="household_id",
            period="period",
            school_year=_school_year(grid.period_end),
        )
        joined = students.inner_join(
            g, [students.person_id == g.g_person, students.school_year == g.school_year]
        )
        # The same student's stage of the school year before, to tell who entered a stage.
        before = students.select(
            b_person=students.person_id,
            b_year=students.school_year + 1,
            b_rank=_stage_rank(students.school_stage),
        )
        before = before.group_by(["b_person", "b_year"]).aggregate(b_rank=before.b_rank.max())
        joined = joined.left_join(
            before, [joined.person_id == before.b_person, joined.school_year == before.b_year]
        )
        net = ibis.greatest(joined.annual_fees.fill_null(0) - joined.aid_amount.fill_null(0), 0)
        rank = _stage_rank(joined.school_stage)
        entered = (rank >= 2) & (rank > joined.b_rank.fill_null(1))
        joined = joined.mutate(net_cost=net, entered=entered)
        school = joined.group_by(KEYS).aggregate(
            schooling_cost_12m=joined.net_cost.sum(),
            schooling_cost_noncompulsory_12m=joined.net_cost.sum(
                where=joined.school_stage.isin(list(NON_COMPULSORY_STAGES))
            ),
            schooling_cost_entering=joined.net_cost.sum(where=joined.entered),
        )
        values = school if values is None else _outer(values, school)
        evidence.append(_evidence(joined, "schooling_cost_12m"))
        evidence.append(_evidence(joined, "schooling_cost_entering", joined.entered))
    return None if values is None else _part(values, evidence)


def _stage_rank(stage: ir.StringValue) -> ir.IntegerValue:
    """3 for college or university, 2 for high school, 1 otherwise."""
    tertiary = stage.isin(list(TERTIARY_STAGES)).fill_null(False)
    high = stage.isin(list(HIGH_SCHOOL_STAGES)).fill_null(False)
    return ibis.ifelse(tertiary, 3, ibis.ifelse(high, 2, 1))


def flags(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """House and water safety, disasters, public payroll."""
    collected = _Collected()
    add, evidence = collected.add, collected.evidence

    houses = linked_rows(backend, "house_safety", ["safety_rating", "assessment_date", "renovated"])
    if houses is not None:
        joined = window(
            _with_month(houses, "assessment_date"), grid, "e_month", 0, point_in_time=True
        )
        joined = _latest(joined, KEYS, "assessment_date")
        unsafe = joined.safety_rating.isin(["C", "D"]) & ~joined.renovated.fill_null(False)
        add(joined.group_by(KEYS).aggregate(house_unsafe=unsafe.any()))
        evidence.append(_evidence(joined, "house_unsafe"))
    water = current_rows(backend, "drinking_water")
    if water is not None:
        households = grid.group_by(KEYS).aggregate(
            region_code=grid.region_code.max(), p_month=grid.p_month.max()
        )
        rated = _with_month(water, "assessment_date").select(
            w_region="region_code",
            water_safety="water_safety",
            e_month="e_month",
            assessment_date="assessment_date",
            _record_id="_record_id",
        )
        joined = households.inner_join(
            rated, [households.region_code == rated.w_region, rated.e_month <= households.p_month]
        )
        joined = _latest(joined, KEYS, "assessment_date")
        add(joined.group_by(KEYS).aggregate(water_unsafe=(joined.water_safety == "unsafe").any()))
        evidence.append(_evidence(joined, "water_unsafe"))
    disasters = linked_rows(backend, "disaster_losses", ["event_date", "direct_loss"])
    if disasters is not None:
        joined = window(
            _with_month(disasters, "event_date"), grid, "e_month", settings.window_months
        )
        add(
            joined.group_by(KEYS).aggregate(
                disaster_affected_12m=ibis.literal(True), disaster_loss_12m=joined.direct_loss.sum()
            )
        )
        evidence.append(_evidence(joined, "disaster_affected_12m"))
    payroll = linked_rows(backend, "public_payroll", ["report_month"])
    if payroll is not None:
        joined = window(
            _with_month(payroll, "report_month"), grid, "e_month", settings.payroll_recent_months
        )
        add(joined.group_by(KEYS).aggregate(public_payroll_count=joined.person_id.nunique()))
        evidence.append(_evidence(joined, "public_payroll_count"))
    return collected.part()


def registry(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """The poverty registry's latest report on the household, and its farmland."""
    del settings
    rows = linked_rows(
        backend,
        "poverty_registry",
        [
            "registry_status",
            "monitoring_type",
            "identified_date",
            "risk_eliminated_date",
            "exit_year",
            "land_area_mu",
            "annual_net_income_per_capita",
            "report_month",
        ],
    )
    if rows is None:
        return None
    joined = window(_with_month(rows, "report_month"), grid, "e_month", 0, point_in_time=True)
    spells = joined.group_by(KEYS).aggregate(times_monitored=joined.identified_date.nunique())
    latest = _latest(joined, KEYS, "report_month")
    monitored = latest.registry_status == "monitored"
    values = (
        latest.select(
            "household_id",
            "period",
            registry_status=latest.registry_status,
            monitoring_type=monitored.ifelse(latest.monitoring_type, ibis.null("string")),
            monitoring_since=monitored.ifelse(latest.identified_date, ibis.null("date")),
            risk_eliminated_date=latest.risk_eliminated_date,
            is_left_poverty=latest.exit_year.notnull()
            | (latest.registry_status == "exited_poverty"),
            land_area_mu=latest.land_area_mu,
            declared_income_pc=latest.annual_net_income_per_capita,
        )
        .left_join(spells, KEYS)
        .drop("household_id_right", "period_right")
    )
    # The registry's farmland is what the operating-income estimate stands on.
    land = latest.land_area_mu.notnull()
    return _part(
        values,
        [_evidence(latest, "registry_status"), _evidence(latest, "income_operating_pc", land)],
    )
