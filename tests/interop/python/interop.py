"""Interop driver on pyfluss (the released Apache Fluss Python client).

Library for test_log_table.py and a command line for cross-client runs:

    python interop.py BOOTSTRAP ping      [--timeout S]
    python interop.py BOOTSTRAP log-table [--rows N] [--seed S] [--db D] [--buckets B]
    python interop.py BOOTSTRAP write     --db D --table T [--rows N] [--start K] [--seed S] [--buckets B]
                                          [--failover-at M --failover-cmd CMD [--failover-ms D]]
    python interop.py BOOTSTRAP verify    --db D --table T [--rows N] [--start K] [--seed S] [--drop]

The same scenarios and options as the Java driver (tests/interop/java, StromInterop): one line of
JSON on stdout, exit 0 only if everything matched. `write` creates the database and table when
missing (without the CHAR column, which pyfluss cannot create); `write` and `verify` work on any
table whose columns are interop columns (so also on a table made by the Java driver). With
`--failover-cmd`, `write` runs CMD (e.g. killing a leader, failover.py) once rows K..K+M-1 are
acknowledged and appends the rest over D ms (default 5000); every row must be acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import pyarrow as pa

import fluss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from failover import Failover  # noqa: E402

DEFAULT_BOOTSTRAP = "127.0.0.1:9123"
# One-line JSON summaries of pytest scenarios, printed at the end of the run by conftest.py.
SUMMARIES: List[dict] = []
POLL_MS = 500
WRITE_CHUNK = 10_000
# Rows per batch written during a failover (spread over --failover-ms).
FAILOVER_CHUNK = 200


def bootstrap_from_env() -> str:
    return os.environ.get("STROM_BOOTSTRAP", DEFAULT_BOOTSTRAP)


async def connect(bootstrap: str) -> fluss.FlussConnection:
    return await fluss.FlussConnection.create(fluss.Config({"bootstrap.servers": bootstrap}))


def descriptor(buckets: int, names: Sequence[str] = R.CREATABLE) -> fluss.TableDescriptor:
    return fluss.TableDescriptor(
        fluss.Schema(R.arrow_schema(names)),
        bucket_count=buckets,
        comment="strom interop all scalar types",
    )


def table_columns(table: fluss.FlussTable) -> List[str]:
    return R.columns_of(table.get_table_info().get_schema().get_columns())


@dataclass
class Expected:
    """The deterministic rows start..start+rows-1 with the columns `names`, as one Arrow table."""

    seed: int
    start: int
    rows: int
    names: List[str]
    table: pa.Table = field(init=False)

    def __post_init__(self) -> None:
        batches = [
            R.batch(self.seed, range(lo, min(lo + WRITE_CHUNK, self.start + self.rows)), self.names)
            for lo in range(self.start, self.start + self.rows, WRITE_CHUNK)
        ]
        self.table = pa.Table.from_batches(batches, schema=R.arrow_schema(self.names))

    def batches(self) -> List[pa.RecordBatch]:
        return self.table.to_batches(max_chunksize=WRITE_CHUNK)

    def check(self, ids: Sequence[int], actual: pa.RecordBatch, names: Sequence[str]) -> Optional[str]:
        """None if `actual` (columns `names`) holds the expected values of the rows `ids`."""
        idx = pa.array([i - self.start for i in ids], pa.int64())
        want = self.table.select(list(names)).take(idx)
        for pos, name in enumerate(names):
            got_col = actual.column(pos)
            if got_col.type != want.schema.field(name).type:
                return f"column {name}: Arrow type {got_col.type}, expected {want.schema.field(name).type}"
            got = R.normalize(got_col)
            exp = R.normalize(want.column(name).combine_chunks())
            if got != exp:
                for k, (g, e) in enumerate(zip(got, exp)):
                    if g != e:
                        return f"id {ids[k]} column {name}: expected {e!r}, read {g!r}"
                return f"column {name}: {len(got)} values read, {len(exp)} expected"
        return None


async def write(table: fluss.FlussTable, expected: Expected) -> int:
    """Appends the expected rows as Arrow batches; returns the number of rows acknowledged."""
    writer = table.new_append().create_writer()
    handles = [writer.write_arrow_batch(b) for b in expected.batches()]
    await writer.flush()
    for h in handles:
        await h.wait()
    return expected.rows


async def write_through_failover(table: fluss.FlussTable, expected: Expected, at: int, failover: Failover,
                                 out: dict, timeout: float) -> int:
    """Appends rows start..start+at-1 and waits for them; starts the fault, then appends the rest in
    small batches spread over the failover's duration; every row must be acknowledged."""
    writer = table.new_append().create_writer()
    first = [writer.write_arrow_batch(b) for b in expected.table.slice(0, at).to_batches(max_chunksize=WRITE_CHUNK)]
    await writer.flush()
    for h in first:
        await h.wait()
    await failover.start()
    rest = expected.table.slice(at).to_batches(max_chunksize=FAILOVER_CHUNK)
    handles = []
    for i, b in enumerate(rest):
        await failover.pace(i, len(rest))
        handles.append(writer.write_arrow_batch(b))
    await writer.flush()
    for h in handles:
        await h.wait()
    await failover.finish(timeout)
    out["failover"] = failover.report()
    return expected.rows


