#include "log/detail/batch_scanner.h"

#include <algorithm>

namespace strom::log::detail {

Result<ByteView> FileReader::Read(uint64_t position, size_t n) {
  if (position > end_ || n > end_ - position) {
    return MakeError(ErrorCode::kStorage, "{}: read of {} bytes at {} is past the end {}",
                     file_->path(), n, position, end_);
  }
  if (position < window_start_ || position + n > window_start_ + window_.size()) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(window_size_, n), end_ - position));
    window_size_ = std::min(window_size_ * 2, kMaxWindow);
    window_.resize(want);
    Status st = file_->ReadFully(position, want, window_.data());
    if (!st.ok()) {
      window_.clear();
      return st;
    }
    window_start_ = position;
  }
  return ByteView(window_.data() + (position - window_start_), n);
}

Result<std::optional<BatchHeader>> BatchScanner::Next() {
  last_.reset();
  uint64_t remaining = reader_.end() - position_;
  if (remaining == 0) return std::optional<BatchHeader>();
  if (remaining < record::kLogHeaderSizeUpToMagic) {
    truncated_ = true;
    return std::optional<BatchHeader>();
  }
  STROM_ASSIGN_OR_RETURN(ByteView head, reader_.Read(position_, record::kLogHeaderSizeUpToMagic));
  int32_t length = LoadI32LE(head.data() + record::kLogLengthOffset);
  int8_t magic = static_cast<int8_t>(head[record::kLogMagicOffset]);
  const record::LogBatchLayout* layout = record::LogLayoutForMagic(magic);
  if (layout == nullptr) {
    return MakeError(ErrorCode::kCorruptRecord, "batch at byte {} has unknown magic {}", position_,
                     magic);
  }
  if (length < 0 || static_cast<uint64_t>(length) + record::kLogOverhead < layout->header_size) {
    return MakeError(ErrorCode::kCorruptRecord, "batch at byte {} has invalid length {}", position_,
                     length);
  }
  uint64_t size = static_cast<uint64_t>(length) + record::kLogOverhead;
  if (size > remaining) {
    truncated_ = true;
    return std::optional<BatchHeader>();
  }
  STROM_ASSIGN_OR_RETURN(ByteView h, reader_.Read(position_, layout->header_size));
  BatchHeader header;
  header.position = position_;
  header.size = static_cast<uint32_t>(size);
  header.magic = magic;
  header.base_offset = LogOffset(LoadI64LE(h.data() + record::kLogBaseOffsetOffset));
  header.commit_timestamp = TimestampMs(LoadI64LE(h.data() + record::kLogCommitTimestampOffset));
  header.last_offset_delta = LoadI32LE(h.data() + layout->last_offset_delta);
  header.writer_id = WriterId(LoadI64LE(h.data() + layout->writer_id));
  header.batch_sequence = BatchSequence(LoadI32LE(h.data() + layout->batch_sequence));
  header.record_count = LoadI32LE(h.data() + layout->record_count);
  if (header.last_offset_delta < 0 || header.record_count < 0) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "batch at byte {} has negative last offset delta {} or record count {}",
                     position_, header.last_offset_delta, header.record_count);
  }
  position_ += size;
  last_ = header;
  return std::optional<BatchHeader>(header);
}

Result<record::LogRecordBatch> BatchScanner::LoadAndValidate() {
  STROM_CHECK(last_.has_value(), "LoadAndValidate without a batch from Next()");
  STROM_ASSIGN_OR_RETURN(ByteView bytes, reader_.Read(last_->position, last_->size));
  STROM_ASSIGN_OR_RETURN(record::LogRecordBatch batch, record::LogRecordBatch::Parse(bytes));
  STROM_RETURN_IF_ERROR(batch.ValidateCrc());
  return batch;
}

}  // namespace strom::log::detail
