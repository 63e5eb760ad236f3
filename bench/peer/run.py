#!/usr/bin/env python3
"""Side-by-side benchmark of `strom-server local` and the released Apache Fluss 0.9.1 server.

Both servers are driven by the same clients, the `strom` CLI (`strom perf ...`, Strom's C++
client speaking the Fluss protocol) and, for the rows marked "Java client", the released Fluss
Java client (bench/peer/java-perf.sh), on loopback, in alternating rounds (Strom, Fluss, Strom,
Fluss, ...). Each round starts the server fresh in a temp data dir, measures its cold start,
idle RSS, then runs every workload the CLI offers, sampling RSS and CPU of the server processes
(for Fluss: ZooKeeper + CoordinatorServer + TabletServer), and stops it. The throughput
workloads run at each `--parallel` level (writers or threads, each with its own connection) and
count at each server's best level. The medians per metric and server, their ratio and the
issue-5 target go to a table (a section of bench/RESULTS.md that this script owns) and a chart
(bench/results.png).

    run.py --bin-dir BUILD/src/apps [--rounds 3] [--smoke] [--results FILE] [--chart FILE]
           [--json FILE] [--servers strom,fluss] [--workloads a,b,...] [--parallel 1,2,4]
           [--no-java] [--profile bench/peer/profiles]

Whatever happens to this script (exception, Ctrl-C, SIGTERM, even SIGKILL), a detached reaper
process stops the servers it started and removes their data dirs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PEER_SCRIPT = HERE / "fluss-peer.sh"
SECTION_BEGIN = "<!-- bench-peer: begin (written by bench/peer/run.py; edits here are replaced) -->"
SECTION_END = "<!-- bench-peer: end -->"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(msg: str) -> None:
    print(f"bench-peer: {msg}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------- /proc sampling

def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (field 3 onwards), or None if gone."""
    try:
        raw = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def session_members(leaders: list[int]) -> list[int]:
    """The leaders plus every live process in their sessions (forks of a server count too)."""
    wanted = set(leaders)
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        # fields[0] is the state (field 3); the session id is field 6.
        if fields and (int(entry) in wanted or int(fields[3]) in wanted):
            members.append(int(entry))
    return members


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[21]) * PAGE_KIB  # field 24: rss in pages
    return total


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return ticks / CLK_TCK


