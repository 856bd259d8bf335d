"""Outcomes from the simulator's truth (`W/truth/`), for `dixian evaluate monitor` only.

The pipeline never reads the truth; this module is called only by the evaluation command. It
maps the pipeline's households to the simulator's true households (linked records → true
persons through `feed_rows`, then the true household most of a household's members belong to),
and computes the true outcome with the same definition as the model's target, from the true
monthly money flows: rolling 12-month per-capita income (wages, business, property, transfers)
after out-of-pocket medical and schooling costs, below the monitoring line of the month's year.
The true cause is the cause of the household's latest true shock in the 12 months up to P.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dixian.errors import UserError
from dixian.monitor.features import format_period, parse_period

_INCOME = ("wages", "business", "property", "transfers")
_SPENDING = ("medical_oop", "schooling")


def _truth_file(truth_dir: Path, name: str) -> Path:
    path = truth_dir / f"{name}.parquet"
    if not path.is_file():
        raise UserError(f"{path}: no simulator truth (only simulated workspaces have it)")
    return path


def truth_last_period(truth_dir: Path) -> str:
    """The latest month of the true incomes (the simulator runs a hidden year past the feeds)."""
    monthly = pd.read_parquet(
        _truth_file(truth_dir, "household_income_monthly"), columns=["period"]
    )
    if monthly.empty:
        raise UserError(f"{truth_dir}: the truth has no monthly incomes")
    return str(monthly["period"].max())


def true_household_map(backend: Any, truth_dir: Path, *, period: str) -> pd.DataFrame:
    """household_id → true_household_id at `period`, by majority of linked members."""
    for table in ("person_link", "household_membership"):
        if table not in backend.list_tables():
            raise UserError(f"no table '{table}' in the warehouse (run 'dixian link' first)")
    rows = backend.read_parquet(str(_truth_file(truth_dir, "feed_rows")), table_name="_mon_fr")
    links = backend.table("person_link")
    joined = links.join(
        rows,
        [
            links._source_file == rows.source_file,
            links._sheet.fill_null("") == rows.sheet.fill_null(""),
            links._row_number.cast("int64") == rows.row_number.cast("int64"),
        ],
    )
    votes = (
        joined.filter(rows.true_person_id.notnull())
        .group_by([links.person_id, rows.true_person_id.cast("string").name("true_person_id")])
        .aggregate(n=lambda t: t.count())
        .to_pandas()
    )
    people = votes.sort_values("n", ascending=False).drop_duplicates("person_id")
    membership = backend.table("household_membership")
    # Registration arrives as yearly extracts and monthly changes: a person's household at P
    # is their latest membership row up to P.
    members = (
        membership.filter(membership.period <= period)
        .select("period", "household_id", "person_id")
        .to_pandas()
        .sort_values("period")
        .drop_duplicates("person_id", keep="last")[["household_id", "person_id"]]
    )
    truth_members = pd.read_parquet(
        _truth_file(truth_dir, "household_membership"),
        columns=["period", "true_household_id", "true_person_id"],
        filters=[("period", "==", period)],
    )
    truth_members["true_person_id"] = truth_members["true_person_id"].astype(str)
    chain = members.merge(people[["person_id", "true_person_id"]], on="person_id").merge(
        truth_members[["true_person_id", "true_household_id"]], on="true_person_id"
    )
    counts = chain.groupby(["household_id", "true_household_id"]).size().reset_index(name="n")
    best = counts.sort_values("n", ascending=False).drop_duplicates("household_id")
    return best[["household_id", "true_household_id"]].reset_index(drop=True)


def true_outcomes(
    truth_dir: Path, *, period: str, horizon: int, lines: Mapping[int, float]
) -> pd.DataFrame:
    """Per true household: at_period, label and months_to_event over (P, P + horizon]."""
    index = parse_period(period)
    wanted = [format_period(i) for i in range(index - 11, index + horizon + 1)]
    columns = ["period", "true_household_id", "members", *_INCOME, *_SPENDING]
    monthly = pd.read_parquet(
        _truth_file(truth_dir, "household_income_monthly"),
        columns=columns,
        filters=[("period", "in", wanted)],
    )
    if monthly.empty:
        raise UserError(f"the truth has no monthly incomes around {period}")
    monthly["net"] = monthly[list(_INCOME)].sum(axis=1) - monthly[list(_SPENDING)].sum(axis=1)
    net = monthly.pivot_table(
        index="true_household_id", columns="period", values="net", aggfunc="sum"
    ).reindex(columns=wanted)
    members = monthly.pivot_table(
        index="true_household_id", columns="period", values="members", aggfunc="max"
    ).reindex(columns=wanted)
    rolling = net.T.rolling(12, min_periods=12).sum().T
    per_capita = rolling / members.where(members > 0)
    line = np.array([lines.get(int(p[:4]), lines[max(lines)]) for p in wanted])
    below = per_capita.lt(line, axis=1) & per_capita.notna()
    ahead = below[wanted[12:]].to_numpy()
    first = np.where(ahead.any(axis=1), ahead.argmax(axis=1) + 1, -1)
    return pd.DataFrame(
        {
            "true_household_id": per_capita.index,
            "at_period": below[period].astype(int).to_numpy(),
            "label": ahead.any(axis=1).astype(int),
            "months_to_event": np.where(first > 0, first, np.nan),
        }
    )


# A shock explains a fall only if it cost at least this share of the household's income of
# the 12 months up to P: on the simulated county, households hit by smaller shocks fell no
# more often than the others (6–7 % against 6.9 %), those above it two to six times as often.
MATERIAL_SHARE = 0.25


def true_causes(
    truth_dir: Path, *, period: str, horizon: int, material_share: float = MATERIAL_SHARE
) -> dict[str, str]:
    """true_household_id → cause of its costliest material shock in (P − horizon, P].

    Material: the shock's money (`amount` in the simulator's log) is at least `material_share`
    of the household's true income (wages, business, property, transfers) over the 12 months
    up to P; a shock without an amount (a disability onset: lost labour, not money) counts.
    The costliest, not the latest: disasters strike whole villages, often after the shock that
    matters. A household without a material shock has no known cause and is not scored.
    Without `amount` in the log, the latest shock is taken. Shocks after P are left out: an
    alert at P could not have seen them.
    """
    path = truth_dir / "shocks.parquet"
    if not path.is_file():
        return {}
    shocks = pd.read_parquet(path)
    month = pd.to_datetime(shocks["date"]).dt.strftime("%Y-%m")
    start = format_period(parse_period(period) - horizon)
    window = shocks[(month > start) & (month <= period)].assign(month=month)
    if "amount" in window.columns:
        window = window.assign(amount=window["amount"].fillna(0.0))
        income = _income_until(truth_dir, period=period).reindex(window["true_household_id"])
        material = (window["amount"].to_numpy() >= material_share * income.to_numpy()) | (
            window["amount"].to_numpy() <= 0
        )
        window = window[material]
    else:
        window = window.assign(amount=0.0)
    chosen = window.sort_values(["amount", "month"]).drop_duplicates(
        "true_household_id", keep="last"
    )
    return dict(zip(chosen["true_household_id"].astype(str), chosen["cause"], strict=True))


def _income_until(truth_dir: Path, *, period: str) -> pd.Series:
    """True household income of the 12 months up to `period` (before costs)."""
    index = parse_period(period)
    wanted = [format_period(i) for i in range(index - 11, index + 1)]
    monthly = pd.read_parquet(
        _truth_file(truth_dir, "household_income_monthly"),
        columns=["period", "true_household_id", *_INCOME],
        filters=[("period", "in", wanted)],
    )
    total = monthly[list(_INCOME)].sum(axis=1)
    return total.groupby(monthly["true_household_id"]).sum()


def truth_for_households(
    backend: Any,
    truth_dir: Path,
    *,
    period: str,
    horizon: int,
    lines: Mapping[int, float],
) -> pd.DataFrame:
    """household_id with true at_period, label, months_to_event and cause (may be None)."""
    mapping = true_household_map(backend, truth_dir, period=period)
    outcomes = true_outcomes(truth_dir, period=period, horizon=horizon, lines=lines)
    mapping["true_household_id"] = mapping["true_household_id"].astype(str)
    outcomes["true_household_id"] = outcomes["true_household_id"].astype(str)
    joined = mapping.merge(outcomes, on="true_household_id", how="inner")
    causes = true_causes(truth_dir, period=period, horizon=horizon)
    joined["cause"] = joined["true_household_id"].map(causes)
    return joined
