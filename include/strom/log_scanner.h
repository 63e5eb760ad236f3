#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "record/arrow/arrow_reader.h"
#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class LogScannerImpl;
class ScanDecoder;
}  // namespace client

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

/// Consecutive records of one fetched log batch, read in place: the columnar form of a poll
/// (PollBatches), as the Java client's ColumnarRow views read its Arrow vectors.
///
/// For ARROW tables the batch is decoded once (decompressed if needed) into column vectors
/// and every accessor decodes one value from them on demand, without copying; INDEXED and
/// COMPACTED batches are decoded to rows when fetched and read from those. Rows are indexed
/// from 0 to size() - 1; row `i` is the record at offset(i). Columns are the scanner's,
/// in its order (column_types()).
///
/// Typed getters must match the column's type (as Java's InternalRow getters do): GetInt for
/// INT, DATE and TIME (milliseconds of the day), GetBytes for CHAR, STRING, BINARY and BYTES,
/// and so on; a mismatch stops the process (STROM_CHECK), it never reads out of bounds. A
/// null value reads as 0 / empty through the typed getters; test IsNull first. GetDatum and
/// GetRow work for every type, nested ones included.
///
/// Cheap to copy (the decoded data is shared); stays valid after later polls and after the
/// scanner is gone. Const methods are safe to call from several threads.
class ScanBatch {
 public:
  ScanBatch() = default;

  BucketId bucket() const { return bucket_; }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t num_columns() const { return columns_.size(); }
  LogOffset offset(size_t row) const { return LogOffset(base_offset_ + static_cast<int64_t>(row)); }
  /// The batch's commit timestamp (epoch milliseconds).
  TimestampMs timestamp() const { return timestamp_; }
  ChangeType change_type(size_t row) const {
    return change_types_ == nullptr ? ChangeType::kAppendOnly
                                    : static_cast<ChangeType>(change_types_[first_ + row]);
  }
  /// The type of `column` (as column_types() of the scanner).
  TypeRoot type_root(size_t column) const { return columns_[column].root; }

  bool IsNull(size_t row, size_t column) const {
    const Column& c = columns_[column];
    if (c.arrow != nullptr) return c.arrow->IsNull(static_cast<int64_t>(first_ + row));
    return c.rows == nullptr || Cell(c, row).is_null();
  }
  bool GetBoolean(size_t row, size_t column) const {
    const Column& c = Checked(column, TypeRoot::kBoolean, TypeRoot::kBoolean);
    if (c.arrow != nullptr) return c.arrow->GetBool(static_cast<int64_t>(first_ + row));
    return CellValue<bool>(c, row);
  }
  int8_t GetTinyInt(size_t row, size_t column) const {
    return GetFixed<int8_t>(Checked(column, TypeRoot::kTinyInt, TypeRoot::kTinyInt), row);
  }
  int16_t GetSmallInt(size_t row, size_t column) const {
    return GetFixed<int16_t>(Checked(column, TypeRoot::kSmallInt, TypeRoot::kSmallInt), row);
  }
  /// INT, DATE (days since epoch) and TIME (milliseconds of the day).
  int32_t GetInt(size_t row, size_t column) const {
    const Column& c = columns_[column];
    if (c.root == TypeRoot::kTime) {
      if (c.arrow != nullptr) return c.arrow->GetTimeMillis(static_cast<int64_t>(first_ + row));
      return CellValue<int32_t>(c, row);
    }
    if (c.root != TypeRoot::kDate) Checked(column, TypeRoot::kInt, TypeRoot::kInt);
    return GetFixed<int32_t>(c, row);
  }
  int64_t GetBigInt(size_t row, size_t column) const {
    return GetFixed<int64_t>(Checked(column, TypeRoot::kBigInt, TypeRoot::kBigInt), row);
  }
  float GetFloat(size_t row, size_t column) const {
    return GetFixed<float>(Checked(column, TypeRoot::kFloat, TypeRoot::kFloat), row);
  }
  double GetDouble(size_t row, size_t column) const {
    return GetFixed<double>(Checked(column, TypeRoot::kDouble, TypeRoot::kDouble), row);
  }
  /// CHAR, STRING (UTF-8), BINARY, BYTES. The view lives as long as this batch's data.
  std::string_view GetBytes(size_t row, size_t column) const {
    const Column& c = Checked(column, TypeRoot::kChar, TypeRoot::kBytes);
    if (c.arrow != nullptr) {
      const int64_t i = static_cast<int64_t>(first_ + row);
      return c.arrow->IsNull(i) ? std::string_view() : c.arrow->GetBytes(i);
    }
    if (c.rows == nullptr || Cell(c, row).is_null()) return {};
    return Cell(c, row).as<std::string>();
  }
  DecimalValue GetDecimal(size_t row, size_t column) const {
    const Column& c = Checked(column, TypeRoot::kDecimal, TypeRoot::kDecimal);
    if (c.arrow != nullptr) return c.arrow->GetDecimal(static_cast<int64_t>(first_ + row));
    return CellValue<DecimalValue>(c, row);
  }
  /// TIMESTAMP and TIMESTAMP_LTZ.
  TimestampValue GetTimestamp(size_t row, size_t column) const {
    const Column& c = Checked(column, TypeRoot::kTimestamp, TypeRoot::kTimestampLtz);
    if (c.arrow != nullptr) return c.arrow->GetTimestamp(static_cast<int64_t>(first_ + row));
    return CellValue<TimestampValue>(c, row);
  }
  /// Any column as a Datum (allocates for strings and nested values).
  Datum GetDatum(size_t row, size_t column) const;
  /// Row `row` with one Datum per column.
  GenericRow GetRow(size_t row) const;
  /// Row `row` as the ScanRecord Poll() would have returned.
  ScanRecord GetRecord(size_t row) const;

