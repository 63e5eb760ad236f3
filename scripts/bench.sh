#!/usr/bin/env bash
# Runs the micro-benchmarks of a release build and prints the machine they ran on.
# Usage: scripts/bench.sh [extra Google Benchmark flags, e.g. --benchmark_filter=Crc]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/release/bench/strom_bench"
if [ ! -x "$BIN" ]; then
  echo "bench: $BIN is missing; run 'make bench' (it builds the release preset first)" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)   commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
exec "$BIN" --benchmark_min_time=0.5 "$@"
