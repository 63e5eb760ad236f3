#include "log/log_segment.h"

#include <algorithm>

#include "common/logging.h"
#include "log/detail/batch_scanner.h"
#include "log/log_file_names.h"

namespace strom::log {

using detail::BatchHeader;
using detail::BatchScanner;

LogSegment::LogSegment(FileSystem* fs, const std::string& dir, LogOffset base_offset,
                       const LogConfig& config)
    : fs_(fs),
      base_offset_(base_offset),
      config_(config),
      log_path_(JoinPath(dir, OffsetFileName(base_offset, kLogFileSuffix))),
      offset_index_path_(JoinPath(dir, OffsetFileName(base_offset, kIndexFileSuffix))),
      time_index_path_(JoinPath(dir, OffsetFileName(base_offset, kTimeIndexFileSuffix))) {}

LogSegment::~LogSegment() = default;

Result<std::unique_ptr<LogSegment>> LogSegment::Create(FileSystem* fs, const std::string& dir,
                                                       LogOffset base_offset,
                                                       const LogConfig& config) {
  std::unique_ptr<LogSegment> segment(new LogSegment(fs, dir, base_offset, config));
  for (const std::string* path : {&segment->offset_index_path_, &segment->time_index_path_}) {
    STROM_ASSIGN_OR_RETURN(bool deleted, fs->DeleteIfExists(*path));
    if (deleted) STROM_LOG_WARN("log", "deleted left-over index file {}", *path);
  }
  STROM_ASSIGN_OR_RETURN(segment->log_file_, fs->Open(segment->log_path_, OpenMode::kCreate));
  STROM_RETURN_IF_ERROR(segment->log_file_->Truncate(0));
  if (config.file_preallocate) {
    STROM_RETURN_IF_ERROR(
        segment->log_file_->Truncate(static_cast<uint64_t>(config.segment_file_size)));
  }
  segment->max_timestamp_ = TimestampOffset{TimestampMs(-1), base_offset};
  STROM_RETURN_IF_ERROR(segment->offset_index().status());
  STROM_RETURN_IF_ERROR(segment->time_index().status());
  return segment;
}

Result<std::unique_ptr<LogSegment>> LogSegment::Open(FileSystem* fs, const std::string& dir,
                                                     LogOffset base_offset,
                                                     const LogConfig& config) {
  std::unique_ptr<LogSegment> segment(new LogSegment(fs, dir, base_offset, config));
  STROM_ASSIGN_OR_RETURN(segment->log_file_, fs->Open(segment->log_path_, OpenMode::kReadWrite));
  STROM_ASSIGN_OR_RETURN(uint64_t size, segment->log_file_->Size());
  segment->size_ = static_cast<int64_t>(size);
  return segment;
}

Result<OffsetIndex*> LogSegment::offset_index() {
  if (offset_index_ == nullptr) {
    STROM_ASSIGN_OR_RETURN(offset_index_, OffsetIndex::Open(fs_, offset_index_path_, base_offset_,
                                                            config_.index_file_size));
  }
  return offset_index_.get();
}

Result<TimeIndex*> LogSegment::time_index() {
  if (time_index_ == nullptr) {
    STROM_ASSIGN_OR_RETURN(
        time_index_, TimeIndex::Open(fs_, time_index_path_, base_offset_, config_.index_file_size));
  }
  return time_index_.get();
}

Result<bool> LogSegment::ShouldRoll(const RollParams& params) {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  // Fluss rolls even an empty segment when one append exceeds the limit; an empty segment
  // is kept here instead, since a new one would be just as empty.
  if (size_ > 0 && size_ > params.max_segment_bytes - params.messages_size) return true;
  if (offsets->IsFull() || times->IsFull()) return true;
  if (!offsets->CanAppendOffset(params.max_offset_in_messages)) return true;
  if (params.roll_time_ms > 0 && size_ > 0) {
    if (!first_batch_timestamp_) {
      BatchScanner scanner(log_file_.get(), 0, static_cast<uint64_t>(size_));
      STROM_ASSIGN_OR_RETURN(std::optional<BatchHeader> first, scanner.Next());
      if (first) first_batch_timestamp_ = first->commit_timestamp;
    }
    if (first_batch_timestamp_ && params.now - *first_batch_timestamp_ > params.roll_time_ms) {
      return true;
    }
  }
  return false;
}

Status LogSegment::TruncateLogFile(int64_t size) {
  Status st = log_file_->Truncate(static_cast<uint64_t>(size));
  if (!st.ok()) broken_ = true;
  return st;
}

Status LogSegment::Append(LogOffset largest_offset, TimestampMs max_timestamp,
                          LogOffset offset_of_max_timestamp, ByteView records) {
  if (records.empty()) return Status::OK();
  if (broken_) {
    return MakeError(ErrorCode::kLogStorage, "segment {} is broken by an earlier failure",
                     log_path_);
  }
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  STROM_ASSIGN_OR_RETURN(TimestampOffset max_before, MaxTimestamp());
  if (!offsets->CanAppendOffset(largest_offset)) {
    return MakeError(ErrorCode::kLogStorage, "offset {} overflows segment {} (base {})",
                     largest_offset, log_path_, base_offset_);
  }
  const int64_t physical = size_;
  Status st = log_file_->WriteAt(static_cast<uint64_t>(physical), records);
  if (!st.ok()) {
    // Put the file back so no part of the failed append can be read or recovered.
    Status undo = TruncateLogFile(physical);
    if (!undo.ok()) {
      STROM_LOG_ERROR("log", "cannot undo a failed append to {}: {}", log_path_, undo.ToString());
    }
    return st;
  }
  size_ = physical + static_cast<int64_t>(records.size());
  if (max_timestamp > max_before.timestamp) {
    max_timestamp_ = TimestampOffset{max_timestamp, offset_of_max_timestamp};
  }
  if (bytes_since_last_index_entry_ > config_.index_interval_size) {
    st = offsets->Append(largest_offset, static_cast<int32_t>(physical));
    if (st.ok()) st = times->MaybeAppend(max_timestamp_->timestamp, max_timestamp_->offset);
    if (!st.ok()) {
      offsets->TruncateTo(largest_offset);
      times->TruncateTo(largest_offset);
      size_ = physical;
      max_timestamp_ = max_before;
      Status undo = TruncateLogFile(physical);
      if (!undo.ok()) {
        STROM_LOG_ERROR("log", "cannot undo a failed append to {}: {}", log_path_, undo.ToString());
      }
      return st;
    }
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += static_cast<int64_t>(records.size());
  if (physical == 0) first_batch_timestamp_ = max_timestamp;
  return Status::OK();
}

Result<std::optional<BatchPosition>> LogSegment::TranslateOffset(LogOffset offset) {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  OffsetPosition hint = offsets->Lookup(offset);
  BatchScanner scanner(log_file_.get(), static_cast<uint64_t>(hint.position),
                       static_cast<uint64_t>(size_));
  while (true) {
    STROM_ASSIGN_OR_RETURN(std::optional<BatchHeader> header, scanner.Next());
    if (!header) return std::optional<BatchPosition>();
    if (header->last_offset() >= offset) {
      return std::optional<BatchPosition>(BatchPosition{
          header->last_offset(), static_cast<int64_t>(header->position), header->size});
    }
  }
}

Status LogSegment::ScanBatches(LogOffset from, LogOffset to,
                               const std::function<Status(const BatchHeader&)>& fn) {
  STROM_ASSIGN_OR_RETURN(std::optional<BatchPosition> start, TranslateOffset(from));
  if (!start) return Status::OK();
  BatchScanner scanner(log_file_.get(), static_cast<uint64_t>(start->position),
                       static_cast<uint64_t>(size_));
  while (true) {
    STROM_ASSIGN_OR_RETURN(std::optional<BatchHeader> header, scanner.Next());
    if (!header || header->base_offset >= to) return Status::OK();
    STROM_RETURN_IF_ERROR(fn(*header));
  }
}

Result<std::optional<FetchDataInfo>> LogSegment::Read(LogOffset start_offset, int64_t max_size,
                                                      int64_t max_position, bool min_one_batch,
                                                      bool zero_copy) {
  STROM_ASSIGN_OR_RETURN(std::optional<BatchPosition> start, TranslateOffset(start_offset));
  if (!start) return std::optional<FetchDataInfo>();
  FetchDataInfo info;
  info.fetch_offset_metadata = LogOffsetMetadata{start_offset, base_offset_, start->position};
  int64_t adjusted_max_size = min_one_batch ? std::max(max_size, start->size) : max_size;
  // As Fluss: a budget that cannot hold a batch header returns nothing.
  if (adjusted_max_size <= static_cast<int64_t>(record::kLogHeaderSizeV0)) {
    return std::optional<FetchDataInfo>(std::move(info));
  }
  int64_t fetch_size = std::min(max_position - start->position, adjusted_max_size);
  if (fetch_size <= 0) return std::optional<FetchDataInfo>(std::move(info));
  if (zero_copy) {
    if (shared_log_file_ == nullptr) {
      STROM_ASSIGN_OR_RETURN(shared_log_file_, log_file_->ShareForSend());
    }
    if (shared_log_file_ != nullptr) {
      info.slice = FileSlice{shared_log_file_, static_cast<uint64_t>(start->position),
                             static_cast<size_t>(fetch_size)};
      return std::optional<FetchDataInfo>(std::move(info));
    }
  }
  info.records.resize(static_cast<size_t>(fetch_size));
  STROM_RETURN_IF_ERROR(log_file_->ReadFully(static_cast<uint64_t>(start->position),
                                             info.records.size(), info.records.data()));
  return std::optional<FetchDataInfo>(std::move(info));
}

Result<std::optional<TimestampOffset>> LogSegment::FindOffsetByTimestamp(
    TimestampMs timestamp, LogOffset starting_offset) {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  TimestampOffset hint = times->Lookup(timestamp);
  OffsetPosition position = offsets->Lookup(std::max(hint.offset, starting_offset));
  BatchScanner scanner(log_file_.get(), static_cast<uint64_t>(position.position),
                       static_cast<uint64_t>(size_));
  while (true) {
    STROM_ASSIGN_OR_RETURN(std::optional<BatchHeader> header, scanner.Next());
    if (!header) return std::optional<TimestampOffset>();
    if (header->commit_timestamp >= timestamp && header->base_offset >= starting_offset) {
      return std::optional<TimestampOffset>(
          TimestampOffset{header->commit_timestamp, header->base_offset});
    }
  }
}

Result<TimestampOffset> LogSegment::ReadLargestTimestamp() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  TimestampOffset last = times->last_entry();
  OffsetPosition position = offsets->Lookup(last.offset);
  BatchScanner scanner(log_file_.get(), static_cast<uint64_t>(position.position),
                       static_cast<uint64_t>(size_));
  TimestampOffset best = last;
  while (true) {
    STROM_ASSIGN_OR_RETURN(std::optional<BatchHeader> header, scanner.Next());
    if (!header) break;
    if (header->commit_timestamp > best.timestamp) {
      best = TimestampOffset{header->commit_timestamp, header->base_offset};
    }
  }
  return best;
}

Result<TimestampOffset> LogSegment::MaxTimestamp() {
  if (!max_timestamp_) {
    STROM_ASSIGN_OR_RETURN(TimestampOffset max, ReadLargestTimestamp());
    max_timestamp_ = max;
  }
  return *max_timestamp_;
}

Result<LogOffset> LogSegment::ReadNextOffset() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  OffsetPosition position = offsets->Lookup(offsets->last_offset());
  BatchScanner scanner(log_file_.get(), static_cast<uint64_t>(position.position),
                       static_cast<uint64_t>(size_));
  LogOffset next = base_offset_;
  while (true) {
    STROM_ASSIGN_OR_RETURN(std::optional<BatchHeader> header, scanner.Next());
    if (!header) break;
    next = header->next_offset();
  }
  return next;
}

