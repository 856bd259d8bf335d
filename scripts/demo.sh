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
