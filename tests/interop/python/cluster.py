"""A distributed Strom cluster of separate processes on loopback, for the interop and failover runs.

ZooKeeper (Debian's `zookeeper` package, run as `java ... ZooKeeperServerMain`), one
`strom-server coordinator` and N `strom-server tablet` processes, each killable on its own
(SIGKILL) and restartable with its data directory. `strom-server local --tablet-servers N` runs the
same server classes in one process, so it cannot lose one tablet server; this harness can.

As a library (bench/failover.py):

    with Cluster(server_bin, strom_cli, work_dir) as c:
        c.start()
        c.leader("db.t", 0)      # the bucket's leader id, from `strom table describe --format json`
        c.kill(1)                # SIGKILL tablet server 1
        c.restart(1)

As a command (tests/interop/with-cluster.sh):

    cluster.py run --server BIN --strom CLI [--tablet-servers 3] [--session-timeout "3 s"] \
        -- COMMAND [ARGS...]          # "@BOOTSTRAP@" in ARGS becomes the bootstrap address
    cluster.py kill-leader DB.TABLE BUCKET     # inside COMMAND: SIGKILL the bucket's leader

`run` exports STROM_BOOTSTRAP and STROM_CLUSTER_DIR (where `cluster.json` lists every process)
to COMMAND, so a failover hook run by a client driver can find and kill a leader.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

ZK_CLASSPATH = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: own process group, and SIGKILL when the harness dies (even by SIGKILL)."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port: int, command: bytes) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(command)
            chunks = []
            while True:
                data = s.recv(4096)
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


class Child:
    """One server process: stdout and stderr in `{dir}/{name}.log`, ready once a line matches."""

    def __init__(self, name: str, argv: List[str], log_path: str) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.proc: Optional[subprocess.Popen] = None
        self.address = ""

    def start(self, ready: re.Pattern, timeout: float) -> None:
        log = open(self.log_path, "ab")
        offset = log.tell()
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                m = ready.search(f.read().decode(errors="replace"))
            if m:
                self.address = m.group(1)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} during start:\n{self.tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready within {timeout} s:\n{self.tail()}")

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else -1

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def terminate(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGTERM)

    def tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class Cluster:
    def __init__(self, server_bin: str, strom_cli: str, work_dir: str, tablet_servers: int = 3,
                 replication_factor: int = 3, buckets: int = 3, session_timeout: str = "3 s",
                 log_level: str = "info", extra_config: Optional[Dict[str, str]] = None) -> None:
        self.server_bin = os.path.abspath(server_bin)
        self.strom_cli = os.path.abspath(strom_cli)
        self.dir = os.path.abspath(work_dir)
        self.tablet_count = tablet_servers
        self.replication_factor = replication_factor
        self.buckets = buckets
        self.session_timeout = session_timeout
        self.log_level = log_level
        self.extra_config = extra_config or {}
        self.zk: Optional[Child] = None
        self.zk_port = 0
        self.coordinator: Optional[Child] = None
        self.tablets: Dict[int, Child] = {}
        self.config_path = os.path.join(self.dir, "server.yaml")

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        os.makedirs(self.dir, exist_ok=True)
        self._start_zookeeper(timeout)
        with open(self.config_path, "w") as f:
            f.write(f"zookeeper.address: 127.0.0.1:{self.zk_port}\n"
                    "zookeeper.path.root: /strom\n"
                    f"zookeeper.client.session-timeout: {self.session_timeout}\n"
                    "zookeeper.client.retry-wait: 200 ms\n"
                    f"default.replication.factor: {self.replication_factor}\n"
                    f"default.bucket.number: {self.buckets}\n")
            for k, v in self.extra_config.items():
                f.write(f"{k}: {v}\n")
        self.coordinator = Child("coordinator",
                                 [self.server_bin, "coordinator", "--config", self.config_path, "--port", "0",
                                  "--log-level", self.log_level],
                                 os.path.join(self.dir, "coordinator.log"))
        self.coordinator.start(re.compile(r"strom-server coordinator ready on (\S+)"), timeout)
        for i in range(self.tablet_count):
            self.tablets[i] = Child(f"tablet server {i}", self._tablet_argv(i),
                                    os.path.join(self.dir, f"ts-{i}.log"))
            self.tablets[i].start(self._tablet_ready(i), timeout)
        self.wait_registered(timeout)
        self.write_state()

    def _start_zookeeper(self, timeout: float) -> None:
        zk_dir = os.path.join(self.dir, "zookeeper")
        os.makedirs(os.path.join(zk_dir, "data"), exist_ok=True)
        for _ in range(3):
            self.zk_port = free_port()
            cfg = os.path.join(zk_dir, "zoo.cfg")
            with open(cfg, "w") as f:
                # A 200 ms tick lets the servers ask for sessions from 0.4 s up to maxSessionTimeout.
                f.write(f"tickTime=200\ndataDir={zk_dir}/data\nclientPortAddress=127.0.0.1\n"
                        f"clientPort={self.zk_port}\nmaxClientCnxns=0\nmaxSessionTimeout=60000\n"
                        "admin.enableServer=false\n4lw.commands.whitelist=srvr,ruok\n")
            self.zk = Child("zookeeper", ["java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                                          "-Dzookeeper.admin.enableServer=false", "-cp", ZK_CLASSPATH,
                                          "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
                            os.path.join(self.dir, "zookeeper.log"))
            self.zk.proc = subprocess.Popen(self.zk.argv, stdout=open(self.zk.log_path, "ab"),
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            preexec_fn=_die_with_parent)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.zk.running():
                if "Mode:" in four_letter(self.zk_port, b"srvr"):
                    self.zk.address = f"127.0.0.1:{self.zk_port}"
                    return
                time.sleep(0.1)
            self.zk.kill()  # port taken, or too slow: try another port
        raise RuntimeError(f"ZooKeeper did not start:\n{self.zk.tail() if self.zk else ''}")

    def _tablet_argv(self, i: int) -> List[str]:
        return [self.server_bin, "tablet", "--id", str(i), "--config", self.config_path, "--data-dir",
                os.path.join(self.dir, f"ts-{i}"), "--port", "0", "--log-level", self.log_level]

    @staticmethod
    def _tablet_ready(i: int) -> re.Pattern:
        return re.compile(rf"strom-server tablet {i} ready on (\S+)")

    def wait_registered(self, timeout: float) -> None:
        """Until the coordinator lists every running tablet server (what CreateTable places on)."""
        want = {i for i, t in self.tablets.items() if t.running()}
        deadline = time.monotonic() + timeout
        seen = set()
        while time.monotonic() < deadline:
            doc = self.cli_json(["cluster"], check=False)
            if doc is not None:
                seen = {s["id"] for s in doc.get("servers", []) if s.get("role") == "tablet-server" and s.get("alive")}
                if want <= seen:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the coordinator lists tablet servers {sorted(seen)}, expected {sorted(want)}")

    def stop(self) -> None:
        """SIGTERM to every server at once (bounded), then SIGKILL whatever is left; ZooKeeper last."""
        servers = [t for t in self.tablets.values()] + ([self.coordinator] if self.coordinator else [])
        for s in servers:
            s.terminate()
        deadline = time.monotonic() + 5
        for s in servers:
            while s.running() and time.monotonic() < deadline:
                time.sleep(0.05)
            s.kill()
        if self.zk is not None:
            if self.zk.running():
                os.killpg(self.zk.pid, signal.SIGKILL)
            self.zk.kill()

    # ------------------------------------------------------------------ faults

    def kill(self, tablet_id: int) -> float:
        """SIGKILLs tablet server `tablet_id`; returns the wall time (time.time()) of the kill."""
        child = self.tablets[tablet_id]
        at = time.time()
        child.kill()
        self.write_state()
        return at

    def restart(self, tablet_id: int, timeout: float = 60) -> None:
        child = self.tablets[tablet_id]
        child.kill()
        child.start(self._tablet_ready(tablet_id), timeout)
        self.write_state()

    # ------------------------------------------------------------------ metadata through the CLI

    @property
    def bootstrap(self) -> str:
        return self.coordinator.address if self.coordinator else ""

    def cli_json(self, args: List[str], check: bool = True, timeout: float = 30):
        cmd = [self.strom_cli, "--bootstrap-server", self.bootstrap, "--format", "json"] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            if check:
                raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
            return None
        return json.loads(r.stdout)

    def buckets_of(self, table: str) -> List[dict]:
        return self.cli_json(["table", "describe", table])["bucket_locations"]

    def leader(self, table: str, bucket: int) -> Optional[int]:
        for b in self.buckets_of(table):
            if b["bucket"] == bucket:
                return b["leader"]
        raise RuntimeError(f"{table} has no bucket {bucket}")

    def wait_isr(self, table: str, size: int, timeout: float = 60) -> None:
        """Until every bucket of `table` has a leader and `size` in-sync replicas."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.cli_json(["table", "describe", table], check=False)
            if doc is not None and all(b["leader"] is not None and b["isr"] is not None and len(b["isr"]) >= size
                                       for b in doc["bucket_locations"]):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{table}: ISRs did not reach {size} within {timeout} s")

    # ------------------------------------------------------------------ state for other processes

    def write_state(self) -> None:
        state = {
            "bootstrap": self.bootstrap,
            "strom": self.strom_cli,
            "zookeeper": self.zk.address if self.zk else "",
            "coordinator": {"pid": self.coordinator.pid, "address": self.coordinator.address} if self.coordinator else None,
            "tablets": {str(i): {"pid": t.pid if t.running() else None, "address": t.address}
                        for i, t in self.tablets.items()},
        }
        tmp = os.path.join(self.dir, "cluster.json.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, os.path.join(self.dir, "cluster.json"))

    def logs(self, n: int = 30) -> str:
        parts = []
        for c in [self.coordinator] + list(self.tablets.values()):
            if c is not None:
                parts.append(f"----- {c.name} ({c.log_path})\n{c.tail(n)}")
        return "\n".join(parts)


def kill_leader(table: str, bucket: int) -> int:
    """From inside `run`'s command: SIGKILLs the leader of `table`'s `bucket`; prints what it did."""
    cluster_dir = os.environ.get("STROM_CLUSTER_DIR")
    if not cluster_dir:
        print("cluster.py kill-leader: STROM_CLUSTER_DIR is not set (run under cluster.py run)", file=sys.stderr)
        return 2
    with open(os.path.join(cluster_dir, "cluster.json")) as f:
        state = json.load(f)
    cmd = [state["strom"], "--bootstrap-server", state["bootstrap"], "--format", "json", "table", "describe", table]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        print(f"cluster.py kill-leader: {' '.join(cmd)}: {r.stderr.strip()}", file=sys.stderr)
        return 1
    leader = next((b["leader"] for b in json.loads(r.stdout)["bucket_locations"] if b["bucket"] == bucket), None)
    if leader is None:
        print(f"cluster.py kill-leader: {table} bucket {bucket} has no leader", file=sys.stderr)
        return 1
    pid = state["tablets"].get(str(leader), {}).get("pid")
    if not pid:
        print(f"cluster.py kill-leader: tablet server {leader} is not running", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGKILL)
    print(json.dumps({"killed": leader, "pid": pid, "table": table, "bucket": bucket, "at": time.time()}),
          file=sys.stderr, flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    work = tempfile.mkdtemp(prefix="strom-cluster.")
    cluster = Cluster(args.server, args.strom, work, tablet_servers=args.tablet_servers,
                      replication_factor=min(3, args.tablet_servers), session_timeout=args.session_timeout,
                      log_level=args.log_level)
    rc = 3
    command_proc: Optional[subprocess.Popen] = None

    def on_term(signum, _frame):  # a test timeout: stop the command and the cluster too
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        try:
            cluster.start()
        except Exception as e:  # noqa: BLE001 - reported, then exit code 3
            print(f"with-cluster: the cluster did not start: {e}\n{cluster.logs()}", file=sys.stderr)
            return 3
        tablets = ", ".join(f"{i}@{t.address} (pid {t.pid})" for i, t in cluster.tablets.items())
        print(f"with-cluster: coordinator {cluster.bootstrap}, tablet servers {tablets}, ZooKeeper "
              f"{cluster.zk.address}, session timeout {args.session_timeout}, dir {work}", file=sys.stderr, flush=True)
        env = dict(os.environ, STROM_BOOTSTRAP=cluster.bootstrap, STROM_CLUSTER_DIR=work)
        command = [a.replace("@BOOTSTRAP@", cluster.bootstrap) for a in args.command]
        command_proc = subprocess.Popen(command, env=env, start_new_session=True)
        rc = command_proc.wait()
        if rc != 0:
            print(f"with-cluster: command failed with exit code {rc}; server logs follow\n{cluster.logs()}",
                  file=sys.stderr)
        return rc
    finally:
        if command_proc is not None and command_proc.poll() is None:
            os.killpg(command_proc.pid, signal.SIGKILL)
            command_proc.wait()
        cluster.stop()
        if rc == 0 or not args.keep_on_failure:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="start a cluster, run a command against it, stop it")
    r.add_argument("--server", required=True, help="strom-server binary")
    r.add_argument("--strom", required=True, help="strom CLI binary (metadata, leader lookups)")
    r.add_argument("--tablet-servers", type=int, default=3)
    r.add_argument("--session-timeout", default="3 s", help="zookeeper.client.session-timeout of every server")
    r.add_argument("--log-level", default="info")
    r.add_argument("--keep-on-failure", action="store_true", help="keep the work directory when the command fails")
    r.add_argument("command", nargs=argparse.REMAINDER)
    k = sub.add_parser("kill-leader", help="SIGKILL the leader of a bucket (inside run's command)")
    k.add_argument("table", help="DB.TABLE")
    k.add_argument("bucket", type=int)
    args = p.parse_args(argv)
    if args.cmd == "kill-leader":
        return kill_leader(args.table, args.bucket)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        p.error("run needs a command after --")
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
