#!/usr/bin/env bash
# The whole pipeline on the Spark engine (local[2]) on a tiny simulated county:
# simulate → ingest → link → features → verify → monitor (train, score, alerts).
# Each step's wall time, CPU time (the whole process tree, JVM included, by `perf stat` where
# it is installed) and peak memory are printed; the workspace keeps its Spark tables in
# spark-warehouse/ and their catalog in spark-metastore/, so each command finds the last one's.
# Usage: scripts/spark_pipeline.sh [WORKSPACE] (env: SPARK_PERSONS, SPARK_YEARS, SPARK_SEED,
# SPARK_HORIZON). A tiny county's panel is short (household membership ends with the last
# registration batch that lists a living member: 15 months for 300 persons x 3 years), so the
# risk model looks 6 months ahead instead of 12 (a 12-month label needs 25 months of panel).
source "$(dirname "$0")/_common.sh"
WS="${1:-spark-workspace}"
PERSONS="${SPARK_PERSONS:-300}"
YEARS="${SPARK_YEARS:-3}"
SEED="${SPARK_SEED:-5}"
HORIZON="${SPARK_HORIZON:-6}"
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
# Each step is timed here, not only headed as in _common.sh.
step() {
  local name="$1"
  shift
  printf '\n== %s (%ss, load %s)\n' "$name" "$(elapsed)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  # /usr/bin/time counts only waited-for children (user+sys, peak of one process); perf stat
  # counts every task of the tree, the Spark JVM included.
  local timed=(/usr/bin/time -f "   -- $name: %e s wall, %U+%S s CPU (waited), %M KiB peak" "$@")
  if command -v perf >/dev/null && perf stat -x, -e task-clock -o "$cpu_file" -- true 2>/dev/null
  then
    perf stat -x, -e task-clock -o "$cpu_file" -- "${timed[@]}"
    awk -F, -v n="$name" '$3 == "task-clock" {printf "   -- %s: %.1f s CPU\n", n, $1 / 1000}' \
      "$cpu_file"
  else
    "${timed[@]}"
  fi
}

rm -rf "$WS"
step "init" $DIXIAN init --workspace "$WS" --name "spark county"
# Spark instead of DuckDB: every later command opens the workspace's Spark engine.
sed -i 's/^kind = "duckdb"/kind = "spark"/' "$WS/dixian.toml"
grep -q '^kind = "spark"' "$WS/dixian.toml"
step "simulate" $DIXIAN simulate --workspace "$WS" --persons "$PERSONS" --years "$YEARS" \
  --seed "$SEED"
step "ingest" $DIXIAN ingest --workspace "$WS"
step "link" $DIXIAN link --workspace "$WS"
step "features" $DIXIAN features --workspace "$WS"
step "verify" $DIXIAN verify --workspace "$WS" --top 5
step "db upgrade" $DIXIAN db upgrade --workspace "$WS"
step "monitor train" $DIXIAN monitor train --workspace "$WS" --horizon "$HORIZON"
step "monitor score" $DIXIAN monitor score --workspace "$WS"
step "monitor alerts" $DIXIAN monitor alerts --workspace "$WS" --budget 10 --top 5
printf '\n== spark pipeline finished in %ss; workspace: %s\n' "$(elapsed)" "$WS"
