#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "common/ids.h"
#include "common/status.h"

namespace strom::log {

/// Batches remembered per writer for duplicate detection (Fluss's
/// WriterStateEntry.NUM_BATCHES_TO_RETAIN, which matches the client's limit of 5 in-flight
/// batches per bucket).
inline constexpr size_t kNumBatchesToRetain = 5;

/// What is remembered of one appended batch of an idempotent writer.
struct BatchMetadata {
  BatchSequence batch_sequence;
  LogOffset last_offset;
  int32_t offset_delta = 0;  ///< last_offset - first offset.
  TimestampMs timestamp;

  LogOffset first_offset() const { return last_offset - offset_delta; }
};

/// The idempotence state of one writer id in one bucket: its last (up to five) batches in
/// sequence order and the commit timestamp of its last batch (Fluss's WriterStateEntry).
/// A value type; not thread-safe.
class WriterStateEntry {
 public:
  explicit WriterStateEntry(WriterId writer_id, TimestampMs last_timestamp = TimestampMs(-1))
      : writer_id_(writer_id), last_timestamp_(last_timestamp) {}

  WriterId writer_id() const { return writer_id_; }
  bool empty() const { return batches_.empty(); }
  BatchSequence first_batch_sequence() const {
    return empty() ? kNoBatchSequence : batches_.front().batch_sequence;
  }
  BatchSequence last_batch_sequence() const {
    return empty() ? kNoBatchSequence : batches_.back().batch_sequence;
  }
  /// Last offset of the last batch, -1 when empty.
  LogOffset last_data_offset() const {
    return empty() ? LogOffset(-1) : batches_.back().last_offset;
  }
  int32_t last_offset_delta() const { return empty() ? -1 : batches_.back().offset_delta; }
  TimestampMs last_batch_timestamp() const { return last_timestamp_; }
  const std::deque<BatchMetadata>& batches() const { return batches_; }

  /// Remembers a batch (dropping the oldest beyond five) and its timestamp.
  void AddBatch(const BatchMetadata& batch);
  /// Appends `next`'s batches to this entry and takes its last timestamp.
  void Update(const WriterStateEntry& next);
  /// The remembered batch with this sequence, if any.
  std::optional<BatchMetadata> FindDuplicateBatch(BatchSequence sequence) const;

 private:
  WriterId writer_id_;
  TimestampMs last_timestamp_;
  std::deque<BatchMetadata> batches_;
};

/// Checks the batches one append brings for one writer against that writer's state
/// (Fluss's WriterAppendInfo). Built from the state before the append; the state is only
/// changed once the whole append is accepted (WriterStateManager::Update).
class WriterAppendInfo {
 public:
  /// `current` is the writer's state before the append, or null for an unknown writer.
  WriterAppendInfo(WriterId writer_id, const WriterStateEntry* current);

  /// Checks one batch and records it. kOutOfOrderSequence when it is not in sequence.
  /// `expired_in_batch`: the batch's commit timestamp is older than the writer expiration
  /// time (only possible for appends that keep the original timestamps).
  Status Append(BatchSequence sequence, LogOffset first_offset, LogOffset last_offset,
                TimestampMs timestamp, bool expired_in_batch, bool as_leader);

  WriterId writer_id() const { return writer_id_; }
  const WriterStateEntry& updated_entry() const { return updated_; }

  /// Fluss's rule: `next` follows `last` when it is last + 1, when it wraps from INT32_MAX
  /// to 0, or when the writer has no state (last = -1) and either the batch is older than
  /// the expiration time or the append comes from replication (where leader and follower
  /// may have expired the writer at slightly different times).
  static bool InSequence(BatchSequence last, BatchSequence next, bool expired_in_batch,
                         bool as_leader);

 private:
  WriterId writer_id_;
  BatchSequence current_last_sequence_;
  WriterStateEntry updated_;
};

}  // namespace strom::log
