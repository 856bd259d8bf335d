#!/usr/bin/env bash
# Early warning measured against the county simulator's truth (issue 7), as a routine:
# simulate a county once (20,000 persons x 4 years by default), ingest, link, build the panel,
# then `dixian evaluate monitor`: train on the early years, calibrate on the next one, test on
# the panel's last month against the simulator's hidden year of true incomes.
#
#   scripts/monitor_eval.sh              reuse the workspace; build what is missing; evaluate
#   scripts/monitor_eval.sh --features   rebuild the panel first (after panel code changes)
#   scripts/monitor_eval.sh --fresh      start over from the simulation
#
# Environment: MON_EVAL_WS (/tmp/mon-eval), MON_EVAL_PERSONS (20000), MON_EVAL_YEARS (4),
# MON_EVAL_SEED (11), MON_EVAL_BUDGETS ("50 100": alerts per township, one evaluation each),
# MON_EVAL_THREADS and MON_EVAL_MEMORY_LIMIT (DuckDB threads and memory_limit written into a
# new workspace's dixian.toml; e.g. 1 and 3GB for a 100,000-person county on a shared machine),
# MON_EVAL_ARGS (more options for `dixian evaluate monitor`, e.g. "--allocation need" or
# "--trigger-scope all --lead-lookback 0").
# The figures go to $MON_EVAL_WS/reports/monitor-evaluation-<period>-budget<B>.json.
source "$(dirname "$0")/_common.sh"
WS="${MON_EVAL_WS:-/tmp/mon-eval}"
PERSONS="${MON_EVAL_PERSONS:-20000}"
YEARS="${MON_EVAL_YEARS:-4}"
SEED="${MON_EVAL_SEED:-11}"
BUDGETS="${MON_EVAL_BUDGETS:-50 100}"
MODE="${1:-}"

case "$MODE" in
  "" | --features | --fresh) ;;
  *) echo "usage: $0 [--features|--fresh]" >&2; exit 2 ;;
esac
if [[ "$MODE" == --fresh ]]; then
  rm -rf "$WS"
fi
if [[ ! -f "$WS/dixian.toml" ]]; then
  step "workspace and simulated county ($PERSONS persons x $YEARS years, seed $SEED)"
  $DIXIAN init --workspace "$WS" --province 52 --name "monitor evaluation county" >/dev/null
  if [[ -n "${MON_EVAL_THREADS:-}" ]]; then
    sed -i "s/^threads = .*/threads = ${MON_EVAL_THREADS}/" "$WS/dixian.toml"
  fi
  if [[ -n "${MON_EVAL_MEMORY_LIMIT:-}" ]]; then
    sed -i "s/^memory_limit = .*/memory_limit = \"${MON_EVAL_MEMORY_LIMIT}\"/" "$WS/dixian.toml"
  fi
  $DIXIAN simulate --workspace "$WS" --persons "$PERSONS" --years "$YEARS" --seed "$SEED" \
    --noise default --json >/dev/null
  rm -f "$WS/warehouse.duckdb"
fi
if [[ ! -f "$WS/warehouse.duckdb" ]]; then
  step "ingest and link"
  $DIXIAN ingest --workspace "$WS" --json >/dev/null
  $DIXIAN link --workspace "$WS" --json >/dev/null
  MODE=--features
fi
if [[ "$MODE" == --features ]]; then
  step "household panel (dixian features)"
  $DIXIAN features --workspace "$WS" --rebuild --json >/dev/null
fi
for budget in $BUDGETS; do
  step "dixian evaluate monitor --budget $budget"
  # shellcheck disable=SC2086  # MON_EVAL_ARGS is a list of options
  $DIXIAN evaluate monitor --workspace "$WS" --budget "$budget" --json ${MON_EVAL_ARGS:-} \
    | tee "$WS/reports/monitor-headline-budget$budget.json"
  for report in "$WS"/reports/monitor-evaluation-????-??.json; do
    cp "$report" "${report%.json}-budget$budget.json"
  done
done
step "done (commit $(git rev-parse --short HEAD))"
