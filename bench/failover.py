#!/usr/bin/env python3
"""Issue 6 benchmark: RF=3 acks=all appends on loopback, and leader failover after kill -9.

    .venv/bin/python bench/failover.py --server build/release/src/apps/strom-server \\
        --strom build/release/src/apps/strom [--runs 3] [--keys 1000000] [--session-timeout "3 s"] \\
        [--skip-throughput] [--skip-log] [--skip-pk] [--json]

Starts a distributed cluster of separate processes (tests/interop/python/cluster.py: ZooKeeper,
a coordinator, 3 tablet servers; default.replication.factor 3), then:

1. Append throughput and latency, RF=3, acks=all (the client default), through `strom perf
   append`: full speed (`--rows`, MB/s of batch bytes), and paced (`--rate` rows/s for
   `--duration` s with `client.writer.batch-timeout=1ms`, produce latency p50/p99/p999 measured
   from each row's scheduled send time).
2. Failover of a log table: a 1-bucket log table (the `perf append` wide schema), a writer on the
   released Python client (pyfluss) appending one row every `--interval-ms` with acks=all and
   waiting for each acknowledgement; after a steady phase the leader of bucket 0 is SIGKILLed.
   Failover time = the first acknowledgement of a row *sent after the kill* (only the new leader
   can acknowledge it) minus the kill time. Also reported: when `strom table describe` first
   shows the new leader (detection + election), and how many writes failed for good. The
   killed server is restarted and the ISR waited back to 3 before the next run.
3. The same on a 1-bucket primary-key table loaded with `--keys` keys (default 1,000,000, by
   `strom perf upsert`); the writer upserts existing keys, so the new leader has to open the
   bucket's KV state (RocksDB from its checkpoint + changelog replay) before the first write.

One bucket makes "the bucket whose leader was killed" every write's bucket. Prints a table of
medians over `--runs` kills (and every run); `--json` prints one JSON document instead.

Kill -9 is noticed by the coordinator when its connection to the server closes and the server's
port refuses reconnects (strom.coordinator.tablet-server-probe.*, about 0.2 s), so detection no
longer depends on `--session-timeout` (zookeeper.client.session-timeout of every server), which
still bounds it when that probe is off or inconclusive; see bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop", "python"))
from cluster import Cluster  # noqa: E402


def perf(cluster: Cluster, args: List[str], timeout: float = 900) -> dict:
    return cluster.cli_json(["perf"] + args, timeout=timeout)


def measure_appends(cluster: Cluster, a: argparse.Namespace) -> Dict[str, float]:
    full = perf(cluster, ["append", "--rows", str(a.append_rows), "--buckets", "3"])
    paced = cluster.cli_json(["-c", "client.writer.batch-timeout=1ms", "perf", "append", "--rate", str(a.rate),
                              "--duration", str(a.duration), "--buckets", "3"], timeout=a.duration + 300)
    return {"append_mb_per_s": full["mb_per_s"], "append_rows_per_s": full["rows_per_s"],
            "paced_rate": paced["target_rate"], "produce_p50_ms": paced["p50_ms"],
            "produce_p99_ms": paced["p99_ms"], "produce_p999_ms": paced["p999_ms"],
            "produce_max_ms": paced["max_ms"]}


class Writer:
    """pyfluss writer on its own thread and event loop: one row every interval, each ack timed."""

    def __init__(self, bootstrap: str, table: str, primary_key: bool, interval_ms: float, keys: int) -> None:
        self.bootstrap = bootstrap
        self.table = table
        self.primary_key = primary_key
        self.interval = interval_ms / 1000.0
        self.keys = keys
        self.records: List[list] = []  # [seq, sent wall time, acked wall time or None, error or None]
        self.stop_flag = threading.Event()
        self.ready = threading.Event()
        self.error: Optional[str] = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError(f"writer did not start: {self.error}")
        if self.error:
            raise RuntimeError(self.error)

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(120)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as e:  # noqa: BLE001 - reported by start()/the caller
            self.error = repr(e)
            self.ready.set()

    async def _main(self) -> None:
        import fluss

        config = fluss.Config({"bootstrap.servers": self.bootstrap})
        config.writer_batch_timeout_ms = 1
        config.writer_acks = "all"
        conn = await fluss.FlussConnection.create(config)
        db, name = self.table.split(".", 1)
        table = await conn.get_table(fluss.TablePath(db, name))
        columns = [(name, typ.upper()) for name, typ in table.get_table_info().get_schema().get_columns()]
        writer = table.new_upsert().create_writer() if self.primary_key else table.new_append().create_writer()
        pending = set()

        def row(seq: int) -> dict:
            out = {}
            for i, (col, typ) in enumerate(columns):
                if i == 0:
                    out[col] = seq % self.keys if self.primary_key else seq
                elif typ.startswith("BIGINT"):
                    out[col] = time.time_ns() // 1000 if col == "ts" else seq
                elif typ.startswith("INT"):
                    out[col] = seq & 0x7FFFFFFF
                elif typ.startswith("DOUBLE"):
                    out[col] = seq * 0.5
                elif typ.startswith("STRING"):
                    out[col] = f"failover-{seq:012d}-" + "x" * 40
                else:
                    raise RuntimeError(f"column {col}: type {typ} not generated")
            return out

        async def track(rec: list, handle) -> None:
            try:
                await handle.wait()
                rec[2] = time.time()
            except Exception as e:  # noqa: BLE001 - a write that failed for good
                rec[3] = str(e) or repr(e)

        self.ready.set()
        start = time.monotonic()
        seq = 0
        while not self.stop_flag.is_set():
            due = start + seq * self.interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            rec = [seq, time.time(), None, None]
            self.records.append(rec)
            handle = writer.upsert(row(seq)) if self.primary_key else writer.append(row(seq))
            task = asyncio.ensure_future(track(rec, handle))
            pending.add(task)
            task.add_done_callback(pending.discard)
            seq += 1
        await writer.flush()
        if pending:
            await asyncio.wait(pending, timeout=60)
        await conn.close()


def leader_watch(cluster: Cluster, table: str, old: int, stop: threading.Event, out: dict) -> None:
    """Polls `strom table describe` until bucket 0 has a leader other than `old`."""
    while not stop.is_set():
        try:
            leader = cluster.leader(table, 0)
            if leader is not None and leader != old:
                out["seen"] = time.time()
                out["leader"] = leader
                return
        except Exception:  # noqa: BLE001 - the coordinator may be busy; poll again
            pass
        time.sleep(0.05)


def failover_runs(cluster: Cluster, table: str, primary_key: bool, a: argparse.Namespace) -> List[dict]:
    runs = []
    for run in range(a.runs):
        cluster.wait_isr(table, 3, timeout=300)
        writer = Writer(cluster.bootstrap, table, primary_key, a.interval_ms, a.keys)
        writer.start()
        time.sleep(a.steady)
        old = cluster.leader(table, 0)
        watch: dict = {}
        stop_watch = threading.Event()
        watcher = threading.Thread(target=leader_watch, args=(cluster, table, old, stop_watch, watch), daemon=True)
        watcher.start()
        t_kill = cluster.kill(old)
        deadline = time.time() + a.max_wait
        first_ack = None
        while time.time() < deadline:
            acked = [r[2] for r in list(writer.records) if r[1] >= t_kill and r[2] is not None]
            if acked:
                first_ack = min(acked)
                break
            time.sleep(0.02)
        time.sleep(0.5)
        writer.stop()
        stop_watch.set()
        watcher.join(5)
        if writer.error:
            raise RuntimeError(f"writer failed: {writer.error}")
        failed = [r for r in writer.records if r[3] is not None]
        result = {
            "run": run + 1,
            "killed": old,
            "new_leader": watch.get("leader"),
            "failover_s": round(first_ack - t_kill, 3) if first_ack else None,
            "leader_seen_s": round(watch["seen"] - t_kill, 3) if "seen" in watch else None,
            "writes": len(writer.records),
            "failed_writes": len(failed),
            "first_failure": failed[0][3] if failed else None,
        }
        runs.append(result)
        print(f"  run {run + 1}: {json.dumps(result)}", file=sys.stderr, flush=True)
        cluster.restart(old)
    return runs


def median(values: List[Optional[float]]) -> Optional[float]:
    v = [x for x in values if x is not None]
    return round(statistics.median(v), 3) if v else None


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True, help="strom-server binary (release build)")
    p.add_argument("--strom", required=True, help="strom CLI binary")
    p.add_argument("--dir", help="work directory (default: a fresh temp dir, removed afterwards)")
    p.add_argument("--session-timeout", default="3 s", help="zookeeper.client.session-timeout of every server")
    p.add_argument("--runs", type=int, default=3, help="kills per table")
    p.add_argument("--keys", type=int, default=1_000_000, help="keys of the primary-key table")
    p.add_argument("--append-rows", type=int, default=2_000_000, help="rows of the full-speed append")
    p.add_argument("--rate", type=int, default=20_000, help="rows/s of the paced append (latency)")
    p.add_argument("--duration", type=int, default=20, help="seconds of the paced append")
    p.add_argument("--interval-ms", type=float, default=10, help="one failover write every this many ms")
    p.add_argument("--steady", type=float, default=3, help="seconds of writes before each kill")
    p.add_argument("--max-wait", type=float, default=60, help="seconds to wait for the first write after a kill")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-log", action="store_true")
    p.add_argument("--skip-pk", action="store_true")
    p.add_argument("--log-level", default="warn", help="log level of every server (logs in --dir)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    a = p.parse_args(argv)

    work = a.dir or tempfile.mkdtemp(prefix="strom-failover.")
    report: dict = {"session_timeout": a.session_timeout, "runs": a.runs}
    with Cluster(a.server, a.strom, work, session_timeout=a.session_timeout, log_level=a.log_level) as cluster:
        cluster.start()
        print(f"cluster: coordinator {cluster.bootstrap}, dir {work}", file=sys.stderr, flush=True)
        if not a.skip_throughput:
            print("appends (RF=3, acks=all) ...", file=sys.stderr, flush=True)
            report["appends"] = measure_appends(cluster, a)
        if not a.skip_log:
            print("log table failover ...", file=sys.stderr, flush=True)
            table = perf(cluster, ["append", "--rows", "10000", "--buckets", "1", "--keep"])["table"]
            runs = failover_runs(cluster, table, False, a)
            report["log"] = {"table": table, "median_failover_s": median([r["failover_s"] for r in runs]),
                             "median_leader_seen_s": median([r["leader_seen_s"] for r in runs]), "runs": runs}
        if not a.skip_pk:
            print(f"primary-key table of {a.keys:,} keys: loading ...", file=sys.stderr, flush=True)
            load = perf(cluster, ["upsert", "--keys", str(a.keys), "--buckets", "1", "--keep"], timeout=1800)
            table = load["table"]
            print(f"  loaded in {load['seconds']:.1f} s; failover ...", file=sys.stderr, flush=True)
            runs = failover_runs(cluster, table, True, a)
            report["pk"] = {"table": table, "keys": a.keys, "median_failover_s": median([r["failover_s"] for r in runs]),
                            "median_leader_seen_s": median([r["leader_seen_s"] for r in runs]), "runs": runs}
    if not a.dir:
        subprocess.run(["rm", "-rf", work])

    if a.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"session timeout {a.session_timeout}, {a.runs} kills per table (medians)")
    if "appends" in report:
        r = report["appends"]
        print(f"append RF=3 acks=all: {r['append_mb_per_s']:.1f} MB/s ({r['append_rows_per_s']:,.0f} rows/s); "
              f"paced {int(r['paced_rate']):,} rows/s: p50 {r['produce_p50_ms']} ms, p99 {r['produce_p99_ms']} ms, "
              f"p99.9 {r['produce_p999_ms']} ms")
    for kind, label in (("log", "log table"), ("pk", f"primary-key table ({a.keys:,} keys)")):
        if kind in report:
            r = report[kind]
            print(f"{label}: kill -9 of the leader -> first acknowledged write on the new leader "
                  f"{r['median_failover_s']} s (new leader visible in metadata after {r['median_leader_seen_s']} s); "
                  f"runs {[x['failover_s'] for x in r['runs']]}, failed writes {[x['failed_writes'] for x in r['runs']]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