Result<int64_t> LogSegment::Recover() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  STROM_RETURN_IF_ERROR(offsets->Reset());
  STROM_RETURN_IF_ERROR(times->Reset());
  max_timestamp_ = TimestampOffset{TimestampMs(-1), base_offset_};
  first_batch_timestamp_.reset();
  bytes_since_last_index_entry_ = 0;
  STROM_ASSIGN_OR_RETURN(int64_t truncated, RecoverFrom(0, /*rebuild_indexes=*/true));
  STROM_RETURN_IF_ERROR(offsets->TrimToValidSize());
  STROM_RETURN_IF_ERROR(times->TrimToValidSize());
  return truncated;
}

Result<int64_t> LogSegment::RecoverTail() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  OffsetPosition start = offsets->Lookup(offsets->last_offset());
  STROM_ASSIGN_OR_RETURN(int64_t truncated, RecoverFrom(start.position, /*rebuild_indexes=*/false));
  if (truncated > 0) {
    STROM_ASSIGN_OR_RETURN(LogOffset next, ReadNextOffset());
    offsets->TruncateTo(next);
    times->TruncateTo(next);
  }
  max_timestamp_.reset();
  first_batch_timestamp_.reset();
  return truncated;
}

Result<int64_t> LogSegment::RecoverFrom(int64_t start_position, bool rebuild_indexes) {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  BatchScanner scanner(log_file_.get(), static_cast<uint64_t>(start_position),
                       static_cast<uint64_t>(size_));
  int64_t valid = start_position;
  int64_t last_index_entry = 0;
  std::optional<LogOffset> expected_min_base;
  if (rebuild_indexes) expected_min_base = base_offset_;
  Status problem;
  while (true) {
    Result<std::optional<BatchHeader>> next = scanner.Next();
    if (!next.ok()) {
      problem = next.status();
      break;
    }
    if (!next->has_value()) {
      if (scanner.truncated()) {
        problem = MakeError(ErrorCode::kCorruptRecord, "incomplete batch at byte {}", valid);
      }
      break;
    }
    const BatchHeader& header = **next;
    Result<record::LogRecordBatch> batch = scanner.LoadAndValidate();
    if (!batch.ok()) {
      problem = batch.status();
      break;
    }
    int32_t expected_delta = header.record_count == 0 ? 0 : header.record_count - 1;
    if (header.last_offset_delta != expected_delta ||
        (expected_min_base && header.base_offset < *expected_min_base) ||
        header.base_offset < base_offset_ || !offsets->CanAppendOffset(header.last_offset())) {
      problem = MakeError(ErrorCode::kCorruptRecord,
                          "batch at byte {} has offsets {}..{} that do not fit the log", valid,
                          header.base_offset, header.last_offset());
      break;
    }
    expected_min_base = header.next_offset();
    if (rebuild_indexes) {
      if (header.commit_timestamp > max_timestamp_->timestamp) {
        max_timestamp_ = TimestampOffset{header.commit_timestamp, header.base_offset};
      }
      if (!first_batch_timestamp_) first_batch_timestamp_ = header.commit_timestamp;
      if (valid - last_index_entry > config_.index_interval_size && !offsets->IsFull() &&
          !times->IsFull()) {
        STROM_RETURN_IF_ERROR(offsets->Append(header.last_offset(), static_cast<int32_t>(valid)));
        STROM_RETURN_IF_ERROR(
            times->MaybeAppend(max_timestamp_->timestamp, max_timestamp_->offset));
        last_index_entry = valid;
      }
    }
    valid += header.size;
  }
  int64_t truncated = size_ - valid;
  if (truncated > 0) {
    STROM_LOG_WARN("log", "truncating {} bytes at byte {} of {}: {}", truncated, valid, log_path_,
                   problem.ToString());
    STROM_RETURN_IF_ERROR(TruncateLogFile(valid));
    size_ = valid;
  }
  problem.IgnoreError();
  return truncated;
}

