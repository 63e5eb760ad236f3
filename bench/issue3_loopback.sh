#!/usr/bin/env bash
# The loopback figures of issue 3 (bench/RESULTS.md): `strom perf` workloads against a fresh
# `strom-server local`, each line of output being the workload's JSON plus the server's CPU
# seconds during the run and its resident memory after it.
#   bench/issue3_loopback.sh STROM_SERVER STROM_CLI -- WORKLOAD_ARGS [ -- WORKLOAD_ARGS ...]
# e.g. bench/issue3_loopback.sh build/release/src/apps/strom-server build/release/src/apps/strom \
#        -- perf append --rows 2000000 -- perf scan --columns id,c5
set -euo pipefail
SERVER=$1
CLI=$2
shift 2
[ "${1:-}" = "--" ] && shift

WORK=$(mktemp -d /tmp/strom-bench.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SERVER" local --host 127.0.0.1 --port 0 --data-dir "$WORK/data" --log-level warn \
  >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 1 100); do grep -q ' ready on ' "$WORK/out" 2>/dev/null && break; sleep 0.1; done
B=$(sed -nE 's/.* ready on ([^ ]+).*/\1/p' "$WORK/out")
[ -n "$B" ] || { echo "server did not start" >&2; cat "$WORK/err" >&2; exit 3; }

ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$PID/stat"; }
mem() { awk '/^VmRSS|^VmHWM/ {sub(":", "", $1); printf "\"%s_mb\":%.1f,", tolower($1), $2 / 1024}' "/proc/$PID/status"; }

echo "{\"server_idle\":{$(mem)\"bootstrap\":\"$B\"}}"
run() {
  local before after out
  before=$(cpu)
  out=$("$CLI" -b "$B" --format json "$@")
  after=$(cpu)
  echo "${out%\}},\"server_cpu_seconds\":$(awk -v a="$after" -v b="$before" 'BEGIN {print a - b}'),$(mem)\"args\":\"$*\"}"
}
args=()
for a in "$@"; do
  if [ "$a" = "--" ]; then
    run "${args[@]}"
    args=()
  else
    args+=("$a")
  fi
done
[ ${#args[@]} -gt 0 ] && run "${args[@]}"
