#pragma once

#include <cstdint>
#include <set>
#include <unordered_map>

#include "common/error_code.h"
#include "common/ids.h"
#include "strom/types.h"

namespace strom::client {

/// What the sender does with a batch after an error.
enum class BatchErrorAction : uint8_t {
  /// Send it again with the same writer id and sequence.
  kRetry,
  /// The server certainly did not store it: send it again as a new batch (a fresh sequence
  /// under the current, possibly new, writer id).
  kRetryAsNew,
  /// Give up: report the error to the user.
  kFail,
  /// The batch counts as written (DUPLICATE_SEQUENCE: the server already has it).
  kSucceed,
};

/// Writer id and per-bucket batch sequences of an idempotent writer (Fluss
/// `IdempotenceManager`, spec fluss-rpc §10.8), and the rules that keep sequences gap-free
/// when batches fail:
///
/// - A new batch takes the bucket's next sequence (0, 1, 2, ...) and stays "in flight" until
///   it succeeds or fails for good; a batch waiting for a retry is still in flight.
/// - A batch that was sent before may only be re-sent when it is the bucket's lowest
///   in-flight sequence, so a bucket's batches reach the server in sequence order.
/// - A new batch may be sent while fewer than `max_inflight` are in flight, and only under
///   the current writer id (after a writer id reset, a bucket restarts at 0 once its old
///   batches have drained).
/// - Errors: DUPLICATE_SEQUENCE is success. OUT_OF_ORDER_SEQUENCE for a batch that is not
///   the next expected one is retried (an earlier batch is being retried); for the next
///   expected one the server has lost this writer's state, so the writer id is reset and the
///   batch (which was not stored) goes out again as new. UNKNOWN_WRITER_ID resets likewise.
///   A retriable error retries while retries are left and the writer id is unchanged (after
///   a reset the old attempt may or may not be stored, so it fails). Any other error fails
///   the batch; its sequence is given back when it was the last one handed out, otherwise
///   (later batches are already out) the writer id is reset so those come back as
///   OUT_OF_ORDER and are re-sent as new.
///
/// With idempotence disabled every batch is sent without writer id and sequence, retriable
/// errors retry while retries are left, and everything else fails.
///
/// Threads: not thread-safe; owned and used by the writer's sender on the network thread.
class IdempotenceManager {
 public:
  IdempotenceManager(bool enabled, int32_t max_inflight_per_bucket)
      : enabled_(enabled), max_inflight_(max_inflight_per_bucket) {}

  bool enabled() const { return enabled_; }
  WriterId writer_id() const { return writer_id_; }
  /// True when batches can be stamped: idempotence is off, or a writer id is known.
  bool ready() const { return !enabled_ || writer_id_.value() >= 0; }
  /// Incremented by every ResetWriterId(); lets callers notice a reset.
  int64_t reset_count() const { return reset_count_; }

  void SetWriterId(WriterId id) { writer_id_ = id; }
  /// Forgets the writer id and every bucket's sequences (a new InitWriter follows).
  void ResetWriterId();

  /// Whether the first queued batch of `bucket` may be sent now. `batch_sequence` is the
  /// sequence it already has, or kNoBatchSequence for a batch never sent (or sent under a
  /// writer id that has since been reset); `inflight_without_idempotence` is the bucket's
  /// in-flight count, used when idempotence is off.
  bool CanSend(const TableBucket& bucket, BatchSequence batch_sequence,
               int32_t inflight_without_idempotence) const;

  /// Gives a new batch of `bucket` its sequence and marks it in flight. Only after CanSend.
  BatchSequence AssignSequence(const TableBucket& bucket);

  /// The batch (stamped with `writer`/`sequence`) was stored.
  void OnSuccess(const TableBucket& bucket, WriterId writer, BatchSequence sequence);

  /// Decides what to do after `code` for a batch stamped with `writer`/`sequence`, and
  /// updates the bookkeeping accordingly. `retries_left`: the batch may be attempted again.
  BatchErrorAction OnError(const TableBucket& bucket, WriterId writer, BatchSequence sequence,
                           ErrorCode code, bool retries_left);

  /// Sequences of `bucket` currently in flight (for tests and debugging).
  const std::set<int32_t>* InflightSequences(const TableBucket& bucket) const;
  /// Highest acknowledged sequence of `bucket`, -1 when none.
  int32_t LastAckedSequence(const TableBucket& bucket) const;
  /// Sequence the next new batch of `bucket` gets.
  int32_t NextSequence(const TableBucket& bucket) const;

 private:
  struct BucketState {
    WriterId writer_id = kNoWriterId;  // the writer id the sequences below belong to
    int32_t next_sequence = 0;
    int32_t last_acked = -1;
    std::set<int32_t> inflight;
  };

  bool enabled_;
  int32_t max_inflight_;
  WriterId writer_id_ = kNoWriterId;
  int64_t reset_count_ = 0;
  std::unordered_map<TableBucket, BucketState> buckets_;
};

}  // namespace strom::client
