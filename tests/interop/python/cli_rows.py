"""The all-types interop rows in the JSON forms of the `strom` CLI.

    cli_rows.py check FILE --rows N [--start K] [--seed S]
        FILE holds the JSON lines of `strom scan --format json` over an all-types table:
        every id in [K, K + N) must appear exactly once, with every column equal to the
        generator's value (rows.py, the twin of the Java driver's Rows.java).
    cli_rows.py emit --rows N [--start K] [--seed S] [--columns a,b,...]
        prints rows [K, K + N) as JSON lines that `strom produce` reads (one object per row,
        keyed by column), using the CLI's text forms (src/cli/row_convert.h).

Prints a one-line JSON summary on stderr; exit code 0 only when everything matched.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import decimal
import json
import math
import re
import struct
import sys

import rows

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)
TIME_RE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")
TS_RE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z)?$")


def _fraction_micros(text: str | None) -> int:
    return int((text or "").ljust(6, "0")[:6]) if text else 0


def _epoch_micros(text: str, ltz: bool) -> int:
    m = TS_RE.match(text)
    if not m:
        raise ValueError(f"not a timestamp: {text!r}")
    if ltz != (m.group(8) == "Z"):
        raise ValueError(f"timestamp {text!r}: {'missing' if ltz else 'unexpected'} Z")
    dt = datetime.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)),
                           int(m.group(4)), int(m.group(5)), int(m.group(6)))
    delta = dt - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + _fraction_micros(m.group(7))


def _float_key(v, single: bool):
    """Bit pattern of a float read from JSON (a number, or "NaN" / "Infinity" / "-Infinity")."""
    if isinstance(v, str):
        v = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    if math.isnan(v):
        return "NaN"
    return struct.pack("<f" if single else "<d", v)


def from_cli(name: str, v):
    """A value of the CLI's JSON output as rows.value() would give it (floats as keys)."""
    if v is None:
        return None
    if name in ("c_float", "c_double"):
        return _float_key(v, name == "c_float")
    if name in ("c_binary", "c_bytes"):
        return base64.b64decode(v, validate=True)
    if name in ("c_decimal_compact", "c_decimal_big"):
        return decimal.Decimal(v)
    if name == "c_date":
        return (datetime.date.fromisoformat(v) - EPOCH_DATE).days
    if name in ("c_time0", "c_time3"):
        m = TIME_RE.match(v)
        if not m:
            raise ValueError(f"not a time: {v!r}")
        millis = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))) * 1000
        millis += _fraction_micros(m.group(4)) // 1000
        return millis // 1000 if name == "c_time0" else millis
    if name in ("c_ts3", "c_ltz3", "c_ts6", "c_ltz6"):
        micros = _epoch_micros(v, name.startswith("c_ltz"))
        return micros // 1000 if name.endswith("3") else micros
    return v


def expected_key(name: str, v):
    if v is None:
        return None
    if name in ("c_float", "c_double"):
        return _float_key(v, name == "c_float")
    return v


def _timestamp_text(micros: int, digits: int, ltz: bool) -> str:
    dt = EPOCH + datetime.timedelta(microseconds=micros)
    text = dt.strftime("%Y-%m-%d %H:%M:%S")
    if len(text) < 19:  # strftime may drop the leading zeros of years before 1000
        text = f"{dt.year:04d}" + text[text.index("-"):]
    text += "." + f"{dt.microsecond:06d}"[:digits]
    return text + ("Z" if ltz else "")


def to_cli(name: str, v):
    """A generator value in a JSON form `strom produce` reads."""
    if v is None:
        return None
    if name in ("c_float", "c_double"):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if name in ("c_binary", "c_bytes"):
        return base64.b64encode(v).decode("ascii")
    if name in ("c_decimal_compact", "c_decimal_big"):
        return str(v)
    if name == "c_date":
        d = EPOCH_DATE + datetime.timedelta(days=v)
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    if name == "c_time0":
        return f"{v // 3600:02d}:{v // 60 % 60:02d}:{v % 60:02d}"
    if name == "c_time3":
        s = v // 1000
        return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{v % 1000:03d}"
    if name in ("c_ts3", "c_ltz3"):
        return _timestamp_text(v * 1000, 3, name == "c_ltz3")
    if name in ("c_ts6", "c_ltz6"):
        return _timestamp_text(v, 6, name == "c_ltz6")
    return v


def check(args) -> int:
    seen = set()
    mismatches = 0
    first = None
    lines = 0
    names = None
    with open(args.file, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            lines += 1
            record = json.loads(line)
            row = record["row"]
            if names is None:
                names = list(row)
                rows.columns_of([(n, rows.COLUMNS[n][0]) for n in names])
            row_id = row["id"]
            if row_id in seen or not args.start <= row_id < args.start + args.rows:
                mismatches += 1
                first = first or f"id {row_id} read twice or out of range"
                continue
            seen.add(row_id)
            for name in names[1:]:
                exp = expected_key(name, rows.value(args.seed, row_id, rows.INDEX[name]))
                try:
                    act = from_cli(name, row[name])
                except (ValueError, KeyError, TypeError) as e:
                    act = f"unreadable ({e})"
                if act != exp:
                    mismatches += 1
                    first = first or f"id {row_id} column {name}: expected {exp!r}, read {row[name]!r}"
    ok = mismatches == 0 and len(seen) == args.rows
    summary = {"ok": ok, "rows_read": lines, "distinct_ids": len(seen), "expected": args.rows,
               "columns": len(names or []), "mismatches": mismatches}
    if first:
        summary["first_mismatch"] = first
    print(json.dumps(summary), file=sys.stderr)
    return 0 if ok else 1


def emit(args) -> int:
    names = args.columns.split(",") if args.columns else rows.NAMES
    out = sys.stdout
    for row_id in range(args.start, args.start + args.rows):
        obj = {"id": row_id}
        for name in names[1:]:
            obj[name] = to_cli(name, rows.value(args.seed, row_id, rows.INDEX[name]))
        out.write(json.dumps(obj, ensure_ascii=False, allow_nan=False))
        out.write("\n")
    print(json.dumps({"ok": True, "rows_emitted": args.rows, "columns": len(names)}), file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("file")
    e = sub.add_parser("emit")
    e.add_argument("--columns", default="")
    for p in (c, e):
        p.add_argument("--rows", type=int, required=True)
        p.add_argument("--start", type=int, default=0)
        p.add_argument("--seed", type=int, default=rows.DEFAULT_SEED)
    args = parser.parse_args()
    return check(args) if args.command == "check" else emit(args)


if __name__ == "__main__":
    sys.exit(main())
