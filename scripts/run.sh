#!/usr/bin/env bash
# What `make run` starts: a single-node Strom cluster in the foreground (coordinator and tablet
# server on one port, like a Fluss local cluster), with its data under ./data. Ctrl-C stops it
# cleanly. Extra arguments go to `strom-server local` (e.g. --port 9124, --config server.yaml).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/release/src/apps/strom-server"
DATA_DIR="$ROOT/data"
mkdir -p "$DATA_DIR"
cat <<MSG
Starting Strom (strom-server local), data in $DATA_DIR.
Connect any Fluss client to localhost:9123, for example
  Java:    conf.setString("bootstrap.servers", "localhost:9123")
  pyfluss: fluss.FlussConnection.create(fluss.Config({"bootstrap.servers": "127.0.0.1:9123"}))
The database "fluss" exists from the start. Stop with Ctrl-C.
MSG
exec "$BIN" local --data-dir "$DATA_DIR" "$@"
