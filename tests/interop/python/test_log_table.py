"""Log-table interoperability scenario on pyfluss, against any Fluss-compatible server.

The server is the one at $STROM_BOOTSTRAP (default 127.0.0.1:9123): the released Apache Fluss
server (bench/peer/fluss-peer.sh) or Strom. The tests run in file order and share one table:
create a database and an all-types log table with 3 buckets, append 100,000 deterministic rows
(rows.py: nulls and edge values included), list offsets, scan everything back and compare every
value, scan a 2-column projection and compare, drop the table and the database.

Every scalar type that pyfluss can create is in the table; CHAR(n) is not (pyfluss makes schemas
from pyarrow schemas, and Arrow has no fixed-length string type). pyfluss reads and writes CHAR
columns of tables made by other clients: the cross-client write/verify helpers cover that.

STROM_INTEROP_ROWS overrides the row count (default 100000).
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

import fluss
import interop
import rows as R

BOOTSTRAP = interop.bootstrap_from_env()
ROWS = int(os.environ.get("STROM_INTEROP_ROWS", "100000"))
BUCKETS = 3
SEED = R.DEFAULT_SEED
TIMEOUT_S = 600


async def _await(fn, *args):
    # pyfluss methods need a running event loop when called, not only when awaited.
    return await fn(*args)


@pytest.fixture(scope="module")
def loop():
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


@pytest.fixture(scope="module")
def state(loop):
    """Connection, table path and what earlier steps found; prints a JSON summary at the end."""
    st = {
        "conn": loop.run_until_complete(interop.connect(BOOTSTRAP)),
        "db": f"interop_pytest_{os.getpid():x}_{int(time.time()) & 0xFFFF:x}",
        "seconds": {},
        "t0": time.monotonic(),
    }
    st["path"] = fluss.TablePath(st["db"], "log_all_types")
    st["admin"] = st["conn"].get_admin()
    yield st
    admin = st["admin"]
    # Leave nothing behind even when a step failed.
    loop.run_until_complete(_await(admin.drop_database, st["db"], True, True))
    loop.run_until_complete(_await(st["conn"].close))
    summary = {
        "scenario": "log-table",
        "client": f"pyfluss-{fluss.__version__}",
        "bootstrap": BOOTSTRAP,
        "rows_written": st.get("rows_written", 0),
        "rows_read": st.get("rows_read", 0),
        "projected_rows_read": st.get("projected_rows_read", 0),
        "offsets": st.get("offsets"),
        "seconds": {**st["seconds"], "total": round(time.monotonic() - st["t0"], 3)},
    }
    interop.SUMMARIES.append(summary)  # printed by conftest.py after the run


def timed(st, name, loop, coro):
    t = time.monotonic()
    result = loop.run_until_complete(coro)
    st["seconds"][name] = round(time.monotonic() - t, 3)
    return result


def need(st, *keys):
    for k in keys:
        if k not in st:
            pytest.skip(f"an earlier step did not produce {k}")


def test_create_database_and_table(loop, state):
    admin = state["admin"]

    async def go():
        await admin.create_database(state["db"], fluss.DatabaseDescriptor(comment="strom interop"), False)
        assert await admin.database_exists(state["db"])
        await admin.create_table(state["path"], interop.descriptor(BUCKETS), False)
        assert await admin.table_exists(state["path"])
        assert "log_all_types" in await admin.list_tables(state["db"])
        info = await admin.get_table_info(state["path"])
        assert info.num_buckets == BUCKETS
        assert not info.has_primary_key()
        return await state["conn"].get_table(state["path"])

    table = timed(state, "create", loop, go())
    names = interop.table_columns(table)
    assert names == R.CREATABLE
    state["table"] = table
    state["names"] = names


def test_append_rows(loop, state):
    need(state, "table")
    t = time.monotonic()
    expected = interop.Expected(SEED, 0, ROWS, state["names"])
    state["seconds"]["generate"] = round(time.monotonic() - t, 3)
    state["expected"] = expected
    written = timed(state, "write", loop, interop.write(state["table"], expected))
    assert written == ROWS
    state["rows_written"] = written


def test_list_offsets(loop, state):
    need(state, "rows_written")
    earliest, latest, per_bucket = timed(
        state, "list_offsets", loop, interop.list_offsets(state["admin"], state["path"], BUCKETS, ROWS)
    )
    assert sorted(earliest) == list(range(BUCKETS))
    assert sum(latest.values()) - sum(earliest.values()) == ROWS
    state["earliest"], state["latest"], state["offsets"] = earliest, latest, per_bucket


def test_scan_all_rows(loop, state):
    need(state, "latest", "expected")
    deadline = time.monotonic() + TIMEOUT_S
    ids = timed(
        state,
        "scan",
        loop,
        interop.scan(
            state["table"], state["earliest"], state["latest"], state["expected"], state["names"], True, deadline
        ),
    )
    assert sum(len(v) for v in ids.values()) == ROWS
    state["ids_by_offset"] = ids
    state["rows_read"] = ROWS


def test_scan_projection(loop, state):
    need(state, "ids_by_offset")
    deadline = time.monotonic() + TIMEOUT_S
    timed(
        state,
        "scan_projected",
        loop,
        interop.scan(
            state["table"],
            state["earliest"],
            state["latest"],
            state["expected"],
            state["names"],
            True,
            deadline,
            R.PROJECTION,
            state["ids_by_offset"],
        ),
    )
    state["projected_rows_read"] = ROWS


def test_drop_table_and_database(loop, state):
    need(state, "table")
    admin = state["admin"]

    async def go():
        await admin.drop_table(state["path"], False)
        assert not await admin.table_exists(state["path"])
        await admin.drop_database(state["db"], False, True)
        assert not await admin.database_exists(state["db"])

    timed(state, "drop", loop, go())


def test_write_verify_helpers(loop, state):
    """The cross-client helpers: two writes (ids 0..1999, 2000..2999), a verify, a wrong-seed verify."""
    db = state["db"] + "_wv"

    def cli(*args):
        return interop.main([BOOTSTRAP, *args, "--db", db, "--table", "t"])

    try:
        assert cli("write", "--rows", "2000") == 0
        assert cli("write", "--rows", "1000", "--start", "2000") == 0
        assert cli("verify", "--rows", "3000") == 0
        assert cli("verify", "--rows", "3000", "--seed", "7") == 1, "a wrong seed must not verify"
        assert cli("verify", "--rows", "2000") == 1, "a wrong row count must not verify"
    finally:
        loop.run_until_complete(_await(state["admin"].drop_database, db, True, True))
