#!/usr/bin/env bash
# Runs the pyfluss interop suite against a server.
#   tests/interop/run-python.sh BOOTSTRAP [pytest args]          the pytest suite (test_log_table.py)
#   tests/interop/run-python.sh BOOTSTRAP SCENARIO [options]     one driver scenario:
#                                                                ping | log-table | write | verify
#   tests/interop/run-python.sh BOOTSTRAP pk-table|pk-write|pk-verify [options]   the primary-key driver (pk.py)
#   tests/interop/run-python.sh BOOTSTRAP test_NAME.py [pytest args]              another pytest file
# BOOTSTRAP defaults to $STROM_BOOTSTRAP, then 127.0.0.1:9123. Uses the project venv (.venv,
# made by scripts/install-deps.sh, which installs pyfluss and pytest).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${STROM_PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || { echo "run-python: $PY missing; run scripts/install-deps.sh" >&2; exit 2; }

BOOTSTRAP="${1:-${STROM_BOOTSTRAP:-127.0.0.1:9123}}"
[ $# -gt 0 ] && shift

case "${1:-}" in
  ping|log-table|write|verify)
    exec "$PY" "$HERE/python/interop.py" "$BOOTSTRAP" "$@"
    ;;
  pk-table|pk-write|pk-verify)
    exec "$PY" "$HERE/python/pk.py" "$BOOTSTRAP" "$@"
    ;;
esac
TESTS=test_log_table.py
case "${1:-}" in test_*.py) TESTS=$1; shift ;; esac

"$PY" -c "import fluss, pytest" 2>/dev/null \
  || { echo "run-python: pyfluss or pytest missing in $PY; run scripts/install-deps.sh" >&2; exit 2; }
cd "$HERE/python"
STROM_BOOTSTRAP="$BOOTSTRAP" exec "$PY" -m pytest -p no:cacheprovider -q --durations=0 "$@" "$TESTS"
