"""The official process inside the world: 低保 and 特困, discovery through three channels,
identification as a monitoring object, measures by cause, risk elimination and re-entry.

Households below the monitoring line, or with a spending surge or a sudden shock, are
discovered with a monthly probability per channel (self-report, cadre canvass in the
canvass month, department screening when the shock is visible in department data), are
identified within days (the rules ask for <= 15), receive measures whose effects are
model assumptions (documented in docs/simulator.md), and are marked risk-eliminated after
>= 6 months of monitoring with income above the line for >= 6 months; households without
labour move to long-term protection (兜底保障) instead.
"""

from __future__ import annotations

import numpy as np

from dixian.simulate.measures import CAUSE_NAMES, apply_measures, assign_measures, run_dibao
from dixian.simulate.params import MONITORING_LINE, year_value
from dixian.simulate.population import LABOUR_NORMAL
from dixian.simulate.shocks import labour_capacity
from dixian.simulate.state import Month, WorldState, month_of

NONE, MONITORED, ELIMINATED, PROTECTED = range(4)
TYPES = np.array(["", "unstable_after_exit", "marginal_at_risk", "sudden_hardship"])
CAUSES = np.array(CAUSE_NAMES)
_CAUSE = {name: i for i, name in enumerate(CAUSES)}
CHANNELS = np.array(["self_report", "cadre_canvass", "department_screening"])


def init_official_columns(state: WorldState) -> None:
    """Add the process columns to the household table."""
    cap = state.households["household_id"].size
    nat = np.full(cap, np.datetime64("NaT"), dtype="datetime64[D]")
    state.households.update(
        {
            "mon_state": np.zeros(cap, dtype=np.int8),
            "mon_type": np.zeros(cap, dtype=np.int8),
            "mon_since": nat.copy(),
            "eliminated_on": nat.copy(),
            "primary_cause": np.full(cap, -1, dtype=np.int16),
            "secondary_causes": np.zeros(cap, dtype=np.int64),
            "measures": np.zeros(cap, dtype=np.int64),
            "months_above": np.zeros(cap, dtype=np.int16),
            "entries": np.zeros(cap, dtype=np.int16),
            "dibao": np.zeros(cap, dtype=bool),
            "tekun": np.zeros(cap, dtype=bool),
            "dibao_since": nat.copy(),
            "exit_year": np.zeros(cap, dtype=np.int16),
        }
    )


def rolling(state: WorldState, month: Month, window: int = 12) -> dict[str, np.ndarray]:
    """12-month income (without 低保/特困), assistance and rigid spending per household.

    In the first year fewer than 12 months exist; income is annualised with the seasonal
    weights of the months covered (so a January does not look like a poor year), rigid
    spending is not annualised (a single hospital bill is not a yearly one).
    """
    from dixian.simulate.income import FARM_SEASON, WAGE_SEASON

    n_h = state.n_households
    lo = max(0, month.index - window + 1)
    covered = [(month_of(state.start, m).month - 1) for m in range(lo, month.index + 1)]

    def total(name: str) -> np.ndarray:
        result: np.ndarray = state.series[name][lo : month.index + 1, :n_h].sum(
            axis=0, dtype=np.float64
        )
        return result

    if len(covered) < 12:
        wage_scale = 12.0 / float(WAGE_SEASON[covered].sum())
        farm_scale = 12.0 / float(FARM_SEASON[covered].sum())
        flat = 12.0 / len(covered)
    else:
        wage_scale = farm_scale = flat = 1.0
    income = (
        total("wages") * wage_scale
        + total("business") * farm_scale
        + (total("property") + total("transfers")) * flat
    )
    members = state.members_count().astype(float)
    pc = np.divide(income, members, out=np.zeros(n_h), where=members > 0)
    rigid = total("medical_oop") + total("schooling")
    return {
        "income": income,
        "pc": pc,
        "rigid": rigid,
        "members": members,
        "assistance": total("assistance") * flat,
    }


