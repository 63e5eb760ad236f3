#!/usr/bin/env bash
# Runs the released Apache Fluss 0.9.1-incubating server as a reference peer on loopback:
# ZooKeeper (Debian's `zookeeper` package, own config, not the system service), one
# CoordinatorServer and one TabletServer, all from released jars (see bench/peer/README.md).
#
#   fluss-peer.sh fetch                     bring the released jars into the cache (online once)
#   fluss-peer.sh start  [opts]             start ZooKeeper + coordinator + tablet server, wait until they serve
#   fluss-peer.sh stop   [opts]             stop everything started by `start` (process groups), remove the data dir
#   fluss-peer.sh status [opts]             print what runs, pids, RSS; exit 0 only if all three run
#   fluss-peer.sh run    [opts] -- CMD...   start, run CMD with STROM_BOOTSTRAP set, stop whatever happens
#
# Options (or environment):
#   --data-dir D    state, data, logs and pid files (FLUSS_PEER_DIR, default /tmp/strom-fluss-peer)
#   --zk-port P     ZooKeeper client port       (FLUSS_PEER_ZK_PORT, default 12181)
#   --cs-port P     coordinator port = bootstrap (FLUSS_PEER_CS_PORT, default 9123)
#   --ts-port P     tablet server port          (FLUSS_PEER_TS_PORT, default 9124)
#   --keep          `stop` keeps the data dir (logs) instead of removing it
#   --no-client-check   skip the client call in the readiness check (port checks only)
# Other environment:
#   STROM_PEER_CACHE    where the released jars go (default ~/.cache/strom/fluss-0.9.1)
#   FLUSS_PEER_JVM_OPTS extra JVM options for both Fluss servers (e.g. -Xmx1g); default none, as fluss-dist
#   FLUSS_PEER_START_TIMEOUT seconds to wait for readiness (default 120)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FLUSS_VERSION="0.9.1-incubating"
CACHE="${STROM_PEER_CACHE:-$HOME/.cache/strom/fluss-0.9.1}"
LIB="$CACHE/lib"

DIR="${FLUSS_PEER_DIR:-/tmp/strom-fluss-peer}"
ZK_PORT="${FLUSS_PEER_ZK_PORT:-12181}"
CS_PORT="${FLUSS_PEER_CS_PORT:-9123}"
TS_PORT="${FLUSS_PEER_TS_PORT:-9124}"
KEEP=0
CLIENT_CHECK=1
TIMEOUT="${FLUSS_PEER_START_TIMEOUT:-120}"
HOST=127.0.0.1

log() { echo "fluss-peer: $*" >&2; }
die() { log "$*"; exit 1; }

usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

CMD="${1:-}"; [ -n "$CMD" ] || usage; shift
RUN_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) DIR="$2"; shift 2 ;;
    --zk-port) ZK_PORT="$2"; shift 2 ;;
    --cs-port) CS_PORT="$2"; shift 2 ;;
    --ts-port) TS_PORT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-client-check) CLIENT_CHECK=0; shift ;;
    --) shift; RUN_ARGS=("$@"); break ;;
    -h|--help) usage ;;
    *) die "unknown option $1" ;;
  esac
done
BOOTSTRAP="$HOST:$CS_PORT"

