#!/usr/bin/env bash
# Cross-reads between the released clients through one server: rows written by one client are
# verified value by value by the other, in both directions, in one table.
#   tests/interop/cross-read.sh BOOTSTRAP
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
B=$1
T="cross_$$"
"$HERE/run-java.sh"   "$B" write  --db "$T" --table t --rows 20000
"$HERE/run-python.sh" "$B" write  --db "$T" --table t --rows 10000 --start 20000
"$HERE/run-python.sh" "$B" verify --db "$T" --table t --rows 30000
"$HERE/run-java.sh"   "$B" verify --db "$T" --table t --rows 30000 --drop
