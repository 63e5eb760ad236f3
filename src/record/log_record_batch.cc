#include "record/log_record_batch.h"

#include <climits>
#include <cstring>

#include "common/check.h"
#include "common/crc32c.h"

namespace strom::record {
namespace {

template <typename... Args>
Status CorruptRecord(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kCorruptRecord, fmt::format(format, std::forward<Args>(args)...));
}

constexpr std::string_view kShortNames[] = {"+A", "+I", "-U", "+U", "-D"};

// Largest batch whose Length field (size - 12) still fits an int32.
constexpr size_t kMaxLogBatchSize = static_cast<size_t>(INT32_MAX) + kLogOverhead;

// Structural checks shared by the read-only and the writable parse and the header-only one:
// `data` holds the first bytes of a batch that has `available` bytes after its start.
Result<const LogBatchLayout*> CheckHeader(ByteView data, size_t available) {
  if (data.size() < kLogHeaderSizeUpToMagic) {
    return CorruptRecord("log batch of {} bytes is shorter than the {} bytes up to its magic",
                         data.size(), kLogHeaderSizeUpToMagic);
  }
  int8_t magic = static_cast<int8_t>(data[kLogMagicOffset]);
  const LogBatchLayout* layout = LogLayoutForMagic(magic);
  if (layout == nullptr) return CorruptRecord("unsupported log batch magic {}", magic);
  int32_t length = LoadI32LE(data.data() + kLogLengthOffset);
  if (length < 0 || static_cast<size_t>(length) + kLogOverhead < layout->header_size) {
    return CorruptRecord("log batch length {} is smaller than the magic {} header ({} bytes)",
                         length, magic, layout->header_size);
  }
  size_t size = static_cast<size_t>(length) + kLogOverhead;
  if (size > available) {
    return CorruptRecord("log batch of {} bytes is truncated to {}", size, available);
  }
  if (data.size() < layout->header_size) {
    return CorruptRecord("log batch header needs {} bytes, {} given", layout->header_size,
                         data.size());
  }
  int32_t record_count = LoadI32LE(data.data() + layout->record_count);
  if (record_count < 0) return CorruptRecord("log batch record count {} is negative", record_count);
  int32_t last_offset_delta = LoadI32LE(data.data() + layout->last_offset_delta);
  if (last_offset_delta < 0) {
    return CorruptRecord("log batch last offset delta {} is negative", last_offset_delta);
  }
  return layout;
}

Result<const LogBatchLayout*> CheckHeader(ByteView data) { return CheckHeader(data, data.size()); }

}  // namespace

std::string_view ChangeTypeShortName(ChangeType type) {
  auto index = static_cast<uint8_t>(type);
  return index < 5 ? kShortNames[index] : std::string_view("?");
}

Result<ChangeType> ChangeTypeFromByte(uint8_t b) {
  if (!IsValidChangeTypeByte(b)) return CorruptRecord("unknown change type byte {}", b);
  return static_cast<ChangeType>(b);
}

Result<ChangeType> ChangeTypeFromShortName(std::string_view name) {
  for (uint8_t i = 0; i < 5; ++i) {
    if (kShortNames[i] == name) return static_cast<ChangeType>(i);
  }
  return CorruptRecord("unknown change type '{}'", name);
}

Result<LogBatchHeaderInfo> ParseLogBatchHeader(ByteView head, size_t available) {
  STROM_ASSIGN_OR_RETURN(const LogBatchLayout* layout, CheckHeader(head, available));
  LogBatchHeaderInfo info;
  info.layout = layout;
  info.size = static_cast<size_t>(LoadI32LE(head.data() + kLogLengthOffset)) + kLogOverhead;
  info.record_count = LoadI32LE(head.data() + layout->record_count);
  info.append_only = (static_cast<uint8_t>(head[layout->attributes]) & kAppendOnlyFlagMask) != 0;
  // Wrapping, as LogRecordBatch::next_offset.
  info.next_offset = LogOffset(static_cast<int64_t>(
      static_cast<uint64_t>(LoadI64LE(head.data() + kLogBaseOffsetOffset)) +
      static_cast<uint64_t>(LoadI32LE(head.data() + layout->last_offset_delta)) + 1));
  return info;
}

// ---- LogRecordBatch ----

