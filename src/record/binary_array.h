#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record {

/// The row format that ROW values nested in an array or map are written in: the format of
/// the row that contains the array (Fluss `BinaryRowFormat`).
enum class BinaryRowFormat : uint8_t {
  kCompacted,
  kIndexed,
};

/// BinaryArray and BinaryMap: the ARRAY and MAP value layout inside CompactedRow and
/// IndexedRow (Flink's `BinaryArrayData` layout, as Fluss writes it).
///
/// Array: int32 LE element count; null bits padded to 4-byte words (bit i of byte 4 + i/8);
/// one fixed-width slot per element (1, 2, 4 or 8 bytes by type), the header plus slots
/// rounded up to a multiple of 8; then a variable part whose items each start 8-aligned.
/// Strings and bytes of up to 7 bytes live in their slot (top byte 0x80 | length); longer
/// data, non-compact decimals (16 reserved bytes), non-compact timestamps (millis) and nested
/// values live in the variable part, the slot holding (offset << 32) | length (or nanos).
/// NaN floats and doubles are written as the canonical NaN.
///
/// Map: int32 LE byte size of the key array, the key array, the value array.
///
/// Stateless; all functions are thread-safe. Decoders check every count, offset and length
/// against the buffer and return kCorruptRecord for anything that does not fit.
class BinaryArray {
 public:
  /// Appends the array bytes of `value` (elements of `element_type`) to `out`. Null
  /// elements are allowed whatever the element nullability, as in Java. On error `out` may
  /// hold a partial array; callers discard it.
  static Status Append(const DataType& element_type, const ArrayValue& value,
                       BinaryRowFormat nested_format, ByteBuffer* out);

  /// Decodes array bytes (exactly the array, as delimited by the containing row).
  static Result<ArrayValue> Decode(const DataType& element_type, ByteView bytes,
                                   BinaryRowFormat nested_format);

  /// Appends the map bytes of `value`.
  static Status AppendMap(const DataType& key_type, const DataType& value_type,
                          const MapValue& value, BinaryRowFormat nested_format, ByteBuffer* out);

  /// Decodes map bytes; key and value arrays must have the same element count.
  static Result<MapValue> DecodeMap(const DataType& key_type, const DataType& value_type,
                                    ByteView bytes, BinaryRowFormat nested_format);

  /// Bytes of one element slot: 1, 2, 4 or 8.
  static int ElementWidth(const DataType& element_type);
  /// Size of the count and null-bit words for `count` elements.
  static int64_t HeaderSize(int64_t count) { return 4 + ((count + 31) / 32) * 4; }
};

}  // namespace strom::record
