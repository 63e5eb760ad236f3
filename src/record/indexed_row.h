#pragma once

#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record {

/// IndexedRow (`IndexedRowWriter` / `IndexedRow`): the INDEXED KV and log formats.
///
/// Layout: a null bitset of ceil(n/8) bytes; one int32 LE length slot for every column
/// that is variable-length by type (STRING, BYTES, DECIMAL p > 18, ARRAY, MAP, ROW), filled
/// in column order by the non-null ones only (unused trailing slots stay 0); then the
/// non-null values in column order: BOOLEAN/TINYINT 1 byte, SMALLINT 2, INT/DATE/TIME/FLOAT
/// 4, BIGINT/DOUBLE/compact DECIMAL 8, TIMESTAMP(_LTZ) 8 (p <= 3) or 12 (millis + int32
/// nanos), CHAR(n) and BINARY(n) exactly n bytes zero-padded, variable-length values raw
/// (ARRAY/MAP as BinaryArray/BinaryMap, ROW as a nested IndexedRow). All numbers LE.
///
/// The codec holds only the field types: immutable, cheap to copy, thread-safe. Encoding
/// appends to a caller-owned buffer and restores it on failure; a CHAR or BINARY value longer
/// than its declared length, a null in a NOT NULL column, or a value of the wrong kind is
/// refused (kCorruptRecord). Decoding validates every length against the input
/// (kCorruptRecord otherwise); CHAR(n) comes back without its zero padding and BINARY(n)
/// zero-padded to n bytes.
class IndexedRowCodec {
 public:
  explicit IndexedRowCodec(std::vector<DataType> field_types)
      : field_types_(std::move(field_types)) {}

  const std::vector<DataType>& field_types() const { return field_types_; }

  /// Appends the encoding of `row` to `out`.
  Status Encode(const GenericRow& row, ByteBuffer* out) const;
  Result<ByteBuffer> Encode(const GenericRow& row) const;
  /// Decodes exactly one row that fills `bytes`.
  Result<GenericRow> Decode(ByteView bytes) const;
  /// Decodes into `row`, reusing its storage.
  Status DecodeInto(ByteView bytes, GenericRow* row) const;

  /// Bytes before the first value: null bitset plus length slots.
  static size_t HeaderSize(std::span<const DataType> field_types);

 private:
  std::vector<DataType> field_types_;
};

/// Appends the IndexedRow of `row` (one value per type in `field_types`); on failure `out`
/// is restored to its previous size.
Status AppendIndexedRow(std::span<const DataType> field_types, const GenericRow& row,
                        ByteBuffer* out);
/// Same for a nested ROW value given its ROW type's fields.
Status AppendIndexedRow(std::span<const DataField> fields, const std::vector<Datum>& row,
                        ByteBuffer* out);
/// Decodes an IndexedRow that fills `bytes` into `row` (resized to the field count).
Status DecodeIndexedRow(std::span<const DataType> field_types, ByteView bytes,
                        std::vector<Datum>* row);
/// Same for a nested ROW value given its ROW type's fields.
Status DecodeIndexedRow(std::span<const DataField> fields, ByteView bytes,
                        std::vector<Datum>* row);

}  // namespace strom::record
