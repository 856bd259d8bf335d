"""Early warning (部门筛查预警): triggers, a calibrated risk model, causes in words, alerts.

Typical use::

    trained = train_on_panel(panel, target=below_line_target(lines))
    features = build_features(panel, period="2025-12").to_pandas()
    risk = trained.model.predict_proba(features[trained.model.feature_names_in_])[:, 1]
    attribution = attribute_causes(trained.model, features, feature_causes=...)
"""

from __future__ import annotations

from dixian.monitor.alert_report import alert_status, export_alerts_xlsx
from dixian.monitor.alerts import (
    AlertPolicy,
    allocate_by_need,
    rank_alerts,
    trigger_lifts,
)
from dixian.monitor.calibration import Calibrator, choose_calibrator, fit_calibrator
from dixian.monitor.causes import (
    CauseAttribution,
    attribute_causes,
    cause_evidence,
    cause_labels,
    choose_causes,
    group_contributions,
)
from dixian.monitor.costs import COST_COLUMNS, event_costs, primary_by_cost
from dixian.monitor.features import (
    DEFAULT_FEATURES,
    FeatureSpec,
    below_line_target,
    build_features,
    feature_causes,
    feature_monotone,
    labelled_periods,
    parse_period,
    shift_period,
)
from dixian.monitor.labels import build_labels, combine_labels, monitoring_object_target
from dixian.monitor.model import RiskModel
from dixian.monitor.reasons import render_reason
from dixian.monitor.training import TrainedModel, fit_and_describe, train_on_panel
from dixian.monitor.triggers import TriggerRule, evaluate_triggers, rules_from_policy

__all__ = [
    "COST_COLUMNS",
    "DEFAULT_FEATURES",
    "AlertPolicy",
    "Calibrator",
    "CauseAttribution",
    "FeatureSpec",
    "RiskModel",
    "TrainedModel",
    "TriggerRule",
    "alert_status",
    "allocate_by_need",
    "attribute_causes",
    "below_line_target",
    "build_features",
    "build_labels",
    "cause_evidence",
    "cause_labels",
    "choose_calibrator",
    "choose_causes",
    "combine_labels",
    "evaluate_triggers",
    "event_costs",
    "export_alerts_xlsx",
    "feature_causes",
    "feature_monotone",
    "fit_and_describe",
    "fit_calibrator",
    "group_contributions",
    "labelled_periods",
    "monitoring_object_target",
    "parse_period",
    "primary_by_cost",
    "rank_alerts",
    "render_reason",
    "rules_from_policy",
    "shift_period",
    "train_on_panel",
    "trigger_lifts",
]
