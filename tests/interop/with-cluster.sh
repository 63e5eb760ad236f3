#!/usr/bin/env bash
# Runs a command against a fresh distributed Strom cluster of separate processes on loopback:
# ZooKeeper, one `strom-server coordinator` and 3 `strom-server tablet` (replication factor 3),
# then stops it.
#   tests/interop/with-cluster.sh SERVER_BIN STROM_CLI [--tablet-servers N] [--session-timeout "3 s"] \
#       -- COMMAND [ARGS...]
# The bootstrap address (the coordinator) reaches the command as $STROM_BOOTSTRAP and replaces
# every literal argument "@BOOTSTRAP@"; $STROM_CLUSTER_DIR holds cluster.json (every process's
# pid and address), which `python/cluster.py kill-leader DB.TABLE BUCKET` uses to SIGKILL a
# bucket's leader from inside the command. Server logs are printed when the command fails.
# Exit code: the command's, or 3 if the cluster did not start. Harness: python/cluster.py.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 2 ] || { echo "usage: with-cluster.sh SERVER_BIN STROM_CLI [options] -- COMMAND..." >&2; exit 2; }
SERVER_BIN=$1 STROM_CLI=$2
shift 2
exec python3 "$HERE/python/cluster.py" run --server "$SERVER_BIN" --strom "$STROM_CLI" "$@"
