#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"
#include "log/log_config.h"
#include "log/log_segments.h"
#include "log/log_types.h"

namespace strom::log {

/// The segments of one log tablet on local disk and the offsets that describe them: log
/// start, log end (with its position) and recovery point (Fluss's LocalLog). It appends,
/// reads, rolls, truncates and deletes segments; the policies around it (validation, offset
/// assignment, idempotence, high watermark, retention) live in LogTablet.
///
/// Lifecycle: built by the loader from recovered segments; Close() trims and flushes.
/// Thread: owned by a LogTablet, used from its owner thread only. Durability: data is
/// durable up to recovery_point() (everything before it was fsynced).
class LocalLog {
 public:
  /// `segments` must not be empty; `max_timestamp` is ComputeMaxTimestamp() of them.
  LocalLog(FileSystem* fs, std::string dir, const LogConfig& config, LogSegments segments,
           LogOffset recovery_point, LogOffset next_offset, TimestampMs max_timestamp);

  /// The largest commit timestamp of the newest non-empty segment (-1 when all are empty).
  /// Fluss looks at the active segment only, which forgets the timestamps of a log whose
  /// active segment was just rolled and is still empty.
  static Result<TimestampMs> ComputeMaxTimestamp(const LogSegments& segments);

  const std::string& dir() const { return dir_; }
  LogSegments& segments() { return segments_; }
  const LogSegments& segments() const { return segments_; }
  LogSegment* active_segment() const { return segments_.last(); }

  LogOffset log_start_offset() const { return log_start_offset_; }
  LogOffset log_end_offset() const { return next_offset_; }
  /// The log end offset with its position: (end, active base, active size).
  LogOffsetMetadata log_end_offset_metadata() const;
  LogOffset recovery_point() const { return recovery_point_; }
  int64_t unflushed_messages() const { return next_offset_ - recovery_point_; }
  /// The largest commit timestamp in the log (-1 when unknown or empty).
  TimestampMs max_timestamp() const { return max_timestamp_; }

  /// Appends batches whose offsets end at `last_offset` to the active segment.
  Status Append(LogOffset last_offset, TimestampMs max_timestamp,
                LogOffset start_offset_of_max_timestamp, ByteView records);

  /// Reads from `offset` (see LogTablet::Read), stopping at `max_offset`.
  Result<FetchDataInfo> Read(LogOffset offset, int64_t max_length, bool min_one_batch,
                             const LogOffsetMetadata& max_offset, bool zero_copy = false);
  /// The position of `offset`: the batch holding it (kLogOffsetOutOfRange outside the log).
  Result<LogOffsetMetadata> ConvertToOffsetMetadata(LogOffset offset);
  /// The first offset whose batch has commit timestamp >= `timestamp`; nullopt when every
  /// batch is older.
  Result<std::optional<LogOffset>> LookupOffsetForTimestamp(TimestampMs timestamp);

  /// Seals the active segment (trim, fsync) and starts a new one at max(`expected_next`,
  /// log end). Returns the new segment.
  Result<LogSegment*> Roll(std::optional<LogOffset> expected_next_offset);
  /// Fsyncs every segment holding offsets in [recovery point, `offset`) and the directory
  /// when a new segment is among them. Does not move the recovery point.
  Status Flush(LogOffset offset);
  /// Moves the recovery point up to `offset`.
  void MarkFlushed(LogOffset offset);

  /// Removes every offset >= `target`: deletes later segments and truncates the one holding
  /// it. Returns the base offsets of the deleted segments.
  Result<std::vector<LogOffset>> TruncateTo(LogOffset target);
  /// Deletes every segment and starts empty at `offset`. Returns the deleted base offsets.
  Result<std::vector<LogOffset>> TruncateFullyAndStartAt(LogOffset offset);
  /// Deletes the given (non-active) segments; the log start moves to the first remaining.
  Status RemoveAndDeleteSegments(const std::vector<LogOffset>& base_offsets);
  /// Deletes every segment file.
  Status DeleteAllSegments();

  /// Trims the active segment, fsyncs what is unflushed and releases every file.
  Status Close();

 private:
  void UpdateLogEndOffset(LogOffset end);

  FileSystem* fs_;
  std::string dir_;
  const LogConfig config_;
  LogSegments segments_;
  LogOffset recovery_point_;
  LogOffset log_start_offset_;
  LogOffset next_offset_;
  TimestampMs max_timestamp_{-1};
};

}  // namespace strom::log
