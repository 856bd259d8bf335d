#!/usr/bin/env bash
# The demo (`make demo`): a simulated county taken through the whole pipeline, step by step:
# workspace → data standard → simulated department feeds → ingestion and data quality →
# person and household linkage → household panel (一户一档) → verification (核对) and problem
# leads → early warning (预警) and cases → web users and how to serve the application.
source "$(dirname "$0")/_common.sh"
WS="${1:-demo-workspace}"
PERSONS="${DEMO_PERSONS:-20000}"

rm -rf "$WS"
step "1. workspace"
$DIXIAN init --workspace "$WS" --province 52 --name "demo county"

step "2. data standard (数据标准)"
$DIXIAN standards
echo "   ID numbers: a valid one, and one with the birth day and month swapped"
$DIXIAN ids check 11010519491231002X 11010519491213002X || true  # exit 1: one is invalid

step "3. simulate a county ($PERSONS persons x 3 years): department feeds, reference data, truth"
$DIXIAN simulate --workspace "$WS" --persons "$PERSONS" --years 3 --seed 1 --noise default

step "4. ingest every department feed (导入), then the data-quality report (数据质量)"
$DIXIAN ingest --workspace "$WS"
$DIXIAN quality --workspace "$WS"

step "5. link: one person, one ID across departments (人员识别); households per period"
$DIXIAN link --workspace "$WS"
$DIXIAN evaluate link --workspace "$WS"

step "6. the household-period panel (一户一档)"
$DIXIAN features --workspace "$WS"

step "7. verification (核对) of every household, and the top problem leads (问题线索)"
# `dixian simulate` put the county's own rules beside the shipped generic ones (its real-estate
# register holds purchased flats only, so a flat excludes; the generic policy allows one home).
echo "   county policy: $WS/policies/simulated-county.yaml (max_properties 0, any business excludes)"
$DIXIAN verify --workspace "$WS" --top 10
$DIXIAN evaluate verify --workspace "$WS"

step "8. early warning (部门筛查预警): train the risk model, the top alerts with their reasons"
$DIXIAN db upgrade --workspace "$WS" >/dev/null
$DIXIAN monitor train --workspace "$WS"
$DIXIAN monitor alerts --workspace "$WS" --budget 20 --top 10
# A held-out year needs train, validation and test years of panel; a 3-year county is short.
$DIXIAN evaluate monitor --workspace "$WS" --budget 20 \
  || echo "   (held-out evaluation needs a longer panel: simulate more years)"

step "9. cases opened from the alerts, by state; the audit ledger checked"
$DIXIAN cases list --workspace "$WS" --limit 10
$DIXIAN audit verify --workspace "$WS"

step "10. web: demo users (one per role) and how to serve"
COUNTY_CODE=$(grep -m1 '^county = ' "$WS/dixian.toml" | cut -d'"' -f2)
VILLAGE_CODE=$(awk -F, '$3=="village"{print $1; exit}' "$WS/reference/regions.csv")
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
printf '\n== demo finished in %ss; workspace: %s\n' "$(($(date +%s) - started))" "$WS"
