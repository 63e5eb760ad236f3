#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class LogScannerImpl;
}

/// One record read from a table's log.
struct ScanRecord {
  BucketId bucket{0};
  LogOffset offset{0};
  /// The batch's commit timestamp (epoch milliseconds), as Fluss reports it.
  TimestampMs timestamp{0};
  ChangeType change_type = ChangeType::kAppendOnly;
  /// The row: one Datum per scanned column, in the scanner's column order.
  GenericRow row;
};

/// The records one Poll() returned, bucket by bucket in offset order.
struct ScanRecords {
  std::vector<ScanRecord> records;

  size_t size() const { return records.size(); }
  bool empty() const { return records.empty(); }
  std::vector<ScanRecord>::const_iterator begin() const { return records.begin(); }
  std::vector<ScanRecord>::const_iterator end() const { return records.end(); }
};

/// Reads a log table (or the changelog of a primary-key table) bucket by bucket.
///
/// Subscribe each bucket at a starting position, then Poll() repeatedly. The network thread
/// keeps one FetchLog in flight per leader server (long-polling with the configured min bytes
/// and max wait) and prefetches the next range while the caller decodes the previous one, as
/// the Java client does. Rows are decoded in Poll() on the caller's thread. Projected
/// scans of ARROW tables are projected by the server (only the chosen columns travel);
/// other formats are projected after decoding.
///
/// Threads: one thread at a time (as the Java LogScanner); Subscribe/Unsubscribe between
/// polls. Lifecycle: usable until destroyed; the destructor cancels outstanding fetches.
/// Ownership: shares the connection's internals (see Connection).
class LogScanner {
 public:
  ~LogScanner();
  LogScanner(const LogScanner&) = delete;
  LogScanner& operator=(const LogScanner&) = delete;

  /// Starts (or moves) reading `bucket` at `offset` (>= 0), or from the log start with
  /// kEarliestOffsetValue. kInvalidTable-style misuse (a bucket outside the table) is
  /// kUnknownTableOrBucket.
  Status Subscribe(BucketId bucket, int64_t offset);
  /// Starts reading `bucket` at the offset `spec` names (LATEST and TIMESTAMP are resolved
  /// with ListOffsets first).
  Status Subscribe(BucketId bucket, const OffsetSpec& spec);
  Status SubscribeFromBeginning(BucketId bucket) { return Subscribe(bucket, kEarliestOffsetValue); }
  /// Subscribes every bucket of the table at `spec`.
  Status SubscribeAll(const OffsetSpec& spec);
  Status Unsubscribe(BucketId bucket);

  /// Waits up to `timeout` for records and returns those available (possibly none), at most
  /// `scanner_max_poll_records`. Fails on an error that retrying cannot fix (e.g.
  /// LOG_OFFSET_OUT_OF_RANGE for a subscribed offset, a corrupt batch); retriable errors
  /// (leader moves, timeouts) are retried internally.
  Result<ScanRecords> Poll(std::chrono::milliseconds timeout);

  /// The next offset each subscribed bucket will return (the log start is kEarliestOffsetValue
  /// until the first fetch answers).
  std::map<BucketId, LogOffset> Positions() const;

  /// Names of the scanned columns, in row order.
  const std::vector<std::string>& column_names() const;
  /// Types of the scanned columns, in row order.
  const std::vector<DataType>& column_types() const;

 private:
  friend class TableScan;
  explicit LogScanner(std::unique_ptr<client::LogScannerImpl> impl);

  std::unique_ptr<client::LogScannerImpl> impl_;
};

}  // namespace strom
