#include "client/idempotence_manager.h"

namespace strom::client {

void IdempotenceManager::ResetWriterId() {
  writer_id_ = kNoWriterId;
  buckets_.clear();
  ++reset_count_;
}

bool IdempotenceManager::CanSend(const TableBucket& bucket, BatchSequence batch_sequence,
                                 int32_t inflight_without_idempotence) const {
  if (!enabled_) return inflight_without_idempotence < max_inflight_;
  if (writer_id_.value() < 0) return false;
  auto it = buckets_.find(bucket);
  if (it == buckets_.end() || it->second.inflight.empty()) {
    // Nothing outstanding: a batch that still carries a sequence belongs to a reset writer
    // and is re-sent as new by the caller; either way it may go.
    return true;
  }
  const BucketState& state = it->second;
  if (batch_sequence != kNoBatchSequence) {
    // A retry: only the lowest outstanding sequence may go, keeping the server's order.
    return batch_sequence.value() == *state.inflight.begin();
  }
  // A new batch: not while batches of an older writer id are still out, and within the
  // in-flight bound.
  if (state.writer_id != writer_id_) return false;
  return static_cast<int32_t>(state.inflight.size()) < max_inflight_;
}

BatchSequence IdempotenceManager::AssignSequence(const TableBucket& bucket) {
  BucketState& state = buckets_[bucket];
  if (state.writer_id != writer_id_) {
    // First batch of this bucket under the current writer id: sequences restart at 0.
    state = BucketState();
    state.writer_id = writer_id_;
  }
  int32_t sequence = state.next_sequence;
  // Sequences wrap from INT32_MAX to 0, as the server expects.
  state.next_sequence = sequence == INT32_MAX ? 0 : sequence + 1;
  state.inflight.insert(sequence);
  return BatchSequence(sequence);
}

void IdempotenceManager::OnSuccess(const TableBucket& bucket, WriterId writer,
                                   BatchSequence sequence) {
  if (!enabled_ || writer != writer_id_) return;  // a batch of a reset writer id
  auto it = buckets_.find(bucket);
  if (it == buckets_.end() || it->second.writer_id != writer) return;
  BucketState& state = it->second;
  state.inflight.erase(sequence.value());
  if (sequence.value() > state.last_acked) state.last_acked = sequence.value();
}

BatchErrorAction IdempotenceManager::OnError(const TableBucket& bucket, WriterId writer,
                                             BatchSequence sequence, ErrorCode code,
                                             bool retries_left) {
  if (code == ErrorCode::kDuplicateSequence && enabled_) {
    OnSuccess(bucket, writer, sequence);
    return BatchErrorAction::kSucceed;
  }
  if (!enabled_) {
    return retries_left && IsRetriable(code) ? BatchErrorAction::kRetry : BatchErrorAction::kFail;
  }

  auto it = buckets_.find(bucket);
  bool current = writer == writer_id_ && it != buckets_.end() && it->second.writer_id == writer;

  if (code == ErrorCode::kOutOfOrderSequence || code == ErrorCode::kUnknownWriterId) {
    // Either way the server did not store this batch.
    if (!retries_left) {
      if (current) ResetWriterId();
      return BatchErrorAction::kFail;
    }
    if (!current) return BatchErrorAction::kRetryAsNew;
    BucketState& state = it->second;
    if (code == ErrorCode::kOutOfOrderSequence && sequence.value() != state.last_acked + 1) {
      return BatchErrorAction::kRetry;  // an earlier batch is outstanding; wait for it
    }
    ResetWriterId();
    return BatchErrorAction::kRetryAsNew;
  }

  if (IsRetriable(code) && retries_left) {
    // After a writer id reset the old attempt may or may not have been stored: re-sending
    // it under a new id could store it twice, so it fails instead.
    return current ? BatchErrorAction::kRetry : BatchErrorAction::kFail;
  }

  if (current) {
    BucketState& state = it->second;
    state.inflight.erase(sequence.value());
    bool last_handed_out =
        (sequence.value() == INT32_MAX ? 0 : sequence.value() + 1) == state.next_sequence;
    bool later_outstanding = !state.inflight.empty() && *state.inflight.rbegin() > sequence.value();
    if (retries_left && last_handed_out && !later_outstanding) {
      // The server never stored it: hand the sequence out again.
      state.next_sequence = sequence.value();
    } else {
      // Later batches would now leave a gap (or we cannot tell whether this one was
      // stored): start over under a new writer id.
      ResetWriterId();
    }
  }
  return BatchErrorAction::kFail;
}

const std::set<int32_t>* IdempotenceManager::InflightSequences(const TableBucket& bucket) const {
  auto it = buckets_.find(bucket);
  return it == buckets_.end() ? nullptr : &it->second.inflight;
}

int32_t IdempotenceManager::LastAckedSequence(const TableBucket& bucket) const {
  auto it = buckets_.find(bucket);
  return it == buckets_.end() ? -1 : it->second.last_acked;
}

int32_t IdempotenceManager::NextSequence(const TableBucket& bucket) const {
  auto it = buckets_.find(bucket);
  if (it == buckets_.end() || it->second.writer_id != writer_id_) return 0;
  return it->second.next_sequence;
}

}  // namespace strom::client
