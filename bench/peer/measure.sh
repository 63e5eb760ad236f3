#!/usr/bin/env bash
# Measures the released Fluss 0.9.1 peer and runs both interop suites against it:
# cold start (ms to serving, client check included), idle RSS after IDLE_S seconds, the Java
# log-table scenario, the pytest log-table suite, RSS after the load, and stop time.
#   bench/peer/measure.sh [RUNS]      RUNS cold starts (default 3); the suites run on the last one
# Prints one `name value` line per figure and the suites' JSON summaries. Uses the default ports
# (see fluss-peer.sh); everything is stopped at the end, whatever happens.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PEER="$HERE/fluss-peer.sh"
RUNS="${1:-3}"
IDLE_S="${IDLE_S:-30}"

trap '"$PEER" stop >/dev/null 2>&1 || true' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_line() { "$PEER" status | awk -v tag="$1" '{ if ($2 == "running") printf "%s_rss_mib_%s %d\n", tag, $1, $6; else if ($1 == "total") print tag "_rss_mib_total", $6 }'; }

"$PEER" fetch
# Build the Java driver before timing anything (the client check uses it).
"$ROOT/tests/interop/run-java.sh" 127.0.0.1:1 ping --timeout 0 >/dev/null 2>&1 || true

echo "load_average $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)"
for i in $(seq 1 "$RUNS"); do
  t=$(now_ms); "$PEER" start >/dev/null; echo "cold_start_ms_run$i $(( $(now_ms) - t ))"
  if [ "$i" -lt "$RUNS" ]; then
    t=$(now_ms); "$PEER" stop >/dev/null 2>&1; echo "stop_ms_run$i $(( $(now_ms) - t ))"
  fi
done

sleep "$IDLE_S"
rss_line idle

LOG="$(mktemp)"
t=$(now_ms); rc=0
"$ROOT/tests/interop/run-java.sh" 127.0.0.1:9123 log-table >"$LOG" 2>/dev/null || rc=$?
echo "java_log_table_ms $(( $(now_ms) - t )) rc=$rc"
tail -n 1 "$LOG"

t=$(now_ms); rc=0
"$ROOT/tests/interop/run-python.sh" 127.0.0.1:9123 >"$LOG" 2>&1 || rc=$?
echo "pytest_log_table_ms $(( $(now_ms) - t )) rc=$rc"
grep -E '^\{"scenario"|passed|failed' "$LOG" || cat "$LOG"
rm -f "$LOG"

rss_line after_load
t=$(now_ms); "$PEER" stop >/dev/null 2>&1; echo "stop_ms $(( $(now_ms) - t ))"
echo "load_average_end $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)"
