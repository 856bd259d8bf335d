# The prologue the scripts share; sourced, not run: `source "$(dirname "$0")/_common.sh"`.
# Strict mode, the repository root as working folder (so relative workspace paths and the
# virtual environment's `dixian` are found wherever the script is called from), and `step
# NAME`, which prints a step's heading with the seconds since the script started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIXIAN="$PWD/.venv/bin/dixian"
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started))"; }
step() { printf '\n== %s (%ss)\n' "$1" "$(elapsed)"; }
