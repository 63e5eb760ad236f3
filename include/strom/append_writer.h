#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class AppendWriterImpl;
struct BatchCompletion;
}  // namespace client

/// Completion of one appended row: becomes ready when the batch holding the row has been
/// acknowledged by the cluster (with the writer's `acks`) or has failed for good.
///
/// Copyable; all copies observe the same outcome. A default-constructed WriteResult is
/// ready and OK. Wait() may be called from any thread, any number of times.
class WriteResult {
 public:
  WriteResult() = default;

  /// Blocks until the row's batch completed; returns its outcome.
  Status Wait() const;
  /// True once Wait() would not block.
  bool IsReady() const;

 private:
  friend class client::AppendWriterImpl;
  explicit WriteResult(std::shared_ptr<client::BatchCompletion> state) : state_(std::move(state)) {}

  std::shared_ptr<client::BatchCompletion> state_;
};

/// Counters of one AppendWriter since it was created.
struct AppendWriterStats {
  int64_t records_appended = 0;  ///< Rows accepted by Append().
  int64_t records_acked = 0;     ///< Rows the cluster acknowledged.
  int64_t records_failed = 0;    ///< Rows whose batch failed for good.
  int64_t batches_sent = 0;      ///< Batches put on the wire, retries included.
  int64_t bytes_sent = 0;        ///< Batch bytes put on the wire, retries included.
  int64_t requests_sent = 0;     ///< ProduceLog requests.
  int64_t retries = 0;           ///< Batches re-sent after a retriable error.
};

/// Appends rows to a log table.
///
/// Rows are encoded as they are appended (Arrow by default; INDEXED or COMPACTED when the
/// table's `table.log.format` says so) into one open batch per bucket. The bucket of a row
/// is the hash of its bucket-key columns (Fluss's key encoder and bucketing function), or,
/// for a table without bucket key, chosen by the sticky (or round-robin) assigner. A batch
/// is sent when it reaches `writer_batch_size`, when it is `writer_batch_timeout` old, or on
/// Flush(). The network thread sends each bucket's batches to the bucket's leader,
/// several buckets per ProduceLog request, at most `writer_max_inflight_requests_per_bucket`
/// batches in flight per bucket, and retries retriable errors with a backoff. With
/// idempotence (the default) every batch carries the writer id (from InitWriter) and a
/// per-bucket sequence, so a retried batch the server already stored is not stored twice
/// (DUPLICATE_SEQUENCE counts as success).
///
/// Backpressure: Append() blocks while the writer holds `writer_buffer_memory` bytes of
/// unacknowledged batches.
///
/// Threads: Append, Flush and Close may be called from several threads at once (rows from
/// one thread keep their order within a bucket). Lifecycle: usable until Close(); the
/// destructor closes a writer that is still open. Ownership: shares the connection's
/// internals (see Connection).
class AppendWriter {
 public:
  ~AppendWriter();
  AppendWriter(const AppendWriter&) = delete;
  AppendWriter& operator=(const AppendWriter&) = delete;

  /// Encodes `row` (one Datum per column, see record/datum.h) into its bucket's batch.
  /// Fails at once with kCorruptRecord when the row does not match the schema (wrong column
  /// count, a value of the wrong kind, a null in a NOT NULL column); such a row is not
  /// written. The outcome of the write itself is reported by `result`, by Flush(), and by
  /// stats().
  Status Append(const GenericRow& row);
  Status Append(const GenericRow& row, WriteResult* result);
  /// Appends several rows; stops at the first row that fails (earlier rows stay appended).
  Status AppendRows(std::span<const GenericRow> rows);

  /// Sends every buffered row now and waits until all rows appended before the call have
  /// completed. Returns the first write failure seen since the previous Flush() (or OK).
  Status Flush();

  /// Flushes, then stops the writer. Further appends fail with kUnknownServerError.
  /// Idempotent; returns what the final Flush returned.
  Status Close();

  AppendWriterStats stats() const;

 private:
  friend class TableAppend;
  explicit AppendWriter(std::unique_ptr<client::AppendWriterImpl> impl);

  std::unique_ptr<client::AppendWriterImpl> impl_;
};

}  // namespace strom
