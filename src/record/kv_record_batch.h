#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/status.h"

/// Fluss KV record batches (`DefaultKvRecordBatch`): the payload of a PutKv request, one
/// batch per bucket. See docs/formats/kv-batch.md for the byte layout.
///
/// A 28-byte header (Length, magic 0, CRC, schema id, attributes, writer id, batch sequence,
/// record count) is followed by records, each an int32 length, an unsigned-varint key length,
/// the key, and the value row. A record with no value bytes is a delete. Values carry no
/// schema id of their own: the batch's schema id applies to every row. All fixed-width
/// integers are little-endian.
namespace strom::record {

inline constexpr int8_t kKvMagicV0 = 0;
inline constexpr int8_t kCurrentKvMagic = kKvMagicV0;

/// The Length field (4 bytes) precedes what it counts.
inline constexpr size_t kKvBatchOverhead = 4;
inline constexpr size_t kKvLengthOffset = 0;
inline constexpr size_t kKvMagicOffset = 4;
inline constexpr size_t kKvCrcOffset = 5;
/// The CRC covers the bytes from here to the end of the batch.
inline constexpr size_t kKvSchemaIdOffset = 9;
inline constexpr size_t kKvAttributesOffset = 11;
inline constexpr size_t kKvWriterIdOffset = 12;
inline constexpr size_t kKvBatchSequenceOffset = 20;
inline constexpr size_t kKvRecordCountOffset = 24;
inline constexpr size_t kKvHeaderSize = 28;

/// A read-only view of one KV record batch in borrowed bytes.
///
/// Parse() checks the structure (Length against the header size and the bytes available,
/// magic 0, a non-negative record count) but not the CRC; use IsValid() or ValidateCrc().
/// Cheap to copy; valid only while the bytes live and do not move.
class KvRecordBatch {
 public:
  /// Parses the batch at the start of `data`; bytes after it are ignored. kCorruptRecord
  /// when the header is malformed or the batch is longer than `data`.
  static Result<KvRecordBatch> Parse(ByteView data);

  /// The Length field: batch size minus 4.
  int32_t length() const { return LoadI32LE(data_ + kKvLengthOffset); }
  int8_t magic() const { return static_cast<int8_t>(data_[kKvMagicOffset]); }
  uint32_t checksum() const { return static_cast<uint32_t>(LoadI32LE(data_ + kKvCrcOffset)); }
  SchemaId schema_id() const;
  /// Unused by Fluss 0.9.1 (always written as 0).
  uint8_t attributes() const { return static_cast<uint8_t>(data_[kKvAttributesOffset]); }
  WriterId writer_id() const { return WriterId(LoadI64LE(data_ + kKvWriterIdOffset)); }
  BatchSequence batch_sequence() const {
    return BatchSequence(LoadI32LE(data_ + kKvBatchSequenceOffset));
  }
  int32_t record_count() const { return LoadI32LE(data_ + kKvRecordCountOffset); }
  size_t size_in_bytes() const { return size_; }

  ByteView data() const { return ByteView(data_, size_); }
  /// Everything after the header.
  ByteView records() const { return ByteView(data_ + kKvHeaderSize, size_ - kKvHeaderSize); }

  /// CRC-32C of the bytes from the schema id to the end of the batch.
  uint32_t ComputeChecksum() const;
  bool IsValid() const { return checksum() == ComputeChecksum(); }
  /// OK, or kCorruptRecord naming the stored and computed CRCs.
  Status ValidateCrc() const;

 private:
  KvRecordBatch(const char* data, size_t size) : data_(data), size_(size) {}

  const char* data_;
  size_t size_;
};

/// One KV record (borrowed bytes): an upsert of `value` under `key`, or a delete of `key`
/// when `value` is absent.
struct KvRecord {
  ByteView key;
  /// The value row in the table's KV format; std::nullopt for a delete.
  std::optional<ByteView> value;

  bool is_delete() const { return !value.has_value(); }
};

/// Reads the records of a KV batch (or of a bare records section with its count).
///
/// Every record is checked: a record length that is not positive or runs past the section,
/// a key-length varint that is malformed or runs past the record, and a key longer than the
/// record are kCorruptRecord; so are fewer records than the count and bytes left over after
/// the last one. After an error Next() keeps returning it. Not thread-safe; borrows the bytes.
class KvRecordIterator {
 public:
  KvRecordIterator(ByteView records, int32_t record_count)
      : records_(records), remaining_count_(record_count < 0 ? 0 : record_count) {}
  explicit KvRecordIterator(const KvRecordBatch& batch)
      : KvRecordIterator(batch.records(), batch.record_count()) {}

  /// The next record, or std::nullopt after the last one.
  Result<std::optional<KvRecord>> Next();

  /// Records returned so far.
  int32_t index() const { return index_; }

 private:
  ByteView records_;
  size_t position_ = 0;
  int32_t remaining_count_;
  int32_t index_ = 0;
  Status error_;
};

/// Header fields a KV writer chooses.
struct KvBatchParams {
  SchemaId schema_id{0};
  WriterId writer_id = kNoWriterId;
  BatchSequence batch_sequence = kNoBatchSequence;
};

/// Writes one KV record batch at the end of a caller's buffer.
///
/// Construction appends the header (with Length, CRC and RecordCount as placeholders) to
/// `*out`; AppendUpsert / AppendDelete add records; Finish() writes Length, RecordCount and,
/// last, the CRC. `*out` must outlive the builder and not be changed by others meanwhile.
/// Not thread-safe. Calls after Finish() are a programming error and abort.
class KvRecordBatchBuilder {
 public:
  KvRecordBatchBuilder(ByteBuffer* out, const KvBatchParams& params);

  KvRecordBatchBuilder(const KvRecordBatchBuilder&) = delete;
  KvRecordBatchBuilder& operator=(const KvRecordBatchBuilder&) = delete;

  /// Bytes a record takes in a batch, its 4-byte length included (value_size 0 = delete).
  static size_t RecordSize(size_t key_size, size_t value_size);

  /// Appends an upsert. The value must not be empty: an empty value reads back as a delete,
  /// so it is rejected with kCorruptRecord. kRecordTooLarge when the batch would outgrow its
  /// int32 Length.
  Status AppendUpsert(ByteView key, ByteView value);
  /// Appends a delete of `key`.
  Status AppendDelete(ByteView key);

  int32_t record_count() const { return record_count_; }
  size_t size_in_bytes() const { return out_->size() - start_; }
  void Reserve(size_t batch_size) { out_->reserve(start_ + batch_size); }

  /// Completes the header and CRC. The returned view is valid until `*out` changes.
  KvRecordBatch Finish();

 private:
  Status Append(ByteView key, ByteView value);

  ByteBuffer* out_;
  size_t start_;
  int32_t record_count_ = 0;
  bool finished_ = false;
};

}  // namespace strom::record
