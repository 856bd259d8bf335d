"""Defaults of the alert policy shared by the library and the commands (no heavy imports)."""

from __future__ import annotations

# Priority = 1 − (1 − risk) × (1 − weight)^hits. The model's calibrated risk already reads the
# values the triggers read, so a weight above 0 trades falls found for earlier alerts on
# households with official triggers (bench/RESULTS.md, monitor: the trigger-weight sweep).
DEFAULT_TRIGGER_WEIGHT = 0.2
TRIGGER_WEIGHT_HELP = (
    "How much one trigger hit raises a household's priority: 0 ranks by the model's risk "
    "alone (most falls found), higher values favour households with triggers (earlier alerts)."
)

ALLOCATION_HELP = (
    "How the alert budget is shared: 'equal' gives every jurisdiction --budget (its caseworkers' "
    "capacity); 'need' pools the same total and splits it in proportion to each jurisdiction's "
    "expected need (sum of calibrated risks), for a county whose teams can move."
)
TRIGGER_SCOPE_HELP = (
    "How triggers weigh in the ranking: 'informative' (by how much more often their households "
    "fell than all on the model's validation period: nothing at 1x, fully from 2x) or 'all'."
)
