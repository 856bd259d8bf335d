"""Early-warning benchmark: training on a multi-year panel, scoring a period, building alerts.

Data: the synthetic panel of `dixian.monitor.synthetic` (a known generating process), written
into a DuckDB warehouse in chunks. Sizes:

- tiny: 1,200 households × 26 months (runs in the test suite);
- small: 30,000 households × 36 months, scoring 100,000 households;
- full: training on 36 months of 300,000 households (a 1,000,000-person county at 3.3 persons
  per household), scoring 1,000,000 households (13 months of panel, the window features need).

Scoring time covers everything `dixian monitor alerts` does except writing files: features
from the panel in DuckDB, calibrated risk, the policy triggers with evidence, ranking with
budgets, and causes and reasons for the alerts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dixian.engine import open_duckdb
from dixian.monitor import AlertPolicy, below_line_target, rules_from_policy
from dixian.monitor.pipeline import build_alert_list, features_of_card
from dixian.monitor.synthetic import synthetic_panel
from dixian.monitor.training import train_on_panel
from dixian.policy import load_policy_set

SIZES = {
    "tiny": {"train_households": 1_200, "train_months": 26, "score_households": 1_200},
    "small": {"train_households": 30_000, "train_months": 36, "score_households": 100_000},
    "full": {"train_households": 300_000, "train_months": 36, "score_households": 1_000_000},
}
CHUNK = 50_000


def _write_panel(
    backend: Any, name: str, households: int, *, start: str, months: int, seed: int
) -> float:
    started = time.perf_counter()
    for index, first in enumerate(range(0, households, CHUNK)):
        count = min(CHUNK, households - first)
        chunk = synthetic_panel(
            count, start=start, months=months, seed=seed + index, first_id=first, townships=20
        ).panel
        if index == 0:
            backend.create_table(name, chunk, overwrite=True)
        else:
            backend.insert(name, chunk)
    return time.perf_counter() - started


def run(size: str, workdir: Path) -> dict[str, Any]:
    """Train, then score and alert, at the given size; return timings and accuracy."""
    spec = SIZES[size]
    backend = open_duckdb(str(workdir / "bench.duckdb"), threads=2)
    policy_set = load_policy_set()
    lines = {
        year: float(str(policy_set.resolve_parameters(province="52", year=year)["monitoring_line"]))
        for year in range(2021, 2027)
    }
    generate_train = _write_panel(
        backend, "panel_train", spec["train_households"], start="2023-01",
        months=spec["train_months"], seed=100,
    )  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    trained = train_on_panel(
        backend.table("panel_train"), target=below_line_target(lines), horizon=12, step=3
    )
    train_seconds = time.perf_counter() - started
    train_cpu = time.process_time() - cpu

    generate_score = _write_panel(
        backend, "panel_score", spec["score_households"], start="2024-12", months=13, seed=900
    )
    panel = backend.table("panel_score")
    period = "2025-12"
    params = policy_set.resolve_parameters(province="52", year=2025)
    rules = rules_from_policy(policy_set, params=params)
    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    built = build_alert_list(
        panel,
        trained.model,
        period=period,
        features=features_of_card(trained.card),
        rules=rules,
        policy=AlertPolicy(budget=200),
    )
    score_seconds = time.perf_counter() - started
    score_cpu = time.process_time() - cpu
    scored, alerts = built.scored, built.alerts
    metrics = trained.card["metrics"]
    return {
        "train_households": spec["train_households"],
        "train_rows": trained.card["rows"]["train"],
        "train_periods": trained.card["periods"]["train"],
        "generate_train_seconds": round(generate_train, 1),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu, 1),
        "best_iteration": trained.card["best_iteration"],
        "validation_auc": round(metrics["auc"], 4),
        "validation_ece": round(metrics["ece"], 4),
        "calibration": trained.card["calibration"]["method"],
        "score_households": len(scored),
        "generate_score_seconds": round(generate_score, 1),
        "score_seconds": round(score_seconds, 1),
        "score_cpu_seconds": round(score_cpu, 1),
        "score_breakdown_seconds": {key: round(value, 2) for key, value in built.seconds.items()},
        "score_breakdown_cpu_seconds": {
            key: round(value, 2) for key, value in built.cpu_seconds.items()
        },
        "load_average_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "trigger_hits": built.trigger_hits,
        "alerts": len(alerts),
        "households_per_second": round(len(scored) / score_seconds),
    }