  /// Rows [from, from + count) of this batch as a batch of their own (sharing the data).
  ScanBatch Slice(size_t from, size_t count) const;

 private:
  friend class client::ScanDecoder;

  // One scanned column: an Arrow vector, or a position in decoded rows (INDEXED/COMPACTED),
  // or neither (a column the batch's schema lacks: all null).
  struct Column {
    const record::arrow::ArrowColumnView* arrow = nullptr;
    const GenericRow* rows = nullptr;  // row 0 of the decoded data
    size_t index = 0;                  // position in each row
    TypeRoot root = TypeRoot::kInt;
  };

  // The column, after checking its type root is in [lo, hi] (TypeRoot's order).
  const Column& Checked(size_t column, TypeRoot lo, TypeRoot hi) const {
    const Column& c = columns_[column];
    if (c.root < lo || c.root > hi) TypeMismatch(column, lo);
    return c;
  }
  [[noreturn]] void TypeMismatch(size_t column, TypeRoot wanted) const;
  const Datum& Cell(const Column& c, size_t row) const { return c.rows[first_ + row][c.index]; }
  template <typename T>
  T CellValue(const Column& c, size_t row) const {
    if (c.rows == nullptr) return T{};
    const Datum& d = Cell(c, row);
    return d.is_null() ? T{} : d.as<T>();
  }
  template <typename T>
  T GetFixed(const Column& c, size_t row) const {
    if (c.arrow != nullptr) return c.arrow->GetFixed<T>(static_cast<int64_t>(first_ + row));
    return CellValue<T>(c, row);
  }

  BucketId bucket_{0};
  int64_t base_offset_ = 0;  // offset of row 0
  TimestampMs timestamp_{0};
  size_t first_ = 0;  // index of row 0 in the decoded data
  size_t count_ = 0;
  const uint8_t* change_types_ = nullptr;  // indexed like the decoded data; null: all +A
  std::vector<Column> columns_;
  std::shared_ptr<const void> data_;  // keeps the decoded data (and fetched bytes) alive
};

/// The batches one PollBatches() returned, bucket by bucket in offset order.
struct ScanBatches {
  std::vector<ScanBatch> batches;
  /// Records over all batches.
  size_t record_count = 0;

  bool empty() const { return batches.empty(); }
  std::vector<ScanBatch>::const_iterator begin() const { return batches.begin(); }
  std::vector<ScanBatch>::const_iterator end() const { return batches.end(); }
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
/// the Java client does. Batches are decoded in Poll()/PollBatches() on the caller's
/// thread. Projected scans of ARROW tables are projected by the server (only the chosen
/// columns travel); other formats are projected after decoding.
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
  /// Poll() in columnar form: the same records (same limit, same errors, same positions
  /// afterwards), handed out as views over the decoded batches instead of one GenericRow
  /// each. The fast way to read many rows; Poll() and PollBatches() may be mixed.
  Result<ScanBatches> PollBatches(std::chrono::milliseconds timeout);

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
