"""A synthetic monthly household panel with a known generating process.

For tests, benchmarks and `dixian monitor` demos before the county simulator's panel exists:
not the simulator (which models a whole county with departments and noise) but a small,
documented process whose right answers are known. Households get shocks — serious illness,
job loss, the loss of a main labourer, village disasters — that raise rigid spending at once
and lower income over the following months, so a fall below the line is foreseeable from the
shock's early signs. Columns follow `dixian.features.panel_schema`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dixian.monitor.features import format_period, parse_period

# Monitoring lines by year used with this panel (yuan per person per year), in the range of the
# provincial examples in docs/parameters.md.
SYNTHETIC_LINES = {2022: 6800.0, 2023: 7200.0, 2024: 7600.0, 2025: 8000.0, 2026: 8400.0}
SHOCKS = ("illness", "job_loss", "labourer", "disaster")
SHOCK_CAUSE = {
    "illness": "illness",
    "job_loss": "unstable_employment",
    "labourer": "accident",
    "disaster": "disaster",
}
_BURN_IN = 12


@dataclass
class SyntheticPanel:
    """The panel and the truth behind it.

    Attributes:
        panel: one row per household and month, panel-schema columns.
        shocks: household_id, period, shock — one row per shock start (the true cause).
    """

    panel: pd.DataFrame
    shocks: pd.DataFrame


def _rolling12(monthly: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(monthly, axis=1)
    out = cumulative.copy()
    out[:, 12:] = cumulative[:, 12:] - cumulative[:, :-12]
    return out


def synthetic_panel(
    households: int,
    *,
    start: str = "2023-01",
    months: int = 36,
    seed: int = 0,
    townships: int = 4,
    villages_per_township: int = 5,
    first_id: int = 0,
) -> SyntheticPanel:
    """Simulate `households` households over `months` months from `start`.

    Args:
        households: number of households.
        start: first period of the panel (12 burn-in months before it fill the rolling sums).
        months: number of periods in the panel.
        seed: random seed (the panel is a pure function of the arguments).
        townships: townships in the county.
        villages_per_township: villages per township.
        first_id: number of the first household id (to generate a large panel in chunks).
    """
    rng = np.random.default_rng(seed)
    n, total = households, months + _BURN_IN
    members = rng.choice(np.arange(1, 7), size=n, p=[0.08, 0.17, 0.23, 0.26, 0.16, 0.10])
    elderly = np.minimum(members, rng.binomial(2, 0.25, size=n))
    labour = np.maximum(np.minimum(members - elderly, rng.binomial(members, 0.6)), 0)
    disabled = rng.binomial(1, 0.06, size=n)
    severe = disabled * rng.binomial(1, 0.35, size=n)
    labour = np.maximum(labour - severe, 0)
    chronic = rng.binomial(1, 0.12, size=n) + rng.binomial(1, 0.03, size=n) * (elderly > 0)
    high_school = rng.binomial(1, 0.12, size=n) * (members >= 3)
    tertiary = rng.binomial(1, 0.07, size=n) * (members >= 3)
    village = rng.integers(0, townships * villages_per_township, size=n)
    region = np.array(
        [
            f"522799{v // villages_per_township + 1:03d}{v % villages_per_township + 1:03d}"
            for v in range(townships * villages_per_township)
        ]
    )[village]
    capacity = labour / np.maximum(members, 1)
    wage_pc = rng.lognormal(np.log(1150), 0.5, size=n) * capacity
    oper_pc = rng.lognormal(np.log(420), 0.6, size=n)
    transfer_pc = rng.lognormal(np.log(110), 0.4, size=n) * (1 + elderly / np.maximum(members, 1))
    assets_pc = rng.lognormal(np.log(6000), 1.2, size=n)

    wages = np.zeros((n, total))
    lost_wages = np.zeros((n, total))
    months_out = np.zeros((n, total))
    operating = np.zeros((n, total))
    medical = np.zeros((n, total))
    disaster_loss = np.zeros((n, total))
    flags = {shock: np.zeros((n, total), dtype=bool) for shock in SHOCKS}
    ill_left = np.zeros(n, dtype=int)
    out_of_work = np.zeros(n, dtype=bool)
    disaster_left = np.zeros(n, dtype=int)
    labour_now = labour.astype(float)
    p_ill = 0.004 + 0.004 * (chronic > 0) + 0.002 * (elderly > 0)
    for t in range(total):
        start_ill = (ill_left == 0) & (rng.random(n) < p_ill)
        ill_left = np.where(start_ill, rng.integers(6, 19, size=n), np.maximum(ill_left - 1, 0))
        start_job = ~out_of_work & (labour_now > 0) & (rng.random(n) < 0.004)
        out_of_work = (out_of_work & (rng.random(n) > 0.1)) | start_job
        start_lab = (labour_now > 0) & (rng.random(n) < 0.0012)
        labour_now = labour_now - start_lab
        hit_village = rng.random(townships * villages_per_township) < 0.004
        start_dis = hit_village[village] & (rng.random(n) < 0.7)
        disaster_left = np.where(start_dis, 6, np.maximum(disaster_left - 1, 0))
        for shock, started in zip(
            SHOCKS, (start_ill, start_job, start_lab, start_dis), strict=True
        ):
            flags[shock][:, t] = started
        # Income reacts with a lag: a carer stops working a few months into an illness.
        ill_effect = np.where((ill_left > 0) & (ill_left < 10), 0.45, 1.0)
        labour_share = np.where(labour > 0, labour_now / np.maximum(labour, 1), 0.0)
        wage_mult = ill_effect * np.where(out_of_work, 0.15, 1.0) * labour_share
        noise = rng.lognormal(0.0, 0.15, size=n)
        wages[:, t] = wage_pc * wage_mult * noise
        # The household's wages of the month lost by a member out of work, and the month.
        lost_wages[:, t] = np.where(
            out_of_work, wage_pc * ill_effect * labour_share * (1 - 0.15) * noise * members, 0.0
        )
        months_out[:, t] = out_of_work
        operating[:, t] = oper_pc * np.where(disaster_left > 0, 0.2, 1.0) * noise
        medical[:, t] = np.where(
            ill_left > 0,
            rng.lognormal(np.log(2200), 0.5, size=n),
            rng.lognormal(np.log(40), 0.8, size=n) * (1 + chronic),
        )
        disaster_loss[:, t] = np.where(start_dis, rng.lognormal(np.log(12000), 0.6, size=n), 0.0)

    school_month = ((high_school * 700 + tertiary * 1300) * rng.lognormal(0, 0.2, size=n))[:, None]
    school = np.broadcast_to(school_month, (n, total))
    transfers = np.broadcast_to(transfer_pc[:, None], (n, total))
    wages12, oper12, trans12 = _rolling12(wages), _rolling12(operating), _rolling12(transfers)
    income_pc = wages12 + oper12 + trans12
    shock_any = np.zeros((n, total), dtype=bool)
    for shock in SHOCKS:
        shock_any |= flags[shock]
    last_shock = np.full(n, -1)
    since = np.full((n, total), -1)
    for t in range(total):
        last_shock = np.where(shock_any[:, t], t, last_shock)
        since[:, t] = np.where(last_shock >= 0, t - last_shock, -1)

    first = parse_period(start)
    keep = slice(_BURN_IN, total)
    periods = [format_period(first + t) for t in range(months)]
    ids = np.array([f"H{i:07d}" for i in range(first_id, first_id + n)])

    def flat(values: np.ndarray) -> np.ndarray:
        return np.asarray(values[:, keep]).reshape(-1)

    def static(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, months)

    income_last_year = np.full_like(income_pc, np.nan)
    income_last_year[:, 12:] = income_pc[:, :-12]
    frame = pd.DataFrame(
        {
            "household_id": static(ids),
            "period": np.tile(periods, n),
            "region_code": static(region),
            "member_count": static(members),
            "members_60_plus": static(elderly),
            "labour_capacity_count": static(labour) - flat(np.cumsum(flags["labourer"], axis=1)),
            "dependant_count": static(members - labour),
            "income_wages_pc": flat(wages12),
            "income_operating_pc": flat(oper12),
            "income_transfers_pc": flat(trans12),
            "income_net_pc": flat(income_pc),
            "income_net_total": flat(income_pc) * static(members),
            "income_net_pc_last_year": flat(income_last_year),
            "medical_oop_12m": flat(_rolling12(medical)),
            "medical_oop_inpatient_12m": flat(_rolling12(medical)) * 0.8,
            "medical_oop_outpatient_month": flat(medical) * 0.2,
            "schooling_cost_12m": flat(_rolling12(school)),
            "schooling_cost_noncompulsory_12m": flat(_rolling12(school)),
            # Its students stay in the same school all along: no one enters a stage.
            "schooling_cost_entering": static(np.zeros(n)),
            "serious_illness_count": flat(np.cumsum(flags["illness"], axis=1) > 0).astype(int),
            "chronic_illness_count": static(chronic),
            "disabled_count": static(disabled),
            "severe_disabled_count": static(severe),
            # The process's disabilities are there from the start and its lost labourers have
            # no hospital stay: no new disability, no injury bills.
            "disability_onset_12m": static(np.zeros(n, dtype=int)),
            "medical_oop_injury_12m": static(np.zeros(n)),
            "students_high_school": static(high_school),
            "students_tertiary": static(tertiary),
            "disaster_loss_12m": flat(_rolling12(disaster_loss)),
            "disaster_affected_12m": flat(_rolling12(flags["disaster"].astype(float)) > 0),
            "job_loss_12m": flat(_rolling12(flags["job_loss"].astype(float)) > 0),
            "job_loss_wages_12m": flat(_rolling12(lost_wages)),
            "job_loss_months_out": flat(_rolling12(months_out)).astype(int),
            # The process has no farming projects or businesses, so no project loan falls
            # overdue; the columns are there (as a county with the banks' reports has them).
            "microcredit_overdue_12m": static(np.zeros(n, dtype=bool)),
            "microcredit_overdue_principal": static(np.zeros(n)),
            "labourer_shock_12m": flat(_rolling12(flags["labourer"].astype(float)) > 0),
            "months_since_last_shock": flat(since).astype(float),
            "house_unsafe": static(rng.random(n) < 0.03),
            "water_unsafe": static(rng.random(n) < 0.02),
            "financial_assets_pc": static(assets_pc),
            "is_left_poverty": static(rng.random(n) < 0.2),
            "times_monitored": static(rng.binomial(1, 0.1, size=n)),
        }
    )
    frame.loc[frame["months_since_last_shock"] < 0, "months_since_last_shock"] = np.nan
    frame["income_change_yoy"] = frame["income_net_pc"] / frame["income_net_pc_last_year"] - 1
    # The registry finds most households below the line (after rigid spending): they are
    # monitoring objects already; the others wait to be discovered.
    year = frame["period"].str[:4].astype(int)
    line = year.map(lambda y: SYNTHETIC_LINES.get(y, SYNTHETIC_LINES[max(SYNTHETIC_LINES)]))
    net = (
        frame["income_net_total"] - frame["medical_oop_12m"] - frame["schooling_cost_12m"]
    ) / frame["member_count"]
    found = static(rng.random(n) < 0.8)
    frame["registry_status"] = np.where(
        (net < line) & found,
        "monitored",
        np.where(frame["is_left_poverty"], "exited_poverty", "ordinary"),
    )
    starts = []
    for shock in SHOCKS:
        rows, cols = np.nonzero(flags[shock][:, keep])
        starts.append(
            pd.DataFrame(
                {"household_id": ids[rows], "period": np.array(periods)[cols], "shock": shock}
            )
        )
    return SyntheticPanel(panel=frame, shocks=pd.concat(starts, ignore_index=True))