Result<LogRecordBatch> LogRecordBatch::Parse(ByteView data) {
  STROM_ASSIGN_OR_RETURN(const LogBatchLayout* layout, CheckHeader(data));
  size_t size = static_cast<size_t>(LoadI32LE(data.data() + kLogLengthOffset)) + kLogOverhead;
  return LogRecordBatch(data.data(), size, layout);
}

LeaderEpoch LogRecordBatch::leader_epoch() const {
  if (!layout_->has_leader_epoch()) return kNoLeaderEpoch;
  return LeaderEpoch(LoadI32LE(data_ + layout_->leader_epoch));
}

SchemaId LogRecordBatch::schema_id() const {
  int16_t v;
  std::memcpy(&v, data_ + layout_->schema_id, 2);
  return SchemaId(v);
}

uint32_t LogRecordBatch::ComputeChecksum() const {
  return crc32c::Value(data_ + layout_->schema_id, size_ - layout_->schema_id);
}

Status LogRecordBatch::ValidateCrc() const {
  uint32_t computed = ComputeChecksum();
  if (computed != checksum()) {
    return CorruptRecord("log batch is corrupt (stored crc = {}, computed crc = {})", checksum(),
                         computed);
  }
  return Status::OK();
}

// ---- MutableLogRecordBatch ----

Result<MutableLogRecordBatch> MutableLogRecordBatch::Parse(std::span<char> data) {
  STROM_ASSIGN_OR_RETURN(LogRecordBatch view,
                         LogRecordBatch::Parse(ByteView(data.data(), data.size())));
  return MutableLogRecordBatch(data.data(), view);
}

Status MutableLogRecordBatch::SetLeaderEpoch(LeaderEpoch epoch) {
  const LogBatchLayout& layout = view_.layout();
  if (!layout.has_leader_epoch()) {
    return MakeError(ErrorCode::kUnsupportedVersion,
                     "a magic {} log batch has no leader epoch field", layout.magic);
  }
  StoreI32LE(data_ + layout.leader_epoch, epoch.value());
  return Status::OK();
}

// ---- LogRecordBatchIterator ----

Result<std::optional<LogRecordBatch>> LogRecordBatchIterator::Next() {
  if (!error_.ok()) return error_;
  size_t remaining = blob_.size() - position_;
  if (remaining == 0) return std::optional<LogRecordBatch>();
  if (remaining < kLogOverhead) {
    truncated_ = true;
    return std::optional<LogRecordBatch>();
  }
  const char* p = blob_.data() + position_;
  int32_t length = LoadI32LE(p + kLogLengthOffset);
  // Every version's header is at least the magic 0 one, so anything shorter cannot be a
  // batch, complete or not.
  if (length < 0 || static_cast<size_t>(length) + kLogOverhead < kLogHeaderSizeV0) {
    error_ = CorruptRecord("log batch at byte {} has invalid length {}", position_, length);
    return error_;
  }
  size_t size = static_cast<size_t>(length) + kLogOverhead;
  if (remaining < size) {
    truncated_ = true;
    return std::optional<LogRecordBatch>();
  }
  Result<LogRecordBatch> batch = LogRecordBatch::Parse(ByteView(p, size));
  if (!batch.ok()) {
    error_ = batch.status().WithContext(fmt::format("log batch at byte {}", position_));
    return error_;
  }
  position_ += size;
  return std::optional<LogRecordBatch>(*batch);
}

// ---- LogRecordBatchBuilder ----

size_t LogRecordBatchBuilder::HeaderSize(int8_t magic) {
  const LogBatchLayout* layout = LogLayoutForMagic(magic);
  STROM_CHECK(layout != nullptr, "no log batch layout for magic {}", magic);
  return layout->header_size;
}

LogRecordBatchBuilder::LogRecordBatchBuilder(ByteBuffer* out, const LogBatchParams& params)
    : out_(out), start_(out->size()), layout_(LogLayoutForMagic(params.magic)) {
  STROM_CHECK(layout_ != nullptr, "cannot build a log batch with magic {}", params.magic);
  // Write every field the params fix now; Length, CRC, LastOffsetDelta and RecordCount are
  // placeholders until Finish().
  out_->resize(start_ + layout_->header_size, '\0');
  char* h = out_->data() + start_;
  StoreI64LE(h + kLogBaseOffsetOffset, params.base_offset.value());
  h[kLogMagicOffset] = static_cast<char>(params.magic);
  StoreI64LE(h + kLogCommitTimestampOffset, params.commit_timestamp.value());
  if (layout_->has_leader_epoch())
    StoreI32LE(h + layout_->leader_epoch, params.leader_epoch.value());
  int16_t schema_id = params.schema_id.value();
  std::memcpy(h + layout_->schema_id, &schema_id, 2);
  h[layout_->attributes] = params.append_only ? static_cast<char>(kAppendOnlyFlagMask) : 0;
  StoreI64LE(h + layout_->writer_id, params.writer_id.value());
  StoreI32LE(h + layout_->batch_sequence, params.batch_sequence.value());
}