async def list_offsets(admin: fluss.FlussAdmin, path: fluss.TablePath, buckets: int, rows: int):
    ids = list(range(buckets))
    earliest = await admin.list_offsets(path, ids, fluss.OffsetSpec.earliest())
    latest = await admin.list_offsets(path, ids, fluss.OffsetSpec.latest())
    per_bucket = [{"bucket": b, "earliest": earliest[b], "latest": latest[b]} for b in ids]
    for b in ids:
        assert earliest[b] == 0, f"bucket {b} earliest offset {earliest[b]}, expected 0"
    total = sum(latest[b] - earliest[b] for b in ids)
    assert total == rows, f"latest - earliest offsets sum to {total}, expected {rows}"
    return earliest, latest, per_bucket


async def scan(
    table: fluss.FlussTable,
    earliest: Dict[int, int],
    latest: Dict[int, int],
    expected: Expected,
    names: Sequence[str],
    ordered: bool,
    deadline: float,
    projection: Optional[Sequence[str]] = None,
    ids_by_offset: Optional[Dict[int, List[int]]] = None,
) -> Dict[int, List[int]]:
    """Reads every bucket from its earliest to its latest offset and compares every value.

    Full scans read the id column and return ids_by_offset[bucket][offset - earliest]; projected
    scans (no id column) find each row's id through the ids_by_offset of a full scan.
    """
    buckets = sorted(earliest)
    next_off = dict(earliest)
    out: Dict[int, List[int]] = {b: [] for b in buckets}
    seen = set()
    last_id = {b: None for b in buckets}
    scan_builder = table.new_scan()
    if projection is not None:
        scan_builder = scan_builder.project_by_name(list(projection))
    scanner = await scan_builder.create_record_batch_log_scanner()
    scanner.subscribe_buckets({b: fluss.EARLIEST_OFFSET for b in buckets if latest[b] > earliest[b]})
    read = 0
    cols = list(projection) if projection is not None else list(names)
    while any(next_off[b] < latest[b] for b in buckets):
        if time.monotonic() > deadline:
            raise AssertionError(f"timeout while scanning (read {read} of {expected.rows})")
        for rb in await scanner.poll_record_batch(POLL_MS):
            b = rb.bucket.bucket_id
            batch = rb.batch
            n = batch.num_rows
            assert rb.base_offset == next_off[b], f"bucket {b}: batch at offset {rb.base_offset}, expected {next_off[b]}"
            assert rb.last_offset - rb.base_offset + 1 == n, f"bucket {b}: batch offsets {rb.base_offset}..{rb.last_offset} hold {n} rows"
            assert rb.last_offset < latest[b], f"bucket {b}: offset {rb.last_offset} beyond latest {latest[b]}"
            assert batch.schema.names == cols, f"read columns {batch.schema.names}, expected {cols}"
            if projection is None:
                id_col = batch.column(0)
                assert id_col.null_count == 0, f"bucket {b}: null id"
                ids = id_col.to_pylist()
                for row_id in ids:
                    assert expected.start <= row_id < expected.start + expected.rows, f"id {row_id} out of range"
                    assert row_id not in seen, f"id {row_id} read twice"
                    seen.add(row_id)
                    if ordered:
                        assert last_id[b] is None or row_id > last_id[b], f"bucket {b}: id {row_id} after {last_id[b]}"
                    last_id[b] = row_id
                out[b].extend(ids)
            else:
                lo = rb.base_offset - earliest[b]
                ids = ids_by_offset[b][lo : lo + n]
            err = expected.check(ids, batch, cols)
            assert err is None, err
            next_off[b] += n
            read += n
    assert read == expected.rows, f"read {read} rows, expected {expected.rows}"
    return out


