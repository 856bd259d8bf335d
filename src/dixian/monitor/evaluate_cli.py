"""`dixian evaluate monitor`: held-out evaluation of the alerts against the rule-only baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import info, print_summary, to_json
from dixian.monitor._defaults import (
    ALLOCATION_HELP,
    DEFAULT_TRIGGER_WEIGHT,
    TRIGGER_SCOPE_HELP,
    TRIGGER_WEIGHT_HELP,
)


def _headline(figures: dict[str, Any]) -> dict[str, Any]:
    model = figures["model"]
    return {
        "test_period": figures["periods"]["test"],
        "households": figures["households"],
        "auc": model["auc"],
        "pr_auc": model["pr_auc"],
        "ece": model["ece"],
        "alerts": figures["alerts"]["alerts"],
        "recall_at_budget": figures["alerts"]["recall"],
        "precision_at_budget": figures["alerts"]["precision"],
        "rule_baseline_alerts": figures["rule_baseline"]["alerts"],
        "rule_baseline_recall": figures["rule_baseline"]["recall"],
        "recall_ratio_vs_rules": figures["recall_ratio_vs_rules"],
        "recall_ratio_vs_rules_mean_draw": figures["recall_ratio_vs_rules_mean_draw"],
        "recall_ratio_vs_rules_ties_averaged": figures["recall_ratio_vs_rules_ties_averaged"],
        "median_lead_time_months": figures["lead_time"]["median_months"],
        "median_lead_time_months_snapshot": figures["lead_time_snapshot"]["median_months"],
        "median_lead_time_months_rule_baseline": figures["lead_time_rule_baseline"][
            "median_months"
        ],
        "lowest_township_ratio": _lowest(figures, "township"),
        "township_recall_p_value": figures["fairness_township_homogeneity"]["p_value"],
        "primary_cause_accuracy": figures.get("primary_cause_accuracy"),
        "fairness_gaps": len(figures["fairness_gaps"]),
    }


def _lowest(figures: dict[str, Any], grouping: str) -> float | None:
    ratios = [
        row["recall_ratio"]
        for row in figures["fairness"]
        if row["grouping"] == grouping and row["recall_ratio"] is not None
    ]
    return min(ratios) if ratios else None


def _default_test_period(periods: list[str], *, horizon: int, truth_dir: Path | None) -> str:
    """The latest period whose outcome window is known: in the panel, or in the truth.

    The simulator's truth runs a hidden year past the feeds, so with truth the held-out period
    can be the panel's last month and training gets one more year.
    """
    from dixian.monitor.features import labelled_periods, shift_period

    labelled = labelled_periods(periods, horizon=horizon, step=1)
    if truth_dir is not None:
        from dixian.monitor.truth import truth_last_period

        covered = truth_last_period(truth_dir)
        known = [p for p in periods if shift_period(p, horizon) <= covered]
        if known:
            return known[-1]
    return labelled[-1] if labelled else periods[-1]


def evaluate_monitor(
    workspace: WorkspaceOption = None,
    budget: Annotated[int, typer.Option(help="Alerts per township (caseworker capacity).")] = 50,
    trigger_weight: Annotated[
        float, typer.Option(help=TRIGGER_WEIGHT_HELP, min=0.0, max=0.99)
    ] = DEFAULT_TRIGGER_WEIGHT,
    trigger_scope: Annotated[str, typer.Option(help=TRIGGER_SCOPE_HELP)] = "informative",
    allocation: Annotated[str, typer.Option(help=ALLOCATION_HELP)] = "equal",
    lead_lookback: Annotated[
        int | None,
        typer.Option(
            help="Months before the test period scored to find when each alert's run began "
            "(default: as many as the model allows, at most horizon - 1; 0: snapshot lead only)."
        ),
    ] = None,
    horizon: Annotated[int, typer.Option(help="Months ahead.")] = 12,
    test_period: Annotated[str | None, typer.Option("--test-period")] = None,
    synthetic: Annotated[
        int,
        typer.Option(
            help="Evaluate on a synthetic panel of N households with known shocks instead of "
            "the workspace panel (for a first look before the county's panel exists)."
        ),
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """Held-out evaluation: AUC, ECE, recall at the budget vs the rule-only baseline, lead time."""
    import ibis

    from dixian.monitor.alerts import AlertPolicy
    from dixian.monitor.evaluation import evaluate_held_out, true_causes_from_shocks
    from dixian.monitor.features import below_line_target, panel_periods, shift_period
    from dixian.monitor.pipeline import load_policies, monitoring_lines, open_panel
    from dixian.monitor.triggers import rules_from_policy

    opened = Workspace.open(workspace)
    policy_set = load_policies(opened)
    province = opened.config.region.province
    true_causes = None
    if synthetic:
        from dixian.monitor.synthetic import SHOCK_CAUSE, synthetic_panel

        info(f"合成面板 synthetic panel of {synthetic} households …")
        generated = synthetic_panel(synthetic, start="2022-01", months=48, seed=7)
        panel = ibis.duckdb.connect().create_table("household_period", generated.panel)
    else:
        _, panel = open_panel(opened)
    periods = panel_periods(panel)
    has_truth = (
        not synthetic and opened.truth_dir.is_dir() and any(opened.truth_dir.glob("*.parquet"))
    )
    chosen = test_period or _default_test_period(
        periods, horizon=horizon, truth_dir=opened.truth_dir if has_truth else None
    )
    # Lines of every year the outcomes reach, including the truth's months after the panel.
    last_year = int(shift_period(chosen, horizon)[:4])
    years = {int(period[:4]) for period in periods} | set(range(int(chosen[:4]), last_year + 1))
    lines = monitoring_lines(opened, sorted(years))
    params = policy_set.resolve_parameters(province=province, year=int(chosen[:4]))
    truth = None
    if synthetic:
        true_causes = true_causes_from_shocks(
            generated.shocks, test_period=chosen, horizon=horizon, cause_of=SHOCK_CAUSE
        )
    elif has_truth:
        from dixian.engine import open_backend
        from dixian.monitor.truth import truth_for_households

        info("对照模拟真值 judging against the simulator's truth …")
        truth = truth_for_households(
            open_backend(opened), opened.truth_dir, period=chosen, horizon=horizon, lines=lines
        )
    figures = evaluate_held_out(
        panel,
        target=below_line_target(lines),
        rules=rules_from_policy(policy_set, params=params),
        validation_rules=rules_from_policy(
            policy_set,
            params=policy_set.resolve_parameters(
                province=province, year=int(shift_period(chosen, -horizon)[:4])
            ),
        ),
        policy=AlertPolicy(
            budget=budget,
            trigger_weight=trigger_weight,
            trigger_scope=trigger_scope,  # type: ignore[arg-type]  # checked by AlertPolicy
            allocation=allocation,  # type: ignore[arg-type]
        ),
        horizon=horizon,
        test_period=chosen,
        true_causes=true_causes,
        truth=truth,
        lead_lookback=lead_lookback,
    )
    figures["source"] = f"synthetic:{synthetic}" if synthetic else "workspace panel"
    if truth is not None:
        figures["truth_households_mapped"] = len(truth)
    opened.reports_dir.mkdir(parents=True, exist_ok=True)
    report = opened.reports_dir / f"monitor-evaluation-{chosen}.json"
    report.write_text(to_json(figures), encoding="utf-8")
    print_summary(
        "预警评估 monitor evaluation",
        {**_headline(figures), "report": str(report)},
        as_json=as_json,
    )
