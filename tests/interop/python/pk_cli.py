"""Checks a primary-key interop table (pk.py's workload) through Strom's `strom` CLI.

    pk_cli.py STROM BOOTSTRAP --db D --table T [--rows N] [--seed S] [--phases P,...]

Runs, against the model of pk.py after the given phases (default all):
  - `strom scan --snapshot --format json`: every live key exactly once with its current row,
    and every key of a group in one bucket;
  - `strom scan --format json` (the changelog): every key's changes in offset order, with the
    change types +I, -U, +U, -D and their rows;
  - `strom lookup --key` of one key of each kind (inserted, updated, partially updated, deleted,
    re-inserted, partially inserted, never written): the row, or no output;
  - `strom lookup --prefix` of three groups and an absent one: exactly the group's live rows.
Values are read in the CLI's JSON forms (cli_rows.py). Prints a one-line JSON summary; exit 0
only if everything matched.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_rows  # noqa: E402
import pk  # noqa: E402
import rows as R  # noqa: E402

CLI_TIMEOUT_S = 300


class Cli:
    def __init__(self, strom: str, bootstrap: str):
        self.strom = strom
        self.bootstrap = bootstrap
        self.calls = 0

    def json_lines(self, *args: str) -> List[dict]:
        cmd = [self.strom, "-b", self.bootstrap, "--format", "json", *args]
        self.calls += 1
        p = subprocess.run(cmd, capture_output=True, timeout=CLI_TIMEOUT_S)
        if p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited with {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
        return [json.loads(line) for line in p.stdout.decode("utf-8").splitlines() if line.strip()]


def row_diff(row: dict, names: Sequence[str], seed: int, row_id: int, gens: Sequence[int]) -> Optional[str]:
    if list(row) != list(names):
        return f"key {row_id}: columns {list(row)}, expected {list(names)}"
    if row["id"] != row_id or row[pk.KEY_GROUP] != pk.group(row_id):
        return f"key {row_id}: key read as ({row[pk.KEY_GROUP]!r}, {row['id']!r})"
    for name, g in zip(names[2:], gens):
        exp = cli_rows.expected_key(name, pk.value(seed, g, row_id, name))
        try:
            act = cli_rows.from_cli(name, row[name])
        except (ValueError, KeyError, TypeError) as e:
            return f"key {row_id} column {name}: unreadable {row[name]!r} ({e})"
        if act != exp:
            return f"key {row_id} column {name} (generation {g}): expected {exp!r}, read {row[name]!r}"
    return None


def check_snapshot(cli: Cli, target: str, names, model: pk.Model, seed: int, out: dict) -> None:
    records = cli.json_lines("scan", "--snapshot", target)
    seen = set()
    bucket_of_group: Dict[str, int] = {}
    for rec in records:
        row = rec["row"]
        i = row["id"]
        assert i not in seen, f"snapshot: key {i} twice"
        seen.add(i)
        assert i in model.state, f"snapshot: key {i} is not live"
        g = pk.group(i)
        assert bucket_of_group.setdefault(g, rec["bucket"]) == rec["bucket"], f"snapshot: group {g} in two buckets"
        err = row_diff(row, names, seed, i, model.state[i])
        assert err is None, f"snapshot: {err}"
    assert len(seen) == len(model.state), f"snapshot: {len(seen)} rows, expected {len(model.state)}"
    out["snapshot_rows"] = len(seen)


def check_changelog(cli: Cli, target: str, names, model: pk.Model, seed: int, out: dict) -> None:
    records = cli.json_lines("scan", target)
    position: Dict[int, int] = {}
    last_offset: Dict[int, int] = {}
    types: Dict[str, int] = {}
    for rec in records:
        b, off, kind, row = rec["bucket"], rec["offset"], rec["change_type"], rec["row"]
        assert off > last_offset.get(b, -1), f"changelog: bucket {b} offset {off} out of order"
        last_offset[b] = off
        i = row["id"]
        k = position.get(i, 0)
        position[i] = k + 1
        want = model.changes.get(i)
        assert want is not None and k < len(want), f"changelog: key {i} unexpected change #{k + 1} {kind}"
        assert kind == want[k][0], f"changelog: key {i} change #{k + 1} is {kind}, expected {want[k][0]}"
        err = row_diff(row, names, seed, i, want[k][1])
        assert err is None, f"changelog change #{k + 1} {kind}: {err}"
        types[kind] = types.get(kind, 0) + 1
    assert len(records) == model.change_count, f"changelog: {len(records)} records, expected {model.change_count}"
    out["changes_read"] = len(records)
    out["change_types"] = types


def check_lookups(cli: Cli, target: str, names, model: pk.Model, seed: int, out: dict) -> None:
    n = model.rows
    # One key of each residue class mod 10 (each has its own history), a re-inserted key, two
    # partially inserted keys and two never written.
    keys = [k for k in range(20, 30) if k < n] + [k for k in (5, n, n + 1, n + pk.EXTRA, n + 2 * pk.EXTRA + 7)]
    found = 0
    for i in keys:
        got = cli.json_lines("lookup", target, "--key", json.dumps({pk.KEY_GROUP: pk.group(i), "id": i}, ensure_ascii=False))
        gens = model.state.get(i)
        if gens is None:
            assert got == [], f"lookup of absent key {i} printed {got!r}"
            continue
        assert len(got) == 1, f"lookup of key {i} printed {len(got)} rows"
        err = row_diff(got[0], names, seed, i, gens)
        assert err is None, f"lookup: {err}"
        found += 1
    prefixes = [pk.group(g) for g in (0, 1, pk.GROUPS - 1)] + [pk.group(0) + "-absent"]
    prefix_rows = 0
    for p in prefixes:
        got = cli.json_lines("lookup", target, "--prefix", json.dumps({pk.KEY_GROUP: p}, ensure_ascii=False))
        want = {i: g for i, g in model.state.items() if pk.group(i) == p}
        ids = [r["id"] for r in got]
        assert sorted(ids) == sorted(want), f"prefix lookup {p}: keys {sorted(ids)[:10]}..., expected {sorted(want)[:10]}..."
        for r in got:
            err = row_diff(r, names, seed, r["id"], want[r["id"]])
            assert err is None, f"prefix lookup {p}: {err}"
        prefix_rows += len(got)
    out["lookups"] = len(keys)
    out["lookups_found"] = found
    out["prefix_lookups"] = len(prefixes)
    out["prefix_rows"] = prefix_rows


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="pk_cli.py", description=__doc__.splitlines()[0])
    p.add_argument("strom")
    p.add_argument("bootstrap")
    p.add_argument("--db", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=R.DEFAULT_SEED)
    p.add_argument("--phases", type=pk.parse_phases, default=list(pk.PHASES))
    args = p.parse_args(argv)
    out: dict = {"scenario": "pk-cli", "client": "strom-cli", "bootstrap": args.bootstrap,
                 "table": f"{args.db}.{args.table}", "phases": args.phases}
    seconds: dict = {}
    t0 = time.monotonic()
    cli = Cli(args.strom, args.bootstrap)
    target = f"{args.db}.{args.table}"
    rc = 0
    try:
        # The columns come from the table itself: the first row of the snapshot names them.
        first = cli.json_lines("scan", "--snapshot", target, "--limit", "1")
        assert first, "the snapshot of the table is empty"
        names = list(first[0]["row"])
        layout = pk.Layout([(n, R.COLUMNS[n][0] if n in R.COLUMNS else "string") for n in names])
        model = pk.Model.after(layout.values, args.rows, args.phases)
        out["columns"] = len(names)
        out["live_keys"] = len(model.state)
        for name, fn in (("snapshot", check_snapshot), ("changelog", check_changelog), ("lookup", check_lookups)):
            t = time.monotonic()
            fn(cli, target, names, model, args.seed, out)
            seconds[name] = round(time.monotonic() - t, 3)
        out["ok"] = True
    except Exception as e:
        import traceback

        traceback.print_exc()
        out["ok"] = False
        out["error"] = str(e) or repr(e)
        rc = 1
    out["cli_calls"] = cli.calls
    seconds["total"] = round(time.monotonic() - t0, 3)
    out["seconds"] = seconds
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