Status LogRecordBatchBuilder::AppendRow(ChangeType type, ByteView row) {
  STROM_CHECK(!finished_ && !has_body_, "AppendRow on a finished batch or one with a body");
  size_t record_size = RowRecordSize(row.size());
  if (record_size > kMaxLogBatchSize - size_in_bytes() || record_count_ == INT32_MAX) {
    return MakeError(ErrorCode::kRecordTooLarge,
                     "log batch of {} bytes cannot take a record of {} bytes", size_in_bytes(),
                     record_size);
  }
  has_rows_ = true;
  size_t pos = out_->size();
  out_->resize(pos + record_size);
  char* p = out_->data() + pos;
  StoreI32LE(p, static_cast<int32_t>(row.size() + 1));
  p[4] = static_cast<char>(type);
  if (!row.empty()) std::memcpy(p + 5, row.data(), row.size());
  ++record_count_;
  return Status::OK();
}

Status LogRecordBatchBuilder::SetBody(ByteView body, int32_t record_count) {
  STROM_CHECK(!finished_ && !has_rows_ && !has_body_,
              "SetBody on a finished batch, or one that already has records");
  if (record_count < 0) return CorruptRecord("record count {} is negative", record_count);
  if (body.size() > kMaxLogBatchSize - size_in_bytes()) {
    return MakeError(ErrorCode::kRecordTooLarge, "log batch body of {} bytes is too large",
                     body.size());
  }
  has_body_ = true;
  out_->append(body.data(), body.size());
  record_count_ = record_count;
  return Status::OK();
}

LogRecordBatch LogRecordBatchBuilder::Finish() {
  STROM_CHECK(!finished_, "Finish called twice");
  finished_ = true;
  size_t size = size_in_bytes();
  char* h = out_->data() + start_;
  StoreI32LE(h + kLogLengthOffset, static_cast<int32_t>(size - kLogOverhead));
  StoreI32LE(h + layout_->last_offset_delta, record_count_ == 0 ? 0 : record_count_ - 1);
  StoreI32LE(h + layout_->record_count, record_count_);
  uint32_t crc = crc32c::Value(h + layout_->schema_id, size - layout_->schema_id);
  StoreI32LE(h + layout_->crc, static_cast<int32_t>(crc));
  Result<LogRecordBatch> batch = LogRecordBatch::Parse(ByteView(h, size));
  STROM_CHECK(batch.ok(), "builder produced a malformed batch: {}", batch.status().ToString());
  return *batch;
}

// ---- RowRecordIterator ----

Result<std::optional<RowRecord>> RowRecordIterator::Next() {
  if (!error_.ok()) return error_;
  size_t remaining = records_.size() - position_;
  if (remaining_count_ == 0) {
    if (remaining != 0) {
      error_ = CorruptRecord("{} bytes left after the last of {} row records", remaining, index_);
      return error_;
    }
    return std::optional<RowRecord>();
  }
  if (remaining < 5) {
    error_ = CorruptRecord("row record {} is truncated ({} bytes left)", index_, remaining);
    return error_;
  }
  const char* p = records_.data() + position_;
  int32_t length = LoadI32LE(p);
  if (length < 1 || static_cast<size_t>(length) > remaining - 4) {
    error_ = CorruptRecord("row record {} has invalid length {} ({} bytes left)", index_, length,
                           remaining - 4);
    return error_;
  }
  uint8_t type = static_cast<uint8_t>(p[4]);
  if (!IsValidChangeTypeByte(type)) {
    error_ = CorruptRecord("row record {} has unknown change type byte {}", index_, type);
    return error_;
  }
  RowRecord record{static_cast<ChangeType>(type), ByteView(p + 5, static_cast<size_t>(length) - 1)};
  position_ += 4 + static_cast<size_t>(length);
  --remaining_count_;
  ++index_;
  return std::optional<RowRecord>(record);
}

}  // namespace strom::record
