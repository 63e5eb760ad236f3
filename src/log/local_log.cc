#include "log/local_log.h"

#include <algorithm>

#include "common/logging.h"

namespace strom::log {

LocalLog::LocalLog(FileSystem* fs, std::string dir, const LogConfig& config, LogSegments segments,
                   LogOffset recovery_point, LogOffset next_offset, TimestampMs max_timestamp)
    : fs_(fs),
      dir_(std::move(dir)),
      config_(config),
      segments_(std::move(segments)),
      recovery_point_(recovery_point),
      log_start_offset_(segments_.empty() ? LogOffset(0) : segments_.first()->base_offset()),
      next_offset_(next_offset),
      max_timestamp_(max_timestamp) {
  STROM_CHECK(!segments_.empty(), "a local log needs an active segment");
}

Result<TimestampMs> LocalLog::ComputeMaxTimestamp(const LogSegments& segments) {
  std::vector<LogSegment*> all = segments.Values();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if ((*it)->size() == 0) continue;
    STROM_ASSIGN_OR_RETURN(TimestampOffset max, (*it)->MaxTimestamp());
    return max.timestamp;
  }
  return TimestampMs(-1);
}

LogOffsetMetadata LocalLog::log_end_offset_metadata() const {
  LogSegment* active = active_segment();
  return LogOffsetMetadata{next_offset_, active->base_offset(), active->size()};
}

void LocalLog::UpdateLogEndOffset(LogOffset end) {
  next_offset_ = end;
  if (recovery_point_ > end) recovery_point_ = end;
}

Status LocalLog::Append(LogOffset last_offset, TimestampMs max_timestamp,
                        LogOffset start_offset_of_max_timestamp, ByteView records) {
  STROM_RETURN_IF_ERROR(
      active_segment()->Append(last_offset, max_timestamp, start_offset_of_max_timestamp, records));
  if (max_timestamp > max_timestamp_) max_timestamp_ = max_timestamp;
  UpdateLogEndOffset(last_offset + 1);
  return Status::OK();
}

Result<LogOffsetMetadata> LocalLog::ConvertToOffsetMetadata(LogOffset offset) {
  if (offset < log_start_offset_ || offset > next_offset_) {
    return MakeError(ErrorCode::kLogOffsetOutOfRange, "offset {} is outside the log [{}, {}] of {}",
                     offset, log_start_offset_, next_offset_, dir_);
  }
  if (offset == next_offset_) return log_end_offset_metadata();
  for (LogSegment* segment = segments_.FloorSegment(offset); segment != nullptr;
       segment = segments_.HigherSegment(segment->base_offset())) {
    STROM_ASSIGN_OR_RETURN(std::optional<BatchPosition> position, segment->TranslateOffset(offset));
    if (position) return LogOffsetMetadata{offset, segment->base_offset(), position->position};
  }
  return log_end_offset_metadata();
}

Result<FetchDataInfo> LocalLog::Read(LogOffset offset, int64_t max_length, bool min_one_batch,
                                     const LogOffsetMetadata& max_offset, bool zero_copy) {
  LogSegment* segment = segments_.FloorSegment(offset);
  if (offset < log_start_offset_ || offset > next_offset_ || segment == nullptr) {
    return MakeError(ErrorCode::kLogOffsetOutOfRange,
                     "received request for offset {} of {}, but the log only has offsets from "
                     "{} up to {}",
                     offset, dir_, log_start_offset_, next_offset_);
  }
  if (offset == max_offset.offset) return FetchDataInfo{max_offset, {}, std::nullopt};
  if (offset > max_offset.offset) {
    STROM_ASSIGN_OR_RETURN(LogOffsetMetadata metadata, ConvertToOffsetMetadata(offset));
    return FetchDataInfo{metadata, {}, std::nullopt};
  }
  // A read covers one segment. When the floor segment has nothing at or after `offset`
  // (possible only after truncation left a gap), the next segment is tried.
  for (; segment != nullptr; segment = segments_.HigherSegment(segment->base_offset())) {
    int64_t max_position = max_offset.segment_base_offset == segment->base_offset()
                               ? max_offset.position
                               : segment->size();
    STROM_ASSIGN_OR_RETURN(std::optional<FetchDataInfo> info,
                           segment->Read(offset, max_length, max_position, min_one_batch, zero_copy));
    if (info) return std::move(*info);
  }
  return FetchDataInfo{log_end_offset_metadata(), {}, std::nullopt};
}

Result<std::optional<LogOffset>> LocalLog::LookupOffsetForTimestamp(TimestampMs timestamp) {
  for (LogSegment* segment : segments_.Values()) {
    STROM_ASSIGN_OR_RETURN(TimestampOffset max, segment->MaxTimestamp());
    if (max.timestamp < timestamp) continue;
    STROM_ASSIGN_OR_RETURN(std::optional<TimestampOffset> found,
                           segment->FindOffsetByTimestamp(timestamp, LogOffset(0)));
    if (!found) {
      return MakeError(ErrorCode::kLogStorage,
                       "segment {} has max timestamp {} but no batch at or after {}",
                       segment->log_path(), max.timestamp, timestamp);
    }
    return std::optional<LogOffset>(found->offset);
  }
  return std::optional<LogOffset>();
}

