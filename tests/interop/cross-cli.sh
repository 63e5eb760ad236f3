#!/usr/bin/env bash
# Cross-reads between the released Java client and Strom's own CLI through one server, on the
# all-types table: the Java client writes, `strom scan --format json` reads and every value is
# checked against the shared generator (python/cli_rows.py over python/rows.py); then
# `strom produce` appends generated rows in its JSON input forms and the Java client reads the
# whole table back and compares every value.
#   tests/interop/cross-cli.sh BOOTSTRAP STROM_CLI
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${STROM_PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || { echo "cross-cli: $PY missing; run scripts/install-deps.sh" >&2; exit 2; }
B=$1
STROM=$2
DB="cross_cli_$$"
JAVA_ROWS=6000
CLI_ROWS=4000
WORK=$(mktemp -d /tmp/strom-cross-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "cross-cli: Java writes $JAVA_ROWS rows" >&2
"$HERE/run-java.sh" "$B" write --db "$DB" --table t --rows "$JAVA_ROWS"

echo "cross-cli: strom scan reads them" >&2
"$STROM" -b "$B" --format json scan "$DB.t" >"$WORK/scan.jsonl"
"$PY" "$HERE/python/cli_rows.py" check "$WORK/scan.jsonl" --rows "$JAVA_ROWS"

echo "cross-cli: strom produce appends $CLI_ROWS rows" >&2
"$PY" "$HERE/python/cli_rows.py" emit --start "$JAVA_ROWS" --rows "$CLI_ROWS" >"$WORK/produce.jsonl"
"$STROM" -b "$B" --format json produce "$DB.t" --input "$WORK/produce.jsonl"

echo "cross-cli: Java reads all $((JAVA_ROWS + CLI_ROWS)) rows" >&2
"$HERE/run-java.sh" "$B" verify --db "$DB" --table t --rows "$((JAVA_ROWS + CLI_ROWS))" --drop
