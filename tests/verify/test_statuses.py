"""The status-only evaluation used for declarations agrees with the explained one."""

from __future__ import annotations

import random

from dixian.policy import load_policy_set
from dixian.verify import explain_history, program_statuses
from tests.verify.households import elder_alone, family, params_2024


def test_statuses_agree_with_explanations_on_random_households() -> None:
    rng = random.Random(3)
    policy_set = load_policy_set()
    params = params_2024()
    for index in range(300):
        maker = family if rng.random() < 0.7 else elder_alone
        row = maker(
            f"h{index}",
            income_net_pc=rng.choice([None, rng.uniform(0, 20000)]),
            vehicle_non_exempt_count=rng.choice([None, 0, 0, 1]),
            property_count=rng.choice([0, 1, 2]),
            financial_assets_pc=rng.choice([None, rng.uniform(0, 40000)]),
            public_payroll_count=rng.choice([0, 0, 1]),
            labour_capacity_count=rng.choice([None, 0, 1, 2]),
        )
        explained = explain_history([row], policy_set, params=params)
        assert program_statuses([row], policy_set, params=params) == {
            result.program: result.status for result in explained
        }
