#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class SnapshotScannerImpl;
}

/// Rows of one bucket's current state, as one SnapshotScanner::Next() returned them.
struct SnapshotBatch {
  BucketId bucket{0};
  /// One Datum per scanned column, in the scanner's column order.
  std::vector<GenericRow> rows;
};

/// Reads the current rows of a primary-key table (its key-value state, not its changelog),
/// one bucket after the other, through the SCAN_KV request of Fluss's main line: the bucket
/// leader opens a point-in-time snapshot of the bucket's store and streams it in batches of
/// about `scanner_fetch_max_bytes_for_bucket` bytes. Rows come in key order within a
/// bucket; the scan of each bucket sees one consistent snapshot (changes made after it was
/// opened are not seen).
///
/// Errors: a server without SCAN_KV answers kUnsupportedVersion; a leader change in the
/// middle of a bucket fails the scan with NOT_LEADER_OR_FOLLOWER (continuing on another
/// snapshot would mix states), while one before a bucket's first batch is retried after a
/// metadata refresh, as is TOO_MANY_SCANNERS (up to 3 times).
///
/// Threads: one thread at a time. Lifecycle: the destructor closes an unfinished server-side
/// scan. Ownership: shares the connection's internals (see Connection).
class SnapshotScanner {
 public:
  ~SnapshotScanner();
  SnapshotScanner(const SnapshotScanner&) = delete;
  SnapshotScanner& operator=(const SnapshotScanner&) = delete;

  /// The next batch of rows (possibly empty); nullopt once every bucket was read.
  Result<std::optional<SnapshotBatch>> Next();

  /// The changelog offset each finished or started bucket's snapshot covers.
  const std::map<BucketId, int64_t>& log_offsets() const;

  const std::vector<std::string>& column_names() const;
  const std::vector<DataType>& column_types() const;

 private:
  friend class TableScan;
  explicit SnapshotScanner(std::unique_ptr<client::SnapshotScannerImpl> impl);

  std::unique_ptr<client::SnapshotScannerImpl> impl_;
};

}  // namespace strom
