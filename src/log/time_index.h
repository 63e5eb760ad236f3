#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/ids.h"
#include "common/result.h"
#include "log/detail/index_file.h"
#include "log/fs/file_system.h"

namespace strom::log {

/// A commit timestamp and the offset of the first batch that reached it.
struct TimestampOffset {
  TimestampMs timestamp;
  LogOffset offset;

  friend bool operator==(const TimestampOffset&, const TimestampOffset&) = default;
};

/// The `.timeindex` file of a segment: a sparse map from timestamps to offsets
/// (docs/formats/time-index.md).
///
/// Each 12-byte big-endian entry holds an int64 timestamp (the largest commit timestamp in
/// the segment up to that point) and the int32 relative offset of the batch that first
/// carried it. Timestamps are strictly increasing: an entry is only added when the
/// timestamp grew. Lookup(t) returns the entry with the largest timestamp <= t; every batch
/// before that entry's offset has a timestamp <= the entry's, so a search for the first
/// batch with timestamp >= t may start there.
///
/// As in Fluss the index counts as full one entry early, leaving room for a last entry.
/// Storage and lifecycle as OffsetIndex.
class TimeIndex {
 public:
  static constexpr size_t kEntrySize = 12;

  static Result<std::unique_ptr<TimeIndex>> Open(FileSystem* fs, std::string path,
                                                 LogOffset base_offset, int64_t max_index_size);

  /// The entry with the largest timestamp <= `target`, or (-1, base offset) when none.
  TimestampOffset Lookup(TimestampMs target) const;
  TimestampOffset Entry(size_t n) const;
  /// The last entry, or (-1, base offset) when empty.
  TimestampOffset last_entry() const;

  /// Adds (timestamp, offset) when `timestamp` is larger than the last entry's; equal is a
  /// no-op. A smaller timestamp or offset is an error, as is a full index unless
  /// `skip_full_check`.
  Status MaybeAppend(TimestampMs timestamp, LogOffset offset, bool skip_full_check = false);
  /// Removes every entry whose offset is >= `offset`.
  void TruncateTo(LogOffset offset);

  /// kCorruptMessage when the entries are not increasing or point before the segment.
  Status SanityCheck() const;

  bool IsFull() const { return file_.entries() + 1 >= file_.max_entries(); }
  size_t entries() const { return file_.entries(); }
  size_t max_entries() const { return file_.max_entries(); }
  LogOffset base_offset() const { return file_.base_offset(); }
  const std::string& path() const { return file_.path(); }
  int64_t file_length() const { return file_.length(); }

  Status Resize(int64_t new_size) { return file_.Resize(new_size); }
  Status TrimToValidSize() { return file_.TrimToValidSize(); }
  Status Reset() { return file_.Reset(); }
  Status Flush() { return file_.Flush(); }
  Status Close() { return file_.Close(); }
  Status DeleteIfExists() { return file_.DeleteIfExists(); }

 private:
  TimeIndex(FileSystem* fs, std::string path, LogOffset base_offset, int64_t max_index_size)
      : file_(fs, std::move(path), base_offset, max_index_size, kEntrySize) {}

  detail::IndexFile file_;
};

}  // namespace strom::log
