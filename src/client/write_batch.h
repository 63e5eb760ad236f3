#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/status.h"
#include "record/arrow/arrow_writer.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "record/key_encoder.h"
#include "record/log_record_batch.h"
#include "strom/types.h"

namespace strom::client {

/// The clock of batch ages, lingers and retry backoffs.
using BatchClock = std::chrono::steady_clock;

/// The outcome of one batch, shared between the batch and every WriteResult of its rows.
///
/// Completed exactly once (later calls are ignored). Thread-safe: completed on the network
/// thread, waited on by user threads.
struct BatchCompletion {
  /// Sets the outcome and wakes waiters; false when it was already completed.
  bool Complete(Status status);
  Status Wait();
  bool IsReady();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
};

/// What a row handed to a writer asks for: an append to a log table, or an upsert or a
/// delete (by the row's primary key) on a primary-key table.
enum class WriteKind : uint8_t { kAppend, kUpsert, kDelete };

/// The batch layout a writer produces: log batches (ProduceLog) or KV batches (PutKv).
enum class BatchFormat : uint8_t { kLog, kKv };

/// Encodes rows into the records section of one batch: a log batch in the table's log
/// format, or a KV batch in the table's kv format.
///
/// Not thread-safe; a WriteBatch owns one while it is open.
class RecordsBuilder {
 public:
  virtual ~RecordsBuilder() = default;

  /// Encodes one row. On failure (kCorruptRecord: the row does not match the schema, or a
  /// key column is null; kInvalidTable: the kind does not fit the builder) the row is dropped
  /// and the builder holds exactly what it held before.
  virtual Status Append(const record::GenericRow& row, WriteKind kind) = 0;
  virtual int32_t record_count() const = 0;
  /// Bytes the finished batch would take (header included, before compression). Exact for
  /// row formats; for Arrow an upper bound that costs a walk over the columns.
  virtual int64_t EstimatedSize() const = 0;
  /// Replaces `*out` with an unsealed batch: a zeroed header-sized gap followed by the records
  /// section (see SealLogBatch), and empties the builder for reuse.
  virtual Status Build(ByteBuffer* out) = 0;
};

/// The three log formats (fluss-formats §2): Arrow (a RecordBatch message per batch, compressed
/// per the table's codec) and INDEXED / COMPACTED row records.
Result<std::unique_ptr<RecordsBuilder>> MakeRecordsBuilder(
    LogFormat format, const record::DataType& row_type,
    record::arrow::ArrowCompression compression);

/// KV batches (fluss-formats §4, PutKv): each row becomes a record keyed by `key_encoder`
/// (the table's primary-key encoder) whose value is the whole row in `kv_format`, or no
/// value for a delete. Rows are written in place behind a 28-byte header gap (see
/// SealKvBatch). `key_encoder` is shared and must encode rows of `row_type`.
Result<std::unique_ptr<RecordsBuilder>> MakeKvRecordsBuilder(
    KvFormat kv_format, const record::DataType& row_type,
    std::shared_ptr<const record::KeyEncoder> key_encoder);

/// Completes a KV batch built behind a header-sized gap: Length, magic 0, `schema_id`,
/// attributes 0, `writer_id`, `sequence`, RecordCount and, last, the CRC-32C of everything
/// from the schema id on. Sealing again re-stamps the batch. kCorruptRecord when `batch` is
/// shorter than the header or the count is negative.
Status SealKvBatch(std::span<char> batch, SchemaId schema_id, WriterId writer_id,
                   BatchSequence sequence, int32_t record_count);

/// Completes a client log batch whose records section was written in place behind a
/// header-sized gap (so the records are never copied behind a header): writes the magic 0
/// header of an append-only batch (base offset and commit timestamp 0, `schema_id`,
/// `writer_id`, `sequence`, Length, LastOffsetDelta, RecordCount) and, last, the CRC, giving
/// the bytes record::LogRecordBatchBuilder would give for the same records. Sealing again
/// re-stamps the batch. kCorruptRecord when `batch` is shorter than the header or the count is
/// negative, kRecordTooLarge beyond what Length can describe.
Status SealLogBatch(std::span<char> batch, SchemaId schema_id, WriterId writer_id,
                    BatchSequence sequence, int32_t record_count);

/// One batch of rows for one bucket, from the first Append to the cluster's answer.
///
/// States: kOpen (takes rows) -> kClosing (no more rows; being built by whoever closed it)
/// -> kReady (bytes built; waiting to be sent) -> sent / retried / completed by the sender.
/// While kOpen or kClosing it belongs to the RecordAccumulator (under its lock, except the
/// build itself, which the closing thread runs alone); once taken from the accumulator it
/// belongs to the sender on the network thread.
class WriteBatch {
 public:
  enum class State : uint8_t { kOpen, kClosing, kReady };

