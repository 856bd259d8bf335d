"""Cause attribution: sums to the log-odds, right primary cause on a known process, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dixian.monitor import (
    DEFAULT_FEATURES,
    RiskModel,
    attribute_causes,
    cause_evidence,
    cause_labels,
    choose_causes,
    event_costs,
    feature_causes,
    primary_by_cost,
    render_reason,
)

from .conftest import TABLE_FEATURES, TableData

NAMES = [spec.name for spec in TABLE_FEATURES]
CAUSES = feature_causes(TABLE_FEATURES)


def test_cause_sums_plus_bias_equal_the_raw_log_odds(
    fitted: RiskModel, table_data: tuple[TableData, TableData, TableData]
) -> None:
    _, _, test = table_data
    X = test.frame[NAMES]
    attribution = attribute_causes(fitted, X, feature_causes=CAUSES)
    total = attribution.by_cause.sum(axis=1) + attribution.bias
    np.testing.assert_allclose(total.to_numpy(), fitted.decision_function(X), atol=1e-9)
    assert set(attribution.by_cause.columns) == {
        "other",
        "illness",
        "unstable_employment",
        "disaster",
    }


def test_primary_cause_is_the_true_single_shock(
    fitted: RiskModel, table_data: tuple[TableData, TableData, TableData]
) -> None:
    _, _, test = table_data
    frame = test.frame
    attribution = attribute_causes(fitted, frame[NAMES], feature_causes=CAUSES)
    risky = fitted.predict_proba(frame[NAMES])[:, 1] > 0.3
    ill_only = (
        (frame.medical_oop_share > 0.3) & (frame.job_loss == 0) & (frame.disaster_loss_12m == 0)
    )
    job_only = (
        (frame.medical_oop_share < 0.05) & (frame.job_loss == 1) & (frame.disaster_loss_12m == 0)
    )
    assert (attribution.primary[ill_only & risky] == "illness").mean() > 0.9
    assert (attribution.primary[job_only & risky] == "unstable_employment").mean() > 0.9


def test_choose_causes_rules() -> None:
    by_cause = pd.DataFrame(
        {
            "other": [2.0, 0.1, 0.0],
            "illness": [0.01, 1.0, 0.8],
            "disaster": [0.0, 0.2, 0.5],
        }
    )
    primary, secondary = choose_causes(by_cause, min_logodds=0.05, secondary_ratio=0.3)
    # Income level ("other") is never primary while a specific cause qualifies.
    assert primary.tolist() == ["other", "illness", "illness"]
    assert secondary.tolist() == [None, None, "disaster"]


def test_every_default_cause_is_in_the_data_standard() -> None:
    assert set(feature_causes(DEFAULT_FEATURES).values()) <= set(cause_labels())


@pytest.mark.parametrize("cause", sorted(cause_labels()))
def test_reason_rendered_for_every_cause(cause: str) -> None:
    values = {
        "medical_oop_12m": 23000.0,
        "medical_oop_share": 0.85,
        "serious_illness_members": 1.0,
        "chronic_illness_members": 0.0,
        "disabled_members": 1.0,
        "severe_disabled_members": 1.0,
        "new_disabled_members": 1.0,
        "injury_oop_12m": 8000.0,
        "schooling_cost_12m": 12000.0,
        "schooling_share": 0.4,
        "students_high_school": 1.0,
        "students_tertiary": 0.0,
        "disaster_loss_12m": 15000.0,
        "disaster_affected": 1.0,
        "labourer_shock": 1.0,
        "months_since_shock": 4.0,
        "job_loss": 1.0,
        "wage_pc_change": -0.42,
        "operating_pc_change": -0.6,
        "members": 4.0,
        "labour_members": 1.0,
        "dependants": 3.0,
        "financial_assets_pc": 800.0,
        "house_unsafe": 1.0,
        "water_unsafe": 1.0,
        "income_pc": 6500.0,
        "income_change_yoy": -0.35,
    }
    reason = render_reason(cause, values, features=DEFAULT_FEATURES)
    assert reason.startswith(cause_labels()[cause] + "：")
    assert len(reason) > len(cause_labels()[cause]) + 1


def test_reasons_of_an_injury_and_a_new_disability() -> None:
    accident = render_reason(
        "accident", {"injury_oop_12m": 12_400.0, "labourer_shock": 0.0}, features=DEFAULT_FEATURES
    )
    assert accident == "因意外事故：外伤住院自付 1.2 万元"
    disability = render_reason(
        "disability",
        {"new_disabled_members": 1.0, "disabled_members": 2.0, "severe_disabled_members": 0.0},
        features=DEFAULT_FEATURES,
    )
    assert disability == "因残：近12个月新增残疾 1 人；家中 2 名残疾人"


def test_reason_uses_the_households_own_values() -> None:
    values = {"medical_oop_12m": 23000.0, "medical_oop_share": 0.85, "serious_illness_members": 1}
    reason = render_reason("illness", values, features=DEFAULT_FEATURES)
    assert reason == "因病：医疗自付 2.3 万元，占家庭纯收入 85%；1 人患大病"
    # Unknown values are left out rather than shown as blanks.
    reason = render_reason(
        "illness",
        {"medical_oop_12m": None, "serious_illness_members": 2},
        features=DEFAULT_FEATURES,
    )
    assert reason == "因病：2 人患大病"
    assert "下降 35%" in render_reason(
        "other", {"income_pc": 6500.0, "income_change_yoy": -0.35}, features=DEFAULT_FEATURES
    )


def test_an_event_the_household_shows_comes_before_other_causes() -> None:
    by_cause = pd.DataFrame(
        {
            "other": [0.0, 0.0, 0.0],
            "illness": [0.9, 0.9, 0.9],
            "disaster": [0.2, 0.2, -0.1],
            "lack_of_labour": [0.5, 0.5, 0.5],
        }
    )
    X = pd.DataFrame(
        {
            "medical_oop_12m": [0.0, 0.0, 0.0],  # a chronically ill member, no spending
            "disaster_loss_12m": [4000.0, 0.0, 4000.0],
        }
    )
    evidence = cause_evidence(X)
    assert evidence["disaster"].tolist() == [True, False, True]
    primary, secondary = choose_causes(by_cause, evidence=evidence)
    # Row 0: the disaster it suffered; row 1: nothing shown, contributions decide; row 2: the
    # disaster lowered the model's risk, so it is not named.
    assert primary.tolist() == ["disaster", "illness", "illness"]
    assert secondary.tolist() == ["illness", "lack_of_labour", "lack_of_labour"]
    # Without evidence the old rule holds.
    assert choose_causes(by_cause)[0].tolist() == ["illness"] * 3


def test_among_shown_events_the_costliest_comes_first() -> None:
    by_cause = pd.DataFrame(
        {
            "illness": [0.9, 0.9],
            "unstable_employment": [0.1, 0.1],
            "lack_of_labour": [0.5, 0.5],
        }
    )
    X = pd.DataFrame({"medical_oop_12m": [1_500.0, 6_000.0], "job_loss": [1.0, 1.0]})
    costs = pd.DataFrame({"illness": [1_500.0, 6_000.0], "unstable_employment": [5_000.0, 5_000.0]})
    primary, secondary = choose_causes(by_cause, evidence=cause_evidence(X), costs=costs)
    # Wages lost (5,000) cost more than the medical bills of row 0, less than those of row 1.
    assert primary.tolist() == ["unstable_employment", "illness"]
    # Row 1: wages lost raised the risk by under 30% of what the bills did: no second cause.
    assert secondary.tolist() == ["illness", None]


def _household(**values: float) -> dict[str, float]:
    base = {
        "household_income": 40_000.0,
        "members": 4.0,
        "medical_oop_12m": 0.0,
        "labourer_shock": 0.0,
        "serious_illness_members": 0.0,
        "disaster_loss_12m": 0.0,
        "schooling_cost_12m": 0.0,
        "income_wages_pc": 5_000.0,
        "wage_pc_change": 0.0,
        "income_operating_pc": 2_000.0,
        "operating_pc_change": 0.0,
    }
    return {**base, **values}


def test_event_costs_in_yuan_from_the_households_values() -> None:
    X = pd.DataFrame(
        [
            # Wages per person 7,500 a year ago, 5,000 now: 4 × 2,500 lost.
            _household(wage_pc_change=-1 / 3),
            # Medical bills of a labourer's shock with no registered serious illness: injury.
            _household(medical_oop_12m=12_000.0, labourer_shock=1.0),
            _household(medical_oop_12m=12_000.0, labourer_shock=1.0, serious_illness_members=1),
            _household(income_operating_pc=1_000.0, operating_pc_change=-0.5, wage_pc_change=0.2),
        ]
    )
    costs = event_costs(X)
    assert costs.loc[0, "unstable_employment"] == pytest.approx(10_000.0)
    assert costs.loc[1, "accident"] == 12_000.0 and costs.loc[1, "illness"] == 0.0
    assert costs.loc[2, "illness"] == 12_000.0 and costs.loc[2, "accident"] == 0.0
    assert costs.loc[3, "failed_project"] == pytest.approx(4_000.0)
    assert costs.loc[3, "unstable_employment"] == 0.0


def test_the_costliest_material_event_is_primary() -> None:
    X = pd.DataFrame(
        [
            # Job loss 12,000 (30% of income) beats medical bills of 11,000.
            _household(wage_pc_change=-0.375, medical_oop_12m=11_000.0),
            # Nothing reaches a quarter of the income: no cost-named cause.
            _household(medical_oop_12m=9_000.0, disaster_loss_12m=5_000.0),
            _household(disaster_loss_12m=15_000.0, schooling_cost_12m=10_500.0),
        ]
    )
    primary, _ = primary_by_cost(X, material_share=0.25)
    assert primary.tolist() == ["unstable_employment", None, "disaster"]


def test_cost_named_primary_keeps_contributions_and_moves_the_model_cause_second(
    fitted: RiskModel, table_data: tuple[TableData, TableData, TableData]
) -> None:
    _, _, test = table_data
    X = test.frame[NAMES].head(200).copy()
    # A disaster loss for every household (no income in X: every recorded cost is material).
    X["disaster_loss_12m"] = 20_000.0
    plain = attribute_causes(fitted, X, feature_causes=CAUSES, material_share=None)
    costed = attribute_causes(fitted, X, feature_causes=CAUSES)
    assert (costed.primary == "disaster").all()
    total = costed.by_cause.sum(axis=1) + costed.bias
    np.testing.assert_allclose(total.to_numpy(), fitted.decision_function(X), atol=1e-9)
    runner_up = plain.primary.where(plain.primary != "other", plain.secondary)
    runner_up = runner_up.where(runner_up != "disaster", plain.secondary).fillna("")
    assert (costed.secondary.fillna("") == runner_up.where(runner_up != "disaster", "")).all()
    assert (runner_up != "").any()


def test_an_injury_stay_is_an_accident_and_the_wages_lost_go_with_it() -> None:
    X = pd.DataFrame(
        [
            # 8,000 of 14,000 medical bills were an injury's stay; wages 4 × 3,333 lost.
            _household(medical_oop_12m=14_000.0, injury_oop_12m=8_000.0, wage_pc_change=-0.4),
            # The same with a job-loss record: the wages are the job's.
            _household(
                medical_oop_12m=14_000.0,
                injury_oop_12m=8_000.0,
                wage_pc_change=-0.4,
                job_loss=1.0,
            ),
        ]
    )
    costs = event_costs(X)
    assert costs.loc[0, "accident"] == pytest.approx(8_000.0 + 40_000.0 / 3)
    assert costs.loc[0, "illness"] == pytest.approx(6_000.0)
    assert costs.loc[0, "unstable_employment"] == 0.0
    assert costs.loc[1, "accident"] == pytest.approx(8_000.0)
    assert costs.loc[1, "unstable_employment"] == pytest.approx(40_000.0 / 3)
    primary, _ = primary_by_cost(X, material_share=0.25)
    assert primary.tolist() == ["accident", "unstable_employment"]


def test_a_labourers_death_takes_the_farm_income_lost_with_him() -> None:
    X = pd.DataFrame(
        [
            _household(labourer_shock=1.0, income_operating_pc=1_000.0, operating_pc_change=-0.5),
            # A severe disability certified this year is a labourer shock too, not a death.
            _household(
                labourer_shock=1.0,
                new_disabled_members=1.0,
                income_operating_pc=1_000.0,
                operating_pc_change=-0.5,
            ),
        ]
    )
    costs = event_costs(X)
    assert costs.loc[0, "accident"] == pytest.approx(4_000.0)
    assert costs.loc[0, "failed_project"] == 0.0
    assert costs.loc[1, "accident"] == 0.0
    assert costs.loc[1, "failed_project"] == pytest.approx(4_000.0)


def test_a_new_disability_takes_the_wages_lost_and_is_named_without_a_cost() -> None:
    X = pd.DataFrame(
        [
            # A member newly certified disabled, wages 4 × 2,500 lost, no job-loss record.
            _household(new_disabled_members=1.0, wage_pc_change=-1 / 3),
            # Nothing else happened: the certificate is the event.
            _household(new_disabled_members=1.0),
            # A long-standing disability is no event: wages lost are the job's.
            _household(disabled_members=1.0, wage_pc_change=-1 / 3),
            # A costlier material event still comes first.
            _household(new_disabled_members=1.0, disaster_loss_12m=20_000.0),
        ]
    )
    costs = event_costs(X)
    assert costs.loc[0, "disability"] == pytest.approx(10_000.0)
    assert costs.loc[0, "unstable_employment"] == 0.0
    assert costs.loc[2, "disability"] == 0.0
    primary, _ = primary_by_cost(X, material_share=0.25)
    assert primary.tolist() == ["disability", "disability", None, "disaster"]


def test_a_recent_job_loss_costs_the_months_to_the_next_job() -> None:
    X = pd.DataFrame(
        [
            # Lost two months ago: wages barely down on the year, but six months at 4,700
            # without work expected (28,200) outweigh a high-school fee of 14,000.
            _household(
                job_loss=1.0,
                wage_pc_change=-0.05,
                job_loss_wages=28_200.0,
                schooling_cost_12m=14_000.0,
            ),
            # A job loss whose wages lost show in the year's change already: the larger counts,
            # here a sixth of the income: not material.
            _household(
                job_loss=1.0,
                wage_pc_change=-1 / 3,
                job_loss_wages=6_000.0,
                household_income=60_000.0,
            ),
        ]
    )
    costs = event_costs(X)
    assert costs.loc[0, "unstable_employment"] == pytest.approx(28_200.0)
    assert costs.loc[1, "unstable_employment"] == pytest.approx(10_000.0)
    primary, _ = primary_by_cost(X, material_share=0.25)
    assert primary.tolist() == ["unstable_employment", None]


def test_the_reason_of_a_job_loss_quotes_the_months_and_the_wages_lost() -> None:
    values = {"job_loss": 1.0, "job_loss_wages": 28_200.0, "job_loss_months_out": 2.0}
    reason = render_reason("unstable_employment", values, features=DEFAULT_FEATURES)
    assert reason == "因务工就业不稳：家庭成员失业 2 个月，预计损失工资 2.8 万元"
    # Without the priced loss the record of the job loss is still named.
    reason = render_reason("unstable_employment", {"job_loss": 1.0}, features=DEFAULT_FEATURES)
    assert reason == "因务工就业不稳：近12个月有家庭成员失业"


def test_a_school_fee_paid_last_year_too_is_no_event() -> None:
    X = pd.DataFrame(
        [
            # A high-school fee of 14,000 paid both years, a job loss costing 9,000 now.
            _household(
                schooling_cost_12m=14_000.0, schooling_cost_entering=0.0, wage_pc_change=-0.31
            ),
            # A child entered university: its 16,000 count, not the sibling's 6,000.
            _household(schooling_cost_12m=22_000.0, schooling_cost_entering=16_000.0),
            # Entries unknown (no education feed detail): the costs themselves.
            _household(schooling_cost_12m=12_000.0, schooling_cost_entering=float("nan")),
        ]
    )
    costs = event_costs(X)
    assert costs["schooling"].tolist() == [0.0, 16_000.0, 12_000.0]
    primary, _ = primary_by_cost(X, material_share=0.2)
    assert primary.tolist() == ["unstable_employment", "schooling", "schooling"]


def test_an_overdue_project_loan_costs_its_principal_where_larger() -> None:
    X = pd.DataFrame(
        [
            # Operating income 4 × 1,000 lost; 30,000 of project loan overdue: the loan counts.
            _household(
                income_operating_pc=1_000.0,
                operating_pc_change=-0.5,
                microcredit_overdue=1.0,
                microcredit_overdue_principal=30_000.0,
                medical_oop_12m=11_000.0,
            ),
            # Operating income lost beyond the loan: the income counts.
            _household(
                income_operating_pc=1_000.0,
                operating_pc_change=-0.9,
                microcredit_overdue_principal=5_000.0,
            ),
            # Overdue once in the year, paid since: no cost, the flag alone.
            _household(microcredit_overdue=1.0, microcredit_overdue_principal=0.0),
        ]
    )
    costs = event_costs(X)
    assert costs.loc[0, "failed_project"] == pytest.approx(30_000.0)
    assert costs.loc[1, "failed_project"] == pytest.approx(36_000.0)
    assert costs.loc[2, "failed_project"] == 0.0
    primary, _ = primary_by_cost(X, material_share=0.25)
    assert primary.tolist() == ["failed_project", "failed_project", None]
    evidence = cause_evidence(X)
    assert evidence["failed_project"].tolist() == [True, True, True]


def test_the_reason_of_a_failed_project_quotes_the_overdue_principal() -> None:
    values = {
        "microcredit_overdue": 1.0,
        "microcredit_overdue_principal": 50_000.0,
        "operating_pc_change": 0.0,
    }
    reason = render_reason("failed_project", values, features=DEFAULT_FEATURES)
    assert reason == "因产业项目失败：扶贫小额信贷逾期，未还本金 5.0 万元"
    # Overdue in the year but nothing owed now: the overdue record is still named.
    values = {"microcredit_overdue": 1.0, "microcredit_overdue_principal": 0.0}
    reason = render_reason("failed_project", values, features=DEFAULT_FEATURES)
    assert reason == "因产业项目失败：近12个月扶贫小额信贷逾期"


def test_the_reason_of_schooling_names_this_years_entries() -> None:
    values = {
        "schooling_cost_12m": 22_000.0,
        "schooling_share": 0.4,
        "schooling_cost_entering": 16_000.0,
    }
    reason = render_reason("schooling", values, features=DEFAULT_FEATURES)
    assert reason == "因学：非义务教育支出 2.2 万元；占家庭纯收入 40%；其中今年新入学 1.6 万元"
