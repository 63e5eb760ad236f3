#include "log/log_tablet.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "common/logging.h"
#include "log/fs/posix_file_system.h"
#include "log/log_file_names.h"
#include "log/log_loader.h"
#include "record/log_record_batch.h"

namespace strom::log {
namespace {

// The file system reports STORAGE_EXCEPTION; the log speaks LOG_STORAGE_EXCEPTION.
Status AsLogStorage(Status status) {
  if (status.code() == ErrorCode::kStorage) {
    return Status(ErrorCode::kLogStorage, status.message());
  }
  return status;
}

template <typename T>
Result<T> AsLogStorage(Result<T> result) {
  if (result.ok()) return result;
  return AsLogStorage(std::move(result).status());
}

constexpr LogOffset kMaxOffset{std::numeric_limits<int64_t>::max()};

}  // namespace

LogTablet::LogTablet(LogTabletOptions options, std::unique_ptr<WriterStateManager> writers)
    : options_(std::move(options)),
      writers_(std::move(writers)),
      min_retain_offset_(options_.is_changelog ? LogOffset(0) : kMaxOffset),
      last_writer_expiration_check_(options_.clock->NowMs()) {}

LogTablet::~LogTablet() = default;

Result<std::unique_ptr<LogTablet>> LogTablet::Open(LogTabletOptions options) {
  if (options.fs == nullptr) options.fs = PosixFileSystem::Default();
  if (options.clock == nullptr) options.clock = SystemClock::Default();
  STROM_RETURN_IF_ERROR(options.config.Validate());
  auto writers = std::make_unique<WriterStateManager>(options.fs, options.dir,
                                                      options.config.writer_id_expiration_time);
  LogLoadParams params;
  params.fs = options.fs;
  params.dir = options.dir;
  params.config = options.config;
  params.recovery_point = options.recovery_point;
  params.now = options.clock->NowMs();
  params.writers = writers.get();
  Result<LoadedLog> loaded = AsLogStorage(LoadLog(params));
  if (!loaded.ok()) {
    return loaded.status().WithContext(fmt::format("opening log tablet {}", options.dir));
  }
  std::unique_ptr<LogTablet> tablet(new LogTablet(std::move(options), std::move(writers)));
  tablet->local_log_ = std::move(loaded->local_log);
  tablet->clean_shutdown_ = loaded->clean_shutdown;
  tablet->recovery_truncated_bytes_ = loaded->truncated_bytes;
  tablet->high_watermark_ = tablet->local_log_->log_start_offset();
  STROM_LOG_INFO("log",
                 "opened log tablet {}: offsets [{}, {}), {} segments, clean shutdown {}, "
                 "{} bytes truncated",
                 tablet->dir(), tablet->log_start_offset(), tablet->log_end_offset(),
                 tablet->segment_count(), tablet->clean_shutdown_,
                 tablet->recovery_truncated_bytes_);
  return tablet;
}

Status LogTablet::CheckUsable() const {
  if (!failure_.ok()) return failure_;
  if (closed_) {
    return MakeError(ErrorCode::kLogStorage, "log tablet {} is closed", options_.dir);
  }
  return Status::OK();
}

Status LogTablet::GoOffline(Status status) {
  Status converted = AsLogStorage(std::move(status));
  STROM_LOG_ERROR("log", "log tablet {} goes offline: {}", options_.dir, converted.ToString());
  failure_ = Status(converted.code(), fmt::format("log tablet {} is offline after: {}",
                                                  options_.dir, converted.message()));
  return failure_;
}

LogOffset LogTablet::log_start_offset() const { return local_log_->log_start_offset(); }
LogOffset LogTablet::log_end_offset() const { return local_log_->log_end_offset(); }
TimestampMs LogTablet::max_timestamp() const { return local_log_->max_timestamp(); }
LogOffset LogTablet::recovery_point() const { return local_log_->recovery_point(); }
size_t LogTablet::segment_count() const { return local_log_->segments().size(); }
std::vector<LogOffset> LogTablet::segment_base_offsets() const {
  return local_log_->segments().BaseOffsets();
}
int64_t LogTablet::size_in_bytes() const { return local_log_->segments().SizeInBytes(); }

Result<LogAppendInfo> LogTablet::AppendAsLeader(std::span<char> records) {
  return AsLogStorage(Append(records, ByteView(records.data(), records.size()), true));
}

Result<LogAppendInfo> LogTablet::AppendAsFollower(ByteView records) {
  return AsLogStorage(Append({}, records, false));
}

Result<LogAppendInfo> LogTablet::Append(std::span<char> mutable_records, ByteView records,
                                        bool as_leader) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  // 1. Every batch must be whole, well-formed and match its CRC.
  struct Batch {
    size_t position;
    record::LogRecordBatch view;
  };
  std::vector<Batch> batches;
  LogAppendInfo info;
  bool monotonic = true;
  record::LogRecordBatchIterator it(records);
  while (true) {
    size_t position = it.position();
    STROM_ASSIGN_OR_RETURN(std::optional<record::LogRecordBatch> batch, it.Next());
    if (!batch) break;
    STROM_RETURN_IF_ERROR(batch->ValidateCrc().WithContext(
        fmt::format("batch {} of an append to {}", batches.size(), options_.dir)));
    int32_t expected_delta = batch->record_count() == 0 ? 0 : batch->record_count() - 1;
    if (batch->last_offset_delta() != expected_delta) {
      return MakeError(ErrorCode::kCorruptRecord,
                       "batch {} of an append to {} has last offset delta {} for {} records",
                       batches.size(), options_.dir, batch->last_offset_delta(),
                       batch->record_count());
    }
    if (batches.empty()) info.first_offset = batch->base_offset();
    if (info.last_offset >= batch->last_offset()) monotonic = false;
    info.last_offset = batch->last_offset();
    if (batch->commit_timestamp() > info.max_timestamp) {
      info.max_timestamp = batch->commit_timestamp();
      info.start_offset_of_max_timestamp = batch->base_offset();
    }
    batches.push_back(Batch{position, *batch});
  }
  if (it.truncated()) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "append to {} ends in an incomplete batch at byte {} of {}", options_.dir,
                     it.position(), records.size());
  }
  info.batch_count = static_cast<int32_t>(batches.size());
  if (batches.empty()) return info;

  const TimestampMs now = Now();
  // 2. The leader assigns offsets and the commit timestamp in place.
  if (as_leader) {
    LogOffset next = log_end_offset();
    TimestampMs commit = std::max(local_log_->max_timestamp(), now);
    info.first_offset = next;
    for (Batch& b : batches) {
      auto mutable_batch = record::MutableLogRecordBatch::Parse(
          mutable_records.subspan(b.position, b.view.size_in_bytes()));
      STROM_CHECK(mutable_batch.ok(), "a validated batch failed to parse again");
      mutable_batch->SetBaseOffset(next);
      mutable_batch->SetCommitTimestamp(commit);
      b.view = mutable_batch->view();
      next = b.view.next_offset();
    }
    info.last_offset = next - 1;
    info.max_timestamp = commit;
    info.start_offset_of_max_timestamp = info.first_offset;
  } else {
    if (!monotonic || info.first_offset < log_end_offset()) {
      return MakeError(ErrorCode::kUnknownServerError,
                       "follower append to {} has offsets {}..{} that do not follow the log end "
                       "{} in order",
                       options_.dir, info.first_offset, info.last_offset, log_end_offset());
    }
  }

  // 3. Roll first when the active segment cannot take the append.
  STROM_RETURN_IF_ERROR(MaybeRoll(static_cast<int64_t>(records.size()), info));

  // 4. Idempotent writers: a repeat of a remembered batch, or a sequence gap.
  std::unordered_map<WriterId, WriterAppendInfo> updated_writers;
  for (const Batch& b : batches) {
    WriterId writer_id = b.view.writer_id();
    if (writer_id == kNoWriterId) continue;
    if (const WriterStateEntry* entry = writers_->LastEntry(writer_id)) {
      if (auto duplicate = entry->FindDuplicateBatch(b.view.batch_sequence())) {
        if (!as_leader) {
          return MakeError(ErrorCode::kDuplicateSequence,
                           "duplicate batch in follower append to {}: writer {} sequence {} "
                           "already at offset {}",
                           options_.dir, writer_id, duplicate->batch_sequence,
                           duplicate->last_offset);
        }
        info.first_offset = duplicate->first_offset();
        info.last_offset = duplicate->last_offset;
        info.max_timestamp = duplicate->timestamp;
        info.start_offset_of_max_timestamp = info.first_offset;
        info.duplicate = true;
        info.append_size = 0;
        return info;
      }
    }
    auto [slot, inserted] =
        updated_writers.try_emplace(writer_id, writer_id, writers_->LastEntry(writer_id));
    STROM_RETURN_IF_ERROR(
        slot->second.Append(b.view.batch_sequence(), b.view.base_offset(), b.view.last_offset(),
                            b.view.commit_timestamp(),
                            writers_->IsBatchExpired(now, b.view.commit_timestamp()), as_leader));
  }

  // 5. Write.
  Status st = local_log_->Append(info.last_offset, info.max_timestamp,
                                 info.start_offset_of_max_timestamp, records);
  if (!st.ok()) {
    if (local_log_->active_segment()->broken()) return GoOffline(std::move(st));
    return st;
  }
  for (const auto& [id, writer] : updated_writers) writers_->Update(writer);
  writers_->UpdateMapEndOffset(info.last_offset + 1);
  info.append_size = static_cast<int64_t>(records.size());

  if (local_log_->unflushed_messages() >= options_.config.flush_interval_messages) {
    STROM_RETURN_IF_ERROR(Flush());
  }
  return info;
}