  WriteBatch(TableBucket bucket, SchemaId schema_id, int64_t creation_index,
             BatchClock::time_point created, std::unique_ptr<RecordsBuilder> builder,
             BatchFormat format = BatchFormat::kLog);

  const TableBucket& bucket() const { return bucket_; }
  /// Order of creation within the writer: within a bucket it is also sequence order.
  int64_t creation_index() const { return creation_index_; }
  BatchClock::time_point created() const { return created_; }
  State state() const { return state_; }
  void set_state(State state) { state_ = state; }
  int32_t record_count() const { return record_count_; }
  const std::shared_ptr<BatchCompletion>& completion() const { return completion_; }

  /// Outcome of TryAppend.
  enum class AppendOutcome : uint8_t {
    kAppended,      ///< The row is in the batch.
    kAppendedFull,  ///< The row is in the batch, which has now reached the batch size.
    kFull,          ///< Not appended: the batch was already full.
  };
  /// Appends a row to an open batch. An empty batch always takes the row, however large.
  Result<AppendOutcome> TryAppend(const record::GenericRow& row, int64_t batch_size,
                                  WriteKind kind = WriteKind::kAppend);

  /// Bytes this batch is accounted for in the writer's memory bound.
  int64_t accounted_bytes() const { return accounted_bytes_; }
  void set_accounted_bytes(int64_t bytes) { accounted_bytes_ = bytes; }
  /// The size estimate of an open batch as of its last size check (see
  /// RecordsBuilder::EstimatedSize); the built size once built.
  int64_t last_estimate() const { return last_estimate_; }

  /// Builds the (unsealed) batch bytes and releases the records builder (returned to the
  /// caller for reuse). Called once, by the thread that moved the batch to kClosing.
  Result<std::unique_ptr<RecordsBuilder>> Build();

  /// Takes the records builder back from a batch that will not be built (it holds no
  /// rows, e.g. because its first row was refused).
  std::unique_ptr<RecordsBuilder> ReleaseBuilder() { return std::move(builder_); }

  /// The built batch (after Build()); a valid log batch once sealed.
  ByteBuffer& bytes() { return bytes_; }
  const ByteBuffer& bytes() const { return bytes_; }

  /// Completes the header for sending: schema id, `writer_id` and `sequence` (kNoWriterId /
  /// kNoBatchSequence without idempotence), sizes and CRC, in one pass over the bytes. May be
  /// called again to re-stamp.
  Status Seal(WriterId writer_id, BatchSequence sequence);
  bool sealed() const { return sealed_; }
  /// Writer id and sequence the sealed bytes carry.
  WriterId writer_id() const { return writer_id_; }
  BatchSequence sequence() const { return sequence_; }
  /// Forgets the seal: the batch will be sealed again (as new) before it is re-sent.
  void ClearSeal() {
    sealed_ = false;
    writer_id_ = kNoWriterId;
    sequence_ = kNoBatchSequence;
  }

  /// Send attempts so far and when the next one may start (retry backoff).
  int32_t attempts() const { return attempts_; }
  void add_attempt() { ++attempts_; }
  BatchClock::time_point retry_after() const { return retry_after_; }
  void set_retry_after(BatchClock::time_point t) { retry_after_ = t; }

 private:
  TableBucket bucket_;
  BatchFormat format_;
  SchemaId schema_id_;
  int64_t creation_index_;
  BatchClock::time_point created_;
  State state_ = State::kOpen;
  std::unique_ptr<RecordsBuilder> builder_;
  int32_t record_count_ = 0;
  // Open batches check their size only every so many rows (the Arrow estimate walks every
  // column); the next check is planned from the average row size seen so far.
  int32_t next_size_check_ = 1;
  int64_t last_estimate_ = 0;
  bool full_ = false;
  int64_t accounted_bytes_ = 0;
  ByteBuffer bytes_;
  int32_t built_count_ = 0;
  bool sealed_ = false;
  WriterId writer_id_ = kNoWriterId;
  BatchSequence sequence_ = kNoBatchSequence;
  int32_t attempts_ = 0;
  BatchClock::time_point retry_after_{};
  std::shared_ptr<BatchCompletion> completion_;
};

}  // namespace strom::client
