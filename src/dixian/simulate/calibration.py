"""Calibration report: each simulated statistic beside its sourced target, with the
difference and the tolerance within which the tests hold it.

Targets and their sources are in `parameters.md`; where a statistic has no published
target the row says so ("model output") and carries no tolerance.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dixian.simulate.income import target_income
from dixian.simulate.official import CAUSES
from dixian.simulate.params import MONITORING_LINE, year_value
from dixian.simulate.population import age_at
from dixian.simulate.state import WorldState
from dixian.simulate.truth import membership_of_month, yearly_income


@dataclass
class Statistic:
    """One line of the calibration report."""

    name: str
    simulated: float
    target: float | None
    tolerance: float | None
    source: str

    @property
    def difference(self) -> float | None:
        return None if self.target is None else self.simulated - self.target

    @property
    def within(self) -> bool | None:
        if self.target is None or self.tolerance is None:
            return None
        return abs(self.simulated - self.target) <= self.tolerance


def calibration_statistics(state: WorldState, *, years: int) -> list[Statistic]:
    """Compute the calibration statistics of a finished world (first simulated year)."""
    start_year = int(state.start.astype("datetime64[Y]").astype(int)) + 1970
    pc, members = yearly_income(state)
    n_h = state.n_households
    live = members[0] > 0
    weights = members[0][live]
    first = pc[0][live]
    mean = float(np.average(first, weights=weights))
    order = np.argsort(first)
    cum = np.cumsum(weights[order])
    median = float(first[order][np.searchsorted(cum, cum[-1] / 2)])
    sources = {}
    for k in ("wages", "business", "property", "transfers"):
        sources[k] = float(state.series[k][:12, :n_h].sum(dtype=np.float64))
    total = sum(sources.values())
    stats = [
        Statistic(
            "income_mean_pc_first_year",
            round(mean, 0),
            round(target_income(state.params, start_year), 0),
            round(0.08 * target_income(state.params, start_year), 0),
            "NBS communiqués: 脱贫县 rural per-capita disposable income (county-type ratio)",
        ),
        Statistic(
            "income_median_mean_ratio", round(median / mean, 3), 0.85, 0.06, "NBS 2024 release"
        ),
    ]
    for (k, target), label in zip(
        zip(sources, state.params.income.target_shares, strict=True),
        ("wages", "net business", "net property", "net transfers"),
        strict=True,
    ):
        stats.append(
            Statistic(
                f"income_share_{k}",
                round(sources[k] / total, 3),
                target,
                0.05,
                f"NBS 2023 composition ({label}) [U]",
            )
        )
    first_month = membership_of_month(state, 0)
    hh0 = first_month["household"]
    sizes = np.bincount(hh0)
    sizes = sizes[sizes > 0]
    shares = np.bincount(np.minimum(sizes, 6), minlength=7)[1:] / sizes.size
    for size, (sim, target) in enumerate(
        zip(shares, state.params.population.household_size_shares, strict=True), 1
    ):
        label = f"{size}" if size < 6 else "6plus"
        stats.append(
            Statistic(
                f"household_size_share_{label}",
                round(float(sim), 3),
                target,
                0.03,
                "NBS agricultural census table",
            )
        )
    stats.append(
        Statistic(
            "household_size_mean",
            round(float(sizes.mean()), 2),
            3.29,
            None,
            "NBS table mean; its own shares imply >= 3.78, so reported, not checked",
        )
    )
    persons0 = first_month["person"]
    age = age_at(state.persons["birth"][persons0], state.start)
    stats.append(
        Statistic(
            "share_aged_60_plus",
            round(float((age >= 60).mean()), 3),
            0.2381,
            0.04,
            "2020 census: rural population aged 60+ [U]",
        )
    )
    line = year_value(MONITORING_LINE, start_year)
    below = float(np.sum(weights[first < line]) / weights.sum())
    stats.append(
        Statistic(
            "share_persons_below_monitoring_line",
            round(below, 3),
            None,
            None,
            "model output (no published county figure)",
        )
    )

    status = state.log_table("status")
    assert status is not None
    months = status["month"].to_numpy()
    year_end = months == 11
    mon_state = status["mon_state"].to_numpy()[year_end]
    mon_type = status["mon_type"].to_numpy()[year_end]
    hh = status["household"].to_numpy()[year_end]
    h = state.households
    monitored = np.isin(mon_state, (1, 3))
    msize = np.bincount(hh0, minlength=n_h)[hh]
    poor_persons = float(np.sum(msize[h["formerly_poor"][hh]]))
    stats.append(
        Statistic(
            "monitored_persons_per_formerly_poor_person",
            round(float(np.sum(msize[monitored])) / max(poor_persons, 1.0), 4),
            0.1399,
            0.06,
            "Baoshan 2021 bulletin",
        )
    )
    ever = np.isin(mon_state, (1, 2, 3)) & (mon_type > 0)
    for code, target in ((1, 0.34), (2, 0.32), (3, 0.34)):
        share = float(np.mean(mon_type[ever] == code)) if ever.any() else 0.0
        stats.append(
            Statistic(
                f"monitored_type_share_{['', 'unstable', 'marginal', 'sudden'][code]}",
                round(share, 3),
                target,
                0.15,
                "Baoshan 2021 bulletin",
            )
        )
    cause = h["primary_cause"][hh[ever]]
    illness = (
        float(np.mean(np.isin(CAUSES[np.maximum(cause, 0)], ("illness",)))) if ever.any() else 0.0
    )
    stats.append(
        Statistic(
            "cause_share_illness",
            round(illness, 3),
            0.44,
            0.15,
            "NRRA: illness 42.4% (2013), 44.1% (2015)",
        )
    )
    process = state.log_table("process")
    eliminated_share = 0.0
    reentry = 0.0
    if process is not None:
        event = process["event"].to_numpy(zero_copy_only=False)
        date = process["date"].to_numpy()
        household = process["household"].to_numpy()
        # A steady year: the second simulated year when there is one.
        y = 1 if years >= 2 else 0
        lo = state.start + np.timedelta64(365 * y, "D")
        hi = lo + np.timedelta64(365, "D")
        in_year = (date >= lo) & (date < hi)
        all_months = status["month"].to_numpy()
        before = all_months == (12 * y - 1 if y else 0)
        stock = status["household"].to_numpy()[before & (status["mon_state"].to_numpy() == 1)]
        entered = household[in_year & np.isin(event, ("identified", "re_identified"))]
        eliminated = np.unique(household[in_year & (event == "risk_eliminated")])
        at_risk = np.unique(np.concatenate([stock, entered]))
        eliminated_share = eliminated.size / max(at_risk.size, 1)
        elim_all = np.unique(household[event == "risk_eliminated"])
        re = np.unique(household[event == "re_identified"])
        reentry = re.size / max(elim_all.size, 1)
    stats.append(
        Statistic(
            "risk_eliminated_share_in_year",
            round(eliminated_share, 3),
            0.4969,
            0.2,
            "Baoshan 2021 bulletin",
        )
    )
    stats.append(
        Statistic(
            "reentry_share_of_eliminated",
            round(reentry, 3),
            0.15,
            0.12,
            "CFPS: ~15% of exiters re-enter within 3-5 years (陈永伟 et al. 2020)",
        )
    )
    dibao = float(
        np.sum(msize[np.asarray(status["dibao"].to_numpy()[year_end])])
        / max(float(msize.sum()), 1.0)
    )
    stats.append(
        Statistic(
            "share_persons_dibao_or_tekun",
            round(dibao, 3),
            0.08,
            0.04,
            "MCA: 40M 低保 of a 66M low-income platform (2023), rural share ≈ 7% [U]",
        )
    )
    shocks = state.log_table("shock")
    ill_rate = 0.0
    if shocks is not None:
        kinds = shocks["kind"].to_numpy(zero_copy_only=False)
        ill_rate = (
            float(np.sum(kinds == "serious_illness"))
            / max(float(sizes.sum()), 1.0)
            / (state.months / 12)
        )
    stats.append(
        Statistic(
            "serious_illness_rate_per_person_year",
            round(ill_rate, 4),
            state.params.shocks.serious_illness_rate,
            state.params.shocks.serious_illness_rate,
            "model parameter (realised)",
        )
    )
    stats.append(
        Statistic(
            "serious_illness_income_effect",
            round(_illness_effect(state, pc), 3),
            -0.060,
            0.05,
            "Wang, Jin & Yuan 2023: per-capita income -6.0% in the year of a health shock",
        )
    )
    if state.params.county_type != "poor_western":
        # The monitoring and assistance targets come from formerly poor counties.
        for stat in stats:
            if "Baoshan" in stat.source or "MCA" in stat.source or "NRRA" in stat.source:
                stat.tolerance = None
                stat.source += " (target of a formerly poor county; not checked)"
    return stats


def _illness_effect(state: WorldState, pc: np.ndarray) -> float:
    """Relative change of per-capita income from year 1 to 2 of households with a serious
    illness in year 2, against households without one (a difference in differences)."""
    shocks = state.log_table("shock")
    if shocks is None or pc.shape[0] < 2:
        return 0.0
    kinds = shocks["kind"].to_numpy(zero_copy_only=False)
    dates = shocks["date"].to_numpy()
    lo = state.start + np.timedelta64(365, "D")
    year2 = (kinds == "serious_illness") & (dates >= lo) & (dates < lo + np.timedelta64(365, "D"))
    shocked = np.zeros(pc.shape[1], dtype=bool)
    shocked[shocks["household"].to_numpy()[year2]] = True
    ok = np.isfinite(pc[0]) & np.isfinite(pc[1]) & (pc[0] > 0)
    if not (ok & shocked).any() or not (ok & ~shocked).any():
        return 0.0
    growth_shocked = pc[1][ok & shocked].sum() / pc[0][ok & shocked].sum()
    growth_others = pc[1][ok & ~shocked].sum() / pc[0][ok & ~shocked].sum()
    return float(growth_shocked / growth_others - 1.0)


def write_report(stats: list[Statistic], directory: Path) -> tuple[Path, Path]:
    """Write calibration.json and calibration.md; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(s), "difference": s.difference, "within_tolerance": s.within} for s in stats]
    json_path = directory / "calibration.json"
    json_path.write_text(
        json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    lines = [
        "# Calibration of the simulated county",
        "",
        "| statistic | simulated | target | difference | tolerance | within | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in stats:
        diff = "" if s.difference is None else f"{s.difference:+.4g}"
        within = "" if s.within is None else ("yes" if s.within else "NO")
        target = "" if s.target is None else f"{s.target:.4g}"
        tol = "" if s.tolerance is None else f"{s.tolerance:.4g}"
        lines.append(
            f"| {s.name} | {s.simulated:.4g} | {target} | {diff} | {tol} | {within} | {s.source} |"
        )
    md_path = directory / "calibration.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, md_path