Status LogTablet::MaybeRoll(int64_t messages_size, const LogAppendInfo& info) {
  RollParams params;
  params.max_segment_bytes = options_.config.segment_file_size;
  params.max_offset_in_messages = info.last_offset;
  params.messages_size = messages_size;
  params.now = Now();
  params.roll_time_ms = options_.config.segment_roll_time.count();
  Result<bool> should = local_log_->active_segment()->ShouldRoll(params);
  if (!should.ok()) return should.status();
  if (!*should) return Status::OK();
  return RollAt(info.first_offset);
}

Status LogTablet::RollAt(std::optional<LogOffset> expected_next_offset) {
  Result<LogSegment*> segment = local_log_->Roll(expected_next_offset);
  // A roll that failed half-way (sealed but not fsynced, or no new segment) leaves the log
  // in a state only a reopen sorts out.
  if (!segment.ok()) return GoOffline(segment.status());
  // Snapshot the writer state at the new segment's base offset, so recovery can start from
  // this segment and its snapshot.
  writers_->UpdateMapEndOffset((*segment)->base_offset());
  return writers_->TakeSnapshot();
}

Status LogTablet::Roll() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  return AsLogStorage(RollAt(std::nullopt));
}

Status LogTablet::Flush() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  LogOffset end = log_end_offset();
  Status st = local_log_->Flush(end);
  // After a failed fsync the page cache may have dropped the data: trust nothing.
  if (!st.ok()) return GoOffline(std::move(st));
  local_log_->MarkFlushed(end);
  return Status::OK();
}

