#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "client/client_context.h"
#include "client/idempotence_manager.h"
#include "client/record_accumulator.h"
#include "client/write_batch.h"
#include "common/async.h"
#include "strom/append_writer.h"

namespace strom::client {

/// The PutKv target columns of a writer of `info` (empty: whole rows) after the checks of
/// the Java client: every index in range and named once, the primary key included, every
/// other column nullable, no auto-increment column written (and a table with one written
/// only through a partial update). kInvalidTargetColumn naming the offending column.
Result<std::vector<int32_t>> ResolveTargetColumns(
    const TableInfo& info, const std::optional<std::vector<size_t>>& target_columns);

/// The implementation behind AppendWriter and UpsertWriter: a RecordAccumulator fed by user
/// threads and a sender loop on the network thread (Fluss `WriterClient` + `Sender`). A log
/// table's writer sends log batches in ProduceLog requests; a primary-key table's writer
/// sends KV batches in PutKv requests (with its partial-update target columns); everything
/// else (batching, idempotence, retries, backpressure) is the same.
///
/// The sender loop waits for ready batches (or the next linger deadline / retry backoff),
/// makes sure a writer id exists (InitWriter) when idempotence is on, moves ready batches
/// into per-bucket send queues, and drains those into ProduceLog requests, one per bucket
/// leader, at most one batch per bucket per request and at most `request_max_size` bytes.
/// Each request runs as its own coroutine; its answer completes, retries or fails each
/// batch (see IdempotenceManager for the rules) and wakes the loop. Buckets without a known
/// leader trigger a metadata refresh.
///
/// Lifecycle: Create() starts the sender loop; Close() flushes, stops the loop and waits
/// for it and every request. Threads: Append/Flush/Close/stats from any user thread; the
/// sender state (queues, idempotence, in-flight counts) is touched only on the network
/// thread. Ownership: owned by the AppendWriter; holds the ClientContext.
class AppendWriterImpl {
 public:
  /// A writer of appends to the log table `info`.
  static Result<std::unique_ptr<AppendWriterImpl>> Create(std::shared_ptr<ClientContext> context,
                                                          TableInfo info);
  /// A writer of upserts and deletes to the primary-key table `info`; `target_columns`
  /// (column indexes) makes it a partial-update writer. kNonPrimaryKeyTable for a log table;
  /// kInvalidTargetColumn for target columns that are out of range, repeated, lack a
  /// primary-key column, or leave a NOT NULL column out.
  static Result<std::unique_ptr<AppendWriterImpl>> CreateUpsert(
      std::shared_ptr<ClientContext> context, TableInfo info,
      std::optional<std::vector<size_t>> target_columns);
  ~AppendWriterImpl();

  /// `kind`: kAppend for log writers, kUpsert / kDelete for upsert writers.
  Status Append(const GenericRow& row, WriteKind kind, WriteResult* result);
  Status Flush();
  Status Close();
  AppendWriterStats stats() const;

 private:
  // Sender state shared with the wake-up posts from user threads, so a late post never
  // touches a destroyed writer.
  struct Waker {
    explicit Waker(Executor executor) : notifier(std::move(executor)) {}
    Notifier notifier;                 // network thread only
    std::atomic<bool> pending{false};  // a wake-up is already queued
  };

  struct BucketQueue {
    std::deque<std::unique_ptr<WriteBatch>> batches;  // ordered by creation index
    int32_t inflight = 0;                             // batches in requests now
  };

  AppendWriterImpl(std::shared_ptr<ClientContext> context, TableInfo info, BatchFormat format,
                   std::vector<int32_t> target_columns);
  static Result<std::unique_ptr<AppendWriterImpl>> Start(std::shared_ptr<ClientContext> context,
                                                         TableInfo info, AccumulatorOptions options,
                                                         std::unique_ptr<BucketAssigner> assigner,
                                                         std::vector<int32_t> target_columns);

  void Wake();
  Task<void> SenderLoop();
  Task<Status> EnsureWriterId();
  Task<void> RefreshMetadata();
  void Enqueue(std::unique_ptr<WriteBatch> batch);
  /// Builds requests from the send queues; returns when the next backoff ends (or max).
  BatchClock::time_point Drain(BatchClock::time_point now);
  Task<void> SendRequest(ServerNode leader, std::vector<std::unique_ptr<WriteBatch>> batches);
  void HandleError(std::unique_ptr<WriteBatch> batch, const Status& error);
  void Complete(std::unique_ptr<WriteBatch> batch, Status status);
  void FailQueued(const Status& error);
  /// Fails queued batches older than the delivery timeout; returns when the next one expires.
  BatchClock::time_point ExpireQueued(BatchClock::time_point now);
  /// True when `batch` has outlived the delivery timeout at `now`.
  bool Expired(const WriteBatch& batch, BatchClock::time_point now) const;
  bool HasPendingWork() const;
  Task<Status> Stop();

  std::shared_ptr<ClientContext> context_;
  const TableInfo info_;
  const BatchFormat format_;
  // PutKv target_columns (partial update); empty for whole rows and for log writers.
  const std::vector<int32_t> target_columns_;
  const ClientConfig& config_;
  std::shared_ptr<Waker> waker_;
  std::unique_ptr<RecordAccumulator> accumulator_;

  // ---- network thread only ----
  IdempotenceManager idempotence_;
  std::map<BucketId, BucketQueue> queues_;
  std::map<ServerId, size_t> drain_start_;  // per leader, where the last drain started
  int32_t requests_in_flight_ = 0;
  bool refreshing_ = false;
  bool stopping_ = false;
  Gate gate_;  // the sender loop and every request

  // ---- shared ----
  std::mutex error_mu_;
  Status first_error_;  // first failure since the last Flush
  std::mutex close_mu_;
  bool closed_ = false;
  Status close_status_;
  std::atomic<int64_t> records_appended_{0};
  std::atomic<int64_t> records_acked_{0};
  std::atomic<int64_t> records_failed_{0};
  std::atomic<int64_t> batches_sent_{0};
  std::atomic<int64_t> bytes_sent_{0};
  std::atomic<int64_t> requests_sent_{0};
  std::atomic<int64_t> retries_{0};
};

}  // namespace strom::client
