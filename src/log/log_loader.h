#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"
#include "log/local_log.h"
#include "log/log_config.h"
#include "log/writer_state_manager.h"

namespace strom::log {

/// Inputs of LoadLog.
struct LogLoadParams {
  FileSystem* fs = nullptr;
  std::string dir;
  LogConfig config;
  /// Offset below which the caller knows the log was fsynced (a recovery-point checkpoint).
  /// Without it the loader relies on the tablet's own invariant: every segment but the last
  /// was fsynced when it was rolled.
  std::optional<LogOffset> recovery_point;
  TimestampMs now;
  /// Receives the rebuilt writer state; must be empty.
  WriterStateManager* writers = nullptr;
};

/// What LoadLog found.
struct LoadedLog {
  std::unique_ptr<LocalLog> local_log;
  /// Whether the tablet was closed cleanly last time (the marker file was present).
  bool clean_shutdown = false;
  /// Bytes cut off torn or corrupt tails.
  int64_t truncated_bytes = 0;
  /// Segments dropped because an earlier segment had to be truncated.
  int segments_dropped = 0;
};

/// Opens the log in `params.dir` (creating the directory and a first segment at offset 0
/// when there is none) and recovers it (Fluss's LogLoader, with Strom's stricter recovery):
///
/// 1. Left-over temporary and `.deleted` files and index files without a .log are removed.
/// 2. After an unclean shutdown every segment from the recovery point on (by default the
///    last one) is scanned in full: each batch's structure and CRC are checked, its indexes
///    rebuilt, and everything from the first torn or corrupt batch on is cut off; later
///    segments are then deleted. The recovered segments are fsynced.
/// 3. After a clean shutdown only the bytes after the last index entry of the last segment
///    are checked (what an interrupted close could have left), and indexes are
///    sanity-checked, with a full recovery as the fallback.
/// 4. Segments before that are trusted when their index files look sound (present, whole
///    entries); otherwise they are recovered as in 2.
/// 5. The writer state is rebuilt from the newest snapshot at or below the log end plus the
///    batches after it, and a snapshot is written at the log end.
/// 6. The clean-shutdown marker is removed, so a crash from here on is seen as unclean.
Result<LoadedLog> LoadLog(const LogLoadParams& params);

/// Rebuilds `writers` to cover the log up to `last_offset` (Fluss's rebuildWriterState):
/// drops snapshots past `last_offset`, reloads the newest remaining one, replays the batches
/// after it, and snapshots the result. Snapshots are also taken at the base offsets of the
/// last two segments on the way, so a later truncation replays little.
Status RebuildWriterState(WriterStateManager& writers, LogSegments& segments, LogOffset log_start,
                          LogOffset last_offset, TimestampMs now);

}  // namespace strom::log