Status LogSegment::SanityCheck() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  STROM_RETURN_IF_ERROR(offsets->SanityCheck(size_));
  return times->SanityCheck();
}

Result<int64_t> LogSegment::TruncateTo(LogOffset offset) {
  STROM_ASSIGN_OR_RETURN(std::optional<BatchPosition> mapping, TranslateOffset(offset));
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  offsets->TruncateTo(offset);
  times->TruncateTo(offset);
  STROM_RETURN_IF_ERROR(ResizeIndexesToMax());
  int64_t removed = 0;
  if (mapping) {
    removed = size_ - mapping->position;
    STROM_RETURN_IF_ERROR(TruncateLogFile(mapping->position));
    size_ = mapping->position;
    // Index entries point at the start of an append; one may name a later offset of an
    // append that began before the cut, so drop whatever now lies past the end.
    STROM_ASSIGN_OR_RETURN(LogOffset next, ReadNextOffset());
    offsets->TruncateTo(next);
    times->TruncateTo(next);
  }
  bytes_since_last_index_entry_ = 0;
  max_timestamp_.reset();
  if (size_ == 0) first_batch_timestamp_.reset();
  return removed;
}

Status LogSegment::ResizeIndexesToMax() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  STROM_RETURN_IF_ERROR(offsets->Resize(config_.index_file_size));
  return times->Resize(config_.index_file_size);
}

