#!/usr/bin/env bash
# A leader failover under a released Fluss client, on a cluster started by with-cluster.sh.
#   tests/interop/failover.sh java|python log|pk BOOTSTRAP [--rows N]
# log: the client appends N rows (default 60,000) to a 3-bucket log table; once the first third
#   is acknowledged, the leader of bucket 0 is SIGKILLed (python/cluster.py kill-leader) and the
#   rest is appended over 6 s while the cluster elects a new leader; every append must be
#   acknowledged (the client's own retries). Then the same client reads the table back: every
#   row exactly once, every value equal (`verify`).
# pk: the client inserts N keys (default 20,000) into a primary-key table; the leader of bucket 0
#   is SIGKILLed and the update phase (full upserts) is written over 6 s through the failover,
#   then partial updates, deletes and re-inserts; `pk-verify` then checks every key's row
#   (lookups, prefix lookups), the changelog key by key and the limit scans against the model.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 3 ] || { echo "usage: failover.sh java|python log|pk BOOTSTRAP [--rows N]" >&2; exit 2; }
CLIENT=$1 KIND=$2 B=$3
shift 3
ROWS=""
while [ $# -gt 0 ]; do
  case $1 in
    --rows) ROWS=$2; shift 2 ;;
    *) echo "failover.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "${STROM_CLUSTER_DIR:-}" ] || { echo "failover.sh: run under with-cluster.sh" >&2; exit 2; }
case $CLIENT in
  java) RUN="$HERE/run-java.sh" ;;
  python) RUN="$HERE/run-python.sh" ;;
  *) echo "failover.sh: client is java or python" >&2; exit 2 ;;
esac
DB="failover_${CLIENT}_$$"
KILL="python3 $HERE/python/cluster.py kill-leader"
case $KIND in
  log)
    ROWS=${ROWS:-60000}
    "$RUN" "$B" write --db "$DB" --table log --rows "$ROWS" --failover-at $((ROWS / 3)) \
      --failover-cmd "$KILL $DB.log 0" --failover-ms 6000 --timeout 300
    "$RUN" "$B" verify --db "$DB" --table log --rows "$ROWS" --drop --timeout 300
    ;;
  pk)
    ROWS=${ROWS:-20000}
    "$RUN" "$B" pk-write --db "$DB" --table pk --rows "$ROWS" \
      --failover-cmd "$KILL $DB.pk 0" --failover-ms 6000 --timeout 300
    "$RUN" "$B" pk-verify --db "$DB" --table pk --rows "$ROWS" --drop --timeout 300
    ;;
  *) echo "failover.sh: kind is log or pk" >&2; exit 2 ;;
esac
