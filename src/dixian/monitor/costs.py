"""What each risk event cost the household, in yuan, estimated from its own panel values.

A caseworker names the cause of a fall from the event that cost the family most: the medical
bills of an illness, the harvest a flood took, the wages lost with a job. This module estimates
those costs over the 12 months up to the period from the panel's values as of the period:

- illness (因病): out-of-pocket medical spending other than an injury's;
- accident (因意外事故): the out-of-pocket of hospital stays with an injury diagnosis
  (`injury_oop_12m`), and all medical spending of a household whose labour-capable member died
  (`labourer_shock` with neither a registered serious illness nor a new disability: a
  working-age death without a disease on record);
- disaster (因灾): the registered disaster loss;
- schooling (因学): the school year's costs of the students who entered high school, college
  or university this year (`schooling_cost_entering`; all non-compulsory costs where the panel
  lacks it): a fee the household paid last year as well did not bring it down this year — a
  child entering university did;
- job loss (因务工就业不稳): wages lost, the wage income of a year earlier minus today's, or
  where larger the lost jobs' wages over the months without work (`job_loss_wages`: a job lost
  last month has cost little of the year's wages yet, but will cost the months to the next job);
- failed project (因产业项目失败): operating income lost the same way, or where larger the
  principal of the household's overdue microcredit (`microcredit_overdue_principal`, 扶贫小额信贷
  逾期): the panel's operating income is an estimate from land, labour and capital that does not
  see a project fail, while the loan taken for it is what the project can no longer pay back;
- disability (因残): a disability costs labour, not bills: the wages lost by a household
  with a member certified disabled for the first time in the 12 months (`new_disabled_members`).

Income lost goes to the labour event that explains it. Wages lost with no job-loss record go to
a new disability, else to an accident (an injury stay or a labourer's death); operating income
lost (the panel's estimate of farm income stands on the farm labourers) goes to an accident
when a labourer died; otherwise to job loss and failed project.

An event is *material* when it cost at least `MATERIAL_SHARE` of the household's income of the
12 months (the panel's `income_net_total`). `primary_by_cost` names the costliest material
event; a household whose only event is a member's new disability is named 因残 whatever it
cost (the certificate is the event). The grouped model contributions still give every cause's
share of the risk and the reasons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Panel columns, as of the period, that the cost estimates need besides the model features
# (carried beside the features, like region_code).
COST_COLUMNS = ("income_wages_pc", "income_operating_pc", "job_loss_months_out")

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


def _positive(X: pd.DataFrame, name: str) -> np.ndarray:
    result: np.ndarray = np.nan_to_num(_column(X, name), nan=0.0) > 0
    return result


def _schooling(X: pd.DataFrame) -> np.ndarray:
    level = np.nan_to_num(_column(X, "schooling_cost_12m"), nan=0.0)
    entering = _column(X, "schooling_cost_entering")
    result: np.ndarray = np.where(np.isfinite(entering), np.fmax(entering, 0.0), level)
    return result


def event_costs(X: pd.DataFrame) -> pd.DataFrame:
    """Estimated cost in yuan of each event cause over the 12 months up to the period.

    Args:
        X: households' model features (and the `COST_COLUMNS` where known).

    Returns:
        One column per event cause (illness, accident, disaster, schooling,
        unstable_employment, failed_project, disability), 0 where the data show no such event.
    """
    medical = np.fmax(np.nan_to_num(_column(X, "medical_oop_12m"), nan=0.0), 0.0)
    injury = np.clip(np.nan_to_num(_column(X, "injury_oop_12m"), nan=0.0), 0.0, medical)
    onset = _positive(X, "new_disabled_members")
    job = _positive(X, "job_loss")
    death = _positive(X, "labourer_shock") & ~_positive(X, "serious_illness_members") & ~onset
    accident_bills = np.where(death, medical, injury)
    wages = _lost(X, "income_wages_pc", "wage_pc_change")
    operating = _lost(X, "income_operating_pc", "operating_pc_change")
    injured = death | (injury > 0)
    wages_to = np.where(
        job, "job", np.where(onset, "disability", np.where(injured, "accident", "job"))
    )
    operating_to_accident = death
    costs = {
        "illness": medical - accident_bills,
        "accident": accident_bills
        + np.where(wages_to == "accident", wages, 0.0)
        + np.where(operating_to_accident, operating, 0.0),
        "disaster": np.nan_to_num(_column(X, "disaster_loss_12m"), nan=0.0),
        "schooling": _schooling(X),
        "unstable_employment": np.fmax(
            np.where(wages_to == "job", wages, 0.0),
            np.nan_to_num(_column(X, "job_loss_wages"), nan=0.0),
        ),
        "failed_project": np.fmax(
            np.where(operating_to_accident, 0.0, operating),
            np.nan_to_num(_column(X, "microcredit_overdue_principal"), nan=0.0),
        ),
        "disability": np.where(wages_to == "disability", wages, 0.0),
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
    # A new disability is an event even when it cost no money the data show.
    disabled = ~has & _positive(X, "new_disabled_members")
    fallback = np.full(len(X), None, dtype=object)
    fallback[disabled] = "disability"
    primary = np.where(has, names[best], fallback)
    return pd.Series(primary, index=X.index, dtype="object"), costs
