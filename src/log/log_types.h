#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/ids.h"

/// Small value types shared by the classes of the log component.
namespace strom::log {

class SharedFileHandle;

/// An offset together with where it sits on disk: the base offset of its segment and the
/// byte position in that segment's .log file of the batch holding it (Fluss's
/// LogOffsetMetadata). Reads use it to stop at the high watermark without a lookup.
struct LogOffsetMetadata {
  LogOffset offset;
  LogOffset segment_base_offset;
  int64_t position = 0;

  friend bool operator==(const LogOffsetMetadata&, const LogOffsetMetadata&) = default;
};

/// Stored bytes left in their segment file: `size` bytes at `position`, for a zero-copy
/// send (ReadParams::zero_copy). `file` keeps the descriptor open; the bytes are those of
/// the read as long as the log is not truncated below position + size meanwhile.
struct FileSlice {
  std::shared_ptr<const SharedFileHandle> file;
  uint64_t position = 0;
  size_t size = 0;
};

/// The result of a read: the raw bytes of whole batches (possibly ending in a truncated
/// batch), starting with the batch that contains the requested offset. They are in
/// `records`, or, for a zero-copy read that the file supports, in `slice` (then `records`
/// is empty).
struct FetchDataInfo {
  LogOffsetMetadata fetch_offset_metadata;
  ByteBuffer records;
  std::optional<FileSlice> slice;

  /// Bytes read, wherever they are.
  size_t size() const { return slice ? slice->size : records.size(); }
};

/// How far a read may go.
enum class FetchIsolation {
  kLogEnd,         ///< Up to the log end offset (follower fetches).
  kHighWatermark,  ///< Up to the high watermark (client fetches).
};

/// What an append did (Fluss's LogAppendInfo).
struct LogAppendInfo {
  /// First and last offset of the appended batches; for a duplicate, those of the original
  /// batch. -1 when the records held no batch.
  LogOffset first_offset{-1};
  LogOffset last_offset{-1};
  /// The commit timestamp written into the batches (leader), or the largest one found
  /// (follower). -1 when there was no batch.
  TimestampMs max_timestamp{-1};
  LogOffset start_offset_of_max_timestamp{-1};
  /// Number of batches in the records.
  int32_t batch_count = 0;
  /// Bytes appended (the whole records blob); 0 for a duplicate.
  int64_t append_size = 0;
  /// True when the records repeat a batch an idempotent writer already appended: nothing
  /// was written and the offsets are the original ones.
  bool duplicate = false;
};

/// The three client-visible ListOffsets types (Fluss's ListOffsetsParam).
enum class OffsetSpec {
  kEarliest = 0,   ///< The log start offset.
  kLatest = 1,     ///< The high watermark (client) or log end offset (follower).
  kTimestamp = 2,  ///< The first offset whose batch commit timestamp is >= a timestamp.
};

}  // namespace strom::log
