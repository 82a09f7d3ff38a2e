#!/usr/bin/env bash
# run_fuzz.sh BINARY SEED_DIR WORK_DIR SECONDS — a bounded libFuzzer run for CI.
# The seed corpus is read-only input; new inputs go to WORK_DIR (not committed).
set -euo pipefail
bin=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work"
args=("$work")
[ -d "$seeds" ] && args+=("$seeds")
exec "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${args[@]}"