# ---------------------------------------------------------------- fetch
fetch() {
  if [ -f "$LIB/.complete-$FLUSS_VERSION" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (Debian packages maven and openjdk-17-jdk-headless)"
  log "fetching released Fluss $FLUSS_VERSION server jars into $LIB"
  rm -rf "$LIB"; mkdir -p "$LIB"
  # -DexcludeTransitive: exactly fluss-dist's lib/ folder (the fat fluss-server jar + log4j2).
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIB" -DexcludeTransitive=true -DincludeScope=runtime >&2 \
    || die "maven could not fetch the Fluss jars"
  [ -f "$LIB/fluss-server-$FLUSS_VERSION.jar" ] || die "fluss-server jar missing after fetch"
  touch "$LIB/.complete-$FLUSS_VERSION"
}

# ---------------------------------------------------------------- helpers
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

read_pid() { [ -f "$DIR/pids/$1" ] && cat "$DIR/pids/$1" || true; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Starts "$@" in a new session (own process group, leader pid = pgid) with output to a log file.
launch() {
  local name="$1"; shift
  mkdir -p "$DIR/pids" "$DIR/log"
  # Run from the data dir (relative paths such as the plugins dir land there, not in the caller's cwd).
  (cd "$DIR" && exec setsid "$@" >"$DIR/log/$name.out" 2>&1 </dev/null) &
  echo $! >"$DIR/pids/$name"
}

# Stops one process group: TERM, up to 30 s, then KILL.
stop_one() {
  local name="$1" pid
  pid="$(read_pid "$name")"
  [ -n "$pid" ] || return 0
  if pid_alive "$pid"; then
    local t0; t0="$(date +%s%N)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then
      log "$name (pgid $pid) did not stop in 30 s, killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
    fi
    if [ -n "${FLUSS_PEER_VERBOSE:-}" ]; then log "$name stopped in $(( ($(date +%s%N) - t0) / 1000000 )) ms"; fi
  fi
  rm -f "$DIR/pids/$name"
}

stop_all() {
  local t0; t0="$(date +%s%N)"
  stop_one tablet-server
  stop_one coordinator-server
  stop_one zookeeper
  log "stopped in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  if [ "$KEEP" -eq 0 ] && [ -f "$DIR/.strom-fluss-peer" ]; then rm -rf "$DIR"; fi
}

wait_port() {
  local name="$1" port="$2" deadline="$3" pid
  pid="$(read_pid "$name")"
  while ! port_open "$port"; do
    pid_alive "$pid" || { tail -n 30 "$DIR/log/$name"*.log "$DIR/log/$name.out" 2>/dev/null >&2; die "$name exited during start"; }
    [ "$(date +%s)" -lt "$deadline" ] || die "$name did not open port $port in ${TIMEOUT}s"
    sleep 0.2
  done
}

# ---------------------------------------------------------------- config
write_config() {
  mkdir -p "$DIR/zk/data" "$DIR/conf/zk" "$DIR/conf/coordinator-server" "$DIR/conf/tablet-server" \
           "$DIR/data/tablet-server" "$DIR/data/coordinator-server" "$DIR/remote" "$DIR/log" "$DIR/pids"
  touch "$DIR/.strom-fluss-peer"

  cat >"$DIR/conf/zk/zoo.cfg" <<EOF
tickTime=2000
dataDir=$DIR/zk/data
clientPortAddress=$HOST
clientPort=$ZK_PORT
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat
EOF

  local role
  for role in coordinator-server tablet-server; do
    local port="$CS_PORT"; [ "$role" = tablet-server ] && port="$TS_PORT"
    # log4j2 file appender (fluss-dist's conf/log4j.properties, reduced to one file per server).
    cat >"$DIR/conf/$role/log4j.properties" <<'EOF'
rootLogger.level=${env:ROOT_LOG_LEVEL:-INFO}
rootLogger.appenderRef.file.ref=MainAppender
appender.main.name=MainAppender
appender.main.type=File
appender.main.append=true
appender.main.fileName=${sys:log.file}
appender.main.layout.type=PatternLayout
appender.main.layout.pattern=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.netty.name=org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level=OFF
EOF
    cat >"$DIR/conf/$role/server.yaml" <<EOF
# Written by bench/peer/fluss-peer.sh: released Fluss $FLUSS_VERSION on loopback.
zookeeper.address: $HOST:$ZK_PORT
bind.listeners: FLUSS://$HOST:$port
default.bucket.number: 1
default.replication.factor: 1
data.dir: $DIR/data/$role
remote.data.dir: $DIR/remote
tablet-server.id: 0
EOF
  done
}

# ---------------------------------------------------------------- start
start_zk() {
  [ -f /usr/share/java/zookeeper.jar ] || die "Debian package zookeeper is not installed (scripts/install-deps.sh)"
  # zookeeper.jar's manifest Class-Path names its Debian dependencies; slf4j-simple logs to stderr.
  launch zookeeper java -Xmx256m -Dzookeeper.jmx.log4j.disable=true \
      -cp "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar" \
      org.apache.zookeeper.server.ZooKeeperServerMain "$DIR/conf/zk/zoo.cfg"
}

start_fluss() {
  local role="$1" class="$2" cp
  cp="$(find "$LIB" -maxdepth 1 -name '*.jar' | sort | tr '\n' ':')"
  # JVM flags as fluss-dist's fluss-daemon.sh sets them on JDK >= 17.
  # shellcheck disable=SC2086
  # An empty plugins dir: the file:// remote dir needs no filesystem plugin (fluss-dist's plugins/
  # holds only hdfs/oss/s3 filesystems and the prometheus/jmx metric reporters).
  mkdir -p "$DIR/plugins"
  FLUSS_PLUGINS_DIR="$DIR/plugins" launch "$role" java -XX:+IgnoreUnrecognizedVMOptions \
      --add-opens=java.base/java.nio=org.apache.arrow.memory.core,ALL-UNNAMED \
      ${FLUSS_PEER_JVM_OPTS:-} \
      "-Dlog.file=$DIR/log/$role.log" -Dlog4j.shutdownHookEnabled=false \
      "-Dlog4j.configurationFile=file:$DIR/conf/$role/log4j.properties" \
      -classpath "${cp%:}" "$class" --configDir "$DIR/conf/$role"
}

client_check() {
  local deadline="$1"
  # A real client call: the released Java client connects to the bootstrap, lists databases and
  # waits until the coordinator reports the tablet server (tests/interop/java, scenario `ping`).
  local left=$(( deadline - $(date +%s) )); [ "$left" -gt 5 ] || left=5
  "$ROOT/tests/interop/run-java.sh" "$BOOTSTRAP" ping --timeout "$left" >"$DIR/log/client-check.out" 2>&1 \
    || { cat "$DIR/log/client-check.out" >&2; die "client check against $BOOTSTRAP failed"; }
}

start_all() {
  if [ -f "$DIR/pids/coordinator-server" ] || [ -f "$DIR/pids/zookeeper" ]; then
    die "a peer already runs with data dir $DIR (fluss-peer.sh stop --data-dir $DIR)"
  fi
  local p
  for p in "$ZK_PORT" "$CS_PORT" "$TS_PORT"; do port_open "$p" && die "port $p on $HOST is already in use"; done
  # A fresh cluster every time: remove what a previous (failed or --keep) run left, but never
  # a non-empty folder that this script did not create.
  if [ -d "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
    [ -f "$DIR/.strom-fluss-peer" ] || die "$DIR exists and was not made by fluss-peer.sh; choose another --data-dir"
    rm -rf "$DIR"
  fi
  fetch
  local t0; t0="$(date +%s%N)"
  local deadline=$(( $(date +%s) + TIMEOUT ))
  # Whatever fails from here on, nothing is left running.
  trap 'log "start failed, stopping (logs kept in $DIR/log)"; KEEP=1 stop_all' EXIT
  local phases=""
  ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
  write_config
  start_zk
  wait_port zookeeper "$ZK_PORT" "$deadline"; phases+=" zookeeper $(ms)"
  # Both servers start at once, as fluss-dist's local-cluster.sh does (the tablet server
  # registers itself in ZooKeeper; it does not need the coordinator to be up first).
  start_fluss coordinator-server org.apache.fluss.server.coordinator.CoordinatorServer
  start_fluss tablet-server org.apache.fluss.server.tablet.TabletServer
  wait_port coordinator-server "$CS_PORT" "$deadline"; phases+=" coordinator $(ms)"
  wait_port tablet-server "$TS_PORT" "$deadline"; phases+=" tablet-server $(ms)"
  if [ "$CLIENT_CHECK" -eq 1 ]; then client_check "$deadline"; phases+=" client-check $(ms)"; fi
  trap - EXIT
  printf 'fluss-peer: up in %d ms (ms since start:%s): bootstrap %s (coordinator), tablet server %s:%s, zookeeper %s:%s, dir %s\n' \
    "$(ms)" "$phases" "$BOOTSTRAP" "$HOST" "$TS_PORT" "$HOST" "$ZK_PORT" "$DIR" >&2
  echo "$BOOTSTRAP"
}

status() {
  local ok=0 total=0 name pid rss
  for name in zookeeper coordinator-server tablet-server; do
    pid="$(read_pid "$name")"
    if pid_alive "$pid"; then
      rss="$(rss_kb "$pid")"; total=$(( total + rss ))
      printf '%-20s running  pid %-8s rss %6d MiB\n' "$name" "$pid" $(( rss / 1024 ))
      ok=$(( ok + 1 ))
    else
      printf '%-20s stopped\n' "$name"
    fi
  done
  printf '%-20s %d/3 running, rss total %d MiB, bootstrap %s\n' total "$ok" $(( total / 1024 )) "$BOOTSTRAP"
  [ "$ok" -eq 3 ]
}

case "$CMD" in
  fetch) fetch ;;
  start) start_all ;;
  stop) stop_all ;;
  status) status ;;
  run)
    [ "${#RUN_ARGS[@]}" -gt 0 ] || die "run needs -- CMD..."
    trap 'exit 130' INT TERM
    start_all >/dev/null
    trap 'stop_all' EXIT
    rc=0
    STROM_BOOTSTRAP="$BOOTSTRAP" "${RUN_ARGS[@]}" || rc=$?
    exit "$rc"
    ;;
  *) usage ;;
esac
