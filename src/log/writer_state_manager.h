#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"
#include "log/writer_state.h"

namespace strom::log {

/// The idempotence state of every writer id of one bucket, and its snapshot files
/// (Fluss's WriterStateManager).
///
/// The state covers the log up to map_end_offset() (exclusive). A snapshot
/// `<20-digit offset>.writer_snapshot` holds the state at that offset as JSON (fluss-formats
/// §7.1; docs/formats/log-segment.md); LogTablet takes one at every roll (at the new
/// segment's base offset) and at close, and on open reloads the newest one at or below the
/// log end and replays the batches after it. A snapshot keeps only each writer's last batch,
/// as Fluss's does.
///
/// Lifecycle: constructed empty, then LoadSnapshotList(). Thread: owned by a LogTablet and
/// used from its owner thread only. Durability: snapshot files are written atomically
/// (temporary file, fsync, rename, directory fsync); the in-memory state is not durable.
class WriterStateManager {
 public:
  WriterStateManager(FileSystem* fs, std::string dir, std::chrono::milliseconds expiration);

  /// Scans the directory for snapshot files.
  Status LoadSnapshotList();

  LogOffset map_end_offset() const { return map_end_offset_; }
  void UpdateMapEndOffset(LogOffset offset) { map_end_offset_ = offset; }

  /// The writer's state, or null when unknown.
  const WriterStateEntry* LastEntry(WriterId writer_id) const;
  const std::unordered_map<WriterId, WriterStateEntry>& active_writers() const { return writers_; }
  bool empty() const { return writers_.empty(); }
  size_t writer_count() const { return writers_.size(); }

  /// Drops writers whose last batch is older than the expiration time.
  void RemoveExpiredWriters(TimestampMs now);
  /// True when a batch with this commit timestamp is older than the expiration time.
  bool IsBatchExpired(TimestampMs now, TimestampMs batch_timestamp) const {
    return now - batch_timestamp > expiration_.count();
  }

  /// A validator for one writer's batches in an append.
  WriterAppendInfo PrepareUpdate(WriterId writer_id) const;
  /// Applies a validated append.
  void Update(const WriterAppendInfo& info);
  /// Applies one batch read back from the log during recovery. The log is the truth here:
  /// a batch that does not follow the writer's state replaces it instead of failing.
  void ReplayBatch(WriterId writer_id, BatchSequence sequence, LogOffset first_offset,
                   LogOffset last_offset, TimestampMs timestamp);

  /// Writes a snapshot at map_end_offset() unless one at that offset or later was already
  /// taken.
  Status TakeSnapshot();

  /// Deletes snapshots above `log_end` or at or below `log_start`; when the state does not
  /// end at `log_end`, reloads it from the newest remaining snapshot (dropping expired
  /// writers; an unreadable snapshot is deleted and the next older one tried), or starts
  /// empty at `log_start`.
  Status TruncateAndReload(LogOffset log_start, LogOffset log_end, TimestampMs now);
  /// Forgets every writer and deletes every snapshot; the state then ends at `offset`.
  Status TruncateFullyAndStartAt(LogOffset offset);
  /// Deletes the snapshot at `offset`, if there is one.
  Status RemoveAndDeleteSnapshot(LogOffset offset);
  /// Deletes snapshots that match no segment base offset, except the newest one when it is
  /// above every segment (the one written at close).
  Status RemoveStraySnapshots(const std::vector<LogOffset>& segment_base_offsets);

  std::optional<LogOffset> latest_snapshot_offset() const;
  std::vector<LogOffset> snapshot_offsets() const;

  /// The JSON of a snapshot holding `writers`, and its inverse (kCorruptMessage on bad
  /// input).
  static ByteBuffer EncodeSnapshot(const std::unordered_map<WriterId, WriterStateEntry>& writers);
  static Result<std::vector<WriterStateEntry>> DecodeSnapshot(ByteView json);

 private:
  std::string SnapshotPath(LogOffset offset) const;
  Status LoadFromSnapshot(LogOffset log_start, TimestampMs now);

  FileSystem* fs_;
  std::string dir_;
  std::chrono::milliseconds expiration_;
  std::unordered_map<WriterId, WriterStateEntry> writers_;
  /// Offsets of the snapshot files on disk.
  std::map<LogOffset, std::string> snapshots_;
  LogOffset map_end_offset_{0};
  LogOffset last_snapshot_offset_{0};
};

}  // namespace strom::log
