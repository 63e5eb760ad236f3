#pragma once

#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record {

/// CompactedRow (`CompactedRowWriter` / `CompactedRowReader`): the default KV value format
/// and the COMPACTED log format.
///
/// Layout: a null bitset of ceil(n/8) bytes (bit i%8 of byte i/8 set = field i null), then
/// every non-null field in column order with no offsets: BOOLEAN/TINYINT 1 byte, SMALLINT 2
/// bytes LE, INT/DATE/TIME an unsigned LEB128 varint of the 32-bit pattern, BIGINT a varint
/// of the 64-bit pattern (no zig-zag), FLOAT/DOUBLE 4/8 bytes LE, CHAR/STRING/BINARY/BYTES a
/// varint length and the bytes, DECIMAL a varint unscaled long (p <= 18) or a varint length
/// and big-endian two's complement bytes, TIMESTAMP(_LTZ) a varint of the millis plus, when
/// p > 3, a varint of the nanos of the millisecond, ARRAY/MAP a varint length and the
/// BinaryArray/BinaryMap bytes, ROW a varint length and a nested CompactedRow.
///
/// The codec holds only the field types: it is cheap to copy, immutable, and safe to share
/// between threads. Encoding appends to a caller-owned buffer (reuse it across rows to avoid
/// allocation); on failure the buffer is restored to its previous size. Values must match
/// their types (see Datum); a null in a NOT NULL column is refused (kCorruptRecord).
/// Decoding checks every length against the input and returns kCorruptRecord for truncated,
/// over-long or malformed bytes, never reading outside them. A set null bit is honoured
/// even for a NOT NULL column (Java writers never set one).
class CompactedRowCodec {
 public:
  explicit CompactedRowCodec(std::vector<DataType> field_types)
      : field_types_(std::move(field_types)) {}

  const std::vector<DataType>& field_types() const { return field_types_; }

  /// Appends the encoding of `row` to `out`.
  Status Encode(const GenericRow& row, ByteBuffer* out) const;
  Result<ByteBuffer> Encode(const GenericRow& row) const;

  /// Decodes exactly one row that fills `bytes`.
  Result<GenericRow> Decode(ByteView bytes) const;
  /// Decodes into `row`, reusing its storage.
  Status DecodeInto(ByteView bytes, GenericRow* row) const;

 private:
  std::vector<DataType> field_types_;
};

/// Appends the CompactedRow of `row` (one value per type in `field_types`); on failure `out`
/// is restored to its previous size.
Status AppendCompactedRow(std::span<const DataType> field_types, const GenericRow& row,
                          ByteBuffer* out);
/// Same for a nested ROW value given its ROW type's fields.
Status AppendCompactedRow(std::span<const DataField> fields, const std::vector<Datum>& row,
                          ByteBuffer* out);
/// Appends one non-null value as a CompactedRow field (what key encoding concatenates).
Status AppendCompactedValue(const DataType& type, const Datum& value, ByteBuffer* out);

/// Decodes a CompactedRow that fills `bytes` into `row` (resized to the field count).
Status DecodeCompactedRow(std::span<const DataType> field_types, ByteView bytes,
                          std::vector<Datum>* row);
/// Same for a nested ROW value given its ROW type's fields.
Status DecodeCompactedRow(std::span<const DataField> fields, ByteView bytes,
                          std::vector<Datum>* row);

}  // namespace strom::record
