"""The deterministic all-types table shared by every interop client.

Python twin of tests/interop/java/src/main/java/strom/interop/Rows.java: a row is a pure
function of (seed, id), so any client can regenerate any row and check another client's
writes. The generator is specified in tests/interop/README.md; both must agree bit for bit.

pyfluss builds a table schema from a pyarrow schema, and Arrow has no fixed-length string
type, so pyfluss cannot create the CHAR(8) column `c_char`: tables created from Python hold
every other column. Reads and writes follow the columns a table actually has (by name).
"""

from __future__ import annotations

import decimal
import math
import struct
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import pyarrow as pa

MASK = (1 << 64) - 1
DEFAULT_SEED = 20260101

CHAR_LEN = 8
BINARY_LEN = 6

# Column name -> (Fluss type as pyfluss reports it, Arrow type used to write and read it).
COLUMNS: Dict[str, tuple] = {
    "id": ("bigint", pa.int64()),
    "c_boolean": ("boolean", pa.bool_()),
    "c_tinyint": ("tinyint", pa.int8()),
    "c_smallint": ("smallint", pa.int16()),
    "c_int": ("int", pa.int32()),
    "c_bigint": ("bigint", pa.int64()),
    "c_float": ("float", pa.float32()),
    "c_double": ("double", pa.float64()),
    "c_char": ("char(8)", pa.string()),
    "c_string": ("string", pa.string()),
    "c_binary": ("binary(6)", pa.binary(BINARY_LEN)),
    "c_bytes": ("bytes", pa.binary()),
    "c_decimal_compact": ("decimal(10,2)", pa.decimal128(10, 2)),
    "c_decimal_big": ("decimal(28,6)", pa.decimal128(28, 6)),
    "c_date": ("date", pa.date32()),
    "c_time0": ("time", pa.time32("s")),
    "c_time3": ("time(3)", pa.time32("ms")),
    "c_ts3": ("timestamp(3)", pa.timestamp("ms")),
    "c_ts6": ("timestamp", pa.timestamp("us")),
    "c_ltz3": ("timestamp_ltz(3)", pa.timestamp("ms", tz="UTC")),
    "c_ltz6": ("timestamp_ltz", pa.timestamp("us", tz="UTC")),
}
NAMES: List[str] = list(COLUMNS)
# Column index (the `col` input of the generator) = position in NAMES, as in Rows.java.
INDEX = {n: i for i, n in enumerate(NAMES)}
# What pyfluss cannot create (no Arrow type maps to Fluss CHAR(n)).
NOT_CREATABLE = ["c_char"]
CREATABLE: List[str] = [n for n in NAMES if n not in NOT_CREATABLE]
PROJECTION = ["c_string", "c_decimal_big"]


def arrow_schema(names: Sequence[str] = CREATABLE) -> pa.Schema:
    return pa.schema([(n, COLUMNS[n][1]) for n in names])


# ---------------------------------------------------------------- generator (scalar reference)


def splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def word(seed: int, row_id: int, col: int) -> int:
    return splitmix64((seed & MASK) ^ splitmix64(((row_id << 6) | col) & MASK))


def signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


CHAR_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
UNICODE = "h\u00e9llo w\u00f6rld \u2713 \U0001d11e \u4e2d\u6587 "
TEN28M1 = 10**28 - 1
MIN_MILLIS = -62135596800000  # 0001-01-01T00:00:00
MAX_MILLIS = 253402300799999  # 9999-12-31T23:59:59.999
FLT_MAX = struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0]
FLT_MIN_SUB = struct.unpack("<f", struct.pack("<I", 1))[0]  # Java Float.MIN_VALUE
DBL_MIN_SUB = 5e-324  # Java Double.MIN_VALUE


