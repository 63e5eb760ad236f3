#!/usr/bin/env bash
# Side-by-side benchmark of Strom and the released Apache Fluss 0.9.1 server (issue 5):
# builds `strom` and `strom-server` in release, then runs bench/peer/run.py, which alternates
# the two servers for N rounds and writes its section of bench/RESULTS.md and bench/results.png.
#
#   scripts/bench-peer.sh [run.py options, e.g. --rounds 5 | --smoke | --workloads append]
#
# Environment:
#   BENCH_PEER_BUILD_DIR  release build folder (default build/release, the `release` preset);
#                         any other folder is configured with the preset's settings
#   BENCH_PEER_SRC        source tree to build (default this checkout; e.g. a clean clone of a
#                         commit, so that the report names exactly what was measured)
#   BENCH_PEER_NO_BUILD=1 use the binaries already in the build folder
#   BENCH_PEER_COMMAND    the command line the report names (make bench-peer sets it)
# Without --results/--chart options the run writes bench/RESULTS.md and bench/results.png;
# with --smoke it writes nothing unless asked.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${BENCH_PEER_SRC:-$ROOT}"
BUILD="${BENCH_PEER_BUILD_DIR:-$SRC/build/release}"
PY="$ROOT/.venv/bin/python"
JOBS="${JOBS:-$(nproc)}"

[ -x "$PY" ] || { echo "bench-peer: $PY missing; run scripts/install-deps.sh" >&2; exit 1; }

if [ "${BENCH_PEER_NO_BUILD:-0}" != 1 ]; then
  if [ "$(realpath -m "$BUILD")" = "$(realpath -m "$SRC/build/release")" ]; then
    (cd "$SRC" && cmake --preset release >/dev/null)
  else
    # The release preset's settings, in another folder (CMakePresets.json "release").
    cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g -DNDEBUG" -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld \
      >/dev/null
  fi
  cmake --build "$BUILD" -j"$JOBS" --target strom strom-server
fi

args=("$@")
smoke=0
for a in "$@"; do [ "$a" = --smoke ] && smoke=1; done
if [ "$smoke" -eq 0 ]; then
  has() { local o; for o in "${args[@]}"; do [ "$o" = "$1" ] && return 0; done; return 1; }
  has --results || args+=(--results "$ROOT/bench/RESULTS.md")
  has --chart || args+=(--chart "$ROOT/bench/results.png")
fi
commit="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no -- src include proto cmake CMakeLists.txt 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
command="${BENCH_PEER_COMMAND:-scripts/bench-peer.sh${*:+ $*}}"
[ -z "${BENCH_PEER_SRC:-}" ] || command="BENCH_PEER_SRC=<clone of $commit> $command"
exec "$PY" "$ROOT/bench/peer/run.py" --bin-dir "$BUILD/src/apps" --commit "$commit" \
  --command "$command" "${args[@]}"