Result<LogOffsetMetadata> LogTablet::HighWatermarkMetadata() {
  if (high_watermark_ == log_end_offset()) return local_log_->log_end_offset_metadata();
  if (high_watermark_metadata_ && high_watermark_metadata_->offset == high_watermark_) {
    return *high_watermark_metadata_;
  }
  STROM_ASSIGN_OR_RETURN(LogOffsetMetadata metadata,
                         local_log_->ConvertToOffsetMetadata(high_watermark_));
  high_watermark_metadata_ = metadata;
  return metadata;
}

Result<FetchDataInfo> LogTablet::Read(const ReadParams& params) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  LogOffset offset =
      params.fetch_offset == kEarliestOffset ? log_start_offset() : params.fetch_offset;
  LogOffsetMetadata max_offset;
  if (params.isolation == FetchIsolation::kLogEnd) {
    max_offset = local_log_->log_end_offset_metadata();
  } else {
    STROM_ASSIGN_OR_RETURN(max_offset, AsLogStorage(HighWatermarkMetadata()));
  }
  return AsLogStorage(local_log_->Read(offset, params.max_bytes, params.min_one_batch, max_offset,
                                       params.zero_copy));
}

Status LogTablet::UpdateHighWatermark(LogOffset high_watermark) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  LogOffset capped = std::clamp(high_watermark, log_start_offset(), log_end_offset());
  if (capped < high_watermark_) {
    STROM_LOG_WARN("log", "high watermark of {} moves down from {} to {}", options_.dir,
                   high_watermark_, capped);
  }
  high_watermark_ = capped;
  return Status::OK();
}

