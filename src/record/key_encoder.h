#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/bucketing.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record {

/// The byte encodings a key can have.
enum class KeyEncoding : uint8_t {
  kCompacted,  ///< CompactedKeyEncoder: CompactedRow fields without a null bitset.
  kPaimon,     ///< Paimon BinaryRow (row kind byte, null bits, 8-byte slots).
  kIceberg,    ///< Iceberg single-value bytes (what Iceberg's bucket transform hashes).
};

/// Encoding of bucket-key bytes (`KeyEncoder.ofBucketKeyEncoder`): the lake's encoding,
/// compacted for no lake and for Lance.
KeyEncoding BucketKeyEncoding(DataLakeFormat lake_format);

/// Encoding of primary-key bytes, the RocksDB / KV record / lookup key
/// (`KeyEncoder.ofPrimaryKeyEncoder`):
///   kv format version 1: the lake's encoding (as for bucket keys);
///   version 2: the lake's encoding when the bucket key is the default one (the physical
///   primary key), otherwise compacted, so that encoded bucket keys are byte prefixes of
///   encoded primary keys (what prefix lookup needs).
/// Other versions are kInvalidConfig.
Result<KeyEncoding> PrimaryKeyEncoding(DataLakeFormat lake_format, int32_t kv_format_version,
                                       bool is_default_bucket_key);

/// Encodes the key columns of rows of one row type into key bytes.
///
/// Created by Create(); immutable afterwards and safe to share between threads. Encode
/// appends to a caller-owned buffer (reuse it across rows to avoid allocation) and restores
/// it on failure.
class KeyEncoder {
 public:
  virtual ~KeyEncoder() = default;

  /// An encoder for the columns `key_names` (in that order) of `row_type` (a ROW type).
  /// kInvalidTable when a key column is missing, when the encoding cannot represent its
  /// type, or (Iceberg) when the key has other than exactly one column.
  static Result<std::unique_ptr<KeyEncoder>> Create(KeyEncoding encoding,
                                                    const DataType& row_type,
                                                    const std::vector<std::string>& key_names);

  /// Appends the key bytes of `row` (a full row of the row type) to `out`. A null key value
  /// is kCorruptRecord except in the Paimon encoding, which has null bits.
  virtual Status Encode(const GenericRow& row, ByteBuffer* out) const = 0;
  Result<ByteBuffer> Encode(const GenericRow& row) const;

  KeyEncoding encoding() const { return encoding_; }
  /// Row positions of the key columns, in key order.
  const std::vector<size_t>& key_indexes() const { return key_indexes_; }
  /// Types of the key columns, in key order.
  const std::vector<DataType>& key_types() const { return key_types_; }

 protected:
  KeyEncoder(KeyEncoding encoding, std::vector<size_t> key_indexes,
             std::vector<DataType> key_types)
      : encoding_(encoding),
        key_indexes_(std::move(key_indexes)),
        key_types_(std::move(key_types)) {}

  /// The key value at key position `i` of `row`, or null when the row is too short.
  const Datum* KeyValue(const GenericRow& row, size_t i) const;

 private:
  KeyEncoding encoding_;
  std::vector<size_t> key_indexes_;
  std::vector<DataType> key_types_;
};

/// CompactedKeyEncoder: each key value encoded as a CompactedRow field, concatenated in key
/// order, with no null bitset (so a key prefix encodes to a byte prefix).
class CompactedKeyEncoder final : public KeyEncoder {
 public:
  CompactedKeyEncoder(std::vector<size_t> key_indexes, std::vector<DataType> key_types)
      : KeyEncoder(KeyEncoding::kCompacted, std::move(key_indexes), std::move(key_types)) {}

  Status Encode(const GenericRow& row, ByteBuffer* out) const override;
  using KeyEncoder::Encode;
};

/// PaimonKeyEncoder: a Paimon BinaryRow of the key columns. Null-bit region of
/// ((n + 63 + 8) / 64) * 8 bytes whose first byte is the row kind (0, insert) and whose bit
/// i + 8 marks field i null; one 8-byte slot per field (fixed-width values in the low
/// bytes; strings/bytes of up to 7 bytes inline with 0x80 | length in the top byte, longer
/// ones, non-compact decimals and non-compact timestamps in an 8-aligned variable part).
class PaimonKeyEncoder final : public KeyEncoder {
 public:
  PaimonKeyEncoder(std::vector<size_t> key_indexes, std::vector<DataType> key_types)
      : KeyEncoder(KeyEncoding::kPaimon, std::move(key_indexes), std::move(key_types)) {}

  Status Encode(const GenericRow& row, ByteBuffer* out) const override;
  using KeyEncoder::Encode;
};

/// IcebergKeyEncoder: the single key value as Iceberg hashes it: INT/DATE widened to int64
/// LE, TIME as micros int64 LE, BIGINT/FLOAT/DOUBLE LE, TIMESTAMP as micros int64 LE,
/// DECIMAL as big-endian unscaled bytes, strings and bytes raw.
class IcebergKeyEncoder final : public KeyEncoder {
 public:
  IcebergKeyEncoder(std::vector<size_t> key_indexes, std::vector<DataType> key_types)
      : KeyEncoder(KeyEncoding::kIceberg, std::move(key_indexes), std::move(key_types)) {}

  Status Encode(const GenericRow& row, ByteBuffer* out) const override;
  using KeyEncoder::Encode;
};

}  // namespace strom::record