Result<LogSegment*> LocalLog::Roll(std::optional<LogOffset> expected_next_offset) {
  LogOffset new_offset = std::max(expected_next_offset.value_or(LogOffset(0)), next_offset_);
  LogSegment* active = active_segment();
  if (segments_.Contains(new_offset)) {
    if (active->base_offset() != new_offset || active->size() != 0) {
      return MakeError(ErrorCode::kLogStorage,
                       "cannot roll {} to a new segment at {}: a non-empty segment exists there",
                       dir_, new_offset);
    }
    // An empty active segment whose indexes are full: start it over.
    STROM_RETURN_IF_ERROR(active->DeleteFiles());
    segments_.Remove(new_offset);
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<LogSegment> fresh,
                           LogSegment::Create(fs_, dir_, new_offset, config_));
    LogSegment* out = fresh.get();
    segments_.Add(std::move(fresh));
    STROM_RETURN_IF_ERROR(fs_->SyncDir(dir_));
    UpdateLogEndOffset(next_offset_);
    return out;
  }
  if (new_offset < active->base_offset()) {
    return MakeError(ErrorCode::kLogStorage,
                     "cannot roll {} to {}, below the active segment's base offset {}", dir_,
                     new_offset, active->base_offset());
  }
  // Seal the active segment and make it durable before the next one exists on disk: after a
  // crash only the last segment can then hold unsynced bytes, and recovery scans only it.
  STROM_RETURN_IF_ERROR(active->OnBecomeInactive());
  STROM_RETURN_IF_ERROR(Flush(new_offset));
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<LogSegment> segment,
                         LogSegment::Create(fs_, dir_, new_offset, config_));
  LogSegment* out = segment.get();
  segments_.Add(std::move(segment));
  STROM_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  MarkFlushed(new_offset);
  UpdateLogEndOffset(next_offset_);
  STROM_LOG_INFO("log", "rolled new log segment at offset {} in {}", new_offset, dir_);
  return out;
}

Status LocalLog::Flush(LogOffset offset) {
  LogOffset from = recovery_point_;
  if (from > offset) return Status::OK();
  bool new_segment = false;
  std::vector<LogSegment*> to_flush = segments_.Values(from, offset);
  for (LogSegment* segment : to_flush) {
    STROM_RETURN_IF_ERROR(segment->Flush());
    if (segment->base_offset() >= from) new_segment = true;
  }
  if (new_segment) STROM_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return Status::OK();
}

void LocalLog::MarkFlushed(LogOffset offset) {
  if (offset > recovery_point_) recovery_point_ = std::min(offset, next_offset_);
}

Result<std::vector<LogOffset>> LocalLog::TruncateTo(LogOffset target) {
  std::vector<LogOffset> deletable;
  for (LogSegment* segment : segments_.Values()) {
    if (segment->base_offset() > target) deletable.push_back(segment->base_offset());
  }
  for (LogOffset base : deletable) {
    std::unique_ptr<LogSegment> segment = segments_.Remove(base);
    STROM_RETURN_IF_ERROR(segment->DeleteFiles());
  }
  LogSegment* active = active_segment();
  STROM_CHECK(active != nullptr, "truncation below the first segment of {}", dir_);
  STROM_ASSIGN_OR_RETURN(int64_t removed, active->TruncateTo(target));
  (void)removed;
  STROM_ASSIGN_OR_RETURN(LogOffset end, active->ReadNextOffset());
  UpdateLogEndOffset(end);
  STROM_ASSIGN_OR_RETURN(max_timestamp_, ComputeMaxTimestamp(segments_));
  if (!deletable.empty()) STROM_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return deletable;
}

Result<std::vector<LogOffset>> LocalLog::TruncateFullyAndStartAt(LogOffset offset) {
  std::vector<LogOffset> deleted = segments_.BaseOffsets();
  LogOffset last_base = active_segment()->base_offset();
  std::unique_ptr<LogSegment> fresh;
  if (offset != last_base) {
    // Create the new segment first so a failure leaves the old log in place.
    STROM_ASSIGN_OR_RETURN(fresh, LogSegment::Create(fs_, dir_, offset, config_));
  }
  for (LogOffset base : deleted) {
    std::unique_ptr<LogSegment> segment = segments_.Remove(base);
    STROM_RETURN_IF_ERROR(segment->DeleteFiles());
  }
  if (fresh == nullptr) {
    STROM_ASSIGN_OR_RETURN(fresh, LogSegment::Create(fs_, dir_, offset, config_));
  }
  segments_.Add(std::move(fresh));
  STROM_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  log_start_offset_ = offset;
  next_offset_ = offset;
  recovery_point_ = offset;
  max_timestamp_ = TimestampMs(-1);
  return deleted;
}

Status LocalLog::RemoveAndDeleteSegments(const std::vector<LogOffset>& base_offsets) {
  if (base_offsets.empty()) return Status::OK();
  for (LogOffset base : base_offsets) {
    std::unique_ptr<LogSegment> segment = segments_.Remove(base);
    STROM_CHECK(segment != nullptr && !segments_.empty(),
                "deleting segment {} of {} would leave no active segment", base, dir_);
    STROM_RETURN_IF_ERROR(segment->DeleteFiles());
  }
  log_start_offset_ = segments_.first()->base_offset();
  return fs_->SyncDir(dir_);
}

Status LocalLog::DeleteAllSegments() {
  for (LogOffset base : segments_.BaseOffsets()) {
    std::unique_ptr<LogSegment> segment = segments_.Remove(base);
    STROM_RETURN_IF_ERROR(segment->DeleteFiles());
  }
  return Status::OK();
}

Status LocalLog::Close() {
  LogSegment* active = active_segment();
  if (active != nullptr) {
    STROM_RETURN_IF_ERROR(active->OnBecomeInactive());
    STROM_RETURN_IF_ERROR(active->Flush());
  }
  STROM_RETURN_IF_ERROR(Flush(next_offset_));
  MarkFlushed(next_offset_);
  for (LogSegment* segment : segments_.Values()) STROM_RETURN_IF_ERROR(segment->Close());
  return Status::OK();
}

}  // namespace strom::log
