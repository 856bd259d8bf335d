#!/usr/bin/env bash
# The demo: builds a small county workspace and runs the pipeline on it, step by step.
# Each stage appends its step here as it lands.
set -euo pipefail
cd "$(dirname "$0")/.."
WS="${1:-demo-workspace}"
DIXIAN=".venv/bin/dixian"

rm -rf "$WS"
echo "== 1. workspace"
$DIXIAN init --workspace "$WS" --province 52 --name "demo county"
echo "== 2. data standard"
$DIXIAN standards
echo "== 3. simulate a county (20,000 persons x 3 years): feeds, reference data, truth"
$DIXIAN simulate --workspace "$WS" --persons 20000 --years 3 --seed 1 --noise default
echo "== ingest: every department feed into staging (导入), the batch ledger, data-quality scores"
$DIXIAN ingest --workspace "$WS"
$DIXIAN quality --workspace "$WS"
echo "== link: one person, one ID across departments (人员识别), households per period"
# Needs the ingest step (staging tables); says so instead of failing.
if $DIXIAN link --workspace "$WS"; then
  $DIXIAN evaluate link --workspace "$WS"
else
  echo "   (skipped: run the ingest step first)"
fi
echo "== ids: check resident ID numbers (a valid one; one with the birth day and month swapped)"
$DIXIAN ids check 11010519491231002X 11010519491213002X || true  # exit 1: one is invalid
echo "== verify: economic-status verification (核对) of every household and the top problem leads (问题线索)"
# Needs the household panel (ingest, link and features steps); says so instead of failing.
if $DIXIAN verify --workspace "$WS" --top 10; then
  $DIXIAN evaluate verify --workspace "$WS"
else
  echo "   (skipped: run the ingest, link and features steps first)"
fi
echo "== monitor: early warning (部门筛查预警): train the risk model, the top alerts with their reasons"
# Needs the household panel (ingest, link and features steps); says so instead of failing.
if $DIXIAN monitor train --workspace "$WS"; then
  $DIXIAN monitor alerts --workspace "$WS" --budget 20 --top 10
  # A held-out year needs 37 months of panel (train, validate, test); a 3-year county is short.
  $DIXIAN evaluate monitor --workspace "$WS" --budget 20 \
    || echo "   (held-out evaluation skipped: the panel is too short)"
else
  echo "   (skipped: run the ingest, link and features steps first)"
fi
echo "== cases: counts by state (cases opened from the monitoring alerts) and the audit ledger check"
$DIXIAN db upgrade --workspace "$WS" >/dev/null
$DIXIAN cases list --workspace "$WS" --limit 10
$DIXIAN audit verify --workspace "$WS"
# The web step stays last: the demo ends with the URL and a demo user per role.
echo "== web: demo users (one per role) and how to serve"
$DIXIAN db upgrade --workspace "$WS" >/dev/null
COUNTY_CODE=$(grep -m1 '^county = ' "$WS/dixian.toml" | cut -d'"' -f2)
VILLAGE_CODE=$(awk -F, '$3=="village"{print $1; exit}' "$WS/reference/regions.csv" 2>/dev/null || true)
VILLAGE_CODE=${VILLAGE_CODE:-${COUNTY_CODE}101201}
export DIXIAN_WEB_ENV=demo DIXIAN_DEMO_PASSWORD="Demo!Pass-2026"
for spec in "sysadmin:system_admin:$COUNTY_CODE" "secadmin:security_admin:$COUNTY_CODE" \
    "auditor:audit_admin:$COUNTY_CODE" "analyst:county_analyst:$COUNTY_CODE" \
    "township:township_reviewer:${VILLAGE_CODE:0:9}" "village:village_caseworker:$VILLAGE_CODE" \
    "leader:leader:$COUNTY_CODE" "helper:helper_org:$COUNTY_CODE"; do
  IFS=: read -r user role juris <<<"$spec"
  $DIXIAN users add "$user" --role "$role" --jurisdiction "$juris" \
    --password-env DIXIAN_DEMO_PASSWORD --workspace "$WS" --json >/dev/null
  printf '   %-9s %-19s %s\n' "$user" "$role" "$juris"
done
echo "   password (demo only): $DIXIAN_DEMO_PASSWORD"
echo "   serve:  DIXIAN_WEB_ENV=demo $DIXIAN serve --workspace $WS"
echo "   open:   http://127.0.0.1:8000/"
