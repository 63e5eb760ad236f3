#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"

namespace strom::log::detail {

/// The file half of OffsetIndex and TimeIndex: a file of fixed-size big-endian entries,
/// preallocated when created and trimmed to its entries when sealed (fluss-formats §7.1).
///
/// Entries live in memory as well (a copy of the file's bytes), so lookups never touch the
/// disk; appends write through with pwrite. That costs the index's size in memory for every
/// index that is open. The file length only matters for capacity (max_entries) and on open:
/// an existing file holds length / entry_size entries, as in Fluss, which is why a segment's
/// indexes are trimmed whenever it stops being the active one and at close.
///
/// Lifecycle: constructed, then Open(); Close() trims and releases the handle; the destructor
/// releases it without trimming (as a crash would). Thread: one owner. Durability: entries
/// are durable after Flush().
class IndexFile {
 public:
  IndexFile(FileSystem* fs, std::string path, LogOffset base_offset, int64_t max_index_size,
            size_t entry_size);

  /// Opens the file, creating it when missing. A file created here is preallocated to
  /// max_index_size rounded down to the entry size; an existing one is read in full.
  Status Open();

  const std::string& path() const { return path_; }
  LogOffset base_offset() const { return base_offset_; }
  size_t entry_size() const { return entry_size_; }
  int64_t max_index_size() const { return max_index_size_; }
  size_t entries() const { return data_.size() / entry_size_; }
  size_t max_entries() const { return static_cast<size_t>(length_) / entry_size_; }
  /// Current file length in bytes.
  int64_t length() const { return length_; }
  /// Raw bytes of entry `n` (n < entries()).
  const char* entry(size_t n) const { return data_.data() + n * entry_size_; }

  /// Writes one entry after the last. The caller checks capacity first.
  Status AppendEntry(ByteView bytes);
  /// Drops every entry from `n` on (in memory; the file keeps its length).
  void TruncateToEntries(size_t n) { data_.resize(std::min(n, entries()) * entry_size_); }
  /// Sets the file length to `new_size` rounded down to the entry size.
  Status Resize(int64_t new_size);
  /// Shrinks the file to exactly its entries.
  Status TrimToValidSize() { return Resize(static_cast<int64_t>(data_.size())); }
  /// Drops every entry and preallocates the file to max_index_size again.
  Status Reset();
  Status Flush();
  /// Trims the file and releases the handle.
  Status Close();
  /// Releases the handle and deletes the file if it exists.
  Status DeleteIfExists();

  /// `offset` - base_offset when it fits an int32 and is not negative.
  std::optional<int32_t> ToRelative(LogOffset offset) const;

 private:
  FileSystem* fs_;
  std::string path_;
  LogOffset base_offset_;
  int64_t max_index_size_;
  size_t entry_size_;
  std::unique_ptr<File> file_;
  int64_t length_ = 0;
  ByteBuffer data_;
};

/// Big-endian loads and stores used by the index formats.
inline int32_t LoadI32BE(const char* p) {
  return static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(LoadI32LE(p))));
}
inline int64_t LoadI64BE(const char* p) {
  return static_cast<int64_t>(__builtin_bswap64(static_cast<uint64_t>(LoadI64LE(p))));
}
inline void StoreI32BE(char* p, int32_t v) {
  StoreI32LE(p, static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(v))));
}
inline void StoreI64BE(char* p, int64_t v) {
  StoreI64LE(p, static_cast<int64_t>(__builtin_bswap64(static_cast<uint64_t>(v))));
}

}  // namespace strom::log::detail