Result<bool> LogTablet::MaybeIncrementHighWatermark(LogOffset high_watermark) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (high_watermark > log_end_offset()) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "high watermark {} of {} would pass the log end offset {}", high_watermark,
                     options_.dir, log_end_offset());
  }
  if (high_watermark <= high_watermark_) return false;
  high_watermark_ = high_watermark;
  return true;
}

Result<LogOffset> LogTablet::LookupOffsetForTimestamp(TimestampMs timestamp) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  STROM_ASSIGN_OR_RETURN(std::optional<LogOffset> found,
                         AsLogStorage(local_log_->LookupOffsetForTimestamp(timestamp)));
  if (!found) {
    return MakeError(ErrorCode::kInvalidTimestamp,
                     "lookup offset error for {}: the fetch timestamp {} is larger than the max "
                     "timestamp {}",
                     options_.dir, timestamp, max_timestamp());
  }
  return *found;
}

Result<LogOffset> LogTablet::ListOffset(OffsetSpec spec, TimestampMs timestamp, bool for_follower) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  LogOffset latest = for_follower ? log_end_offset() : high_watermark_;
  switch (spec) {
    case OffsetSpec::kEarliest:
      return log_start_offset();
    case OffsetSpec::kLatest:
      return latest;
    case OffsetSpec::kTimestamp: {
      TimestampMs now = Now();
      if (timestamp > now) {
        return MakeError(ErrorCode::kInvalidTimestamp,
                         "get offset error for {}: the fetch timestamp {} is larger than the "
                         "current timestamp {}",
                         options_.dir, timestamp, now);
      }
      if (timestamp > max_timestamp()) return latest;
      return LookupOffsetForTimestamp(timestamp);
    }
  }
  return MakeError(ErrorCode::kUnknownServerError, "unknown offset type {}",
                   static_cast<int>(spec));
}

Result<bool> LogTablet::TruncateTo(LogOffset target) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (target < LogOffset(0)) {
    return MakeError(ErrorCode::kUnknownServerError, "cannot truncate {} to negative offset {}",
                     options_.dir, target);
  }
  if (target >= log_end_offset()) return false;
  if (local_log_->segments().first()->base_offset() > target) {
    STROM_RETURN_IF_ERROR(TruncateFullyAndStartAt(target));
    return true;
  }
  high_watermark_metadata_.reset();
  Result<std::vector<LogOffset>> deleted = local_log_->TruncateTo(target);
  if (!deleted.ok()) return GoOffline(deleted.status());
  for (LogOffset base : *deleted) {
    Status st = writers_->RemoveAndDeleteSnapshot(base);
    if (!st.ok()) return GoOffline(std::move(st));
  }
  Status st =
      RebuildWriterState(*writers_, local_log_->segments(), LogOffset(0), log_end_offset(), Now());
  if (!st.ok()) return GoOffline(std::move(st));
  if (high_watermark_ > log_end_offset()) high_watermark_ = log_end_offset();
  return true;
}