Status LogSegment::OnBecomeInactive() {
  STROM_ASSIGN_OR_RETURN(OffsetIndex * offsets, offset_index());
  STROM_ASSIGN_OR_RETURN(TimeIndex * times, time_index());
  STROM_RETURN_IF_ERROR(offsets->TrimToValidSize());
  STROM_RETURN_IF_ERROR(times->TrimToValidSize());
  if (config_.file_preallocate) return TruncateLogFile(size_);
  return Status::OK();
}

Status LogSegment::Flush() {
  STROM_RETURN_IF_ERROR(log_file_->Sync());
  if (offset_index_ != nullptr) STROM_RETURN_IF_ERROR(offset_index_->Flush());
  if (time_index_ != nullptr) STROM_RETURN_IF_ERROR(time_index_->Flush());
  return Status::OK();
}

Status LogSegment::Close() {
  if (offset_index_ != nullptr) STROM_RETURN_IF_ERROR(offset_index_->Close());
  if (time_index_ != nullptr) STROM_RETURN_IF_ERROR(time_index_->Close());
  shared_log_file_.reset();  // zero-copy reads in flight keep their own reference
  if (log_file_ == nullptr) return Status::OK();
  if (config_.file_preallocate) STROM_RETURN_IF_ERROR(TruncateLogFile(size_));
  return log_file_->Close();
}

Status LogSegment::DeleteFiles() {
  shared_log_file_.reset();
  if (offset_index_ != nullptr) {
    STROM_RETURN_IF_ERROR(offset_index_->DeleteIfExists());
    offset_index_.reset();
  } else {
    STROM_RETURN_IF_ERROR(fs_->DeleteIfExists(offset_index_path_).status());
  }
  if (time_index_ != nullptr) {
    STROM_RETURN_IF_ERROR(time_index_->DeleteIfExists());
    time_index_.reset();
  } else {
    STROM_RETURN_IF_ERROR(fs_->DeleteIfExists(time_index_path_).status());
  }
  if (log_file_ != nullptr) {
    log_file_->Close().IgnoreError();
    log_file_.reset();
  }
  return fs_->DeleteIfExists(log_path_).status();
}

}  // namespace strom::log