async def ping(bootstrap: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            conn = await connect(bootstrap)
            try:
                admin = conn.get_admin()
                dbs = await admin.list_databases()
                nodes = await admin.get_server_nodes()
                ts = [n for n in nodes if "tablet" in n.server_type.lower()]
                if ts:
                    return {"databases": dbs, "tablet_servers": len(ts)}
                last = "no tablet server registered yet"
            finally:
                await conn.close()
        except Exception as e:  # server not up yet: retry until the deadline
            last = repr(e)
        await asyncio.sleep(0.25)
    raise AssertionError(f"server not ready: {last}")


async def run(args: argparse.Namespace, out: dict, seconds: dict) -> None:
    t_start = time.monotonic()
    deadline = t_start + args.timeout

    def lap(name: str, t: float) -> None:
        seconds[name] = round(time.monotonic() - t, 3)

    if args.scenario == "ping":
        out.update(await ping(args.bootstrap, args.timeout))
        return

    conn = await connect(args.bootstrap)
    try:
        admin = conn.get_admin()
        if args.scenario == "log-table":
            db = args.db or f"interop_py_{os.getpid():x}_{int(time.time()) & 0xFFFF:x}"
            path = fluss.TablePath(db, "log_all_types")
            out["table"] = f"{db}.log_all_types"
            t = time.monotonic()
            await admin.create_database(db, fluss.DatabaseDescriptor(comment="strom interop"), False)
            await admin.create_table(path, descriptor(args.buckets), False)
            lap("create", t)
            table = await conn.get_table(path)
            names = table_columns(table)
            assert table.get_table_info().num_buckets == args.buckets
            t = time.monotonic()
            expected = Expected(args.seed, args.start, args.rows, names)
            lap("generate", t)
            t = time.monotonic()
            out["rows_written"] = await write(table, expected)
            lap("write", t)
            t = time.monotonic()
            earliest, latest, out["offsets"] = await list_offsets(admin, path, args.buckets, args.rows)
            lap("list_offsets", t)
            t = time.monotonic()
            ids = await scan(table, earliest, latest, expected, names, True, deadline)
            out["rows_read"] = sum(len(v) for v in ids.values())
            lap("scan", t)
            t = time.monotonic()
            out["projection"] = R.PROJECTION
            await scan(table, earliest, latest, expected, names, True, deadline, R.PROJECTION, ids)
            out["projected_rows_read"] = args.rows
            lap("scan_projected", t)
            t = time.monotonic()
            await admin.drop_table(path, False)
            assert not await admin.table_exists(path), "table still exists after drop"
            await admin.drop_database(db, False, True)
            assert not await admin.database_exists(db), "database still exists after drop"
            lap("drop", t)
        elif args.scenario == "write":
            path = fluss.TablePath(args.db, args.table)
            out["table"] = f"{args.db}.{args.table}"
            t = time.monotonic()
            await admin.create_database(args.db, fluss.DatabaseDescriptor(comment="strom interop"), True)
            await admin.create_table(path, descriptor(args.buckets), True)
            lap("create", t)
            table = await conn.get_table(path)
            names = table_columns(table)
            out["columns"] = len(names)
            expected = Expected(args.seed, args.start, args.rows, names)
            t = time.monotonic()
            if args.failover_cmd:
                failover = Failover(args.failover_cmd, args.failover_ms)
                out["rows_written"] = await write_through_failover(table, expected, args.failover_at, failover, out,
                                                                   deadline - time.monotonic())
            else:
                out["rows_written"] = await write(table, expected)
            out["start"] = args.start
            lap("write", t)
        elif args.scenario == "verify":
            path = fluss.TablePath(args.db, args.table)
            out["table"] = f"{args.db}.{args.table}"
            table = await conn.get_table(path)
            names = table_columns(table)
            out["columns"] = len(names)
            buckets = table.get_table_info().num_buckets
            expected = Expected(args.seed, args.start, args.rows, names)
            t = time.monotonic()
            earliest, latest, out["offsets"] = await list_offsets(admin, path, buckets, args.rows)
            lap("list_offsets", t)
            t = time.monotonic()
            ids = await scan(table, earliest, latest, expected, names, False, deadline)
            out["rows_read"] = sum(len(v) for v in ids.values())
            lap("scan", t)
            if args.drop:
                t = time.monotonic()
                await admin.drop_table(path, False)
                await admin.drop_database(args.db, True, True)
                lap("drop", t)
        else:
            raise ValueError(f"unknown scenario {args.scenario}")
    finally:
        await conn.close()


def parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="interop.py", description=__doc__.splitlines()[0])
    p.add_argument("bootstrap")
    p.add_argument("scenario", choices=["ping", "log-table", "write", "verify"])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--seed", type=int, default=R.DEFAULT_SEED)
    p.add_argument("--db")
    p.add_argument("--table")
    p.add_argument("--buckets", type=int, default=3)
    p.add_argument("--drop", action="store_true")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--failover-at", type=int, default=-1)
    p.add_argument("--failover-cmd")
    p.add_argument("--failover-ms", type=int, default=5000)
    a = p.parse_args(argv)
    if a.scenario in ("write", "verify") and not (a.db and a.table):
        p.error(f"{a.scenario} needs --db and --table")
    if (a.failover_cmd is not None) != (a.failover_at >= 0) or (a.failover_cmd and a.scenario != "write") \
            or a.failover_at > a.rows:
        p.error("--failover-at M (at most --rows) and --failover-cmd go together, with write")
    return a


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    out = {"scenario": args.scenario, "client": f"pyfluss-{fluss.__version__}", "bootstrap": args.bootstrap}
    seconds: dict = {}
    t0 = time.monotonic()
    rc = 0
    try:
        asyncio.run(run(args, out, seconds))
        out["ok"] = True
    except Exception as e:
        import traceback

        traceback.print_exc()
        out["ok"] = False
        out["error"] = str(e) or repr(e)
        rc = 1
    seconds["total"] = round(time.monotonic() - t0, 3)
    out["seconds"] = seconds
    print(json.dumps(out), flush=True)
    return rc


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # pyfluss 1.0.0 sometimes aborts (SIGABRT, no message) while the interpreter tears down
    # its runtime after a write, once the scenario's verdict is already printed: seen in about
    # 1 run in 4 against strom-server. Leave without that teardown so the exit code is the
    # scenario's. Whether the same happens against the Fluss peer is still to be checked.
    os._exit(code)
