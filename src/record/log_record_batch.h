#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/status.h"

/// Fluss log record batches (`DefaultLogRecordBatch`): the unit of produce, fetch, and of the
/// `.log` segment files. See docs/formats/log-batch.md for the byte layout.
///
/// A records blob is a plain concatenation of batches. Each batch is a fixed header (48 bytes
/// for magic 0, 52 for magic 1 with its leader epoch) followed by a records section whose
/// layout depends on the table's log format: row records (INDEXED / COMPACTED, read with
/// RowRecordIterator) or an Arrow body (built elsewhere on top of
/// LogRecordBatchBuilder::SetBody). All integers are little-endian.
namespace strom::record {

/// The kind of change a log record carries. The values are the wire bytes.
enum class ChangeType : int8_t {
  kAppendOnly = 0,    ///< "+A": a row of a log table.
  kInsert = 1,        ///< "+I": a new primary key.
  kUpdateBefore = 2,  ///< "-U": the old image of an updated row.
  kUpdateAfter = 3,   ///< "+U": the new image of an updated row.
  kDelete = 4,        ///< "-D": a removed row.
};

/// "+A", "+I", "-U", "+U" or "-D".
std::string_view ChangeTypeShortName(ChangeType type);
/// True for the five bytes a ChangeType may be written as.
inline bool IsValidChangeTypeByte(uint8_t b) { return b <= 4; }
/// Decodes a change-type byte; any value other than 0..4 is corruption.
Result<ChangeType> ChangeTypeFromByte(uint8_t b);
/// Decodes a short name ("+A", ...); unknown names return kCorruptRecord.
Result<ChangeType> ChangeTypeFromShortName(std::string_view name);

inline constexpr int8_t kLogMagicV0 = 0;
/// Magic 1 with its Fluss 0.9 meaning: a leader epoch is inserted at offset 21.
inline constexpr int8_t kLogMagicV1 = 1;
/// What Strom writes: clients of 0.9.1 (and the Rust client) only read magic 0.
inline constexpr int8_t kCurrentLogMagic = kLogMagicV0;

/// BaseOffset (8) + Length (4): the part of a batch that precedes what Length counts.
inline constexpr size_t kLogOverhead = 12;
inline constexpr size_t kLogBaseOffsetOffset = 0;
inline constexpr size_t kLogLengthOffset = 8;
inline constexpr size_t kLogMagicOffset = 12;
inline constexpr size_t kLogHeaderSizeUpToMagic = 13;
inline constexpr size_t kLogCommitTimestampOffset = 13;
inline constexpr size_t kLogHeaderSizeV0 = 48;
inline constexpr size_t kLogHeaderSizeV1 = 52;
/// Attributes bit 0: every record is +A (and an Arrow body has no change-type vector).
inline constexpr uint8_t kAppendOnlyFlagMask = 0x01;

/// Where each header field sits for one magic value. Fields up to the commit timestamp are
/// at the same place in every version.
struct LogBatchLayout {
  int8_t magic;
  size_t leader_epoch;  ///< Offset of the leader epoch; 0 when the version has none.
  size_t crc;
  size_t schema_id;
  size_t attributes;
  size_t last_offset_delta;
  size_t writer_id;
  size_t batch_sequence;
  size_t record_count;
  size_t header_size;  ///< Also where the records section starts.

  bool has_leader_epoch() const { return leader_epoch != 0; }
};

inline constexpr LogBatchLayout kLogLayoutV0{kLogMagicV0, 0, 21, 25, 27, 28, 32, 40, 44, 48};
inline constexpr LogBatchLayout kLogLayoutV1{kLogMagicV1, 21, 25, 29, 31, 32, 36, 44, 48, 52};

/// The layout for `magic`, or null when the magic is not one this reader knows.
inline const LogBatchLayout* LogLayoutForMagic(int8_t magic) {
  if (magic == kLogMagicV0) return &kLogLayoutV0;
  if (magic == kLogMagicV1) return &kLogLayoutV1;
  return nullptr;
}

/// What the header of a batch says, for readers that hold only the first bytes of it
/// (ParseLogBatchHeader).
struct LogBatchHeaderInfo {
  const LogBatchLayout* layout = nullptr;
  /// The whole batch: Length + kLogOverhead.
  size_t size = 0;
  int32_t record_count = 0;
  bool append_only = false;
  /// The offset after the batch (LogRecordBatch::next_offset).
  LogOffset next_offset{0};
};

/// The checks of LogRecordBatch::Parse from the header alone: `head` holds the first bytes of
/// a batch that has `available` bytes after its start (`head` may be shorter than the batch
/// but must hold its header). kCorruptRecord as Parse, and when `head` is shorter than the
/// header.
Result<LogBatchHeaderInfo> ParseLogBatchHeader(ByteView head, size_t available);

/// A read-only view of one log record batch in borrowed bytes.
///
/// Parse() checks the structure (magic, Length against the header size and the bytes
/// available, a non-negative record count and last offset delta) but not the CRC: call
/// IsValid() or ValidateCrc() for that. The view is a pointer and a size; it is cheap to copy
/// and valid only while the bytes it points into live and do not move.
class LogRecordBatch {
 public:
  /// Parses the batch at the start of `data`; bytes after the batch are ignored. Returns
  /// kCorruptRecord when the header is malformed or the batch is longer than `data`.
  static Result<LogRecordBatch> Parse(ByteView data);