Status LogTablet::TruncateFullyAndStartAt(LogOffset offset) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  high_watermark_metadata_.reset();
  Result<std::vector<LogOffset>> deleted = local_log_->TruncateFullyAndStartAt(offset);
  if (!deleted.ok()) return GoOffline(deleted.status());
  Status st = writers_->TruncateFullyAndStartAt(offset);
  if (st.ok()) {
    st = RebuildWriterState(*writers_, local_log_->segments(), LogOffset(0), offset, Now());
  }
  if (!st.ok()) return GoOffline(std::move(st));
  high_watermark_ = offset;
  return Status::OK();
}

Result<int> LogTablet::DeleteExpiredSegments() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  const LogConfig& config = options_.config;
  const TimestampMs now = Now();
  const LogOffset bound = std::min(high_watermark_, min_retain_offset_);
  std::vector<LogSegment*> segments = local_log_->segments().Values();
  std::vector<LogOffset> deletable;
  size_t i = 0;
  // The active segment (the last) is never deleted, and a segment only goes when all of it
  // is below the bound: the next segment must start at or below it.
  auto eligible = [&](size_t k) {
    return k + 1 < segments.size() && segments[k + 1]->base_offset() <= bound;
  };
  if (config.ttl.count() > 0) {
    for (; eligible(i); ++i) {
      STROM_ASSIGN_OR_RETURN(TimestampOffset max, AsLogStorage(segments[i]->MaxTimestamp()));
      if (now - max.timestamp <= config.ttl.count()) break;
      deletable.push_back(segments[i]->base_offset());
    }
  }
  if (config.retention_bytes >= 0) {
    int64_t excess = local_log_->segments().SizeInBytes() - config.retention_bytes;
    for (size_t k = 0; k < i; ++k) excess -= segments[k]->size();
    for (; eligible(i) && excess - segments[i]->size() >= 0; ++i) {
      excess -= segments[i]->size();
      deletable.push_back(segments[i]->base_offset());
    }
  }
  if (deletable.empty()) return 0;
  high_watermark_metadata_.reset();
  Status st = local_log_->RemoveAndDeleteSegments(deletable);
  if (!st.ok()) return GoOffline(std::move(st));
  for (LogOffset base : deletable) {
    st = writers_->RemoveAndDeleteSnapshot(base);
    if (!st.ok()) return AsLogStorage(std::move(st));
  }
  STROM_LOG_INFO("log", "retention deleted {} segments of {}; log start offset is now {}",
                 deletable.size(), options_.dir, log_start_offset());
  return static_cast<int>(deletable.size());
}

void LogTablet::SetMinRetainOffset(LogOffset offset) {
  // Only ever raised, as in Fluss: a log table (no bound) keeps having none.
  if (offset > min_retain_offset_) min_retain_offset_ = offset;
}

void LogTablet::RemoveExpiredWriters() {
  if (!CheckUsable().ok()) return;
  writers_->RemoveExpiredWriters(Now());
}

Status LogTablet::Maintain() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  TimestampMs now = Now();
  if (now - last_writer_expiration_check_ >=
      options_.config.writer_id_expiration_check_interval.count()) {
    writers_->RemoveExpiredWriters(now);
    last_writer_expiration_check_ = now;
  }
  return DeleteExpiredSegments().status();
}

Status LogTablet::Close() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  closed_ = true;
  STROM_RETURN_IF_ERROR(AsLogStorage(writers_->TakeSnapshot()));
  STROM_RETURN_IF_ERROR(AsLogStorage(local_log_->Close()));
  STROM_RETURN_IF_ERROR(AsLogStorage(options_.fs->WriteFileAtomically(
      JoinPath(options_.dir, kCleanShutdownFileName), ByteView())));
  STROM_LOG_INFO("log", "closed log tablet {} at offset {}", options_.dir, log_end_offset());
  return Status::OK();
}

Status LogTablet::Drop() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  closed_ = true;
  STROM_RETURN_IF_ERROR(AsLogStorage(local_log_->DeleteAllSegments()));
  STROM_RETURN_IF_ERROR(AsLogStorage(writers_->TruncateFullyAndStartAt(LogOffset(0))));
  return AsLogStorage(options_.fs->DeleteRecursively(options_.dir));
}

}  // namespace strom::log
