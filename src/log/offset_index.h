#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/ids.h"
#include "common/result.h"
#include "log/detail/index_file.h"
#include "log/fs/file_system.h"

namespace strom::log {

/// An offset and the byte position in the segment's .log file of the batch holding it (or
/// of an earlier batch: index entries are sparse).
struct OffsetPosition {
  LogOffset offset;
  int32_t position = 0;

  friend bool operator==(const OffsetPosition&, const OffsetPosition&) = default;
};

/// The `.index` file of a segment: a sparse map from offsets to byte positions
/// (docs/formats/offset-index.md).
///
/// Each 8-byte big-endian entry holds an int32 offset relative to the segment's base offset
/// and an int32 position in the .log file. Entries are strictly increasing in offset and
/// non-decreasing in position. Lookup(t) answers with the entry of the largest offset <= t,
/// which points at or before the batch containing t; the caller scans forward from there.
///
/// Lookups are binary searches over an in-memory copy of the entries (see
/// detail::IndexFile for the memory and durability story). Lifecycle: Open() it, Close() it
/// (trims the file) or drop it. Thread: one owner, the segment's.
class OffsetIndex {
 public:
  static constexpr size_t kEntrySize = 8;

  /// Opens `path`, creating and preallocating it to `max_index_size` bytes when missing;
  /// an existing file's entries are loaded.
  static Result<std::unique_ptr<OffsetIndex>> Open(FileSystem* fs, std::string path,
                                                   LogOffset base_offset, int64_t max_index_size);

  /// The entry with the largest offset <= `target`, or (base offset, 0) when there is none.
  OffsetPosition Lookup(LogOffset target) const;
  /// Entry `n` (n < entries()).
  OffsetPosition Entry(size_t n) const;

  /// Adds an entry. `offset` must be larger than the last entry's and fit a relative int32;
  /// the index must not be full.
  Status Append(LogOffset offset, int32_t position);
  /// Removes every entry whose offset is >= `offset`.
  void TruncateTo(LogOffset offset);

  /// kCorruptMessage when the entries cannot be a valid index for a .log file of
  /// `log_size` bytes (not increasing, outside the segment, length not a multiple of 8).
  Status SanityCheck(int64_t log_size) const;

  bool IsFull() const { return file_.entries() >= file_.max_entries(); }
  bool CanAppendOffset(LogOffset offset) const { return file_.ToRelative(offset).has_value(); }
  size_t entries() const { return file_.entries(); }
  size_t max_entries() const { return file_.max_entries(); }
  /// The offset of the last entry, or the base offset when empty.
  LogOffset last_offset() const;
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
  OffsetIndex(FileSystem* fs, std::string path, LogOffset base_offset, int64_t max_index_size)
      : file_(fs, std::move(path), base_offset, max_index_size, kEntrySize) {}

  detail::IndexFile file_;
};

}  // namespace strom::log
