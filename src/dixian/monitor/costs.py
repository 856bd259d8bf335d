"""What each risk event cost the household, in yuan, estimated from its own panel values.

A caseworker names the cause of a fall from the event that cost the family most: the medical
bills of an illness, the harvest a flood took, the wages lost with a job. This module estimates
those costs over the 12 months up to the period from the panel's values as of the period:

- illness (因病): out-of-pocket medical spending;
- accident (因意外事故): the medical spending of a household whose labour-capable member died,
  fell seriously ill or was disabled (`labourer_shock`) while nobody has a registered serious
  illness (大病): the bills are an injury's, not a disease's;
- disaster (因灾): the registered disaster loss;
- schooling (因学): non-compulsory schooling costs;
- job loss (因务工就业不稳): wages lost, the wage income of a year earlier minus today's;
- failed project (因产业项目失败): operating income lost the same way.

An event is *material* when it cost at least `MATERIAL_SHARE` of the household's income of the
12 months (the panel's `income_net_total`). `primary_by_cost` names the costliest material
event; the grouped model contributions still give every cause's share of the risk and the
reasons. Disability (因残) costs labour rather than money and is left to the contributions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Panel columns, as of the period, that the cost estimates need besides the model features
# (carried beside the features, like region_code).
COST_COLUMNS = ("income_wages_pc", "income_operating_pc")

# Share of the household's 12-month income from which an event explains a fall. A quarter of
# a year's income is what a family cannot absorb without falling (three months without
# income); smaller events are ordinary ups and downs.
MATERIAL_SHARE = 0.25


def _column(X: pd.DataFrame, name: str) -> np.ndarray:
    if name not in X.columns:
        return np.full(len(X), np.nan)
    values: np.ndarray = pd.to_numeric(X[name], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    return values


def _lost(X: pd.DataFrame, level: str, change: str) -> np.ndarray:
    """Yearly household income lost: members × (per-capita level a year ago − level now).

    With the level now L and the relative change c = L / L_before − 1, the loss per person is
    L_before − L = L × (−c) / (1 + c); no loss when the income grew or is unknown.
    """
    now = _column(X, level)
    rel = _column(X, change)
    members = np.fmax(_column(X, "members"), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # At −100% the year-earlier level cannot be recovered from today's (zero) income.
        per_person = np.where((rel < 0) & (rel > -1), now * (-rel) / (1.0 + rel), 0.0)
    per_person = np.where(np.isfinite(per_person) & (per_person > 0), per_person, 0.0)
    result: np.ndarray = per_person * members
    return result


def event_costs(X: pd.DataFrame) -> pd.DataFrame:
    """Estimated cost in yuan of each event cause over the 12 months up to the period.

    Args:
        X: households' model features (and the `COST_COLUMNS` where known).

    Returns:
        One column per event cause (illness, accident, disaster, schooling,
        unstable_employment, failed_project), 0 where the data show no such event.
    """
    medical = np.nan_to_num(_column(X, "medical_oop_12m"), nan=0.0)
    shock = np.nan_to_num(_column(X, "labourer_shock"), nan=0.0) > 0
    serious = np.nan_to_num(_column(X, "serious_illness_members"), nan=0.0) > 0
    injury = shock & ~serious
    costs = {
        "illness": np.where(injury, 0.0, medical),
        "accident": np.where(injury, medical, 0.0),
        "disaster": np.nan_to_num(_column(X, "disaster_loss_12m"), nan=0.0),
        "schooling": np.nan_to_num(_column(X, "schooling_cost_12m"), nan=0.0),
        "unstable_employment": _lost(X, "income_wages_pc", "wage_pc_change"),
        "failed_project": _lost(X, "income_operating_pc", "operating_pc_change"),
    }
    return pd.DataFrame(costs, index=X.index).clip(lower=0.0)


def primary_by_cost(
    X: pd.DataFrame, *, material_share: float = MATERIAL_SHARE
) -> tuple[pd.Series, pd.DataFrame]:
    """The costliest material event per household (None where no event is material).

    Args:
        X: households' model features (with `household_income`, the 12-month income).
        material_share: an event is material from this share of the 12-month income.

    Returns:
        (cause code or None per row, the cost table of `event_costs`).
    """
    costs = event_costs(X)
    income = _column(X, "household_income")
    # Without a known positive income every recorded cost is material.
    floor = np.where(np.isfinite(income) & (income > 0), material_share * income, 0.0)
    values = costs.to_numpy()
    material = (values > 0) & (values >= floor[:, np.newaxis])
    key = np.where(material, values, -1.0)
    best = np.argmax(key, axis=1)
    has = material.any(axis=1)
    names = np.asarray(costs.columns, dtype=object)
    primary = np.where(has, names[best], None)
    return pd.Series(primary, index=X.index, dtype="object"), costs
