#!/usr/bin/env bash
# Runs a command against a fresh `strom-server local` on a free loopback port, then stops it.
#   tests/interop/with-strom.sh SERVER_BIN -- COMMAND [ARGS...]
# The bootstrap address reaches the command as $STROM_BOOTSTRAP and replaces every literal
# argument "@BOOTSTRAP@". The server's data dir is a temp folder removed afterwards; its log is
# printed when the command fails. Exit code: the command's, or 3 if the server did not start.
set -euo pipefail
SERVER_BIN=$1; shift
[ "${1:-}" = "--" ] && shift

WORK=$(mktemp -d /tmp/strom-interop.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Port 0: the server picks a free port and reports it on its ready line.
"$SERVER_BIN" local --port 0 --data-dir "$WORK/data" >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
BOOTSTRAP=""
for _ in $(seq 1 300); do
  if line=$(grep -m1 ' ready on ' "$WORK/stdout" 2>/dev/null); then
    BOOTSTRAP=$(sed -E 's/.* ready on ([^ ]+).*/\1/' <<<"$line")
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$BOOTSTRAP" ]; then
  echo "with-strom: strom-server did not become ready" >&2
  cat "$WORK/stderr" >&2
  exit 3
fi
echo "with-strom: strom-server local ready on $BOOTSTRAP" >&2

args=()
for a in "$@"; do args+=("${a//@BOOTSTRAP@/$BOOTSTRAP}"); done
set +e
STROM_BOOTSTRAP="$BOOTSTRAP" "${args[@]}"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "with-strom: command failed with exit code $rc; server log follows" >&2
  tail -n 50 "$WORK/stderr" >&2
fi
exit $rc
