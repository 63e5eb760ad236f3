#pragma once

#include <memory>
#include <span>

#include "strom/append_writer.h"
#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class AppendWriterImpl;
}

/// Counters of one UpsertWriter since it was created (the same as an AppendWriter's; rows
/// count upserts and deletes alike).
using UpsertWriterStats = AppendWriterStats;

/// Writes upserts and deletes to a primary-key table (Fluss `UpsertWriter`).
///
/// Each row becomes a KV record: the primary key encoded with the table's key encoder (the
/// encoding depends on `table.datalake.format` and `table.kv.format-version`, as in the Java
/// client), and for an upsert the whole row in the table's `table.kv.format` (COMPACTED by
/// default, or INDEXED). The bucket is the table's bucketing function over the bucket key.
/// Records are batched per bucket into KV batches and sent in PutKv requests to the bucket
/// leaders, with the same batch size, linger, memory bound, retries and idempotence (writer
/// id + per-bucket batch sequences) as an AppendWriter; see AppendWriter for those.
///
/// A partial-update writer (TableUpsert::PartialUpdate) sends its target columns with every
/// request: the server changes only those columns of an existing row. Its rows are still
/// full rows (one Datum per column); columns outside the target columns are ignored and may
/// be null.
///
/// Threads: Upsert, Delete, Flush and Close may be called from several threads at once
/// (rows from one thread keep their order within a bucket). Lifecycle: usable until Close();
/// the destructor closes a writer that is still open. Ownership: shares the connection's
/// internals (see Connection).
class UpsertWriter {
 public:
  ~UpsertWriter();
  UpsertWriter(const UpsertWriter&) = delete;
  UpsertWriter& operator=(const UpsertWriter&) = delete;

  /// Inserts `row` (one Datum per column), or replaces the row with its primary key. Fails
  /// at once with kCorruptRecord when the row does not match the schema or a primary-key
  /// column is null; such a row is not written. The write's own outcome is reported by
  /// `result`, Flush() and stats().
  Status Upsert(const GenericRow& row);
  Status Upsert(const GenericRow& row, WriteResult* result);

  /// Deletes the row whose primary key `row` holds (other columns are ignored and may be
  /// null). Deleting a missing key is not an error.
  Status Delete(const GenericRow& row);
  Status Delete(const GenericRow& row, WriteResult* result);

  /// Sends every buffered record now and waits until all records written before the call
  /// have completed. Returns the first write failure since the previous Flush() (or OK).
  Status Flush();

  /// Flushes, then stops the writer. Later writes fail with kUnknownServerError.
  /// Idempotent; returns what the final Flush returned.
  Status Close();

  UpsertWriterStats stats() const;

 private:
  friend class TableUpsert;
  explicit UpsertWriter(std::unique_ptr<client::AppendWriterImpl> impl);

  std::unique_ptr<client::AppendWriterImpl> impl_;
};

}  // namespace strom
