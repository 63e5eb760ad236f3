#!/usr/bin/env bash
# Primary-key cross-checks between the released clients through one server: on a table made by
# Java and on one made by pyfluss, one client writes the first phases (insert, update), the
# other the rest (partial update, delete, reinsert) over the first one's rows, then each client
# verifies the whole model (lookups, prefix lookups, changelog, limit scans).
#   tests/interop/cross-pk.sh BOOTSTRAP [--rows N] [--cli STROM]      (N default 20000)
# With --cli, Strom's CLI (`strom scan --snapshot`, `strom scan`, `strom lookup`) checks the
# table made by Java as well (python/pk_cli.py).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
B=$1; shift
ROWS=20000
CLI=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --cli) CLI=$2; shift 2 ;;
    *) echo "cross-pk: unknown option $1" >&2; exit 2 ;;
  esac
done
DB="cross_pk_$$"
FIRST=insert,update
REST=partial,delete,reinsert

# Table made by the Java client.
"$HERE/run-java.sh"   "$B" pk-write  --db "$DB" --table by_java --rows "$ROWS" --phases "$FIRST"
"$HERE/run-python.sh" "$B" pk-write  --db "$DB" --table by_java --rows "$ROWS" --phases "$REST"
"$HERE/run-python.sh" "$B" pk-verify --db "$DB" --table by_java --rows "$ROWS"
"$HERE/run-java.sh"   "$B" pk-verify --db "$DB" --table by_java --rows "$ROWS"
if [ -n "$CLI" ]; then
  "${STROM_PYTHON:-$ROOT/.venv/bin/python}" "$HERE/python/pk_cli.py" "$CLI" "$B" \
    --db "$DB" --table by_java --rows "$ROWS"
fi

# Table made by pyfluss (no CHAR column: pyfluss cannot create one).
"$HERE/run-python.sh" "$B" pk-write  --db "$DB" --table by_python --rows "$ROWS" --phases "$FIRST"
"$HERE/run-java.sh"   "$B" pk-write  --db "$DB" --table by_python --rows "$ROWS" --phases "$REST"
"$HERE/run-java.sh"   "$B" pk-verify --db "$DB" --table by_python --rows "$ROWS"
"$HERE/run-python.sh" "$B" pk-verify --db "$DB" --table by_python --rows "$ROWS" --drop
