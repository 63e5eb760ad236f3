#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "common/ids.h"
#include "log/log_segment.h"

namespace strom::log {

/// The segments of one log, ordered by base offset (Fluss's LogSegments).
///
/// Owns the segments. Lookups return raw pointers that stay valid until the segment is
/// removed. Thread: one owner (LocalLog), no locking.
class LogSegments {
 public:
  /// Adds a segment, replacing one with the same base offset.
  void Add(std::unique_ptr<LogSegment> segment);
  /// Takes a segment out; null when there is none with that base offset.
  std::unique_ptr<LogSegment> Remove(LogOffset base_offset);
  void Clear() { segments_.clear(); }

  bool empty() const { return segments_.empty(); }
  size_t size() const { return segments_.size(); }
  bool Contains(LogOffset base_offset) const { return segments_.count(base_offset) > 0; }
  LogSegment* Get(LogOffset base_offset) const;

  LogSegment* first() const;
  /// The active segment (the one with the largest base offset), null when empty.
  LogSegment* last() const;
  /// The segment with the largest base offset <= `offset`.
  LogSegment* FloorSegment(LogOffset offset) const;
  /// The segment with the smallest base offset > `offset`.
  LogSegment* HigherSegment(LogOffset offset) const;
  /// The segment with the largest base offset < `offset`.
  LogSegment* LowerSegment(LogOffset offset) const;

  /// Every segment, oldest first.
  std::vector<LogSegment*> Values() const;
  /// The segments that may hold offsets in [from, to): the floor segment of `from` and every
  /// later one whose base offset is < `to`.
  std::vector<LogSegment*> Values(LogOffset from, LogOffset to) const;
  std::vector<LogOffset> BaseOffsets() const;
  /// Sum of the .log sizes.
  int64_t SizeInBytes() const;

 private:
  std::map<LogOffset, std::unique_ptr<LogSegment>> segments_;
};

}  // namespace strom::log