def _recent_shock_cause(
    state: WorldState, month: Month, months_back: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cause index of the largest shock of the last months per household (-1 none), and
    whether department data sees it (illness, disaster, disability, death)."""
    n_h = state.n_households
    cause = np.full(n_h, -1, dtype=np.int16)
    visible = np.zeros(n_h, dtype=bool)
    chunks = state.logs.get("shock", [])
    since = month.start - np.timedelta64(30 * months_back, "D")
    for chunk in chunks[-(months_back * 8 + 8) :]:
        recent = chunk["date"] >= since
        if not recent.any():
            continue
        h = chunk["household"][recent]
        c = np.array([_CAUSE.get(x, _CAUSE["other"]) for x in np.unique(chunk["cause"][recent])])
        names = np.unique(chunk["cause"][recent])
        index = np.searchsorted(names, chunk["cause"][recent])
        cause[h] = c[index]
        visible[h] |= np.isin(
            chunk["kind"][recent], ["serious_illness", "disability_onset", "accident"]
        ) | np.char.startswith(chunk["kind"][recent].astype(str), "disaster")
    return cause, visible


def _structural_cause(state: WorldState, month: Month, members: np.ndarray) -> np.ndarray:
    n_h = state.n_households
    labour = labour_capacity(state, month.start)
    alive = state.p("alive")
    hh = state.p("household")
    normal = np.bincount(hh[alive], weights=(labour[alive] == LABOUR_NORMAL), minlength=n_h)
    low_edu = np.bincount(
        hh[alive],
        weights=(state.p("education")[alive] <= 1) & (labour[alive] == LABOUR_NORMAL),
        minlength=n_h,
    )
    village = state.households["village"][:n_h]
    g = state.geography
    cause = np.full(n_h, _CAUSE["lack_of_capital"], dtype=np.int16)
    cause = np.where(~g.road_access[village], _CAUSE["poor_transport"], cause)
    cause = np.where(state.households["land_mu"][:n_h] < 1.0, _CAUSE["lack_of_land"], cause)
    cause = np.where(low_edu > 0, _CAUSE["lack_of_skills"], cause)
    cause = np.where(~g.water_supply[village], _CAUSE["lack_of_water"], cause)
    cause = np.where(state.households["housing_grade"][:n_h] >= 3, _CAUSE["unsafe_housing"], cause)
    cause = np.where((normal == 0) & (members > 0), _CAUSE["lack_of_labour"], cause)
    disabled = np.bincount(
        hh[alive],
        weights=(state.p("disability_grade")[alive] > 0)
        & (state.p("disability_grade")[alive] <= 2),
        minlength=n_h,
    )
    cause = np.where(disabled > 0, _CAUSE["disability"], cause)
    ill = np.bincount(
        hh[alive],
        weights=state.p("serious_ill")[alive] | (state.p("chronic")[alive] & (labour[alive] <= 1)),
        minlength=n_h,
    )
    cause = np.where(ill > 0, _CAUSE["illness"], cause)
    return cause.astype(np.int16)


def monthly_process(state: WorldState, month: Month, rng: np.random.Generator) -> None:
    """One month of 低保 administration and the monitoring workflow."""
    o = state.params.official
    h = state.households
    n_h = state.n_households
    line = year_value(MONITORING_LINE, month.year)
    r = rolling(state, month)
    members = r["members"]
    live = members > 0
    shock_cause, visible = _recent_shock_cause(state, month, 2)
    surge = (r["rigid"] > o.rigid_spending_ratio * np.maximum(r["income"], 1.0)) & (
        (r["income"] - r["rigid"]) < line * members
    )
    at_risk = live & ((r["pc"] < line) | surge)
    run_dibao(state, month, r, rng)

    state_now = h["mon_state"][:n_h]
    candidates = at_risk & ((state_now == NONE) | (state_now == ELIMINATED))
    u = rng.uniform(0, 1, (3, n_h))
    by_self = u[0] < o.self_report_monthly * np.where(surge | (shock_cause >= 0), 2.0, 1.0)
    # The first month stands for the canvass of the year before (the existing caseload).
    canvass_now = month.month == o.canvass_month or month.index == 0
    by_canvass = canvass_now & (u[1] < o.canvass_detection)
    by_screen = visible & (u[2] < o.screening_monthly)
    found = candidates & (by_self | by_canvass | by_screen)
    # Near-line households without real risk also apply; verification does not include them.
    false_clue = live & ~at_risk & (state_now == NONE) & (r["pc"] < 1.3 * line) & (u[0] < 0.004)
    rows = np.flatnonzero(found | false_clue)
    if rows.size:
        channel = np.where(by_screen[rows], 2, np.where(by_self[rows], 0, 1))
        clue = month.random_days(rows.size, rng)
        delay = np.where(
            rng.uniform(0, 1, rows.size) < 0.85,
            rng.integers(3, 16, rows.size),
            rng.integers(16, 40, rows.size),
        )
        identified = clue + delay.astype("timedelta64[D]")
        if month.index == 0:
            # The caseload found before the simulation starts was identified last year.
            clue = month.start - rng.integers(40, 360, rows.size).astype("timedelta64[D]")
            identified = clue + delay.astype("timedelta64[D]")
        included = found[rows] & (rng.uniform(0, 1, rows.size) < 0.65)
        structural = _structural_cause(state, month, members)
        primary = np.where(shock_cause[rows] >= 0, shock_cause[rows], structural[rows])
        recent_sudden = (shock_cause[rows] >= 0) & ~h["formerly_poor"][rows]
        kind = np.where(h["formerly_poor"][rows], 1, np.where(recent_sudden | surge[rows], 3, 2))
        reentry = h["mon_state"][rows] == ELIMINATED
        state.log(
            "process",
            household=rows,
            date=clue,
            event=np.full(rows.size, "discovered"),
            detail=CHANNELS[channel],
        )
        state.log(
            "process",
            household=rows,
            date=identified,
            event=np.where(
                included, np.where(reentry, "re_identified", "identified"), "not_included"
            ),
            detail=np.where(included, TYPES[kind], ""),
        )
        inc = rows[included]
        h["mon_state"][inc] = MONITORED
        h["mon_type"][inc] = kind[included]
        h["mon_since"][inc] = identified[included]
        h["primary_cause"][inc] = primary[included]
        h["secondary_causes"][inc] = 1 << structural[inc].astype(np.int64)
        h["entries"][inc] += 1
        h["months_above"][inc] = 0
        assign_measures(state, month, inc, primary[included], identified[included], rng)

    apply_measures(state, month, r, rng)
    _eliminate(state, month, r, line, rng)


def _eliminate(
    state: WorldState, month: Month, r: dict[str, np.ndarray], line: float, rng: np.random.Generator
) -> None:
    h = state.households
    n_h = state.n_households
    o = state.params.official
    monitored = h["mon_state"][:n_h] == MONITORED
    # "Stably above the line for >= 6 months": the last six months' income, annualised.
    above = rolling(state, month, window=o.elimination_months)["pc"] >= line
    h["months_above"][:n_h] = np.where(monitored & above, h["months_above"][:n_h] + 1, 0)
    six_months = h["mon_since"][:n_h] <= month.start - np.timedelta64(182, "D")
    labour = labour_capacity(state, month.start)
    alive = state.p("alive")
    normal = np.bincount(
        state.p("household")[alive], weights=labour[alive] == LABOUR_NORMAL, minlength=n_h
    )
    ready = monitored & six_months & (h["months_above"][:n_h] >= 1) & (h["measures"][:n_h] != 0)
    review = rng.uniform(0, 1, n_h) < 0.6
    eliminate = np.flatnonzero(ready & review & (normal > 0))
    protect = np.flatnonzero(monitored & six_months & (normal == 0) & (r["members"] > 0))
    if eliminate.size:
        dates = month.random_days(eliminate.size, rng)
        h["mon_state"][eliminate] = ELIMINATED
        h["eliminated_on"][eliminate] = dates
        state.log(
            "process",
            household=eliminate,
            date=dates,
            event=np.full(eliminate.size, "risk_eliminated"),
            detail=np.full(eliminate.size, ""),
        )
    if protect.size:
        dates = month.random_days(protect.size, rng)
        h["mon_state"][protect] = PROTECTED
        state.log(
            "process",
            household=protect,
            date=dates,
            event=np.full(protect.size, "long_term_protection"),
            detail=np.full(protect.size, ""),
        )
