#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/status.h"

/// Stored values of primary-key tables, and the value record batch that carries them.
///
/// A stored value is what the KV store keeps per key and what Lookup / PrefixLookup return:
/// an int16 little-endian schema id followed by the row bytes in the table's KV format. A
/// value record batch (`DefaultValueRecordBatch`, the LimitScan payload of a primary-key
/// table) is a 9-byte header (int32 Length = size - 4, int8 magic 0, int32 record count)
/// followed by records, each an int32 length and a stored value. It has no CRC. See
/// docs/formats/kv-batch.md.
namespace strom::record {

inline constexpr size_t kValueSchemaIdSize = 2;

/// A decoded stored value (borrowed row bytes).
struct ValueView {
  SchemaId schema_id;
  ByteView row;
};

/// Appends the stored form of `row` under `schema_id` to `*out`.
void AppendEncodedValue(SchemaId schema_id, ByteView row, ByteBuffer* out);
/// Returns the stored form of `row` under `schema_id`.
ByteBuffer EncodeValue(SchemaId schema_id, ByteView row);
/// Splits a stored value; kCorruptRecord when it is shorter than its schema id.
Result<ValueView> DecodeValue(ByteView value);

inline constexpr int8_t kValueBatchMagicV0 = 0;
inline constexpr size_t kValueBatchOverhead = 4;
inline constexpr size_t kValueBatchLengthOffset = 0;
inline constexpr size_t kValueBatchMagicOffset = 4;
inline constexpr size_t kValueBatchRecordCountOffset = 5;
inline constexpr size_t kValueBatchHeaderSize = 9;

/// A read-only view of one value record batch in borrowed bytes.
///
/// Parse() checks Length against the header and the bytes available, magic 0 and a
/// non-negative record count. There is no CRC. Cheap to copy; valid while the bytes live.
class ValueRecordBatch {
 public:
  /// Parses the batch at the start of `data`; bytes after it are ignored.
  static Result<ValueRecordBatch> Parse(ByteView data);

  int32_t length() const { return LoadI32LE(data_ + kValueBatchLengthOffset); }
  int8_t magic() const { return static_cast<int8_t>(data_[kValueBatchMagicOffset]); }
  int32_t record_count() const { return LoadI32LE(data_ + kValueBatchRecordCountOffset); }
  size_t size_in_bytes() const { return size_; }
  ByteView data() const { return ByteView(data_, size_); }
  ByteView records() const {
    return ByteView(data_ + kValueBatchHeaderSize, size_ - kValueBatchHeaderSize);
  }

 private:
  ValueRecordBatch(const char* data, size_t size) : data_(data), size_(size) {}

  const char* data_;
  size_t size_;
};

/// Reads the stored values of a value record batch.
///
/// A record length shorter than the schema id or running past the section, fewer records
/// than the count, and bytes after the last record are kCorruptRecord; after an error Next()
/// keeps returning it. Not thread-safe; borrows the bytes.
class ValueRecordIterator {
 public:
  ValueRecordIterator(ByteView records, int32_t record_count)
      : records_(records), remaining_count_(record_count < 0 ? 0 : record_count) {}
  explicit ValueRecordIterator(const ValueRecordBatch& batch)
      : ValueRecordIterator(batch.records(), batch.record_count()) {}

  /// The next value, or std::nullopt after the last one.
  Result<std::optional<ValueView>> Next();

 private:
  ByteView records_;
  size_t position_ = 0;
  int32_t remaining_count_;
  int32_t index_ = 0;
  Status error_;
};

/// Writes one value record batch at the end of a caller's buffer.
///
/// Construction appends a header placeholder; Append / AppendEncoded add records; Finish()
/// writes Length and the record count. `*out` must outlive the builder and not be changed by
/// others meanwhile. Not thread-safe. Calls after Finish() abort.
class ValueRecordBatchBuilder {
 public:
  explicit ValueRecordBatchBuilder(ByteBuffer* out);

  ValueRecordBatchBuilder(const ValueRecordBatchBuilder&) = delete;
  ValueRecordBatchBuilder& operator=(const ValueRecordBatchBuilder&) = delete;

  /// Appends the stored value of `row` under `schema_id`. kRecordTooLarge when the batch
  /// would outgrow its int32 Length.
  Status Append(SchemaId schema_id, ByteView row);
  /// Appends an already stored value (schema id + row, as kept in the KV store).
  /// kCorruptRecord when it is shorter than a schema id.
  Status AppendEncoded(ByteView value);

  int32_t record_count() const { return record_count_; }
  size_t size_in_bytes() const { return out_->size() - start_; }

  /// Completes the header. The returned view is valid until `*out` changes.
  ValueRecordBatch Finish();

 private:
  // Checks the limits and writes the length prefix of a record of `value_size` bytes.
  Status StartRecord(size_t value_size);

  ByteBuffer* out_;
  size_t start_;
  int32_t record_count_ = 0;
  bool finished_ = false;
};

}  // namespace strom::record