  int8_t magic() const { return layout_->magic; }
  const LogBatchLayout& layout() const { return *layout_; }
  LogOffset base_offset() const { return LogOffset(LoadI64LE(data_ + kLogBaseOffsetOffset)); }
  /// The Length field: batch size minus kLogOverhead.
  int32_t length() const { return LoadI32LE(data_ + kLogLengthOffset); }
  TimestampMs commit_timestamp() const {
    return TimestampMs(LoadI64LE(data_ + kLogCommitTimestampOffset));
  }
  /// The leader epoch of a magic 1 batch; kNoLeaderEpoch for magic 0.
  LeaderEpoch leader_epoch() const;
  /// The stored CRC.
  uint32_t checksum() const { return static_cast<uint32_t>(LoadI32LE(data_ + layout_->crc)); }
  SchemaId schema_id() const;
  uint8_t attributes() const { return static_cast<uint8_t>(data_[layout_->attributes]); }
  bool is_append_only() const { return (attributes() & kAppendOnlyFlagMask) != 0; }
  int32_t last_offset_delta() const { return LoadI32LE(data_ + layout_->last_offset_delta); }
  /// base_offset + last_offset_delta. Wraps (as in Java) rather than overflowing when a
  /// hostile base offset is near the int64 limit.
  LogOffset last_offset() const { return WrappingAdd(base_offset(), last_offset_delta()); }
  /// The offset after this batch. An empty batch still takes one offset.
  LogOffset next_offset() const { return WrappingAdd(last_offset(), 1); }
  WriterId writer_id() const { return WriterId(LoadI64LE(data_ + layout_->writer_id)); }
  BatchSequence batch_sequence() const {
    return BatchSequence(LoadI32LE(data_ + layout_->batch_sequence));
  }
  int32_t record_count() const { return LoadI32LE(data_ + layout_->record_count); }
  size_t header_size() const { return layout_->header_size; }
  size_t size_in_bytes() const { return size_; }

  /// The whole batch.
  ByteView data() const { return ByteView(data_, size_); }
  /// Everything after the header.
  ByteView records() const {
    return ByteView(data_ + layout_->header_size, size_ - layout_->header_size);
  }

  /// CRC-32C of the bytes from the schema id to the end of the batch.
  uint32_t ComputeChecksum() const;
  /// True when the stored CRC matches the bytes.
  bool IsValid() const { return checksum() == ComputeChecksum(); }
  /// OK, or kCorruptRecord naming the stored and computed CRCs.
  Status ValidateCrc() const;

 private:
  LogRecordBatch(const char* data, size_t size, const LogBatchLayout* layout)
      : data_(data), size_(size), layout_(layout) {}

  static LogOffset WrappingAdd(LogOffset offset, int64_t delta) {
    return LogOffset(
        static_cast<int64_t>(static_cast<uint64_t>(offset.value()) + static_cast<uint64_t>(delta)));
  }

  const char* data_;
  size_t size_;
  const LogBatchLayout* layout_;
};

/// A log record batch in writable bytes, for the fields the leader assigns on append.
///
/// None of these fields is covered by the CRC, so setting them keeps a valid batch valid.
/// Like LogRecordBatch it borrows the bytes and must not outlive them.
class MutableLogRecordBatch {
 public:
  /// Same checks as LogRecordBatch::Parse, over writable bytes.
  static Result<MutableLogRecordBatch> Parse(std::span<char> data);

  LogRecordBatch view() const { return view_; }

  void SetBaseOffset(LogOffset offset) { StoreI64LE(data_ + kLogBaseOffsetOffset, offset.value()); }
  void SetCommitTimestamp(TimestampMs timestamp) {
    StoreI64LE(data_ + kLogCommitTimestampOffset, timestamp.value());
  }
  /// Sets the leader epoch of a magic 1 batch. Magic 0 has no such field:
  /// kUnsupportedVersion.
  Status SetLeaderEpoch(LeaderEpoch epoch);

 private:
  MutableLogRecordBatch(char* data, LogRecordBatch view) : data_(data), view_(view) {}

  char* data_;
  LogRecordBatch view_;
};

/// Walks the batches of a records blob: a produce payload, a fetch response, or a slice of a
/// segment file.
///
/// Next() returns each complete batch in order, then std::nullopt. A slice may end in the
/// middle of a batch (fetch responses are cut at a byte limit): when fewer than 12 bytes
/// remain, or fewer than the next batch's Length + 12, iteration ends cleanly and
/// truncated() reports it. A Length too small to hold any header, or a bad header in a
/// complete batch, is kCorruptRecord; after an error Next() keeps returning it. CRCs are not
/// checked here. Not thread-safe; borrows the blob.
class LogRecordBatchIterator {
 public:
  explicit LogRecordBatchIterator(ByteView blob) : blob_(blob) {}

