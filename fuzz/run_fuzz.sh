#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: run_fuzz.sh BINARY SEED_DIR WORK_DIR SECONDS
# The seed corpus (if any) is copied into a scratch folder so the source tree stays clean.
set -euo pipefail
bin=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work" && mkdir -p "$work"
if [ -d "$seeds" ]; then cp -r "$seeds"/. "$work"/; fi
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work"