def fill_bytes(n: int, r: int) -> bytes:
    out = bytearray(n)
    w = 0
    for k in range(n):
        if k % 8 == 0:
            w = splitmix64((r + k // 8) & MASK)
        out[k] = (w >> (8 * (k % 8))) & 0xFF
    return bytes(out)


def millis3(kind: int, u: int) -> int:
    return {1: MIN_MILLIS, 2: MAX_MILLIS, 3: 0, 4: -1}.get(kind, u % 4_000_000_000_000 - 1_000_000_000_000)


def micros6(kind: int, u: int) -> int:
    # Before 1970 whole milliseconds only: the released Java client 0.9.1 cannot read a
    # negative micro value with a sub-millisecond part (see tests/interop/README.md).
    if kind in (1, 2, 3, 4, 5):
        return {1: MIN_MILLIS * 1000, 2: MAX_MILLIS * 1000 + 999, 3: 0, 4: -1000, 5: 999}[kind]
    v = u % 4_000_000_000_000_000 - 1_000_000_000_000_000
    return v - (v % 1000) if v < 0 else v


def words(seed: int, ids: np.ndarray, col: int) -> List[int]:
    """word(seed, id, col) for every id, computed with numpy (uint64 arithmetic wraps)."""

    def mix(x: np.ndarray) -> np.ndarray:
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    x = (ids.astype(np.uint64) << np.uint64(6)) | np.uint64(col)
    return mix(np.uint64(seed & MASK) ^ mix(x)).tolist()


def value(seed: int, row_id: int, col: int):
    """Column `col` (1..20) of row `row_id` as the Python value pyarrow writes; None for NULL.

    Temporal columns are integers in the Arrow unit of their column (days, seconds or
    milliseconds of the day, epoch milliseconds or microseconds); decimals are decimal.Decimal.
    """
    return value_of_word(word(seed, row_id, col), row_id, col)


def value_of_word(r: int, row_id: int, col: int):
    """value() given the row's random word r = word(seed, row_id, col)."""
    kind = r & 15
    u = r >> 8
    if kind == 0:
        return None
    name = NAMES[col]
    if name == "c_boolean":
        return (u & 1) == 1
    if name == "c_tinyint":
        return {1: -128, 2: 127, 3: 0}.get(kind, signed(u, 8))
    if name == "c_smallint":
        return {1: -32768, 2: 32767, 3: 0}.get(kind, signed(u, 16))
    if name == "c_int":
        return {1: -(2**31), 2: 2**31 - 1, 3: 0}.get(kind, signed(u, 32))
    if name == "c_bigint":
        return {1: -(2**63), 2: 2**63 - 1, 3: 0}.get(kind, signed(splitmix64(r), 64))
    if name == "c_float":
        edge = {1: -FLT_MAX, 2: math.inf, 3: -0.0, 4: math.nan, 5: FLT_MIN_SUB}
        return edge[kind] if kind in edge else float(u % 2000001 - 1000000) / 64.0
    if name == "c_double":
        edge = {1: -1.7976931348623157e308, 2: -math.inf, 3: -0.0, 4: math.nan, 5: DBL_MIN_SUB}
        return edge[kind] if kind in edge else float(u % (1 << 40) - (1 << 39)) / 1024.0
    if name == "c_char":
        if kind == 3:
            return " " * CHAR_LEN
        w = u
        cs = []
        for _ in range(CHAR_LEN):
            cs.append(CHAR_ALPHABET[w & 63])
            w >>= 6
        return "".join(cs)
    if name == "c_string":
        if kind == 3:
            return ""
        if kind == 1:
            return UNICODE + str(row_id)
        if kind == 2:
            s = ""
            while len(s) < 1000:
                s += format(splitmix64((r + len(s)) & MASK), "x")
            return s[:1000]
        return "s-" + format(u, "x") * (u % 5 + 1)
    if name == "c_binary":
        if kind == 2:
            return b"\xff" * BINARY_LEN
        if kind == 3:
            return b"\x00" * BINARY_LEN
        return fill_bytes(BINARY_LEN, r)
    if name == "c_bytes":
        if kind == 3:
            return b""
        return fill_bytes(u % 33, r)
    if name == "c_decimal_compact":
        mx = 9_999_999_999
        unscaled = {1: -mx, 2: mx, 3: 0}.get(kind, u % (2 * mx + 1) - mx)
        return decimal.Decimal(unscaled).scaleb(-2, decimal.Context(prec=60))
    if name == "c_decimal_big":
        if kind in (1, 2, 3):
            unscaled = {1: -TEN28M1, 2: TEN28M1, 3: 0}[kind]
        else:
            hi = splitmix64(r)
            lo = splitmix64((r + 1) & MASK)
            unscaled = ((hi << 64) + lo) % (2 * TEN28M1 + 1) - TEN28M1
        return decimal.Decimal(unscaled).scaleb(-6, decimal.Context(prec=60))
    if name == "c_date":
        return {1: -719162, 2: 2932896, 3: 0}.get(kind, u % 60000 - 10000)
    if name == "c_time0":  # seconds of the day (Arrow time32[s]); Java holds millis = this * 1000
        return {1: 0, 2: 86399}.get(kind, u % 86400)
    if name == "c_time3":
        return {1: 0, 2: 86399999}.get(kind, u % 86400000)
    if name in ("c_ts3", "c_ltz3"):
        return millis3(kind, u)
    if name in ("c_ts6", "c_ltz6"):
        return micros6(kind, u)
    raise ValueError(f"column {col}")


# ---------------------------------------------------------------- Arrow batches


def _arrow_array(name: str, vals: list) -> pa.Array:
    t = COLUMNS[name][1]
    if pa.types.is_date(t):
        return pa.array(vals, pa.int32()).cast(t)
    if pa.types.is_time32(t):
        return pa.array(vals, pa.int32()).cast(t)
    if pa.types.is_timestamp(t):
        return pa.array(vals, pa.int64()).cast(t)
    return pa.array(vals, t)


def batch(seed: int, ids: Iterable[int], names: Sequence[str]) -> pa.RecordBatch:
    """The rows `ids` as an Arrow record batch with the columns `names` (id first)."""
    ids = list(ids)
    ids_np = np.array(ids, dtype=np.int64)
    arrays = [pa.array(ids, pa.int64())]
    with np.errstate(over="ignore"):
        for name in names[1:]:
            col = INDEX[name]
            ws = words(seed, ids_np, col)
            arrays.append(_arrow_array(name, [value_of_word(w, i, col) for w, i in zip(ws, ids)]))
    return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema(names))


# ---------------------------------------------------------------- comparison


def _key(v):
    """A comparison key that tells -0.0 from 0.0 and makes NaN equal to NaN."""
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else struct.pack("<d", v)
    return v


def normalize(arr: pa.Array) -> list:
    """Arrow values as comparable Python values (temporal types as integers in their unit)."""
    t = arr.type
    if pa.types.is_date32(t) or pa.types.is_time32(t):
        arr = arr.cast(pa.int32())
    elif pa.types.is_timestamp(t):
        arr = arr.cast(pa.int64())
    return [_key(v) for v in arr.to_pylist()]


def compare_column(name: str, ids: Sequence[int], actual: pa.Array, seed: int) -> Optional[str]:
    """None if column `name` of the rows `ids` reads back as generated, else the first difference."""
    expected_type = COLUMNS[name][1]
    if actual.type != expected_type:
        return f"column {name}: Arrow type {actual.type}, expected {expected_type}"
    col = INDEX[name]
    got = normalize(actual)
    for i, row_id in enumerate(ids):
        exp = _key(value(seed, row_id, col)) if name != "id" else row_id
        if got[i] != exp:
            return f"id {row_id} column {name}: expected {exp!r}, read {got[i]!r}"
    return None


def type_name(fluss_type: str) -> str:
    """pyfluss type strings may carry NOT NULL; compare the bare type."""
    return fluss_type.lower().replace(" not null", "").strip()


def columns_of(schema_columns: List[tuple]) -> List[str]:
    """Checks a table's (name, type) columns against the known ones; returns the names."""
    names = []
    for name, t in schema_columns:
        if name not in COLUMNS:
            raise AssertionError(f"table column {name} is not an interop column")
        if type_name(t) != COLUMNS[name][0]:
            raise AssertionError(f"table column {name} has type {t}, expected {COLUMNS[name][0]}")
        names.append(name)
    if not names or names[0] != "id":
        raise AssertionError("the first table column must be id")
    return names
