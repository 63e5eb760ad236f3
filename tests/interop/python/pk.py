"""Primary-key interop driver on pyfluss (the released Apache Fluss Python client).

Python twin of tests/interop/java/.../PkInterop.java, with the same scenarios, options and
workload (specified in tests/interop/README.md):

    python pk.py BOOTSTRAP pk-table  [--rows N] [--seed S] [--db D] [--buckets B]
    python pk.py BOOTSTRAP pk-write  --db D --table T [--rows N] [--seed S] [--buckets B] [--phases P,...]
                                     [--failover-cmd CMD [--failover-ms D]]
    python pk.py BOOTSTRAP pk-verify --db D --table T [--rows N] [--seed S] [--phases P,...] [--drop]

The table: `id` BIGINT, `k_grp` STRING, then the all-types value columns (without CHAR(8) when
pyfluss creates it); primary key (k_grp, id), bucket key k_grp. Phases: insert (every id, full
upsert), update (full upsert), partial (partial update of PARTIAL columns, also of keys that do
not exist), delete (also of keys that never existed), reinsert. Verification: a lookup of every
key, a prefix lookup of every group, the whole changelog key by key (+I, -U, +U, -D with their
rows) and a limit scan of every bucket. One line of JSON on stdout; exit 0 only if all matched.
With `--failover-cmd`, `pk-write` runs CMD (e.g. killing a leader, failover.py) once the first
phase is acknowledged and writes the next phase over D ms (default 5000) through the fault.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import decimal
import json
import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

import fluss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from failover import Failover  # noqa: E402

KEY_GROUP = "k_grp"
GROUPS = 97
EXTRA = 50
PARTIAL = ["c_int", "c_string", "c_decimal_big", "c_ltz6"]
PHASES = ["insert", "update", "partial", "delete", "reinsert"]
NULL_GEN = -1
# 9999-12-30T21:59:59.999: pyfluss 1.0.0 converts no TIMESTAMP / TIMESTAMP_LTZ beyond it.
PK_MAX_MILLIS = 253402207199999
TS_COLUMNS = ("c_ts3", "c_ts6", "c_ltz3", "c_ltz6")
LOOKUPERS = 512
LIMIT = 100
POLL_MS = 500

EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MICRO = dt.timedelta(microseconds=1)


def group(row_id: int) -> str:
    return f"grp-\u00fc{row_id % GROUPS}"


# ---------------------------------------------------------------- values


def value(seed: int, gen: int, row_id: int, name: str):
    """Column `name` of key row_id written by generation gen, in rows.py units (None = NULL)."""
    if gen == NULL_GEN:
        return None
    s = (seed + gen) & R.MASK
    col = R.INDEX[name]
    if name in TS_COLUMNS and R.word(s, row_id, col) & 15 == 2:
        return PK_MAX_MILLIS if name in ("c_ts3", "c_ltz3") else PK_MAX_MILLIS * 1000 + 999
    return R.value(s, row_id, col)


def to_py(name: str, v):
    """A rows.py value as the Python object pyfluss's row API takes for the column."""
    if v is None:
        return None
    if name == "c_date":
        return EPOCH_DATE + dt.timedelta(days=v)
    if name == "c_time0":
        return dt.time(v // 3600, v // 60 % 60, v % 60)
    if name == "c_time3":
        s, ms = divmod(v, 1000)
        return dt.time(s // 3600, s // 60 % 60, s % 60, ms * 1000)
    if name in ("c_ts3", "c_ltz3", "c_ts6", "c_ltz6"):
        micros = v * 1000 if name in ("c_ts3", "c_ltz3") else v
        if name.startswith("c_ltz"):
            return EPOCH_UTC + dt.timedelta(microseconds=micros)
        return EPOCH + dt.timedelta(microseconds=micros)
    return v


def canon(name: str, v):
    """A comparable form of a column value, from either a rows.py value or what pyfluss read."""
    if v is None:
        return None
    if name == "c_date":
        return (v - EPOCH_DATE).days if isinstance(v, dt.date) else v
    if name == "c_time0":
        return (v.hour * 3600 + v.minute * 60 + v.second) * 1000 + v.microsecond // 1000 if isinstance(v, dt.time) else v * 1000
    if name == "c_time3":
        return (v.hour * 3600 + v.minute * 60 + v.second) * 1000 + v.microsecond // 1000 if isinstance(v, dt.time) else v
    if name in TS_COLUMNS:
        if hasattr(v, "to_pydatetime"):  # pandas Timestamp
            v = v.to_pydatetime()
        if isinstance(v, dt.datetime):
            if v.tzinfo is None:
                return ("naive" if name.startswith("c_ts") else "naive-ltz", (v - EPOCH) // MICRO)
            return ("aware" if name.startswith("c_ltz") else "aware-ntz", (v - EPOCH_UTC) // MICRO)
        micros = v * 1000 if name in ("c_ts3", "c_ltz3") else v
        return ("naive" if name.startswith("c_ts") else "aware", micros)
    if name in ("c_decimal_compact", "c_decimal_big"):
        # By value: pyfluss reads a zero as Decimal('0'), without the column's scale.
        return ("dec", decimal.Decimal(v))
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    return R._key(v)


# ---------------------------------------------------------------- table layout and model


class Layout:
    """The columns of an existing primary-key interop table: id, k_grp, value columns."""

    def __init__(self, columns: List[Tuple[str, str]]):
        names = [n for n, _ in columns]
        if names[:2] != ["id", KEY_GROUP]:
            raise AssertionError(f"a primary-key interop table starts with id, k_grp; got {names}")
        if R.type_name(columns[1][1]) != "string":
            raise AssertionError(f"k_grp has type {columns[1][1]}")
        R.columns_of([columns[0]] + columns[2:])  # type check of id and the value columns
        self.names = names
        self.values = names[2:]
        if "id" in self.values or KEY_GROUP in self.values:
            raise AssertionError(f"duplicate key column in {names}")
        self.partial_targets = ["id", KEY_GROUP] + [n for n in self.values if n in PARTIAL]

    def row(self, seed: int, row_id: int, gens: Sequence[int], only: Optional[Sequence[str]] = None) -> dict:
        r = {"id": row_id, KEY_GROUP: group(row_id)}
        for name, g in zip(self.values, gens):
            if only is None or name in only:
                r[name] = to_py(name, value(seed, g, row_id, name))
        return r

    def diff(self, got: dict, seed: int, row_id: int, gens: Sequence[int]) -> Optional[str]:
        if got is None:
            return f"key {row_id}: no row"
        if set(got) != set(self.names):
            return f"key {row_id}: row has columns {sorted(got)}, expected {sorted(self.names)}"
        if got["id"] != row_id:
            return f"key {row_id}: id read as {got['id']!r}"
        if got[KEY_GROUP] != group(row_id):
            return f"key {row_id}: k_grp read as {got[KEY_GROUP]!r}, expected {group(row_id)!r}"
        for name, g in zip(self.values, gens):
            exp = canon(name, value(seed, g, row_id, name))
            act = canon(name, got[name])
            if exp != act:
                return f"key {row_id} column {name} (generation {g}): expected {exp!r}, read {act!r} ({got[name]!r})"
        return None


def steps(phase: str, rows: int) -> List[Tuple[int, str, int]]:
    """(id, op, generation) of a phase, in write order; op is upsert, partial or delete."""
    if phase == "insert":
        return [(i, "upsert", 0) for i in range(rows)]
    if phase == "update":
        return [(i, "upsert", 1) for i in range(rows) if i % 10 in (1, 2)]
    if phase == "partial":
        return [(i, "partial", 2) for i in range(rows) if i % 10 in (2, 3, 4)] + [
            (i, "partial", 2) for i in range(rows, rows + EXTRA)
        ]
    if phase == "delete":
        return [(i, "delete", 0) for i in range(rows) if i % 10 in (4, 5)] + [
            (i, "delete", 0) for i in range(rows + EXTRA, rows + 2 * EXTRA)
        ]
    if phase == "reinsert":
        return [(i, "upsert", 3) for i in range(rows) if i % 20 == 5]
    raise ValueError(f"unknown phase {phase}")


def parse_phases(csv: str) -> List[str]:
    out = [p.strip() for p in csv.split(",")]
    idx = [PHASES.index(p) if p in PHASES else -1 for p in out]
    if -1 in idx or idx != sorted(set(idx)):
        raise argparse.ArgumentTypeError(f"phases must be a subset of {','.join(PHASES)} in that order")
    return out


class Model:
    """Per key: the value generations it holds (absent = no row) and its changes in log order."""

    def __init__(self, values: Sequence[str], rows: int):
        self.values = list(values)
        self.partial = [n in PARTIAL for n in self.values]
        self.rows = rows
        self.state: Dict[int, List[int]] = {}
        self.changes: Dict[int, List[Tuple[str, List[int]]]] = {}
        self.change_count = 0

    def _log(self, row_id: int, kind: str, gens: List[int]) -> None:
        self.changes.setdefault(row_id, []).append((kind, gens))
        self.change_count += 1

    def _put(self, row_id: int, old: Optional[List[int]], now: List[int]) -> None:
        self.state[row_id] = now
        if old is None:
            self._log(row_id, "+I", now)
        else:
            self._log(row_id, "-U", old)
            self._log(row_id, "+U", now)

    def apply(self, row_id: int, op: str, gen: int) -> None:
        old = self.state.get(row_id)
        if op == "upsert":
            self._put(row_id, old, [gen] * len(self.values))
        elif op == "partial":
            base = list(old) if old is not None else [NULL_GEN] * len(self.values)
            self._put(row_id, old, [gen if p else g for p, g in zip(self.partial, base)])
        elif op == "delete":
            if old is not None:
                del self.state[row_id]
                self._log(row_id, "-D", old)
        else:
            raise ValueError(op)

    def key_space(self) -> int:
        return self.rows + 2 * EXTRA

    @staticmethod
    def after(values: Sequence[str], rows: int, phases: Sequence[str]) -> "Model":
        m = Model(values, rows)
        for p in phases:
            for s in steps(p, rows):
                m.apply(*s)
        return m


def pa_schema(names: Sequence[str]) -> pa.Schema:
    fields = [("id", pa.int64()), (KEY_GROUP, pa.string())] + [(n, R.COLUMNS[n][1]) for n in names if n != "id"]
    return pa.schema(fields)


def descriptor(buckets: int) -> fluss.TableDescriptor:
    schema = fluss.Schema(pa_schema(R.CREATABLE), primary_keys=[KEY_GROUP, "id"])
    return fluss.TableDescriptor(
        schema, bucket_count=buckets, bucket_keys=[KEY_GROUP], comment="strom interop primary-key table"
    )


# ---------------------------------------------------------------- steps


async def connect(bootstrap: str) -> fluss.FlussConnection:
    return await fluss.FlussConnection.create(fluss.Config({"bootstrap.servers": bootstrap}))


def check_keys(info) -> None:
    assert info.has_primary_key(), "table has no primary key"
    assert info.get_primary_keys() == [KEY_GROUP, "id"], f"primary key {info.get_primary_keys()}"
    assert info.get_bucket_keys() == [KEY_GROUP], f"bucket key {info.get_bucket_keys()}"


async def write_phase(table: fluss.FlussTable, layout: Layout, seed: int, phase_steps,
                      pacer: Optional[Failover] = None) -> int:
    full = table.new_upsert().create_writer()
    partial = table.new_upsert().partial_update_by_name(layout.partial_targets).create_writer()
    partial_values = [n for n in layout.values if n in PARTIAL]
    handles = []
    for i, (row_id, op, gen) in enumerate(phase_steps):
        if pacer is not None and i % 50 == 0:
            await pacer.pace(i, len(phase_steps))
        if op == "upsert":
            handles.append(full.upsert(layout.row(seed, row_id, [gen] * len(layout.values))))
        elif op == "partial":
            handles.append(partial.upsert(layout.row(seed, row_id, [gen] * len(layout.values), partial_values)))
        else:
            handles.append(full.delete({"id": row_id, KEY_GROUP: group(row_id)}))
    await full.flush()
    await partial.flush()
    for h in handles:
        await h.wait()
    return len(handles)


async def write(table: fluss.FlussTable, layout: Layout, seed: int, rows: int, phases: Sequence[str], out, seconds,
                failover: Optional[Failover] = None, timeout: float = 600):
    """Writes the given phases; the earlier ones are replayed into the model only. With a failover,
    its command starts once the first written phase is acknowledged, during the next one."""
    model = Model(layout.values, rows)
    written = {}
    last = PHASES.index(phases[-1])
    t_start = time.monotonic()
    for phase in PHASES[: last + 1]:
        ph = steps(phase, rows)
        if phase in phases:
            during = None
            if failover is not None and not failover.started and written:
                await failover.start()
                during = failover
            t = time.monotonic()
            written[phase] = await write_phase(table, layout, seed, ph, during)
            seconds[f"write_{phase}"] = round(time.monotonic() - t, 3)
        for s in ph:
            model.apply(*s)
    out["writes"] = written
    if failover is not None:
        assert failover.started, "--failover-cmd needs at least two phases to write"
        await failover.finish(timeout - (time.monotonic() - t_start))
        out["failover"] = failover.report()
    out["live_keys"] = len(model.state)
    out["changes_expected"] = model.change_count
    return model


async def fan_out(make_lookuper, items: Sequence, call) -> list:
    """Runs call(lookuper, item) for every item on LOOKUPERS lookupers; results in item order.

    A pyfluss 1.0.0 lookuper answers one lookup at a time (each takes about 100 ms, the client's
    batching delay) however many are awaited at once; separate lookupers run concurrently.
    """
    results: list = [None] * len(items)
    n = min(LOOKUPERS, len(items))
    lookupers = [make_lookuper() for _ in range(n)]

    async def worker(k: int) -> None:
        for j in range(k, len(items), n):
            try:
                results[j] = await call(lookupers[k], items[j])
            except Exception as e:  # reported per key by the caller
                results[j] = e

    await asyncio.gather(*[worker(k) for k in range(n)])
    return results


async def lookup_all(table: fluss.FlussTable, layout: Layout, model: Model, seed: int, out) -> None:
    keys = model.key_space()
    results = await fan_out(
        lambda: table.new_lookup().create_lookuper(),
        range(keys),
        lambda lk, i: lk.lookup({KEY_GROUP: group(i), "id": i}),
    )
    errors: List[str] = []
    found = 0
    for i, r in enumerate(results):
        gens = model.state.get(i)
        if isinstance(r, BaseException):
            errors.append(f"key {i}: lookup failed: {r}")
        elif gens is None:
            if r is not None:
                errors.append(f"key {i}: found {r!r}, expected no row")
        elif r is None:
            errors.append(f"key {i}: not found")
        else:
            found += 1
            err = layout.diff(r, seed, i, gens)
            if err:
                errors.append(err)
    out["lookups"] = keys
    out["lookups_found"] = found
    assert not errors, f"{len(errors)} lookups differ; first: {errors[0]}"
    assert found == len(model.state), f"found {found} keys, expected {len(model.state)}"


async def prefix_lookup_all(table: fluss.FlussTable, layout: Layout, model: Model, seed: int, out) -> None:
    by_group: Dict[str, Dict[int, List[int]]] = {}
    for i, gens in model.state.items():
        by_group.setdefault(group(i), {})[i] = gens
    prefixes = [group(g) for g in range(GROUPS)] + [group(g) + "-absent" for g in range(3)]
    results = await fan_out(
        lambda: table.new_lookup().lookup_by([KEY_GROUP]).create_lookuper(),
        prefixes,
        lambda lk, p: lk.lookup({KEY_GROUP: p}),
    )
    total = 0
    for p, got in zip(prefixes, results):
        if isinstance(got, BaseException):
            raise AssertionError(f"prefix lookup {p} failed: {got}")
        want = by_group.get(p, {})
        assert len(got) == len(want), f"prefix {p}: {len(got)} rows, expected {len(want)}"
        seen = set()
        for r in got:
            i = r["id"]
            assert i in want, f"prefix {p} returned key {i}, not expected"
            assert i not in seen, f"prefix {p} returned key {i} twice"
            seen.add(i)
            err = layout.diff(r, seed, i, want[i])
            assert err is None, f"prefix lookup: {err}"
        total += len(got)
    out["prefix_lookups"] = len(prefixes)
    out["prefix_rows"] = total


async def changelog(admin, path, table, layout: Layout, model: Model, seed: int, deadline: float, out) -> Dict[int, int]:
    buckets = table.get_table_info().num_buckets
    ids = list(range(buckets))
    earliest = await admin.list_offsets(path, ids, fluss.OffsetSpec.earliest())
    latest = await admin.list_offsets(path, ids, fluss.OffsetSpec.latest())
    for b in ids:
        assert earliest[b] == 0, f"bucket {b} earliest offset {earliest[b]}"
    total = sum(latest[b] for b in ids)
    out["offsets"] = [{"bucket": b, "latest": latest[b]} for b in ids]
    assert total == model.change_count, f"changelog holds {total} records, expected {model.change_count}"

    scanner = await table.new_scan().create_log_scanner()
    scanner.subscribe_buckets({b: fluss.EARLIEST_OFFSET for b in ids if latest[b] > 0})
    next_off = {b: 0 for b in ids}
    bucket_of: Dict[int, int] = {}
    position: Dict[int, int] = {}
    types: Dict[str, int] = {}
    read = 0
    while read < total:
        if time.monotonic() > deadline:
            raise AssertionError(f"timeout while reading the changelog (read {read} of {total})")
        recs = await scanner.poll(POLL_MS)
        for tb, records in recs.items():
            b = tb.bucket_id
            for rec in records:
                where = f"bucket {b} offset {rec.offset}"
                assert rec.offset == next_off[b], f"{where}: expected offset {next_off[b]}"
                assert rec.offset < latest[b], f"{where}: beyond latest {latest[b]}"
                row = rec.row
                i = row["id"]
                assert bucket_of.setdefault(i, b) == b, f"key {i} in buckets {bucket_of[i]} and {b}"
                k = position.get(i, 0)
                position[i] = k + 1
                kind = rec.change_type.short_string()
                want = model.changes.get(i)
                assert want is not None and k < len(want), f"key {i}: unexpected change #{k + 1} {kind} at {where}"
                assert kind == want[k][0], f"key {i} change #{k + 1}: {kind}, expected {want[k][0]} ({where})"
                err = layout.diff(row, seed, i, want[k][1])
                assert err is None, f"change #{k + 1} {kind} of {err}"
                types[kind] = types.get(kind, 0) + 1
                next_off[b] += 1
                read += 1
    for i, want in model.changes.items():
        assert position.get(i, 0) == len(want), f"key {i}: {position.get(i, 0)} changes read, expected {len(want)}"
    out["changes_read"] = read
    out["change_types"] = types
    return bucket_of


async def limit_scans(table, layout: Layout, model: Model, seed: int, bucket_of: Dict[int, int], out) -> None:
    info = table.get_table_info()
    live = [0] * info.num_buckets
    for i in model.state:
        live[bucket_of[i]] += 1
    total = 0
    for b in range(info.num_buckets):
        scanner = table.new_scan().limit(LIMIT).create_bucket_batch_scanner(fluss.TableBucket(info.table_id, b))
        got = (await scanner.to_arrow()).to_pylist()
        want = min(LIMIT, live[b])
        assert len(got) == want, f"limit scan of bucket {b}: {len(got)} rows, expected {want}"
        seen = set()
        for r in got:
            i = r["id"]
            assert i not in seen, f"limit scan of bucket {b} returned key {i} twice"
            seen.add(i)
            assert i in model.state, f"limit scan of bucket {b} returned key {i}, which is not live"
            assert bucket_of[i] == b, f"limit scan of bucket {b} returned key {i} of bucket {bucket_of[i]}"
            err = layout.diff(r, seed, i, model.state[i])
            assert err is None, f"limit scan: {err}"
        total += len(got)
    out["limit_scan_rows"] = total


async def verify(conn, admin, path, rows: int, seed: int, phases: Sequence[str], deadline: float, out, seconds) -> None:
    table = await conn.get_table(path)
    info = table.get_table_info()
    check_keys(info)
    layout = Layout(info.get_schema().get_columns())
    out["columns"] = len(layout.names)
    model = Model.after(layout.values, rows, phases)
    out["live_keys"] = len(model.state)

    def lap(name, t):
        seconds[name] = round(time.monotonic() - t, 3)

    t = time.monotonic()
    await lookup_all(table, layout, model, seed, out)
    lap("lookup", t)
    t = time.monotonic()
    await prefix_lookup_all(table, layout, model, seed, out)
    lap("prefix_lookup", t)
    t = time.monotonic()
    bucket_of = await changelog(admin, path, table, layout, model, seed, deadline, out)
    lap("changelog", t)
    t = time.monotonic()
    await limit_scans(table, layout, model, seed, bucket_of, out)
    lap("limit_scan", t)


async def run(args: argparse.Namespace, out: dict, seconds: dict) -> None:
    deadline = time.monotonic() + args.timeout
    conn = await connect(args.bootstrap)
    try:
        admin = conn.get_admin()
        if args.scenario == "pk-table":
            args.db = args.db or f"interop_py_pk_{os.getpid():x}_{int(time.time()) & 0xFFFF:x}"
            args.table = "pk_all_types"
        path = fluss.TablePath(args.db, args.table)
        out["table"] = f"{args.db}.{args.table}"
        if args.scenario in ("pk-table", "pk-write"):
            must_create = args.scenario == "pk-table"
            t = time.monotonic()
            await admin.create_database(args.db, fluss.DatabaseDescriptor(comment="strom interop"), not must_create)
            await admin.create_table(path, descriptor(args.buckets), not must_create)
            seconds["create"] = round(time.monotonic() - t, 3)
            table = await conn.get_table(path)
            info = table.get_table_info()
            check_keys(info)
            layout = Layout(info.get_schema().get_columns())
            out["columns"] = len(layout.names)
            failover = Failover(args.failover_cmd, args.failover_ms) if args.failover_cmd else None
            await write(table, layout, args.seed, args.rows, args.phases, out, seconds, failover,
                        deadline - time.monotonic())
        if args.scenario in ("pk-table", "pk-verify"):
            await verify(conn, admin, path, args.rows, args.seed, args.phases, deadline, out, seconds)
        if args.scenario == "pk-table" or args.drop:
            t = time.monotonic()
            await admin.drop_table(path, False)
            assert not await admin.table_exists(path), "table still exists after drop"
            await admin.drop_database(args.db, True, True)
            seconds["drop"] = round(time.monotonic() - t, 3)
    finally:
        await conn.close()


def parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pk.py", description=__doc__.splitlines()[0])
    p.add_argument("bootstrap")
    p.add_argument("scenario", choices=["pk-table", "pk-write", "pk-verify"])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=R.DEFAULT_SEED)
    p.add_argument("--db")
    p.add_argument("--table")
    p.add_argument("--buckets", type=int, default=3)
    p.add_argument("--phases", type=parse_phases, default=list(PHASES))
    p.add_argument("--drop", action="store_true")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--failover-cmd")
    p.add_argument("--failover-ms", type=int, default=5000)
    a = p.parse_args(argv)
    if a.scenario != "pk-table" and not (a.db and a.table):
        p.error(f"{a.scenario} needs --db and --table")
    if a.failover_cmd and a.scenario == "pk-verify":
        p.error("--failover-cmd is for pk-write and pk-table")
    return a


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    out = {
        "scenario": args.scenario,
        "client": f"pyfluss-{fluss.__version__}",
        "bootstrap": args.bootstrap,
        "phases": args.phases,
    }
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
    # pyfluss 1.0.0 sometimes aborts while the interpreter tears down (see interop.py).
    os._exit(code)
