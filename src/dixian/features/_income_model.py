"""The income no department reports, estimated from what departments do report.

Farm and household-business income, land rent (土地流转) and family support (赡养, money from
children and relatives) reach no department, yet they are half of a rural household's income.
Verification centres estimate farm income per mu of farmland (按亩测算) and count the support
children owe as family income. The panel does the same with a small linear model whose terms
are observable:

    operating += per_farming_household · F + per_mu_farmed · land · F
                 + business_capital_return · registered capital
    property  += per_mu_rented_out · land · (1 − F)
    transfers += family_support_per_sqrt_member · √members

where F is 1 when the household has a farm labourer (`farm_labour_count`: a member aged 16–69
who is not a migrant worker and not on the public payroll) and `land` is the registry's farmland
(the village mean of registry households where the household is not in the registry). Where the
poverty registry holds surveyed incomes, the coefficients are fitted on those households — their
declared income less what departments report — by non-negative least squares; otherwise the
configured per-mu standard is used. See decision 0004.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, cast

import ibis
import numpy as np
from scipy.optimize import nnls

from dixian.features._columns import KEYS, _part, _with_month
from dixian.features.sources import linked_rows, optional_column

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part

FARM_AGE_MIN = 16
FARM_AGE_LIMIT = 70  # farm work goes on well past the working age of the labour count


@dataclass(frozen=True)
class IncomeModel:
    """Coefficients of the unreported-income estimate, yuan per year, and where they came from."""

    per_farming_household: float
    per_mu_farmed: float
    per_mu_rented_out: float
    business_capital_return: float
    family_support_per_sqrt_member: float
    source: str

    def as_report(self) -> dict[str, object]:
        """The coefficients rounded for printing, with their source."""
        return {
            name: round(value, 4) if isinstance(value, float) else value
            for name, value in asdict(self).items()
        }


TERMS = (
    "per_farming_household",
    "per_mu_farmed",
    "per_mu_rented_out",
    "business_capital_return",
    "family_support_per_sqrt_member",
)


def configured_model(settings: FeatureSettings) -> IncomeModel:
    """The configured per-mu standard alone (no rent, capital return or family support)."""
    return IncomeModel(
        per_farming_household=settings.farm_base_income,
        per_mu_farmed=settings.farm_net_income_per_mu,
        per_mu_rented_out=0.0,
        business_capital_return=0.0,
        family_support_per_sqrt_member=0.0,
        source="configured",
    )


def farm_labour(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Any
) -> _Part:
    """`farm_labour_count`: members aged 16–69 at the period's end who neither were employed
    as migrant workers in the 12-month window nor are on the public payroll."""
    people = grid.filter(
        (grid.age >= FARM_AGE_MIN).fill_null(False) & (grid.age < FARM_AGE_LIMIT).fill_null(False)
    ).select("household_id", "period", "person_id")
    away: list[ir.Table] = []
    employment = linked_rows(
        backend, "employment", ["employment_type", "employment_status", "report_month"]
    )
    if employment is not None:
        migrants = employment.filter(
            (employment.employment_type == "migrant") & (employment.employment_status == "employed")
        )
        joined = window(
            _with_month(migrants, "report_month"), grid, "e_month", settings.window_months
        )
        away.append(joined.select("household_id", "period", "person_id"))
    payroll = linked_rows(backend, "public_payroll", ["report_month"])
    if payroll is not None:
        joined = window(
            _with_month(payroll, "report_month"), grid, "e_month", settings.payroll_recent_months
        )
        away.append(joined.select("household_id", "period", "person_id"))
    for rows in away:
        people = people.anti_join(rows.distinct(), ["household_id", "period", "person_id"])
    counts = people.group_by(KEYS).aggregate(farm_labour_count=people.count())
    return _part(counts, [])


def with_land(panel: ir.Table) -> ir.Table:
    """Fill unknown farmland with the village mean of registry households (else the county
    mean of the period), flagging it in `land_area_imputed`."""
    known = panel.filter(panel.land_area_mu.notnull())
    village = known.group_by(["period", "region_code"]).aggregate(v_land=known.land_area_mu.mean())
    county = known.group_by("period").aggregate(c_land=known.land_area_mu.mean())
    joined = (
        panel.left_join(village, ["period", "region_code"])
        .drop("period_right", "region_code_right")
        .left_join(county, "period")
        .drop("period_right")
    )
    return joined.mutate(
        land_area_imputed=joined.land_area_mu.isnull(),
        land_area_mu=ibis.coalesce(joined.land_area_mu, joined.v_land, joined.c_land),
    ).drop("v_land", "c_land")


def _amount(panel: ir.Table, name: str) -> ir.FloatingValue:
    # An absent or unknown amount adds nothing to the income.
    return cast("ir.FloatingValue", optional_column(panel, name, default=0.0))


def reported_income(panel: ir.Table, settings: FeatureSettings) -> dict[str, ir.FloatingValue]:
    """Household income by source as departments report it, 12 months."""
    return {
        "wages": _amount(panel, "wages_employment") + _amount(panel, "wages_payroll"),
        "property": _amount(panel, "deposits_total") * settings.deposit_interest_rate,
        "transfers": _amount(panel, "transfers_pensions") + _amount(panel, "transfers_temporary"),
    }


def _terms(panel: ir.Table) -> dict[str, ir.FloatingValue]:
    farming = (_amount(panel, "farm_labour_count") > 0).ifelse(1.0, 0.0)
    land = _amount(panel, "land_area_mu")
    return {
        "per_farming_household": farming,
        "per_mu_farmed": land * farming,
        "per_mu_rented_out": land * (1.0 - farming),
        "business_capital_return": _amount(panel, "business_capital_total"),
        "family_support_per_sqrt_member": panel.member_count.cast("float64").sqrt(),
    }


def fit_income_model(panel: ir.Table, settings: FeatureSettings) -> IncomeModel:
    """Fit the coefficients on registry households with a surveyed income at the latest period.

    Falls back to the configured standard when fewer than `farm_fit_min_households` households
    have both a declared income and known farmland, or when the fit gives no farm income.
    """
    fallback = configured_model(settings)
    if settings.farm_income_method != "registry_fit" or "declared_income_pc" not in panel.columns:
        return fallback
    last = panel.filter(panel.period == panel.period.max())
    rows = last.filter(
        last.declared_income_pc.notnull()
        & last.land_area_mu.notnull()
        & ~last.land_area_imputed.fill_null(False)
        & (last.member_count > 0)
    )
    reported = reported_income(rows, settings)
    unreported = rows.declared_income_pc * rows.member_count - sum(
        reported.values(), ibis.literal(0.0)
    )
    frame = rows.select(target=unreported, **_terms(rows)).to_pandas()
    if len(frame) < settings.farm_fit_min_households:
        return fallback
    design = frame[list(TERMS)].to_numpy(dtype=np.float64)
    coefficients, _ = nnls(design, frame["target"].to_numpy(dtype=np.float64))
    fitted = dict(zip(TERMS, (float(value) for value in coefficients), strict=True))
    if fitted["per_mu_farmed"] <= 0 and fitted["per_farming_household"] <= 0:
        return fallback
    return IncomeModel(**fitted, source=f"fitted on {len(frame)} registry households")


def estimated_income(panel: ir.Table, model: IncomeModel) -> dict[str, ir.FloatingValue]:
    """The model's estimate by income source, household totals for 12 months."""
    terms = _terms(panel)
    return {
        "operating": model.per_farming_household * terms["per_farming_household"]
        + model.per_mu_farmed * terms["per_mu_farmed"]
        + model.business_capital_return * terms["business_capital_return"],
        "property": model.per_mu_rented_out * terms["per_mu_rented_out"],
        "transfers": model.family_support_per_sqrt_member * terms["family_support_per_sqrt_member"],
    }
