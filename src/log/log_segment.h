#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "log/detail/batch_scanner.h"
#include "log/fs/file_system.h"
#include "log/log_config.h"
#include "log/log_types.h"
#include "log/offset_index.h"
#include "log/time_index.h"

namespace strom::log {

/// Where a batch is in its segment: its last offset, byte position and size.
struct BatchPosition {
  LogOffset last_offset;
  int64_t position = 0;
  int64_t size = 0;
};

/// What a segment needs to decide whether to roll before an append.
struct RollParams {
  int64_t max_segment_bytes = 0;
  /// The largest offset the append would write.
  LogOffset max_offset_in_messages;
  int64_t messages_size = 0;
  TimestampMs now;
  /// Strom's `log.segment.roll-time`; zero or negative: never by age.
  int64_t roll_time_ms = 0;
};

/// One segment of a log tablet: `<base>.log` with its `<base>.index` and `<base>.timeindex`
/// (docs/formats/log-segment.md). The .log file holds whole batches with consecutive,
/// increasing offsets starting at or after the base offset.
///
/// Lifecycle: Create() makes a new, empty, active segment (indexes preallocated); Open()
/// attaches to existing files and opens the indexes lazily, on first use. Close() trims the
/// indexes (and a preallocated .log) to their contents and releases the files; dropping the
/// object releases them as a crash would. OnBecomeInactive() trims a segment that stops
/// being the active one. Thread: owned by LocalLog, used from the tablet's owner thread only.
/// Durability: nothing is durable before Flush().
///
/// Reads go through pread into owned buffers, or, for zero-copy reads, hand out a shared
/// handle on the .log file with the position and size of the bytes; the bytes of a batch
/// are never decoded here except for header fields.
class LogSegment {
 public:
  /// Creates the files of a new segment (replacing left-over files of the same name).
  static Result<std::unique_ptr<LogSegment>> Create(FileSystem* fs, const std::string& dir,
                                                    LogOffset base_offset, const LogConfig& config);
  /// Opens an existing segment whose .log file is `<dir>/<base>.log`.
  static Result<std::unique_ptr<LogSegment>> Open(FileSystem* fs, const std::string& dir,
                                                  LogOffset base_offset, const LogConfig& config);

  ~LogSegment();
  LogSegment(const LogSegment&) = delete;
  LogSegment& operator=(const LogSegment&) = delete;

  LogOffset base_offset() const { return base_offset_; }
  /// Bytes of batches in the .log file.
  int64_t size() const { return size_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& offset_index_path() const { return offset_index_path_; }
  const std::string& time_index_path() const { return time_index_path_; }

  /// The indexes, opened on first use.
  Result<OffsetIndex*> offset_index();
  Result<TimeIndex*> time_index();

  /// Fluss's rule: roll when the append would pass the size limit, when either index is
  /// full, or when the append's last offset does not fit a relative int32; plus Strom's
  /// roll by age when configured.
  Result<bool> ShouldRoll(const RollParams& params);

  /// Appends `records` (whole batches, offsets already assigned) and adds index entries per
  /// the `log.index.interval-size` rule. On failure the segment is as before the call, or,
  /// when even that could not be restored, kLogStorage and broken() is true.
  Status Append(LogOffset largest_offset, TimestampMs max_timestamp,
                LogOffset offset_of_max_timestamp, ByteView records);

  /// The first batch whose last offset is >= `offset`, searching from the index's hint.
  Result<std::optional<BatchPosition>> TranslateOffset(LogOffset offset);

  /// Calls `fn` with the header of every batch whose last offset is >= `from` and whose base
  /// offset is < `to`, in order. Stops at the first error `fn` returns.
  Status ScanBatches(LogOffset from, LogOffset to,
                     const std::function<Status(const detail::BatchHeader&)>& fn);

  /// Reads from the batch containing the first offset >= `start_offset`: at most `max_size`
  /// bytes (or the whole first batch when `min_one_batch`), never past `max_position`.
  /// nullopt when this segment has no batch at or after `start_offset`. With `zero_copy` the
  /// bytes are left in the file (FetchDataInfo::slice) when the file can be shared.
  Result<std::optional<FetchDataInfo>> Read(LogOffset start_offset, int64_t max_size,
                                            int64_t max_position, bool min_one_batch,
                                            bool zero_copy = false);

  /// The first batch with commit timestamp >= `timestamp` and base offset >=
  /// `starting_offset`: its (timestamp, base offset), or nullopt when none.
  Result<std::optional<TimestampOffset>> FindOffsetByTimestamp(TimestampMs timestamp,
                                                               LogOffset starting_offset);

  /// The largest commit timestamp in the segment and the first batch that has it; (-1, base)
  /// when empty. Computed once from the time index and the tail of the .log file.
  Result<TimestampOffset> MaxTimestamp();

  /// The offset after the last batch, or the base offset when empty.
  Result<LogOffset> ReadNextOffset();

  /// Validates every batch (structure, CRC, increasing offsets within the segment), rebuilds
  /// both indexes, and truncates everything from the first invalid or incomplete batch on.
  /// Returns the number of bytes truncated.
  Result<int64_t> Recover();

  /// Validates batches from the last offset index entry to the end (the part a clean
  /// shutdown could still have left torn) and truncates from the first bad one. Returns the
  /// number of bytes truncated.
  Result<int64_t> RecoverTail();

  /// Checks the indexes against the .log file (cheap: entries are in memory once loaded).
  Status SanityCheck();

  /// Removes every batch with an offset >= `offset` (the batch containing `offset` goes as a
  /// whole). The indexes are preallocated again: the segment is expected to become active.
  /// Returns the number of bytes removed.
  Result<int64_t> TruncateTo(LogOffset offset);

  /// Trims the indexes and a preallocated .log to their contents.
  Status OnBecomeInactive();
  /// Preallocates the indexes again (for a segment that becomes the active one).
  Status ResizeIndexesToMax();

  Status Flush();
  Status Close();
  /// Releases the files and deletes them.
  Status DeleteFiles();

  /// True after a failed append could not be undone; the tablet must be reopened.
  bool broken() const { return broken_; }

 private:
  LogSegment(FileSystem* fs, const std::string& dir, LogOffset base_offset,
             const LogConfig& config);

  // Validates batches from `start_position` on and truncates from the first bad one. With
  // `rebuild_indexes` (only from position 0, after the indexes were reset) it also adds
  // index entries and tracks the timestamps.
  Result<int64_t> RecoverFrom(int64_t start_position, bool rebuild_indexes);
  Status TruncateLogFile(int64_t size);
  Result<TimestampOffset> ReadLargestTimestamp();

  FileSystem* fs_;
  LogOffset base_offset_;
  const LogConfig config_;
  std::string log_path_;
  std::string offset_index_path_;
  std::string time_index_path_;
  std::unique_ptr<File> log_file_;
  // The .log file's handle for zero-copy reads, made on the first one.
  std::shared_ptr<const SharedFileHandle> shared_log_file_;
  std::unique_ptr<OffsetIndex> offset_index_;
  std::unique_ptr<TimeIndex> time_index_;
  int64_t size_ = 0;
  int64_t bytes_since_last_index_entry_ = 0;
  // The largest commit timestamp and the first batch carrying it; nullopt until computed.
  std::optional<TimestampOffset> max_timestamp_;
  // Commit timestamp of the first batch, for the roll by age; nullopt while empty or unknown.
  std::optional<TimestampMs> first_batch_timestamp_;
  bool broken_ = false;
};

}  // namespace strom::log
