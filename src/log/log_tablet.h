#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/status.h"
#include "log/clock.h"
#include "log/fs/file_system.h"
#include "log/local_log.h"
#include "log/log_config.h"
#include "log/log_types.h"
#include "log/writer_state_manager.h"

namespace strom::log {

/// How to open a LogTablet.
struct LogTabletOptions {
  /// The tablet directory, e.g. `{data.dir}/{db}/{table}-{id}/log-{bucket}`; created when
  /// missing.
  std::string dir;
  LogConfig config;
  /// Not owned; must outlive the tablet. Null means PosixFileSystem::Default().
  FileSystem* fs = nullptr;
  /// Not owned; must outlive the tablet. Null means SystemClock::Default().
  const Clock* clock = nullptr;
  /// A recovery point from a checkpoint, if the caller keeps one (see LogLoadParams).
  std::optional<LogOffset> recovery_point;
  /// True for the changelog of a primary-key table: retention then keeps everything until
  /// SetMinRetainOffset() is called (the KV snapshot offset), as Fluss does.
  bool is_changelog = false;
};

/// What a read asks for (FetchLog per bucket, or a follower fetch).
struct ReadParams {
  /// First offset wanted; kEarliestOffset (-2) means the log start offset.
  LogOffset fetch_offset;
  /// Byte budget. The result may end in a truncated batch when the budget cuts one.
  int64_t max_bytes = 1024 * 1024;
  FetchIsolation isolation = FetchIsolation::kHighWatermark;
  /// Return the whole first batch even when it is larger than `max_bytes`.
  bool min_one_batch = true;
  /// Leave the bytes in the segment file (FetchDataInfo::slice) when it can be shared, for
  /// a caller that sends them on with sendfile.
  bool zero_copy = false;
};

/// The append-only log of one bucket (Fluss's LogTablet): batches in segments on local
/// disk, with offset and time indexes, idempotent-writer state and a high watermark. Used
/// for log tables, as the changelog (WAL) of primary-key tables, and by replication.
///
/// Lifecycle: Open() loads and recovers the directory (see LoadLog); recovery may scan a
/// whole segment, so an owner on a reactor may prefer to open tablets on its blocking pool.
/// The high watermark starts at the log start offset: the owner sets it (for a single
/// replica, to the log end after each append). Close() takes a writer
/// snapshot, fsyncs, and leaves a clean-shutdown marker so the next Open() skips the tail
/// scan. Dropping a tablet without Close() releases its files as a crash would: the next
/// Open() recovers. Drop() deletes the whole directory.
///
/// Thread: none of its own, no locks. Every method must be called from the owner's thread
/// (the reactor in a server). Methods that fsync (a roll, Flush(), Close(), appends when
/// `log.flush.interval-messages` is reached) block that thread for the fsync.
///
/// Ownership: owns its LocalLog (segments, files) and WriterStateManager; borrows the file
/// system and the clock.
///
/// Durability: appends land in the page cache and are not fsynced per append (unless
/// `log.flush.interval-messages` says so). A segment is fsynced when it is rolled, and
/// everything at Close() or Flush(). After a crash, Open() keeps every complete batch with
/// a valid CRC that reached the disk, never part of one; batches past the last fsync may be
/// lost, which replication (acks=all) covers.
///
/// Errors: disk failures are kLogStorage (LOG_STORAGE_EXCEPTION). A failure that leaves the
/// in-memory state unsure (a write that could not be undone, a failed fsync or truncation)
/// puts the tablet offline: every later call returns that error until it is reopened.
class LogTablet {
 public:
  static Result<std::unique_ptr<LogTablet>> Open(LogTabletOptions options);
  ~LogTablet();
  LogTablet(const LogTablet&) = delete;
  LogTablet& operator=(const LogTablet&) = delete;

  /// Validates and appends a records blob from a producer (one or more batches):
  /// - every batch must parse (known magic, sane Length) and carry a valid CRC, and its
  ///   LastOffsetDelta must match its RecordCount: else kCorruptRecord and nothing is
  ///   appended (Fluss silently drops a trailing partial batch; Strom rejects the request);
  /// - base offsets (from the log end on, an empty batch taking one offset) and one commit
  ///   timestamp, max(largest timestamp in the log, now), are written into `records` in
  ///   place (both lie outside the CRC);
  /// - batches of idempotent writers are checked against the writer's last five batches: a
  ///   repeat returns the original offsets with `duplicate` set and appends nothing; a gap
  ///   is kOutOfOrderSequence (Fluss's WriterAppendInfo rules).
  /// An empty blob appends nothing and returns batch_count 0.
  Result<LogAppendInfo> AppendAsLeader(std::span<char> records);

  /// Appends batches whose offsets a leader already assigned (replication). The offsets
  /// must increase and start at or after the log end; the timestamps are kept. A repeated
  /// idempotent batch is kDuplicateSequence.
  Result<LogAppendInfo> AppendAsFollower(ByteView records);

