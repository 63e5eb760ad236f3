#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

#include "common/config/config.h"
#include "common/status.h"

namespace strom::log {

/// Everything a LogTablet is configured with. Defaults are Fluss 0.9.1's.
struct LogConfig {
  /// `log.segment.file-size`: the active segment rolls before an append would take it past
  /// this many bytes. At most INT32_MAX (index positions are int32).
  int64_t segment_file_size = 1024LL * 1024 * 1024;
  /// `log.index.file-size`: preallocated size of each .index / .timeindex file; a segment
  /// rolls when either index is full.
  int64_t index_file_size = 10LL * 1024 * 1024;
  /// `log.index.interval-size`: bytes appended between two offset index entries.
  int64_t index_interval_size = 4096;
  /// `log.file-preallocate`: create .log files at their full size (trimmed on roll/close).
  bool file_preallocate = false;
  /// `log.flush.interval-messages`: fsync once this many offsets are unflushed. The default
  /// (INT64_MAX) never fsyncs on append; segments are fsynced when they roll and at close.
  int64_t flush_interval_messages = std::numeric_limits<int64_t>::max();
  /// `server.writer-id.expiration-time`: idempotence state of a writer that has not written
  /// for this long is dropped.
  std::chrono::milliseconds writer_id_expiration_time = std::chrono::hours(24 * 7);
  /// `server.writer-id.expiration-check-interval`: how often Maintain() looks for them.
  std::chrono::milliseconds writer_id_expiration_check_interval = std::chrono::minutes(10);
  /// `table.log.ttl`: sealed segments whose newest batch is older than this are deleted by
  /// retention. Zero or negative disables it (Fluss writes -1 for "keep forever").
  std::chrono::milliseconds ttl = std::chrono::hours(24 * 7);
  /// Strom extension `table.log.retention-size`: oldest sealed segments are deleted while
  /// the log would stay at least this big without them. Negative disables it.
  int64_t retention_bytes = -1;
  /// Strom extension `log.segment.roll-time`: a non-empty active segment whose first batch
  /// is older than this rolls on the next append, so TTL retention can reach quiet buckets.
  /// Zero or negative disables it.
  std::chrono::milliseconds segment_roll_time = std::chrono::hours(24 * 7);

  /// Reads the options above from a server configuration (Fluss keys plus the two Strom
  /// keys). kInvalidConfig for a value out of range.
  static Result<LogConfig> FromConfiguration(const config::Configuration& conf);

  /// kInvalidConfig when a value cannot work (sizes too small or too big).
  Status Validate() const;
};

}  // namespace strom::log
