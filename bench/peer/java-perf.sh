#!/usr/bin/env bash
# Runs the Java load generator (tests/interop/java PerfDriver, on the released Apache Fluss
# Java client 0.9.1) against a server: the Java counterpart of `strom perf append|lookup`.
#   bench/peer/java-perf.sh BOOTSTRAP append|lookup [options]     (one JSON line on stdout)
#   bench/peer/java-perf.sh --build                                 (only build, if out of date)
# Builds the interop Maven project on first use, as tests/interop/run-java.sh does, but into its
# own folder (build/bench-peer/java), so a benchmark never races an interop suite's build.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SRC="$ROOT/tests/interop/java"
OUT="$ROOT/build/bench-peer/java"
JAR="$OUT/strom-interop.jar"

[ $# -ge 2 ] || [ "${1:-}" = --build ] \
  || { echo "usage: $0 BOOTSTRAP append|lookup [options] | --build" >&2; exit 2; }
BOOTSTRAP="$1"; shift

if [ ! -f "$JAR" ] || [ -n "$(find "$SRC/src" "$SRC/pom.xml" -newer "$JAR" -type f 2>/dev/null | head -n 1)" ]; then
  echo "java-perf: building the Java driver into $OUT" >&2
  rm -rf "$OUT/lib"; mkdir -p "$OUT"
  if ! mvn -q -B -o -f "$SRC/pom.xml" "-Dinterop.build.dir=$OUT" package >"$OUT.build.log" 2>&1; then
    mvn -q -B -f "$SRC/pom.xml" "-Dinterop.build.dir=$OUT" package >"$OUT.build.log" 2>&1 \
      || { cat "$OUT.build.log" >&2; echo "java-perf: build failed" >&2; exit 2; }
  fi
fi
[ "$BOOTSTRAP" = --build ] && exit 0

# JDK 17: the client's (shaded) Arrow needs java.nio opened. No heap option: the JVM default
# (a quarter of RAM), as for the interop driver.
exec java -XX:+IgnoreUnrecognizedVMOptions \
  --add-opens=java.base/java.nio=ALL-UNNAMED \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${STROM_INTEROP_LOG_LEVEL:-warn}" \
  ${STROM_PERF_JVM_OPTS:-} \
  -cp "$JAR:$OUT/lib/*" strom.interop.PerfDriver "$BOOTSTRAP" "$@"
