"""Alert runs: how long a household has been on the monthly list, for the lead time.

A county asks "how many months before the family fell did the list first warn us?". The alert
list runs every month and marks each alert new or continuing, so the warning began where the
household's run began: the consecutive months, ending at the test period T, in which the same
policy put it on the list. The lead time is months from the run's first month to the true fall.

Each earlier month M is scored as the county would have scored it then, with nothing from after
M: features from panel rows up to M (`build_features`), triggers of M, households that are
monitoring objects at M skipped, the same booster. The booster's training labels end at the
validation period V = T − horizon. Its calibrator was fitted on V's labels, which run to T and
so overlap M's future; each month M therefore gets its own calibrator of the same method,
fitted on the snapshot at M − horizon, whose labels end at M (the same rule that put V's
calibrator on V for T). That snapshot must be one the booster never trained on, so M − horizon
must come after the last training snapshot: for the default split (training up to V − horizon)
the run can reach back at most horizon − 1 months. A run that reaches that limit is cut there,
and its lead is a lower bound (`censored`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dixian.monitor.calibration import fit_calibrator
from dixian.monitor.features import FeatureSpec, build_features, parse_period, shift_period
from dixian.monitor.labels import Target, combine_labels, monitoring_object_target
from dixian.monitor.model import RiskModel
from dixian.monitor.training import snapshot
from dixian.monitor.triggers import TriggerRule, empty_hits, evaluate_triggers

# What each earlier month's list keeps of the scored frame (what ranking reads).
_KEEP = ("region_code", "registry_status")


@dataclass
class MonthlyScores:
    """The households of earlier months as the list saw them then.

    Attributes:
        months: the earlier months, latest first (T − 1, T − 2, …).
        scored: month → household_id, region_code, registry_status, risk.
        hits: month → trigger hits of that month.
        calibration_periods: month → the snapshot its calibrator was fitted on.
    """

    months: list[str]
    scored: dict[str, pd.DataFrame] = field(default_factory=dict)
    hits: dict[str, pd.DataFrame] = field(default_factory=dict)
    calibration_periods: dict[str, str] = field(default_factory=dict)


def lookback_limit(*, test_period: str, train_periods: Sequence[str], horizon: int) -> int:
    """How many months before T a run may reach without the model having seen their futures.

    Month M needs a calibration snapshot at M − horizon after the booster's last training
    snapshot, and the booster's labels (ending at last training snapshot + horizon) must end
    by M; both hold for M > last training snapshot + horizon.
    """
    if not train_periods:
        return 0
    last_train = max(parse_period(period) for period in train_periods)
    return max(0, parse_period(test_period) - (last_train + horizon) - 1)


def score_earlier_months(
    panel: ir.Table,
    model: RiskModel,
    *,
    test_period: str,
    lookback: int,
    features: Sequence[FeatureSpec],
    target: Target,
    horizon: int,
    rules: Sequence[TriggerRule] = (),
    progress: Callable[[], None] | None = None,
) -> MonthlyScores:
    """Score each of the `lookback` months before T with the booster and that month's calibrator.

    Args:
        panel: the household-period panel.
        model: the model trained for T (its booster; its calibration method).
        test_period: T.
        lookback: months before T to score (see `lookback_limit`).
        features: the model's features.
        target: the department test (as in training).
        horizon: months ahead of the label.
        rules: the official triggers.
        progress: called after each month.
    """
    months = [shift_period(test_period, -k) for k in range(1, lookback + 1)]
    out = MonthlyScores(months=months)
    method = model.calibrator_.method
    for month in months:
        calibration_period = shift_period(month, -horizon)
        calibration = combine_labels(
            snapshot(
                panel,
                period=calibration_period,
                target=target,
                features=features,
                horizon=horizon,
                identified=monitoring_object_target,
            )
        )
        calibrator = fit_calibrator(
            model.decision_function(calibration),
            calibration["label"].to_numpy(dtype=np.int64),
            method=method,
        )
        frame = build_features(panel, period=month, features=features, keep=_KEEP)
        scored = frame.to_pyarrow().to_pandas()
        scored["risk"] = calibrator.transform(model.decision_function(scored))
        out.scored[month] = scored[["household_id", *_KEEP, "risk"]]
        out.hits[month] = evaluate_triggers(panel, rules, period=month) if rules else empty_hits()
        out.calibration_periods[month] = calibration_period
        if progress is not None:
            progress()
    return out


def run_months(alerted_now: set[str], earlier: Sequence[set[str]]) -> dict[str, int]:
    """Months each household of `alerted_now` had been on the list without a break before now.

    Args:
        alerted_now: households alerted at T.
        earlier: the households alerted at T − 1, T − 2, … (latest first).

    Returns:
        household → k, the run's first month being T − k (0: new at T).
    """
    months = dict.fromkeys(alerted_now, 0)
    running = set(alerted_now)
    for k, listed in enumerate(earlier, start=1):
        running &= listed
        if not running:
            break
        for household in running:
            months[household] = k
    return months


def run_lead_times(
    households: pd.Series,
    alerted: np.ndarray,
    months_to_event: pd.Series,
    *,
    earlier: Sequence[set[str]],
) -> pd.DataFrame:
    """Lead of every household alerted at T: months from its run's start to the true fall.

    Args:
        households: household_id per row.
        alerted: alert mask at T per row.
        months_to_event: months from T to the fall per row (NaN: no fall).
        earlier: households alerted at T − 1, T − 2, … (latest first).

    Returns:
        Per alerted row: household_id, run_months, lead_months (NaN without a fall), censored
        (the run reaches the first scored month, so its start may lie earlier).
    """
    mask = np.asarray(alerted, dtype=bool)
    ids = households.astype(str).to_numpy()[mask]
    runs = run_months(set(ids), earlier)
    run = np.array([runs[household] for household in ids], dtype=np.int64)
    to_event = np.asarray(months_to_event, dtype=np.float64)[mask]
    return pd.DataFrame(
        {
            "household_id": ids,
            "run_months": run,
            "lead_months": to_event + run,
            "censored": (run == len(earlier)) & (len(earlier) > 0),
        }
    )


def household_draws(households: pd.Series, *, seed: int) -> NDArray[np.float64]:
    """A seeded uniform draw in [0, 1) per household, the same whatever month or row order.

    The rule baseline breaks ties with it, so a household keeps its place among equals from one
    month to the next, as a list drawn once would.
    """
    key = f"{seed % 10**16:016d}"
    hashed = pd.util.hash_pandas_object(households.astype(str), index=False, hash_key=key)
    draws: NDArray[np.float64] = (hashed.to_numpy(dtype=np.uint64) >> np.uint64(11)).astype(
        np.float64
    ) / 2.0**53
    return draws


def alerted_sets(
    months: MonthlyScores, rank: Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]
) -> list[set[str]]:
    """The households a ranking alerts in each earlier month (latest first).

    Args:
        months: the earlier months' scores and hits.
        rank: (scored, hits) → alert mask aligned with scored.
    """
    sets = []
    for month in months.months:
        scored = months.scored[month]
        mask = rank(scored, months.hits[month])
        sets.append(set(scored["household_id"].astype(str).to_numpy()[mask]))
    return sets


def lead_summary(leads: pd.DataFrame, *, lookback: int) -> Mapping[str, object]:
    """Median, mean and share ≥ 3 months of the run-start lead of caught falls."""
    caught = leads.dropna(subset=["lead_months"])
    if caught.empty:
        return {"count": 0, "median_months": None, "mean_months": None, "lookback": lookback}
    lead = caught["lead_months"]
    return {
        "count": len(caught),
        "median_months": float(lead.median()),
        "mean_months": float(lead.mean()),
        "share_3_months_or_more": float((lead >= 3).mean()),
        "share_alerted_before_test_month": float((caught["run_months"] > 0).mean()),
        "median_run_months": float(caught["run_months"].median()),
        "censored": int(caught["censored"].sum()),
        "lookback": lookback,
    }
