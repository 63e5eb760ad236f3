#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "client/bucket_assigner.h"
#include "client/write_batch.h"
#include "common/result.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"
#include "strom/types.h"

namespace strom::client {

/// What a RecordAccumulator needs to know about its table and limits.
struct AccumulatorOptions {
  TableId table_id{0};
  SchemaId schema_id{0};
  /// ROW type of the table's columns.
  record::DataType row_type;
  LogFormat log_format = LogFormat::kArrow;
  record::arrow::ArrowCompression compression;
  int64_t batch_size = 2 * 1024 * 1024;
  std::chrono::milliseconds batch_timeout{100};
  int64_t buffer_memory = 64 * 1024 * 1024;
  /// Set for a primary-key table's writer: batches are KV batches in this kv format, keyed
  /// by `key_encoder` (the table's primary-key encoder); `log_format` and `compression` are
  /// then unused.
  struct Kv {
    KvFormat format = KvFormat::kCompacted;
    std::shared_ptr<const record::KeyEncoder> key_encoder;
  };
  std::optional<Kv> kv;
};

/// Collects appended rows into one open batch per bucket (Fluss `RecordAccumulator`).
///
/// User threads call Append(); the writer's sender (on the network thread) calls TakeReady()
/// to collect the batches that are due (full, older than the batch timeout, or everything
/// while a flush runs or appends wait for memory) and Release() once a batch is finished.
/// Within a bucket, batches leave in the order they were opened.
///
/// Memory: every batch counts toward `buffer_memory` from its first row until Release();
/// Append() blocks while the bound is reached (the first row of an empty writer always
/// goes in). Heavy work runs outside the lock: a batch filled by Append is built (Arrow
/// encoding, compression) by that appending thread, a batch that timed out by the sender.
///
/// Threads: every method is thread-safe. `wake` is called (without the lock held) whenever a
/// batch becomes ready, so the sender can collect it.
class RecordAccumulator {
 public:
  RecordAccumulator(AccumulatorOptions options, std::unique_ptr<BucketAssigner> assigner,
                    std::function<void()> wake);
  ~RecordAccumulator();

  /// Encodes `row` into its bucket's batch and returns that batch's completion. `kind` is
  /// kAppend for log tables, kUpsert or kDelete for KV writers. Errors: kCorruptRecord for a
  /// row that does not fit the schema or has a null key (nothing is appended),
  /// kInvalidTable for a kind the writer does not take, kUnknownServerError after Close().
  Result<std::shared_ptr<BatchCompletion>> Append(const record::GenericRow& row,
                                                  WriteKind kind = WriteKind::kAppend);

  /// Collects the due batches: per bucket, from the front of its queue, every built batch
  /// and every open batch that is due at `now`, stopping at the first batch still being
  /// built by an appending thread. Open batches taken here are built before returning (a
  /// batch whose build fails is completed with the error and not returned). `next_due` is
  /// set to when the oldest remaining open batch will be due (or left alone when none).
  std::vector<std::unique_ptr<WriteBatch>> TakeReady(BatchClock::time_point now,
                                                     BatchClock::time_point* next_due);

  /// Marks a finished batch's memory free (waking blocked appends) and forgets it. Its
  /// bytes buffer is kept (a few at most) for the next batches to be built into, so a
  /// steady writer builds every batch into memory it has already touched; the batch's
  /// bytes are empty afterwards.
  void Release(WriteBatch& batch);

  /// Completions of every batch not yet finished (open, queued or in flight). Flush waits
  /// for these.
  std::vector<std::shared_ptr<BatchCompletion>> Incomplete() const;

  /// While at least one flush is in progress every open batch is due at once.
  void BeginFlush();
  void EndFlush();

  /// Refuses further appends (blocked appends fail too).
  void Close();

  /// Buckets that currently have a leader (for the keyless assigners).
  void SetAvailableBuckets(std::vector<BucketId> buckets);

  /// True when batches are still waiting in the accumulator (open, or built and not taken).
  bool HasUndrained() const;
  /// Bytes currently counted toward the memory bound.
  int64_t buffered_bytes() const;

 private:
  struct BucketQueue {
    std::deque<std::unique_ptr<WriteBatch>> batches;
  };

  Result<std::unique_ptr<RecordsBuilder>> NewBuilderLocked();
  void ReturnBuilderLocked(std::unique_ptr<RecordsBuilder> builder);
  // Gives a batch about to be built a spare buffer of a released batch, if there is one.
  void LendSpareBufferLocked(WriteBatch* batch);
  // Builds a batch this thread moved to kClosing, then marks it ready (or fails it).
  void BuildClosed(WriteBatch* batch);
  bool IsDueLocked(const WriteBatch& batch, BatchClock::time_point now) const;
  void Account(WriteBatch* batch, int64_t new_bytes);

  const AccumulatorOptions options_;
  const std::function<void()> wake_;

  mutable std::mutex mu_;
  std::condition_variable memory_cv_;
  std::unique_ptr<BucketAssigner> assigner_;
  std::map<BucketId, BucketQueue> queues_;
  std::vector<BucketId> available_;
  std::vector<std::unique_ptr<RecordsBuilder>> free_builders_;
  std::vector<ByteBuffer> spare_buffers_;  // bytes of released batches, capacity kept
  std::unordered_map<const WriteBatch*, std::shared_ptr<BatchCompletion>> incomplete_;
  int64_t next_creation_index_ = 0;
  int64_t buffered_bytes_ = 0;
  int32_t flushes_in_progress_ = 0;
  int32_t memory_waiters_ = 0;
  bool closed_ = false;
};

}  // namespace strom::client
