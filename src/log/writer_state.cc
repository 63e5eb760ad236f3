#include "log/writer_state.h"

#include <limits>

namespace strom::log {

void WriterStateEntry::AddBatch(const BatchMetadata& batch) {
  if (batches_.size() == kNumBatchesToRetain) batches_.pop_front();
  batches_.push_back(batch);
  last_timestamp_ = batch.timestamp;
}

void WriterStateEntry::Update(const WriterStateEntry& next) {
  for (const BatchMetadata& batch : next.batches_) {
    if (batches_.size() == kNumBatchesToRetain) batches_.pop_front();
    batches_.push_back(batch);
  }
  last_timestamp_ = next.last_timestamp_;
}

std::optional<BatchMetadata> WriterStateEntry::FindDuplicateBatch(BatchSequence sequence) const {
  for (const BatchMetadata& batch : batches_) {
    if (batch.batch_sequence == sequence) return batch;
  }
  return std::nullopt;
}

WriterAppendInfo::WriterAppendInfo(WriterId writer_id, const WriterStateEntry* current)
    : writer_id_(writer_id),
      current_last_sequence_(current ? current->last_batch_sequence() : kNoBatchSequence),
      updated_(writer_id, current ? current->last_batch_timestamp() : TimestampMs(-1)) {}

bool WriterAppendInfo::InSequence(BatchSequence last, BatchSequence next, bool expired_in_batch,
                                  bool as_leader) {
  return (last == kNoBatchSequence && (expired_in_batch || !as_leader)) ||
         static_cast<int64_t>(next.value()) == static_cast<int64_t>(last.value()) + 1 ||
         (next.value() == 0 && last.value() == std::numeric_limits<int32_t>::max());
}

Status WriterAppendInfo::Append(BatchSequence sequence, LogOffset first_offset,
                                LogOffset last_offset, TimestampMs timestamp, bool expired_in_batch,
                                bool as_leader) {
  BatchSequence last = updated_.empty() ? current_last_sequence_ : updated_.last_batch_sequence();
  if (!InSequence(last, sequence, expired_in_batch, as_leader)) {
    return MakeError(ErrorCode::kOutOfOrderSequence,
                     "out of order batch sequence for writer {} at offset {}: {} (incoming "
                     "batch seq.), {} (current batch seq.)",
                     writer_id_, last_offset, sequence, last);
  }
  updated_.AddBatch(BatchMetadata{sequence, last_offset,
                                  static_cast<int32_t>(last_offset - first_offset), timestamp});
  return Status::OK();
}

}  // namespace strom::log
