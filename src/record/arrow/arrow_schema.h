#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "record/data_type.h"

namespace strom::record::arrow {

/// The Arrow physical layout a Fluss type is stored with (Fluss `ArrowUtils.toArrowSchema`).
enum class ArrowLayout : uint8_t {
  kBool,             // BOOLEAN: validity + bit-packed values
  kFixedWidth,       // integers, floats, DATE, TIME, TIMESTAMP*, DECIMAL: validity + values
  kFixedSizeBinary,  // BINARY(n): validity + n bytes per slot
  kVarBinary,        // CHAR, STRING (Utf8) and BYTES (Binary): validity + int32 offsets + data
  kList,             // ARRAY: validity + int32 offsets, one child `element`
  kMap,              // MAP: validity + int32 offsets, one child struct `entries` {key, value}
  kStruct,           // ROW, and the `entries` struct of a MAP: validity only
};

/// Arrow time units, numbered as in the Arrow `TimeUnit` enum.
enum class ArrowTimeUnit : uint8_t { kSecond = 0, kMillisecond = 1, kMicrosecond = 2, kNanosecond = 3 };

/// Layout of `type` (any Fluss type; the ROW of a whole table gives kStruct).
ArrowLayout LayoutOf(const DataType& type);

/// Bytes per slot of a kFixedWidth or kFixedSizeBinary type (1, 2, 4, 8 or 16; n for BINARY(n)).
int32_t FixedByteWidth(const DataType& type);

/// Unit Fluss uses for TIME(p) and TIMESTAMP(p)/TIMESTAMP_LTZ(p): p = 0 seconds, 1-3 milli,
/// 4-6 micro, 7-9 nano. TIME is 32-bit for seconds/milliseconds and 64-bit otherwise.
ArrowTimeUnit TimeUnitForPrecision(int32_t precision);

/// Number of Arrow buffers the node of `type` itself has (children not counted):
/// 1 for structs, 2 for fixed-width, bool, list and map, 3 for Utf8/Binary.
int BufferCountOf(const DataType& type);

/// Number of field nodes and of buffers `type` contributes to a RecordBatch, counting all of
/// its descendants (a MAP counts the map node, the entries struct, the key and the value).
struct NodeAndBufferCount {
  int nodes = 0;
  int buffers = 0;
};
NodeAndBufferCount CountNodesAndBuffers(const DataType& type);

/// Checks that every column of `row_type` (a ROW) can be stored as Arrow by Fluss: all roots
/// are supported, TIME/TIMESTAMP precision is 0-9, DECIMAL precision is 1-38 with
/// 0 <= scale <= precision, BINARY/CHAR length >= 1. Returns kInvalidTable otherwise.
Status CheckArrowCompatible(const DataType& row_type);

/// Appends the encapsulated IPC Schema message for `row_type` (continuation marker, padded
/// metadata, no body), as the first message of an IPC stream.
Status WriteSchemaMessage(const DataType& row_type, ByteBuffer* out);

/// Appends the IPC end-of-stream marker (FF FF FF FF 00 00 00 00).
void WriteEndOfStream(ByteBuffer* out);

}  // namespace strom::record::arrow
