"""Primary-key table interoperability scenario on pyfluss, against any Fluss-compatible server.

The server is the one at $STROM_BOOTSTRAP (default 127.0.0.1:9123). The tests run in file order
and share one table: create a database and a primary-key table (key (k_grp, id), bucket key
k_grp, 3 buckets, every value column pyfluss can create), then the workload of pk.py phase by
phase (upserts of 100,000 keys, full updates, partial updates, deletes, re-inserts), then a
lookup of every key, a prefix lookup of every group, the whole changelog key by key with its
change types and rows, a limit scan of every bucket, and the drop. Every check compares with
the model of pk.py. STROM_INTEROP_ROWS overrides the key count (default 100000).
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

import fluss
import interop
import pk
import rows as R

BOOTSTRAP = interop.bootstrap_from_env()
ROWS = int(os.environ.get("STROM_INTEROP_ROWS", "100000"))
BUCKETS = 3
SEED = R.DEFAULT_SEED
TIMEOUT_S = 600


@pytest.fixture(scope="module")
def loop():
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


async def _call(fn, *args):
    # pyfluss methods need a running event loop when called, not only when awaited.
    return await fn(*args)


@pytest.fixture(scope="module")
def state(loop):
    st = {
        "conn": loop.run_until_complete(pk.connect(BOOTSTRAP)),
        "db": f"interop_pytest_pk_{os.getpid():x}_{int(time.time()) & 0xFFFF:x}",
        "seconds": {},
        "out": {},
        "t0": time.monotonic(),
    }
    st["path"] = fluss.TablePath(st["db"], "pk_all_types")
    st["admin"] = st["conn"].get_admin()
    yield st
    loop.run_until_complete(_call(st["admin"].drop_database, st["db"], True, True))
    loop.run_until_complete(_call(st["conn"].close))
    interop.SUMMARIES.append(
        {
            "scenario": "pk-table",
            "client": f"pyfluss-{fluss.__version__}",
            "bootstrap": BOOTSTRAP,
            **st["out"],
            "seconds": {**st["seconds"], "total": round(time.monotonic() - st["t0"], 3)},
        }
    )


def timed(st, name, loop, coro):
    t = time.monotonic()
    result = loop.run_until_complete(coro)
    st["seconds"][name] = round(time.monotonic() - t, 3)
    return result


def need(st, *keys):
    for k in keys:
        if k not in st:
            pytest.skip(f"an earlier step did not produce {k}")


def test_create_primary_key_table(loop, state):
    admin = state["admin"]

    async def go():
        await admin.create_database(state["db"], fluss.DatabaseDescriptor(comment="strom interop"), False)
        await admin.create_table(state["path"], pk.descriptor(BUCKETS), False)
        info = await admin.get_table_info(state["path"])
        assert info.has_primary_key()
        assert info.get_primary_keys() == [pk.KEY_GROUP, "id"]
        assert info.get_bucket_keys() == [pk.KEY_GROUP]
        assert info.num_buckets == BUCKETS
        return await state["conn"].get_table(state["path"])

    table = timed(state, "create", loop, go())
    assert table.has_primary_key()
    layout = pk.Layout(table.get_table_info().get_schema().get_columns())
    assert layout.values == R.CREATABLE[1:]
    state["table"], state["layout"] = table, layout
    state["model"] = pk.Model(layout.values, ROWS)
    state["done"] = []


@pytest.mark.parametrize("phase", pk.PHASES)
def test_write_phase(loop, state, phase):
    need(state, "table")
    if state["done"] != pk.PHASES[: pk.PHASES.index(phase)]:
        pytest.skip("an earlier phase did not complete")
    steps = pk.steps(phase, ROWS)
    n = timed(state, f"write_{phase}", loop, pk.write_phase(state["table"], state["layout"], SEED, steps))
    assert n == len(steps)
    for s in steps:
        state["model"].apply(*s)
    state["done"].append(phase)
    state["out"]["live_keys"] = len(state["model"].state)
    state["out"]["changes_expected"] = state["model"].change_count


def _written(state):
    need(state, "table")
    if state["done"] != pk.PHASES:
        pytest.skip("not every phase was written")


def test_lookup_every_key(loop, state):
    _written(state)
    timed(state, "lookup", loop, pk.lookup_all(state["table"], state["layout"], state["model"], SEED, state["out"]))
    assert state["out"]["lookups_found"] == len(state["model"].state)


def test_prefix_lookup_every_group(loop, state):
    _written(state)
    timed(
        state,
        "prefix_lookup",
        loop,
        pk.prefix_lookup_all(state["table"], state["layout"], state["model"], SEED, state["out"]),
    )
    assert state["out"]["prefix_rows"] == len(state["model"].state)


def test_changelog(loop, state):
    _written(state)
    deadline = time.monotonic() + TIMEOUT_S
    state["bucket_of"] = timed(
        state,
        "changelog",
        loop,
        pk.changelog(
            state["admin"], state["path"], state["table"], state["layout"], state["model"], SEED, deadline, state["out"]
        ),
    )
    types = state["out"]["change_types"]
    assert set(types) == {"+I", "-U", "+U", "-D"}
    assert types["-U"] == types["+U"]


def test_limit_scan(loop, state):
    need(state, "bucket_of")
    timed(
        state,
        "limit_scan",
        loop,
        pk.limit_scans(state["table"], state["layout"], state["model"], SEED, state["bucket_of"], state["out"]),
    )


def test_drop_table_and_database(loop, state):
    need(state, "table")
    admin = state["admin"]

    async def go():
        await admin.drop_table(state["path"], False)
        assert not await admin.table_exists(state["path"])
        await admin.drop_database(state["db"], False, True)
        assert not await admin.database_exists(state["db"])

    timed(state, "drop", loop, go())
