#!/usr/bin/env bash
# Runs the Java interop driver (released Apache Fluss Java client 0.9.1) against a server.
#   tests/interop/run-java.sh BOOTSTRAP [SCENARIO [options]]     (default scenario: log-table)
# Scenarios pk-table, pk-write and pk-verify run the primary-key driver (PkInterop);
# rbm64-golden, rbm64-table and lookup-insert run PkExtrasInterop.
# BOOTSTRAP defaults to $STROM_BOOTSTRAP, then 127.0.0.1:9123. Builds the driver on first use
# (Maven, offline when the local repository already has everything) into build/interop/java.
# Exit code and the one-line JSON summary come from the driver (exit 0 only if all matched).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/build/interop/java"
JAR="$OUT/strom-interop.jar"

BOOTSTRAP="${1:-${STROM_BOOTSTRAP:-127.0.0.1:9123}}"
[ $# -gt 0 ] && shift
SCENARIO="${1:-log-table}"
[ $# -gt 0 ] && shift

# Rebuild when a source or the pom is newer than the jar.
if [ ! -f "$JAR" ] || [ -n "$(find "$HERE/java/src" "$HERE/java/pom.xml" -newer "$JAR" -type f 2>/dev/null | head -n 1)" ]; then
  echo "run-java: building the interop driver into $OUT" >&2
  rm -rf "$OUT/lib"; mkdir -p "$OUT"
  if ! mvn -q -B -o -f "$HERE/java/pom.xml" package >"$OUT.build.log" 2>&1; then
    # First build on this machine: fetch the client and plugins once.
    mvn -q -B -f "$HERE/java/pom.xml" package >"$OUT.build.log" 2>&1 \
      || { cat "$OUT.build.log" >&2; echo "run-java: build failed" >&2; exit 2; }
  fi
fi

MAIN=strom.interop.StromInterop
case "$SCENARIO" in
  pk-*) MAIN=strom.interop.PkInterop ;;
  rbm64-*|lookup-insert) MAIN=strom.interop.PkExtrasInterop ;;
esac

# JDK 17: the client's (shaded) Arrow needs java.nio opened, as fluss-dist does for the server.
exec java -XX:+IgnoreUnrecognizedVMOptions \
  --add-opens=java.base/java.nio=ALL-UNNAMED \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${STROM_INTEROP_LOG_LEVEL:-warn}" \
  ${STROM_INTEROP_JVM_OPTS:-} \
  -cp "$JAR:$OUT/lib/*" "$MAIN" "$BOOTSTRAP" "$SCENARIO" "$@"