def runqueue_wait_seconds(pids: list[int]) -> float:
    """Time the processes' threads spent runnable but waiting for a CPU (schedstat field 2):
    on a shared machine, the share of a workload's wall time lost to other work."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                total += int(pathlib.Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return total / 1e9


def boot_seconds_of(pid: int) -> float | None:
    """When PID started, in CLOCK_BOOTTIME seconds (10 ms resolution)."""
    fields = _stat_fields(pid)
    return int(fields[19]) / CLK_TCK if fields else None  # field 22: starttime


class PeakSampler:
    """Samples the summed RSS of a set of processes every `interval` seconds on a thread."""

    def __init__(self, pids_fn, interval: float = 0.05):
        self._pids_fn = pids_fn
        self._interval = interval
        self._stop = threading.Event()
        self.peak_kib = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self._pids_fn()))
            self._stop.wait(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, rss_kib(self._pids_fn()))


# --------------------------------------------------------------------------- cleanup guarantee

class Reaper:
    """A detached process that outlives this script and undoes what the state file lists.

    The state file holds {"owner": pid, "done": bool, "items": [...]}; each item is
    {"pid": N} (a process group to terminate) or {"fluss": [fluss-peer.sh stop args]} or
    {"dir": path}. Once the owner is gone (however it died) or `done` is set, the reaper stops
    every listed item and exits. The normal path empties the list itself before setting `done`.
    """

    def __init__(self, work: pathlib.Path):
        self.path = work / "reaper-state.json"
        self.items: list[dict] = [{"dir": str(work)}]
        self._write(done=False)
        # Double fork (the intermediate exits at once): the reaper is nobody's child here, so
        # a test runner that kills this script's process tree does not reach it.
        subprocess.run([sys.executable, str(pathlib.Path(__file__).resolve()), "--reap",
                        str(os.getpid()), str(self.path)], check=True, stdin=subprocess.DEVNULL)

    def _write(self, done: bool) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"owner": os.getpid(), "done": done, "items": self.items}))
        os.replace(tmp, self.path)

    def add(self, item: dict) -> None:
        self.items.append(item)
        self._write(done=False)

    def remove(self, item: dict) -> None:
        if item in self.items:
            self.items.remove(item)
        self._write(done=False)

    def finish(self) -> None:
        self._write(done=True)


def _terminate_group(pid: int, grace: float = 30.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def reap_main(owner: int, state_path: str) -> int:
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    path = pathlib.Path(state_path)

    def state() -> dict:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {"done": True, "items": []}

    while True:
        current = state()
        alive = True
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            alive = False
        if current.get("done") or not alive:
            break
        time.sleep(0.5)
    for item in reversed(current.get("items", [])):
        if "pid" in item:
            _terminate_group(int(item["pid"]))
        elif "fluss" in item:
            subprocess.run([str(PEER_SCRIPT), "stop", *item["fluss"]], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
        elif "dir" in item:
            shutil.rmtree(item["dir"], ignore_errors=True)
    try:
        path.unlink()
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------- servers

def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cli:
    """Runs the `strom` CLI against one bootstrap address."""

    def __init__(self, binary: pathlib.Path):
        self.binary = binary

    def run(self, bootstrap: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
        """Runs one command; `cpu_s` on the result is the CPU time it used (user + system)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = self._run(bootstrap, args, timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        r.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return r

    def _run(self, bootstrap: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.binary), "--bootstrap-server", bootstrap, "--format", "json",
                               *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def has(self, *subcommand: str) -> bool:
        r = subprocess.run([str(self.binary), *subcommand, "--help"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        return r.returncode == 0

    def options_of(self, *subcommand: str) -> str:
        r = subprocess.run([str(self.binary), *subcommand, "--help"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        return r.stdout if r.returncode == 0 else ""

    def serving(self, bootstrap: str) -> bool:
        """True once the cluster answers metadata with a live tablet server."""
        try:
            r = self.run(bootstrap, ["cluster"], timeout=10)
        except subprocess.TimeoutExpired:
            return False
        if r.returncode != 0:
            return False
        try:
            doc = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return False
        return any(s.get("role") == "tablet-server" for s in doc.get("servers", []))


def wait_serving(cli: Cli, bootstrap: str, alive_fn, timeout: float) -> float:
    """Polls until the cluster serves; returns the CLOCK_BOOTTIME second it first did."""
    deadline = time.monotonic() + timeout
    host, port = bootstrap.rsplit(":", 1)
    while True:
        # A plain TCP connect first (cheap, every few ms): the CLI backs off for most of a
        # second on a refused connection, which would blur a start-up of a few milliseconds.
        if port_open(host, int(port)) and cli.serving(bootstrap):
            return time.clock_gettime(time.CLOCK_BOOTTIME)
        if not alive_fn():
            raise BenchError("server exited during start")
        if time.monotonic() > deadline:
            raise BenchError(f"{bootstrap} did not serve within {timeout:.0f} s")
        time.sleep(0.005)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class StromServer:
    name = "strom"
    label = "Strom (strom-server local)"

    def __init__(self, bin_dir: pathlib.Path, cli: Cli, reaper: Reaper, work: pathlib.Path):
        self.binary = bin_dir / "strom-server"
        self.cli, self.reaper, self.work = cli, reaper, work
        self.proc: subprocess.Popen | None = None
        self.bootstrap = ""
        self._items: list[dict] = []

    def start(self) -> float:
        data = pathlib.Path(tempfile.mkdtemp(prefix="strom-", dir=self.work))
        self._items = [{"dir": str(data)}]
        self.reaper.add(self._items[0])
        port = free_ports(1)[0]
        self.bootstrap = f"127.0.0.1:{port}"
        out = open(data / "server.log", "w")
        t0 = time.clock_gettime(time.CLOCK_BOOTTIME)
        self.proc = subprocess.Popen(
            [str(self.binary), "local", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data / "data"), "--log-level", "warn"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        item = {"pid": self.proc.pid}
        self._items.append(item)
        self.reaper.add(item)
        try:
            served = wait_serving(self.cli, self.bootstrap, lambda: self.proc.poll() is None, 60)
        except BenchError:
            log_tail(data / "server.log")
            raise
        return served - t0

    def pids(self) -> list[int]:
        return session_members([self.proc.pid]) if self.proc and self.proc.poll() is None else []

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # Our own child: wait() reaps it (a zombie would still answer kill(0)).
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=30)
                    break
                except subprocess.TimeoutExpired:
                    log(f"strom-server (pid {self.proc.pid}) did not stop in 30 s; killing it")
            self.proc.wait()
        for item in reversed(self._items):
            if "dir" in item:
                shutil.rmtree(item["dir"], ignore_errors=True)
            self.reaper.remove(item)
        self._items, self.proc = [], None


class FlussServer:
    name = "fluss"
    label = "Apache Fluss 0.9.1 (ZooKeeper + CoordinatorServer + TabletServer)"

    def __init__(self, cli: Cli, reaper: Reaper, work: pathlib.Path):
        self.cli, self.reaper, self.work = cli, reaper, work
        self.bootstrap = ""
        self.dir: pathlib.Path | None = None
        self._args: list[str] = []
        self._item: dict | None = None
        self._starter: subprocess.Popen | None = None

    def _pid(self, name: str) -> int | None:
        try:
            return int((self.dir / "pids" / name).read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self) -> float:
        zk, cs, ts = free_ports(3)
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="fluss-", dir=self.work))
        self.bootstrap = f"127.0.0.1:{cs}"
        self._args = ["--data-dir", str(self.dir), "--zk-port", str(zk), "--cs-port", str(cs),
                      "--ts-port", str(ts)]
        self._item = {"fluss": self._args}
        self.reaper.add(self._item)
        starter = subprocess.Popen([str(PEER_SCRIPT), "start", "--no-client-check", *self._args],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   stdin=subprocess.DEVNULL)
        self._starter = starter
        # Cold start counts from the first Fluss JVM's start (ZooKeeper runs before, uncounted).
        deadline = time.monotonic() + 180
        jvm_start = None
        while jvm_start is None:
            pid = self._pid("coordinator-server")
            if pid is not None:
                jvm_start = boot_seconds_of(pid)
            if jvm_start is None:
                if starter.poll() is not None:
                    raise BenchError(f"fluss-peer.sh start failed: {starter.stderr.read()[-2000:]}")
                if time.monotonic() > deadline:
                    raise BenchError("Fluss coordinator did not start")
                time.sleep(0.02)
        ts_pid = self._pid("tablet-server")
        if ts_pid is not None and boot_seconds_of(ts_pid) is not None:
            jvm_start = min(jvm_start, boot_seconds_of(ts_pid))
        served = wait_serving(self.cli, self.bootstrap, lambda: starter.poll() in (None, 0), 180)
        _, err = starter.communicate(timeout=180)
        if starter.returncode != 0:
            raise BenchError(f"fluss-peer.sh start failed: {err[-2000:]}")
        return served - jvm_start

    def pids(self) -> list[int]:
        leaders = [p for p in (self._pid(n) for n in ("zookeeper", "coordinator-server",
                                                       "tablet-server")) if p]
        return session_members(leaders)

    def alive(self) -> bool:
        return len(self.pids()) >= 3

    def stop(self) -> None:
        if self._starter is not None and self._starter.poll() is None:
            # Start still under way (it failed on our side): its own EXIT trap stops what it began.
            self._starter.terminate()
            try:
                self._starter.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self._starter.kill()
                self._starter.wait()
        if self._item is not None:
            subprocess.run([str(PEER_SCRIPT), "stop", *self._args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
            self.reaper.remove(self._item)
            self._item = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def log_tail(path: pathlib.Path, lines: int = 30) -> None:
    try:
        for line in path.read_text(errors="replace").splitlines()[-lines:]:
            log(f"  {line}")
    except OSError:
        pass


# --------------------------------------------------------------------------- metrics, workloads

# name -> (label, unit, better ("higher"|"lower"), target as (op, ratio) of Strom/Fluss or None)
METRICS: dict[str, tuple[str, str, str, tuple[str, float] | None]] = {
    "cold_start_s": ("Cold start (process start to first served request)", "s", "lower",
                     ("<=", 1 / 20)),
    "rss_idle_mib": ("Server RSS, idle", "MiB", "lower", ("<=", 1 / 10)),
    "rss_load_mib": ("Server RSS, peak under append load", "MiB", "lower", ("<=", 1 / 10)),
    "cpu_s_per_gb": ("Server CPU seconds per GB appended", "s/GB", "lower", None),
    "client_cpu_s_per_gb": ("Client CPU seconds per GB appended (same client)", "s/GB", "lower",
                            None),
    "append_mb_s": ("Append, max rate", "MB/s", "higher", (">=", 3)),
    "append_rows_s": ("Append, max rate", "rows/s", "higher", (">=", 3)),
    "append_rate_p50_ms": ("Append at fixed rate, latency p50", "ms", "lower", None),
    "append_rate_p99_ms": ("Append at fixed rate, latency p99", "ms", "lower", None),
    "scan_all_mb_s": ("Scan, all columns", "MB/s", "higher", None),
    "scan_proj_mb_s": ("Scan, projected columns", "MB/s", "higher", (">=", 3)),
    "e2e_p50_ms": ("End-to-end latency (append to poll) p50", "ms", "lower", None),
    "e2e_p99_ms": ("End-to-end latency (append to poll) p99", "ms", "lower", ("<=", 1 / 3)),
    "upsert_rows_s": ("Upsert (primary-key table)", "rows/s", "higher", (">=", 2)),
    "lookup_keys_s": ("Lookup, random existing keys", "keys/s", "higher", (">=", 3)),
    "lookup_p99_ms": ("Lookup latency p99", "ms", "lower", ("<=", 1 / 3)),
    # The same workloads through the released Fluss Java client (bench/peer/java-perf.sh), so
    # that the client is not the difference either way. The Java client does not expose the
    # bytes it sent, so its append figure is rows/s (the same rows as the C++ client's).
    "append_java_rows_s": ("Append, max rate (Java client)", "rows/s", "higher", (">=", 3)),
    "lookup_java_keys_s": ("Lookup, random existing keys (Java client)", "keys/s", "higher",
                           (">=", 3)),
    "lookup_java_p99_ms": ("Lookup latency p99 (Java client)", "ms", "lower", ("<=", 1 / 3)),
}


def pick(doc: dict, *keys: str) -> float | None:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


class Workload:
    """One `strom perf` command (or Java driver run) and how its JSON output maps onto metrics.

    `parallel(n)` gives the options that run the workload with parallelism n (n writers or
    threads, each with its own connection); such a workload is run once per level of the sweep
    (`--parallel`) and each server's figures are those of its best level (by `primary`).
    `runner` is "strom" (the `strom` CLI) or "java" (bench/peer/java-perf.sh).
    """

    def __init__(self, name: str, subcommand: list[str], full: list[str], smoke: list[str],
                 extract, needs: list[str] | None = None, load_sample: bool = False,
                 parallel=None, primary: str | None = None, runner: str = "strom"):
        self.name, self.subcommand = name, subcommand
        self.full, self.smoke = full, smoke
        self.extract = extract
        self.needs = needs or []  # options that must appear in `--help` (else not run)
        self.load_sample = load_sample
        self.parallel, self.primary, self.runner = parallel, primary, runner

    def args(self, smoke: bool, level: int | None) -> list[str]:
        extra = self.parallel(level) if self.parallel and level is not None else []
        return [*self.subcommand, *(self.smoke if smoke else self.full), *extra]

    def available(self, cli: Cli) -> bool:
        if self.runner == "java":
            return java_available()
        text = cli.options_of(*self.subcommand)
        # An unknown subcommand may still print its parent's help: check the usage line.
        usage = next((line for line in text.splitlines() if line.startswith("Usage:")), "")
        if f" {' '.join(self.subcommand)} " not in usage + " ":
            return False
        return all(opt in text for opt in self.needs)


def _append(doc: dict) -> dict:
    return {"append_mb_s": pick(doc, "mb_per_s", "append_mb_per_second"),
            "append_rows_s": pick(doc, "rows_per_s", "append_rows_per_second")}


def _append_rate(doc: dict) -> dict:
    return {"append_rate_p50_ms": pick(doc, "p50_ms"), "append_rate_p99_ms": pick(doc, "p99_ms")}


def _scan_all(doc: dict) -> dict:
    return {"scan_all_mb_s": pick(doc, "mb_per_s", "scan_mb_per_second")}


def _scan_proj(doc: dict) -> dict:
    return {"scan_proj_mb_s": pick(doc, "mb_per_s", "scan_mb_per_second")}


def _e2e(doc: dict) -> dict:
    return {"e2e_p50_ms": pick(doc, "p50_ms"), "e2e_p99_ms": pick(doc, "p99_ms")}


def _upsert(doc: dict) -> dict:
    return {"upsert_rows_s": pick(doc, "rows_per_s", "upsert_rows_per_second")}


def _lookup(doc: dict) -> dict:
    return {"lookup_keys_s": pick(doc, "keys_per_s", "lookups_per_s", "rows_per_s"),
            "lookup_p99_ms": pick(doc, "p99_ms")}


def _append_java(doc: dict) -> dict:
    return {"append_java_rows_s": pick(doc, "rows_per_s")}


def _lookup_java(doc: dict) -> dict:
    return {"lookup_java_keys_s": pick(doc, "rows_per_s"), "lookup_java_p99_ms": pick(doc, "p99_ms")}


def _writers(n: int) -> list[str]:
    return ["--writers", str(n)]


def _threads_connections(n: int) -> list[str]:
    return ["--threads", str(n), "--connections", str(n)]


def _threads(n: int) -> list[str]:
    return ["--threads", str(n)]


JAVA_PERF = HERE / "java-perf.sh"


def java_available() -> bool:
    return bool(shutil.which("java") and shutil.which("mvn"))


def workloads() -> list[Workload]:
    """Every workload, in the order run; a name may have fallbacks for older CLIs (the first
    one whose subcommand and options the CLI has is used).

    Sizes: a full append writes about 1 GB, a full scan reads about 0.5 GB, the paced runs last
    10 s; the smoke sizes are a few MB and about 2 s each. The throughput workloads (append,
    upsert, lookup, and their Java-client twins) are swept over the `--parallel` levels.
    """
    return [
        # 10-column rows (the CLI's default "wide" schema), 3 buckets, acks=all (the client's
        # default), as fast as N writers go (each its own connection and AppendWriter);
        # uncompressed, so that the server, not the client's ZSTD, is what is measured.
        Workload("append", ["perf", "append"],
                 full=["--rows", "4000000", "--payload", "200", "--buckets", "3",
                       "--compression", "NONE"],
                 smoke=["--rows", "20000", "--payload", "100", "--buckets", "3",
                        "--compression", "NONE"],
                 extract=_append, load_sample=True, needs=["--writers"], parallel=_writers,
                 primary="append_mb_s"),
        # Older CLIs without --writers: one writer, not swept.
        Workload("append", ["perf", "append"],
                 full=["--rows", "4000000", "--payload", "200", "--buckets", "3",
                       "--compression", "NONE"],
                 smoke=["--rows", "20000", "--payload", "100", "--buckets", "3",
                        "--compression", "NONE"],
                 extract=_append, load_sample=True),
        Workload("append_rate", ["perf", "append"],
                 full=["--rate", "20000", "--duration", "10", "--payload", "200", "--buckets", "3"],
                 smoke=["--rate", "2000", "--duration", "2", "--payload", "100", "--buckets", "3"],
                 extract=_append_rate, needs=["--rate", "--duration"]),
        # 20 columns (the scan default), all of them and 2 of them (projection pushdown).
        Workload("scan_all", ["perf", "scan"],
                 full=["--rows", "2000000", "--payload", "200", "--buckets", "3"],
                 smoke=["--rows", "20000", "--payload", "100", "--buckets", "3"],
                 extract=_scan_all),
        Workload("scan_all", ["perf", "append"],
                 full=["--rows", "2000000", "--payload", "200", "--buckets", "3",
                       "--compression", "NONE", "--scan"],
                 smoke=["--rows", "20000", "--payload", "100", "--buckets", "3",
                        "--compression", "NONE", "--scan"],
                 extract=_scan_all),
        Workload("scan_proj", ["perf", "scan"],
                 full=["--rows", "2000000", "--payload", "200", "--buckets", "3",
                       "--columns", "id,c5"],
                 smoke=["--rows", "20000", "--payload", "100", "--buckets", "3",
                        "--columns", "id,c5"],
                 extract=_scan_proj, needs=["--columns"]),
        Workload("e2e", ["perf", "e2e"],
                 full=["--rate", "10000", "--duration", "10", "--buckets", "3"],
                 smoke=["--rate", "2000", "--duration", "2", "--buckets", "3"],
                 extract=_e2e, needs=["--rate"]),
        # Primary-key table (id BIGINT key + 9 columns): 1 million keys upserted once each;
        # then random existing keys looked up through the batched lookup client.
        # N threads, each with its own connection (and writer / lookuper).
        Workload("upsert", ["perf", "upsert"],
                 full=["--keys", "1000000", "--buckets", "3"],
                 smoke=["--keys", "10000", "--buckets", "3"],
                 extract=_upsert, needs=["--keys", "--connections"],
                 parallel=_threads_connections, primary="upsert_rows_s"),
        Workload("upsert", ["perf", "upsert"],
                 full=["--keys", "1000000", "--buckets", "3"],
                 smoke=["--keys", "10000", "--buckets", "3"],
                 extract=_upsert, needs=["--keys"]),
        Workload("lookup", ["perf", "lookup"],
                 full=["--keys", "200000", "--lookups", "500000", "--buckets", "3"],
                 smoke=["--keys", "5000", "--lookups", "5000", "--buckets", "3"],
                 extract=_lookup, needs=["--keys", "--lookups", "--connections"],
                 parallel=_threads_connections, primary="lookup_keys_s"),
        Workload("lookup", ["perf", "lookup"],
                 full=["--keys", "200000", "--lookups", "500000", "--buckets", "3"],
                 smoke=["--keys", "5000", "--lookups", "5000", "--buckets", "3"],
                 extract=_lookup, needs=["--keys", "--lookups"]),
        # The released Java client on the same tables and rows (tests/interop/java PerfDriver):
        # N writers / threads, each with its own Connection.
        Workload("append_java", ["append"],
                 full=["--rows", "4000000", "--payload", "200", "--buckets", "3",
                       "--compression", "NONE"],
                 smoke=["--rows", "20000", "--payload", "100", "--buckets", "3",
                        "--compression", "NONE"],
                 extract=_append_java, parallel=_writers, primary="append_java_rows_s",
                 runner="java"),
        Workload("lookup_java", ["lookup"],
                 full=["--keys", "200000", "--lookups", "500000", "--buckets", "3"],
                 smoke=["--keys", "5000", "--lookups", "5000", "--buckets", "3"],
                 extract=_lookup_java, parallel=_threads, primary="lookup_java_keys_s",
                 runner="java"),
    ]


def choose(cli: Cli, candidates: list[Workload]) -> tuple[list[Workload], list[str]]:
    """The first available workload of each name, in order, and the names with none."""
    chosen: dict[str, Workload] = {}
    missing: list[str] = []
    for wl in candidates:
        if wl.name not in chosen and wl.available(cli):
            chosen[wl.name] = wl
    for wl in candidates:
        if wl.name not in chosen and wl.name not in missing:
            missing.append(wl.name)
    return list(chosen.values()), missing


class Profiler:
    """`perf record -g` of the server processes while a workload runs (Strom only: the JVM's
    JIT frames would need a symbol map), summarised with `perf report` into DIR/TAG.txt: the
    top symbols (self time, by shared object and symbol) and the share of each thread name.
    The perf.data file goes to a temp folder and is deleted; only the text is kept."""

    def __init__(self, out: pathlib.Path | None, pids: list[int], tag: str, scratch: pathlib.Path,
                 note: str = ""):
        self.out, self.pids, self.tag, self.note = out, pids, tag, note
        self.data = scratch / f"{tag}.perf.data"
        self.proc = None
        self.t0 = 0.0

    def __enter__(self):
        if self.out is None or not self.pids:
            return self
        if not shutil.which("perf"):
            raise BenchError("--profile needs `perf` (scripts/install-deps.sh --profiling)")
        self.out.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["perf", "record", "-q", "-F", "499", "-g", "-o", str(self.data),
             "-p", ",".join(map(str, self.pids))],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.t0 = time.monotonic()
        return self

    def _report(self, *sort_args: str) -> list[str]:
        report = subprocess.run(["perf", "report", "-i", str(self.data), "--stdio", "--no-children",
                                 "-g", "none", *sort_args], capture_output=True, text=True,
                                timeout=300).stdout
        return [line.rstrip(" -") for line in report.splitlines()
                if line.strip() and not line.startswith("#")]

    def __exit__(self, *exc):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        wall = time.monotonic() - self.t0
        try:
            symbols = self._report("--sort", "dso,symbol", "--percent-limit", "0.5")
            threads = self._report("--sort", "comm", "--percent-limit", "0.5")
        finally:
            self.data.unlink(missing_ok=True)
        lines = [f"# perf record -g -F 499 of strom-server during `{self.tag}` ({wall:.1f} s wall)",
                 f"# {self.note}" if self.note else "#",
                 "# Self time (no children), % of the server's samples.", "",
                 "## By thread name", *threads[:20], "",
                 "## Top symbols (shared object, symbol)", *symbols[:60]]
        (self.out / f"{self.tag}.txt").write_text("\n".join(lines) + "\n")
        log(f"profile: {self.out / (self.tag + '.txt')}")


def run_java(bootstrap: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Runs bench/peer/java-perf.sh; `cpu_s` on the result is the JVM's CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([str(JAVA_PERF), bootstrap, *args], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r


def run_workload(wl: Workload, server, cli: Cli, smoke: bool, timeout: float,
                 level: int | None = None, profiler=None) -> tuple[dict, dict]:
    """Runs one workload once (at parallelism `level`); returns (metrics, raw JSON document)."""
    args = wl.args(smoke, level)
    shown = f"{'strom' if wl.runner == 'strom' else JAVA_PERF.name} {' '.join(args)}"
    pids = server.pids()
    cpu0 = cpu_seconds(pids)
    wait0 = runqueue_wait_seconds(pids)
    t0 = time.monotonic()

    def go():
        if wl.runner == "java":
            return run_java(server.bootstrap, args, timeout)
        return cli.run(server.bootstrap, args, timeout=timeout)

    with profiler or contextlib.nullcontext():
        if wl.load_sample:
            with PeakSampler(server.pids) as sampler:
                r = go()
            peak = sampler.peak_kib
        else:
            r = go()
            peak = 0
    wall = time.monotonic() - t0
    cpu = cpu_seconds(server.pids()) - cpu0
    waited = runqueue_wait_seconds(server.pids()) - wait0
    if r.returncode != 0:
        raise BenchError(f"`{shown}` against {server.name} failed "
                         f"(exit {r.returncode}): {r.stderr.strip()[-1000:]}")
    try:
        doc = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as e:
        raise BenchError(f"`{shown}` printed no JSON: {r.stdout[-500:]!r}") from e
    metrics = wl.extract(doc)
    missing = [k for k, v in metrics.items() if v is None]
    if missing:
        raise BenchError(f"`{shown}` output lacks {missing}: {doc}")
    if wl.parallel and level is not None:
        # The run must have used the parallelism asked for (both drivers echo it).
        got = pick(doc, "writers") if "--writers" in args else pick(doc, "threads")
        if got != level:
            raise BenchError(f"`{shown}` ran with parallelism {got}, not {level}: {doc}")
        if "--connections" in args or wl.runner == "java":
            if pick(doc, "connections") != level:
                raise BenchError(f"`{shown}` used {doc.get('connections')} connections, "
                                 f"not {level}")
    if wl.load_sample:
        metrics["rss_load_mib"] = peak / 1024
        written = pick(doc, "bytes_sent", "bytes")
        if written:
            metrics["cpu_s_per_gb"] = cpu / (written / 1e9)
            metrics["client_cpu_s_per_gb"] = r.cpu_s / (written / 1e9)
    doc["_args"] = args
    doc["_wall_s"] = wall
    doc["_server_cpu_s"] = cpu
    doc["_client_cpu_s"] = r.cpu_s
    doc["_server_runqueue_wait_s"] = waited
    return metrics, doc


def run_swept(wl: Workload, server, cli: Cli, smoke: bool, timeout: float, levels: list[int],
              profile: pathlib.Path | None, scratch: pathlib.Path) -> tuple[dict, dict, dict]:
    """Runs a workload at every parallelism level (once, without a sweep, for a workload that
    has none). Returns the metrics of the level with the best `primary` figure (the peak RSS
    is the peak over all levels), its raw document with `_level`, and {level: metrics}."""
    runs: dict[int | None, tuple[dict, dict]] = {}
    todo = levels if wl.parallel else [None]
    for level in todo:
        # Profiles: the highest level only (the one that loads the server most).
        profiler = None
        if profile is not None and server.name == "strom" and level == todo[-1]:
            tag = f"strom-{wl.name}" + (f"-x{level}" if level is not None else "")
            profiler = Profiler(profile, server.pids(), tag, scratch,
                                note=" ".join(wl.args(smoke, level)))
        runs[level] = run_workload(wl, server, cli, smoke, timeout, level, profiler)
        if not server.alive():
            raise BenchError(f"{server.name} died during {wl.name}")
    best = max(runs, key=lambda lv: runs[lv][0][wl.primary]) if wl.parallel else None
    metrics, doc = dict(runs[best][0]), runs[best][1]
    if "rss_load_mib" in metrics:
        metrics["rss_load_mib"] = max(m["rss_load_mib"] for m, _ in runs.values())
    doc["_level"] = best
    sweep = {lv: m for lv, (m, _) in runs.items()} if wl.parallel else {}
    return metrics, doc, sweep


def run_round(server, cli: Cli, wls: list[Workload], smoke: bool, idle_s: float,
              timeout: float, levels: list[int], scratch: pathlib.Path,
              profile: pathlib.Path | None = None) -> dict:
    metrics: dict[str, float] = {}
    raw: dict[str, dict] = {}
    sweeps: dict[str, dict] = {}
    try:
        cold = server.start()
        metrics["cold_start_s"] = cold
        log(f"{server.name}: serving on {server.bootstrap} after {cold:.3f} s")
        time.sleep(idle_s)
        metrics["rss_idle_mib"] = rss_kib(server.pids()) / 1024
        for wl in wls:
            m, doc, sweep = run_swept(wl, server, cli, smoke, timeout, levels, profile, scratch)
            metrics.update(m)
            raw[wl.name] = doc
            if sweep:
                sweeps[wl.name] = {str(lv): sm[wl.primary] for lv, sm in sweep.items()}
            at = f" at parallelism {doc['_level']}" if doc["_level"] is not None else ""
            tried = (" (sweep: " + ", ".join(f"{lv}: {sm[wl.primary]:.4g}"
                                              for lv, sm in sweep.items()) + ")") if sweep else ""
            log(f"{server.name}: {wl.name}{at}: " +
                ", ".join(f"{k}={v:.4g}" for k, v in m.items()) + tried +
                f" (wall {doc['_wall_s']:.1f} s, server cpu {doc['_server_cpu_s']:.2f} s, "
                f"client cpu {doc['_client_cpu_s']:.2f} s, server threads waited for a cpu "
                f"{doc['_server_runqueue_wait_s']:.2f} s)")
    finally:
        server.stop()
    return {"metrics": metrics, "raw": raw, "sweeps": sweeps}


# --------------------------------------------------------------------------- report

def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            model = m.group(1).strip()
    except OSError:
        pass
    mem_kib = 0
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    java = java.splitlines()[0] if java else "unknown"
    return {"cpu": model, "cores": os.cpu_count(), "ram_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "java": java}


def source_commit(tree: pathlib.Path) -> str:
    """HEAD of the tree the binaries were built from, marked when sources differ from it."""
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no",
                            "--", "src", "include", "proto", "cmake", "CMakeLists.txt"],
                           capture_output=True, text=True).stdout.strip()
    return f"{head} (with uncommitted changes)" if dirty else head


def fmt_num(v: float | None) -> str:
    if v is None:
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def summarize(results: dict) -> list[dict]:
    rows = []
    for key, (label, unit, better, target) in METRICS.items():
        per = {s: [r["metrics"][key] for r in results.get(s, []) if key in r["metrics"]]
               for s in ("strom", "fluss")}
        if not per["strom"] and not per["fluss"]:
            continue
        med = {s: statistics.median(v) if v else None for s, v in per.items()}
        ratio = (med["strom"] / med["fluss"]) if med["strom"] is not None and med["fluss"] else None
        met = None
        if target and ratio is not None:
            op, want = target
            met = ratio >= want if op == ">=" else ratio <= want
        rows.append({"key": key, "label": label, "unit": unit, "better": better,
                     "target": target, "strom": med["strom"], "fluss": med["fluss"],
                     "ratio": ratio, "met": met, "rounds": per})
    return rows


def target_text(target) -> str:
    if not target:
        return ""
    op, want = target
    return f"{op} {want:g}" if want >= 1 else f"{op} 1/{round(1 / want)}"


def load_note(load_before: str, cores) -> str:
    """How busy the machine was before the run, in words (the load after it is the run's own)."""
    try:
        first = float(load_before.split(",")[0])
        quiet = first < 0.5 * float(cores)
    except (ValueError, IndexError, TypeError):
        quiet = False
    if quiet:
        return "(the machine was quiet before the run; the load after it is the run's own)"
    return "(the machine is shared with other builds, so throughputs are lower bounds)"


def markdown(rows: list[dict], info: dict) -> str:
    m = info["machine"]
    lines = [
        SECTION_BEGIN,
        "## Side by side: Strom vs the released Apache Fluss 0.9.1 server (issue 5)",
        "",
        f"- Command: `{info['command']}`",
        f"- Date: {info['date']}, commit {info['commit']}; {info['rounds']} round(s) per server, "
        "alternating Strom, Fluss, ...; figures are medians over the rounds.",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, "
        f"{m['java']}; load average {info['load_before']} before, {info['load_after']} after "
        f"{load_note(info['load_before'], m['cores'])}.",
        "- Client: the `strom` CLI (`strom perf ...`, Strom's C++ client) for both servers, on "
        "loopback; client and server share the cores. Rows marked \"Java client\" use the "
        "released Fluss 0.9.1 Java client instead (bench/peer/java-perf.sh), also for both.",
        f"- Parallelism: append, upsert and lookup (both clients) run at {levels_text(info)} "
        "writers or threads, each with its own connection, on both servers; each server's "
        "figures are those of its best level (so the driver is not what limits a server). The "
        "sweep is listed below the table.",
        "- Servers: `strom-server local` (one process) against ZooKeeper 3.8 (Debian) + Fluss "
        "CoordinatorServer + TabletServer (bench/peer/fluss-peer.sh, JVM defaults as fluss-dist); "
        "RSS and CPU of Fluss include ZooKeeper. Every round starts each server fresh in an empty "
        "temp data dir.",
        "- Ratio is Strom / Fluss; the target is issue 5's (for times and sizes lower is better, "
        "for rates higher).",
        "",
        "| Metric | Unit | Strom | Fluss | Strom/Fluss | Target | Met | Strom rounds | Fluss rounds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        lines.append(
            f"| {r['label']} | {r['unit']} | {fmt_num(r['strom'])} | {fmt_num(r['fluss'])} | "
            f"{fmt_num(r['ratio'])} | {target_text(r['target'])} | {met} | "
            f"{' / '.join(fmt_num(v) for v in r['rounds']['strom'])} | "
            f"{' / '.join(fmt_num(v) for v in r['rounds']['fluss'])} |")
    if info.get("sweeps"):
        lines += ["", "Parallelism sweep (medians over the rounds of the figure each level "
                  "gave; **bold**: the level used for the table):", "",
                  "| Workload | Figure | Level | Strom | Fluss |", "|---|---|---|---|---|"]
        for s in info["sweeps"]:
            for lv in s["levels"]:
                cell = {srv: (f"**{fmt_num(s[srv].get(lv))}**" if s["best"].get(srv) == lv
                              else fmt_num(s[srv].get(lv))) for srv in ("strom", "fluss")}
                lines.append(f"| {s['workload']} | {s['figure']} | {lv} | {cell['strom']} | "
                             f"{cell['fluss']} |")
    lines += ["", "Workloads (the commands of this run; swept options after the `+`):", ""]
    for name, w in info["workloads"].items():
        exe = "strom" if w["runner"] == "strom" else "bench/peer/java-perf.sh BOOTSTRAP"
        swept = f" + `{w['parallel']}`" if w["parallel"] else ""
        lines.append(f"- {name}: `{exe} {' '.join(w['args'])}`{swept}")
    if info["skipped"]:
        lines += ["", "Not measured (the CLI of this build lacks the workload, or no Java driver): " +
                  ", ".join(info["skipped"]) + "."]
    lines += ["", f"Chart: `{info['chart']}` (the same medians; Fluss = 1 in each group)."
              if info.get("chart") else "", "", SECTION_END]
    return "\n".join(lines) + "\n"


def levels_text(info: dict) -> str:
    return "/".join(str(n) for n in info.get("levels", []))


def sweep_summary(results: dict, wls: list[Workload]) -> list[dict]:
    """Per swept workload: the median of its primary figure at each level, per server, and the
    level most rounds picked as best."""
    out = []
    for wl in wls:
        if not wl.parallel:
            continue
        entry = {"workload": wl.name, "figure": METRICS[wl.primary][1], "levels": [],
                 "strom": {}, "fluss": {}, "best": {}}
        for srv in ("strom", "fluss"):
            rounds = [r for r in results.get(srv, []) if wl.name in r.get("sweeps", {})]
            if not rounds:
                continue
            for lv in rounds[0]["sweeps"][wl.name]:
                values = [r["sweeps"][wl.name][lv] for r in rounds if lv in r["sweeps"][wl.name]]
                entry["strom" if srv == "strom" else "fluss"][lv] = statistics.median(values)
                if lv not in entry["levels"]:
                    entry["levels"].append(lv)
            picks = [str(r["raw"][wl.name]["_level"]) for r in rounds]
            entry["best"][srv] = max(set(picks), key=picks.count)
        out.append(entry)
    return out


def write_section(path: pathlib.Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    begin, end = text.find(SECTION_BEGIN), text.find(SECTION_END)
    if begin >= 0 and end > begin:
        text = text[:begin] + section + text[end + len(SECTION_END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def chart(rows: list[dict], path: pathlib.Path, info: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r["ratio"] is not None]
    if not shown:
        raise BenchError("no metric has figures for both servers; nothing to chart")
    # Each group: Fluss normalised to 1, Strom as its advantage (how many times better), so
    # that higher is better for every metric and the target reads the same way.
    adv = [r["ratio"] if r["better"] == "higher" else 1 / r["ratio"] for r in shown]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(shown) + 2), 5.5))
    xs = range(len(shown))
    w = 0.38
    ax.bar([x - w / 2 for x in xs], [1] * len(shown), w, label="Apache Fluss 0.9.1", color="#9e9e9e")
    ax.bar([x + w / 2 for x in xs], adv, w, label="Strom", color="#1f77b4")
    for x, r, a in zip(xs, shown, adv):
        ax.annotate(f"{a:.2g}x", (x + w / 2, a), ha="center", va="bottom", fontsize=8)
        if r["target"]:
            want = r["target"][1] if r["better"] == "higher" else 1 / r["target"][1]
            ax.hlines(want, x - w, x + w, colors="#d62728", linestyles="dashed", linewidth=1.2)
    ax.hlines([], 0, 0, colors="#d62728", linestyles="dashed", label="issue 5 target")
    ax.set_yscale("log")
    ax.set_ylim(bottom=min(0.5, min(adv) / 2), top=max(adv + [3.0]) * 2)
    ax.set_ylabel("times better than Fluss (log scale)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{r['label']}\n({r['unit']}, {'higher' if r['better'] == 'higher' else 'lower'} is better)"
                        for r in shown], rotation=35, ha="right", fontsize=7)
    ax.axhline(1, color="black", linewidth=0.6)
    ax.set_title(f"Strom vs Apache Fluss 0.9.1, same client, loopback, {info['machine']['cores']} "
                 f"cores ({info['date'][:10]}, medians of {info['rounds']} rounds)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main

def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--reap":
        return reap_main(int(sys.argv[2]), sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True, type=pathlib.Path,
                    help="folder with the strom and strom-server executables")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--smoke", action="store_true",
                    help="one round, tiny workloads: both servers start and the numbers parse")
    ap.add_argument("--servers", default="strom,fluss")
    ap.add_argument("--workloads", default="", help="only these workloads (comma-separated)")
    ap.add_argument("--results", type=pathlib.Path, help="markdown file whose section to replace")
    ap.add_argument("--chart", type=pathlib.Path, help="PNG chart to write")
    ap.add_argument("--json", type=pathlib.Path, help="every figure of every round, as JSON")
    ap.add_argument("--idle", type=float, default=None, help="seconds idle before idle RSS")
    ap.add_argument("--profile", type=pathlib.Path, default=None,
                    help="folder for `perf record -g` summaries of strom-server, one text file "
                         "per workload (first round only, highest --parallel level; profiling "
                         "costs the profiled server some speed), e.g. bench/peer/profiles")
    ap.add_argument("--parallel", default=None,
                    help="parallelism levels of the throughput workloads (writers or threads, "
                         "each with its own connection), comma-separated; each server's figure "
                         "is its best level (default 1,2,4; smoke 2)")
    ap.add_argument("--no-java", action="store_true",
                    help="skip the Java-client rows (bench/peer/java-perf.sh)")
    ap.add_argument("--java", action="store_true",
                    help="run the Java-client rows in --smoke too (JVM starts cost ~15 s per "
                         "run, too much for the 60 s smoke)")
    ap.add_argument("--command", default=None, help="command line recorded in the report")
    ap.add_argument("--commit", default=None,
                    help="source commit recorded in the report (default: this checkout's HEAD)")
    a = ap.parse_args()
    if a.smoke:
        a.rounds = 1
    idle_s = a.idle if a.idle is not None else (1.0 if a.smoke else 5.0)
    timeout = 120.0 if a.smoke else 600.0

    cli = Cli(a.bin_dir / "strom")
    for exe in (cli.binary, a.bin_dir / "strom-server"):
        if not os.access(exe, os.X_OK):
            log(f"{exe} is missing")
            return 2
    levels = [int(x) for x in (a.parallel or ("2" if a.smoke else "1,2,4")).split(",")]
    if not levels or min(levels) < 1:
        log("--parallel: positive integers, comma-separated")
        return 2
    wanted = [w for w in workloads() if not a.workloads or w.name in a.workloads.split(",")]
    if a.no_java or (a.smoke and not a.java):
        wanted = [w for w in wanted if w.runner != "java"]
    wls, skipped = choose(cli, wanted)
    if skipped:
        log(f"not in this CLI, skipped: {', '.join(skipped)}")

    # SIGTERM / SIGHUP behave like Ctrl-C: unwind, stopping the servers on the way out.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    subprocess.run([str(PEER_SCRIPT), "fetch"], check=True, stdin=subprocess.DEVNULL)
    if any(w.runner == "java" for w in wls):
        # Build the Java driver before anything is timed; a tree whose Java sources do not build
        # (another change under way) loses the Java rows, not the whole run.
        built = subprocess.run([str(JAVA_PERF), "--build"], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True)
        if built.returncode != 0:
            log(f"the Java driver does not build; Java-client rows skipped: {built.stderr[-1500:]}")
            skipped += [w.name for w in wls if w.runner == "java"]
            wls = [w for w in wls if w.runner != "java"]
    work = pathlib.Path(tempfile.mkdtemp(prefix="strom-bench-peer-"))
    reaper = Reaper(work)
    load_before = open("/proc/loadavg").read().split()[:3]
    results: dict[str, list[dict]] = {"strom": [], "fluss": []}
    chosen = a.servers.split(",")
    started = time.monotonic()
    try:
        for rnd in range(1, a.rounds + 1):
            for name in ("strom", "fluss"):
                if name not in chosen:
                    continue
                server = (StromServer(a.bin_dir, cli, reaper, work) if name == "strom"
                          else FlussServer(cli, reaper, work))
                log(f"round {rnd}/{a.rounds}: {server.label}")
                results[name].append(run_round(server, cli, wls, a.smoke, idle_s, timeout,
                                               levels, work, a.profile if rnd == 1 else None))
    finally:
        reaper.finish()
        shutil.rmtree(work, ignore_errors=True)
    log(f"all rounds done in {time.monotonic() - started:.0f} s")

    rows = summarize(results)
    info = {
        "command": a.command or " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": a.commit or source_commit(ROOT),
        "rounds": a.rounds, "machine": machine(),
        "load_before": ", ".join(load_before),
        "load_after": ", ".join(open("/proc/loadavg").read().split()[:3]),
        "workloads": {w.name: {"runner": w.runner, "args": w.args(a.smoke, None),
                               "parallel": " / ".join(" ".join(w.parallel(n)) for n in levels)
                               if w.parallel else ""} for w in wls},
        "levels": levels,
        "sweeps": sweep_summary(results, wls),
        "skipped": skipped,
        "chart": (os.path.relpath(a.chart, a.results.parent) if a.chart and a.results else None),
    }
    for r in rows:
        print(f"{r['key']:<20} strom {fmt_num(r['strom']):>10}  fluss {fmt_num(r['fluss']):>10}  "
              f"ratio {fmt_num(r['ratio']):>8}  {target_text(r['target']):>8} "
              f"{'' if r['met'] is None else ('met' if r['met'] else 'MISSED')}")
    # Both servers measured: every metric must have parsed on both sides.
    if "strom" in chosen and "fluss" in chosen:
        one_sided = [r["key"] for r in rows if r["ratio"] is None]
        if one_sided:
            log(f"figures missing on one side: {one_sided}")
            return 1
    # Server CPU is read in clock ticks (10 ms): a smoke-sized append (a few MB) may use less
    # than one tick of a fast server, so 0 is a valid reading there, and only there.
    tick_bound = {"cpu_s_per_gb"} if a.smoke else set()
    nonsense = [f"{server}.{key}={value}" for server, rounds in results.items() for r in rounds
                for key, value in r["metrics"].items()
                if not (0 < value < float("inf") or (value == 0 and key in tick_bound))]
    if nonsense:
        log(f"figures out of range: {nonsense}")
        return 1
    if a.json:
        a.json.write_text(json.dumps({"info": info, "rounds": results, "summary": rows}, indent=1))
    if a.results:
        write_section(a.results, markdown(rows, info))
        log(f"wrote {a.results}")
    if a.chart:
        chart(rows, a.chart, info)
        log(f"wrote {a.chart}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"failed: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        sys.exit(130)