  Result<std::optional<LogRecordBatch>> Next();

  /// Byte offset in the blob of the next batch to read (after the end: the blob's size, or
  /// where the truncated trailing batch starts).
  size_t position() const { return position_; }
  /// True once iteration has ended at an incomplete trailing batch.
  bool truncated() const { return truncated_; }

 private:
  ByteView blob_;
  size_t position_ = 0;
  bool truncated_ = false;
  Status error_;
};

/// Header fields a writer chooses. The rest (Length, CRC, LastOffsetDelta, RecordCount) the
/// builder computes.
struct LogBatchParams {
  /// kLogMagicV0 unless a magic 1 batch is wanted explicitly (for tests and tools).
  int8_t magic = kCurrentLogMagic;
  SchemaId schema_id{0};
  /// Sets attributes bit 0. Client log writes use true; server changelogs false.
  bool append_only = true;
  WriterId writer_id = kNoWriterId;
  BatchSequence batch_sequence = kNoBatchSequence;
  /// Clients write 0; the leader overwrites it on append.
  LogOffset base_offset{0};
  /// Clients write 0; the leader overwrites it on append.
  TimestampMs commit_timestamp{0};
  /// Written only for magic 1.
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
};

/// Writes one log record batch at the end of a caller's buffer.
///
/// Construction appends a header placeholder to `*out` (which may already hold earlier
/// batches). Then either append row records with AppendRow (INDEXED / COMPACTED tables), or
/// hand over a complete records section once with SetBody (ARROW: the optional change-type
/// vector followed by the IPC message). Finish() fills in Length, LastOffsetDelta (record
/// count - 1, or 0 when empty), RecordCount and, last, the CRC. Until Finish() the bytes in
/// `*out` are not a valid batch; a builder dropped without Finish() leaves them so.
///
/// The builder owns nothing; `*out` must outlive it and must not be modified by others
/// while it is building. Not thread-safe. Misuse (AppendRow after SetBody, anything after
/// Finish, an unknown magic) is a programming error and aborts.
class LogRecordBatchBuilder {
 public:
  LogRecordBatchBuilder(ByteBuffer* out, const LogBatchParams& params);

  LogRecordBatchBuilder(const LogRecordBatchBuilder&) = delete;
  LogRecordBatchBuilder& operator=(const LogRecordBatchBuilder&) = delete;

  /// Bytes one row record takes in a batch: 4 (length) + 1 (change type) + row.
  static constexpr size_t RowRecordSize(size_t row_size) { return 5 + row_size; }
  /// Header size for a magic value this builder writes.
  static size_t HeaderSize(int8_t magic);

  /// Appends one row record: int32 length, change-type byte, then the already encoded row.
  /// kRecordTooLarge when the batch would exceed what its int32 Length can describe.
  Status AppendRow(ChangeType type, ByteView row);

  /// Sets the records section to `body`, holding `record_count` records. Callable once,
  /// and not together with AppendRow. kRecordTooLarge as for AppendRow; kCorruptRecord for a
  /// negative count.
  Status SetBody(ByteView body, int32_t record_count);

  /// Records appended so far.
  int32_t record_count() const { return record_count_; }
  /// Current size of the batch in bytes, header included.
  size_t size_in_bytes() const { return out_->size() - start_; }
  /// Grows `*out` so the batch can reach `batch_size` bytes without reallocating.
  void Reserve(size_t batch_size) { out_->reserve(start_ + batch_size); }

  /// Completes the header and CRC. Returns a view of the finished batch, valid until `*out`
  /// is next modified.
  LogRecordBatch Finish();

 private:
  ByteBuffer* out_;
  size_t start_;
  const LogBatchLayout* layout_;
  int32_t record_count_ = 0;
  bool has_rows_ = false;
  bool has_body_ = false;
  bool finished_ = false;
};

/// One record of an INDEXED or COMPACTED records section: its change type and the encoded
/// row (borrowed).
struct RowRecord {
  ChangeType change_type;
  ByteView row;
};

/// Reads the row records of a batch (or of a bare records section with its record count).
///
/// Every record is checked: a length that is not positive or runs past the section, and a
/// change-type byte outside 0..4, are kCorruptRecord; so are fewer records than the count
/// and bytes left over after the last one. After an error Next() keeps returning it.
/// Row bytes are not decoded. Not thread-safe; borrows the bytes.
class RowRecordIterator {
 public:
  RowRecordIterator(ByteView records, int32_t record_count)
      : records_(records), remaining_count_(record_count < 0 ? 0 : record_count) {}
  explicit RowRecordIterator(const LogRecordBatch& batch)
      : RowRecordIterator(batch.records(), batch.record_count()) {}

  /// The next record, or std::nullopt after the last one.
  Result<std::optional<RowRecord>> Next();

  /// Records returned so far: the offset delta of the next record.
  int32_t index() const { return index_; }

 private:
  ByteView records_;
  size_t position_ = 0;
  int32_t remaining_count_;
  int32_t index_ = 0;
  Status error_;
};

}  // namespace strom::record