  /// Reads raw stored bytes starting at the batch that contains `fetch_offset`, up to the
  /// high watermark or the log end. At most one segment is read per call (as Fluss does): a
  /// read that reaches the end of a segment stops there and the next read continues in the
  /// next segment. The bytes are never decoded. kLogOffsetOutOfRange when the offset is
  /// below the log start or above the log end; at or past the isolation bound the result is
  /// empty.
  Result<FetchDataInfo> Read(const ReadParams& params);

  LogOffset log_start_offset() const;
  LogOffset log_end_offset() const;
  LogOffset high_watermark() const { return high_watermark_; }
  /// Largest commit timestamp in the log, -1 when empty.
  TimestampMs max_timestamp() const;
  /// Offsets below this were fsynced.
  LogOffset recovery_point() const;

  /// Sets the high watermark, capped at the log end (may move it down, as Fluss allows).
  Status UpdateHighWatermark(LogOffset high_watermark);
  /// Raises the high watermark; returns whether it moved. Past the log end is
  /// kUnknownServerError.
  Result<bool> MaybeIncrementHighWatermark(LogOffset high_watermark);

  /// ListOffsets for one bucket, as Fluss's Replica answers it: kEarliest is the log start;
  /// kLatest the high watermark (the log end for a follower); kTimestamp the first offset
  /// whose batch commit timestamp is >= `timestamp`, the kLatest answer when `timestamp` is
  /// newer than every batch but not in the future, and kInvalidTimestamp when it is in the
  /// future.
  Result<LogOffset> ListOffset(OffsetSpec spec, TimestampMs timestamp = TimestampMs(-1),
                               bool for_follower = false);
  /// The first offset whose batch commit timestamp is >= `timestamp` (via the time index);
  /// kInvalidTimestamp when every batch is older.
  Result<LogOffset> LookupOffsetForTimestamp(TimestampMs timestamp);

  /// Removes every offset >= `target` (replication). Returns false when there is nothing to
  /// remove. Writer state is rebuilt for the new end; the high watermark is capped at it.
  Result<bool> TruncateTo(LogOffset target);
  /// Deletes everything and restarts the log empty at `offset`.
  Status TruncateFullyAndStartAt(LogOffset offset);

  /// Seals the active segment and starts a new one at the log end.
  Status Roll();
  /// Fsyncs everything and moves the recovery point to the log end.
  Status Flush();

  /// Deletes sealed segments (never the active one) whose newest batch is older than
  /// `table.log.ttl`, then, oldest first, segments the log can lose while staying at least
  /// `table.log.retention-size` big. Only segments wholly below the high watermark (and the
  /// min retain offset) qualify. The log start offset moves up. Returns how many segments
  /// were deleted.
  Result<int> DeleteExpiredSegments();
  /// Raises the offset retention must keep (the changelog of a primary-key table keeps what
  /// the newest KV snapshot does not cover). Log tables start without a bound.
  void SetMinRetainOffset(LogOffset offset);
  /// Drops the state of writers idle for longer than `server.writer-id.expiration-time`.
  void RemoveExpiredWriters();
  /// Periodic housekeeping for the owner's timer: expires writers (at most once per
  /// `server.writer-id.expiration-check-interval`) and applies retention.
  Status Maintain();

  /// Writer snapshot, fsync, trim, clean-shutdown marker; the tablet is unusable afterwards.
  Status Close();
  /// Deletes every file and the directory; the tablet is unusable afterwards.
  Status Drop();

  // ---- introspection ----
  const std::string& dir() const { return options_.dir; }
  const LogConfig& config() const { return options_.config; }
  size_t segment_count() const;
  std::vector<LogOffset> segment_base_offsets() const;
  /// Bytes of all .log files.
  int64_t size_in_bytes() const;
  const WriterStateManager& writer_state() const { return *writers_; }
  /// OK, or the error that took the tablet offline.
  const Status& failure() const { return failure_; }
  /// Whether the last Open() found a clean-shutdown marker, and what recovery cut.
  bool opened_after_clean_shutdown() const { return clean_shutdown_; }
  int64_t recovery_truncated_bytes() const { return recovery_truncated_bytes_; }

 private:
  LogTablet(LogTabletOptions options, std::unique_ptr<WriterStateManager> writers);

  Result<LogAppendInfo> Append(std::span<char> records, ByteView view, bool as_leader);
  Status MaybeRoll(int64_t messages_size, const LogAppendInfo& info);
  Status RollAt(std::optional<LogOffset> expected_next_offset);
  Result<LogOffsetMetadata> HighWatermarkMetadata();
  Status CheckUsable() const;
  /// Records `status` as the reason the tablet is offline; returns it as kLogStorage.
  Status GoOffline(Status status);
  TimestampMs Now() const { return options_.clock->NowMs(); }

  LogTabletOptions options_;
  std::unique_ptr<WriterStateManager> writers_;
  std::unique_ptr<LocalLog> local_log_;
  LogOffset high_watermark_{0};
  // Position of the high watermark, when known; reset whenever segments change.
  std::optional<LogOffsetMetadata> high_watermark_metadata_;
  LogOffset min_retain_offset_;
  TimestampMs last_writer_expiration_check_;
  Status failure_;
  bool closed_ = false;
  bool clean_shutdown_ = false;
  int64_t recovery_truncated_bytes_ = 0;
};

}  // namespace strom::log
