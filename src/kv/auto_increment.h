#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

/// The auto-increment column of a primary-key table (Fluss 0.9 `autoinc/`).
namespace strom::kv {

/// The table-wide id counter that buckets reserve ranges from. Fluss keeps it in ZooKeeper
/// (`AutoIncrementColumnZNode`); the server wires it to its metadata store. Starts at 0.
///
/// Thread: implementations must be safe to call from any tablet's thread.
class SequenceIdCounter {
 public:
  virtual ~SequenceIdCounter() = default;
  /// Atomically adds `delta` and returns the value before the addition.
  virtual Result<int64_t> GetAndAdd(int64_t delta) = 0;
};

/// An inclusive id range [start, end] of one auto-increment column; empty when start > end.
struct AutoIncIdRange {
  int32_t column_id = -1;
  int64_t start = 0;
  int64_t end = -1;

  bool empty() const { return start > end; }
  friend bool operator==(const AutoIncIdRange&, const AutoIncIdRange&) = default;
};

/// Hands out the ids of one bucket (Fluss's BoundedSegmentSequenceGenerator): ids come from a
/// cached range; when it runs out the next `cache_size` ids are reserved from the counter
/// (ids start at 1, so reserving at counter value c gives [c + 1, c + cache_size]). Ids are
/// unique per table and increase per bucket, but buckets interleave.
///
/// The current range goes into every KV checkpoint; recovery derives the range in use from the
/// checkpoint's range and the ids the replayed changelog inserted (UpdateRange).
/// Borrows the counter. Not thread-safe.
class AutoIncrementAllocator {
 public:
  AutoIncrementAllocator(int32_t column_id, std::string column_name, bool is_int,
                         int64_t cache_size, SequenceIdCounter* counter)
      : column_id_(column_id),
        column_name_(std::move(column_name)),
        max_value_(is_int ? INT32_MAX : INT64_MAX),
        cache_size_(cache_size),
        counter_(counter) {}

  /// The next id. kUnknownServerError when the column type's maximum is passed (Fluss's
  /// SequenceOverflowException) or the counter fails.
  Result<int64_t> NextValue();

  AutoIncIdRange current_range() const { return AutoIncIdRange{column_id_, next_, end_}; }
  void UpdateRange(const AutoIncIdRange& range) {
    next_ = range.start;
    end_ = range.end;
  }
  int32_t column_id() const { return column_id_; }
  int64_t cache_size() const { return cache_size_; }

 private:
  int32_t column_id_;
  std::string column_name_;
  int64_t max_value_;
  int64_t cache_size_;
  SequenceIdCounter* counter_;
  int64_t next_ = 0;
  int64_t end_ = -1;
};

}  // namespace strom::kv
