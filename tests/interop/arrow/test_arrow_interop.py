"""Interoperability of Strom's Arrow IPC subset with pyarrow (an independent implementation).

Two directions, for every Fluss type (nested ones and nulls included):
  * pyarrow reads IPC streams written by Strom, for every codec (NONE, LZ4_FRAME, ZSTD), and
    sees the schema Fluss defines (ArrowUtils.toArrowSchema) and the same values;
  * Strom reads streams pyarrow writes (uncompressed, lz4, zstd; several batches, a sliced
    table) and sees the same values.

The C++ half is arrow_interop_tool (path in $STROM_ARROW_INTEROP_TOOL). Values are compared in
a canonical JSON form both sides produce on their own (see arrow_interop_tool.cc).
"""

import json
import os
import struct
import subprocess

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

TOOL = os.environ.get("STROM_ARROW_INTEROP_TOOL")

SCHEMAS = ["all"] + [f"random:{seed}" for seed in (1, 2, 3, 4, 5, 6)]
CODECS = ["NONE", "LZ4_FRAME", "ZSTD"]


def run_tool(*args):
    assert TOOL, "set STROM_ARROW_INTEROP_TOOL to the arrow_interop_tool binary"
    result = subprocess.run([TOOL, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def strom_write(tmp_path, schema, codec, seed=42, rows=120):
    stream = tmp_path / "strom.arrows"
    expected = tmp_path / "strom.json"
    run_tool("write", "--schema", schema, "--seed", str(seed), "--rows", str(rows),
             "--codec", codec, "--out", str(stream), "--json", str(expected))
    return stream.read_bytes(), json.loads(expected.read_text())


def strom_read(tmp_path, schema, data):
    stream = tmp_path / "pyarrow.arrows"
    stream.write_bytes(data)
    out = tmp_path / "read.json"
    run_tool("read", "--schema", schema, "--in", str(stream), "--json", str(out))
    return json.loads(out.read_text())


# ---- the Fluss type -> Arrow type mapping, written independently of the C++ code -----------

def time_unit(precision):
    if precision == 0:
        return "s"
    if precision <= 3:
        return "ms"
    if precision <= 6:
        return "us"
    return "ns"


def arrow_type(t):
    root = t["root"]
    simple = {
        "BOOLEAN": pa.bool_(), "TINYINT": pa.int8(), "SMALLINT": pa.int16(),
        "INTEGER": pa.int32(), "BIGINT": pa.int64(), "FLOAT": pa.float32(),
        "DOUBLE": pa.float64(), "CHAR": pa.string(), "STRING": pa.string(),
        "BYTES": pa.binary(), "DATE": pa.date32(),
    }
    if root in simple:
        return simple[root]
    if root == "BINARY":
        return pa.binary(t["length"])
    if root == "DECIMAL":
        return pa.decimal128(t["precision"], t["scale"])
    if root == "TIME_WITHOUT_TIME_ZONE":
        unit = time_unit(t["precision"])
        return pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
    if root in ("TIMESTAMP_WITHOUT_TIME_ZONE", "TIMESTAMP_WITH_LOCAL_TIME_ZONE"):
        return pa.timestamp(time_unit(t["precision"]))  # no timezone, as Fluss writes it
    if root == "ARRAY":
        return pa.list_(arrow_field("element", t["element"]))
    if root == "MAP":
        key = dict(t["key"], nullable=False)
        return pa.map_(arrow_field("key", key), arrow_field("value", t["value"]))
    if root == "ROW":
        return pa.struct([arrow_field(f["name"], f["type"]) for f in t["fields"]])
    raise AssertionError(f"unknown root {root}")


def arrow_field(name, t):
    return pa.field(name, arrow_type(t), nullable=t["nullable"])


def arrow_schema(row_type):
    return pa.schema([arrow_field(f["name"], f["type"]) for f in row_type["fields"]])


# ---- canonical JSON of pyarrow arrays --------------------------------------------------------

def unscaled(d, scale):
    sign, digits, exponent = d.as_tuple()
    value = int("".join(map(str, digits)) or "0")
    shift = exponent + scale
    if shift >= 0:
        value *= 10 ** shift
    else:
        assert value % (10 ** -shift) == 0
        value //= 10 ** -shift
    return str(-value if sign else value)


def column_json(arr, t):
    n = len(arr)
    valid = arr.is_valid().to_pylist()
    if pa.types.is_struct(t):
        children = [column_json(arr.field(i), t.field(i).type) for i in range(t.num_fields)]
        return [[c[i] for c in children] if valid[i] else None for i in range(n)]
    if pa.types.is_map(t):
        offsets = arr.offsets.to_pylist()
        entries = arr.values
        keys = column_json(entries.field(0), t.key_type)
        items = column_json(entries.field(1), t.item_type)
        return [[[keys[j], items[j]] for j in range(offsets[i], offsets[i + 1])] if valid[i]
                else None for i in range(n)]
    if pa.types.is_list(t):
        offsets = arr.offsets.to_pylist()
        values = column_json(arr.values, t.value_type)
        return [values[offsets[i]:offsets[i + 1]] if valid[i] else None for i in range(n)]
    if pa.types.is_date32(t) or pa.types.is_time32(t):
        return arr.view(pa.int32()).to_pylist()
    if pa.types.is_time64(t) or pa.types.is_timestamp(t):
        return arr.view(pa.int64()).to_pylist()
    values = arr.to_pylist()
    if pa.types.is_float32(t):
        return [None if v is None else struct.unpack("<I", struct.pack("<f", v))[0]
                for v in values]
    if pa.types.is_float64(t):
        return [None if v is None else struct.unpack("<Q", struct.pack("<d", v))[0]
                for v in values]
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else v.hex() for v in values]
    if pa.types.is_decimal(t):
        return [None if v is None else unscaled(v, t.scale) for v in values]
    return values


def table_json(table):
    columns = []
    for i, field in enumerate(table.schema):
        column = table.column(i)
        values = []
        for chunk in column.chunks:
            values.extend(column_json(chunk, field.type))
        columns.append(values)
    return [list(row) for row in zip(*columns)] if columns else []


# ---- the tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("schema", SCHEMAS)
def test_pyarrow_reads_strom_batches(tmp_path, schema, codec):
    data, expected = strom_write(tmp_path, schema, codec)
    reader = ipc.open_stream(data)
    assert reader.schema.equals(arrow_schema(expected["type"]), check_metadata=True), (
        f"{reader.schema}\n!=\n{arrow_schema(expected['type'])}")
    batches = list(reader)
    assert len(batches) == 2
    for batch in batches:
        batch.validate(full=True)
    table = pa.Table.from_batches(batches, schema=reader.schema)
    assert table.num_rows == len(expected["rows"])
    assert table_json(table) == expected["rows"]


def pyarrow_stream(table, compression, max_chunksize=None):
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        for batch in table.to_batches(max_chunksize=max_chunksize):
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
@pytest.mark.parametrize("schema", SCHEMAS)
def test_strom_reads_pyarrow_batches(tmp_path, schema, compression):
    data, expected = strom_write(tmp_path, schema, "NONE", seed=7)
    table = ipc.open_stream(data).read_all()
    # Re-encoded by pyarrow's own writer: its own buffer layout (no validity buffer without
    # nulls, linked LZ4 blocks, buffers left uncompressed when that is smaller), in batches of
    # 50 rows.
    got = strom_read(tmp_path, schema, pyarrow_stream(table, compression, max_chunksize=50))
    assert got["batches"] == len(table.to_batches(max_chunksize=50))
    assert got["rows"] == expected["rows"]
    # A slice, so that pyarrow writes arrays that start inside their parents' buffers.
    sliced = table.slice(13, 150)
    got = strom_read(tmp_path, schema, pyarrow_stream(sliced, compression))
    assert got["rows"] == expected["rows"][13:163]


def test_strom_reads_handwritten_pyarrow_values(tmp_path):
    # Values built by pyarrow alone (not read back from Strom), including extremes.
    data, expected = strom_write(tmp_path, "all", "NONE", rows=1)
    schema = arrow_schema(expected["type"])
    table = ipc.open_stream(data).read_all()
    rows = table.to_pylist()
    int_columns = [f.name for f in schema if pa.types.is_integer(f.type)]
    extremes = []
    for sign in (-1, 1):
        row = dict(rows[0])
        for name in int_columns:
            bits = schema.field(name).type.bit_width
            row[name] = (2 ** (bits - 1) - 1) if sign > 0 else -(2 ** (bits - 1))
        extremes.append(row)
    handmade = pa.Table.from_pylist(rows + extremes, schema=schema)
    got = strom_read(tmp_path, "all", pyarrow_stream(handmade, "zstd"))
    assert got["rows"] == table_json(handmade)


def test_strom_rejects_a_stream_of_another_schema(tmp_path):
    table = pa.table({"x": pa.array([1, 2, 3], pa.int32())})
    stream = tmp_path / "other.arrows"
    stream.write_bytes(pyarrow_stream(table, None))
    out = tmp_path / "out.json"
    result = subprocess.run([TOOL, "read", "--schema", "all", "--in", str(stream), "--json",
                             str(out)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "CORRUPT_MESSAGE" in result.stderr
