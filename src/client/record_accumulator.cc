#include "client/record_accumulator.h"

#include <algorithm>

namespace strom::client {

RecordAccumulator::RecordAccumulator(AccumulatorOptions options,
                                     std::unique_ptr<BucketAssigner> assigner,
                                     std::function<void()> wake)
    : options_(std::move(options)), wake_(std::move(wake)), assigner_(std::move(assigner)) {}

RecordAccumulator::~RecordAccumulator() = default;

Result<std::unique_ptr<RecordsBuilder>> RecordAccumulator::NewBuilderLocked() {
  if (!free_builders_.empty()) {
    std::unique_ptr<RecordsBuilder> builder = std::move(free_builders_.back());
    free_builders_.pop_back();
    return builder;
  }
  if (options_.kv) {
    return MakeKvRecordsBuilder(options_.kv->format, options_.row_type, options_.kv->key_encoder);
  }
  return MakeRecordsBuilder(options_.log_format, options_.row_type, options_.compression);
}

void RecordAccumulator::ReturnBuilderLocked(std::unique_ptr<RecordsBuilder> builder) {
  // A few spare builders keep their buffers' capacity; more would only hold memory.
  if (builder != nullptr && free_builders_.size() < 4) free_builders_.push_back(std::move(builder));
}

namespace {
// Spare batch buffers kept, as for builders: enough for the batches a writer has in flight
// to one server, without holding much more memory than the open batches themselves.
constexpr size_t kMaxSpareBuffers = 4;
}  // namespace

void RecordAccumulator::LendSpareBufferLocked(WriteBatch* batch) {
  if (spare_buffers_.empty() || batch->bytes().capacity() > 0) return;
  batch->bytes().swap(spare_buffers_.back());
  spare_buffers_.pop_back();
}

void RecordAccumulator::Account(WriteBatch* batch, int64_t new_bytes) {
  buffered_bytes_ += new_bytes - batch->accounted_bytes();
  batch->set_accounted_bytes(new_bytes);
}

bool RecordAccumulator::IsDueLocked(const WriteBatch& batch, BatchClock::time_point now) const {
  return flushes_in_progress_ > 0 || memory_waiters_ > 0 || closed_ ||
         now - batch.created() >= options_.batch_timeout;
}

Result<std::shared_ptr<BatchCompletion>> RecordAccumulator::Append(const record::GenericRow& row,
                                                                   WriteKind kind) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closed_ && buffered_bytes_ > 0 && buffered_bytes_ >= options_.buffer_memory) {
    // Let the sender send what is open now, then wait for acknowledgements to free memory.
    ++memory_waiters_;
    lock.unlock();
    wake_();
    lock.lock();
    memory_cv_.wait(lock, [this] {
      return closed_ || buffered_bytes_ == 0 || buffered_bytes_ < options_.buffer_memory;
    });
    --memory_waiters_;
  }
  if (closed_) return MakeError(ErrorCode::kUnknownServerError, "the writer is closed");

  STROM_ASSIGN_OR_RETURN(BucketId bucket, assigner_->Assign(row, available_));
  BucketQueue& queue = queues_[bucket];
  WriteBatch* batch = nullptr;
  if (!queue.batches.empty() && queue.batches.back()->state() == WriteBatch::State::kOpen) {
    batch = queue.batches.back().get();
  }

  WriteBatch::AppendOutcome outcome = WriteBatch::AppendOutcome::kFull;
  bool opened = false;
  if (batch != nullptr) {
    STROM_ASSIGN_OR_RETURN(outcome, batch->TryAppend(row, options_.batch_size, kind));
  }
  if (outcome == WriteBatch::AppendOutcome::kFull) {
    // No open batch (or, defensively, a full one): open a new batch for the row.
    STROM_ASSIGN_OR_RETURN(auto builder, NewBuilderLocked());
    auto fresh = std::make_unique<WriteBatch>(
        TableBucket(options_.table_id, bucket), options_.schema_id, next_creation_index_,
        BatchClock::now(), std::move(builder), options_.kv ? BatchFormat::kKv : BatchFormat::kLog);
    Result<WriteBatch::AppendOutcome> first = fresh->TryAppend(row, options_.batch_size, kind);
    if (!first.ok()) {
      // The row does not fit the schema; the fresh builder is still empty and reusable.
      ReturnBuilderLocked(fresh->ReleaseBuilder());
      return first.status();
    }
    ++next_creation_index_;
    outcome = *first;
    if (batch != nullptr) batch->set_state(WriteBatch::State::kClosing);
    batch = fresh.get();
    incomplete_.emplace(batch, batch->completion());
    queue.batches.push_back(std::move(fresh));
    opened = true;
  }
  if (batch->accounted_bytes() < batch->last_estimate() || batch->accounted_bytes() == 0) {
    Account(batch, std::max<int64_t>(batch->last_estimate(), 1));
  }
  std::shared_ptr<BatchCompletion> completion = batch->completion();
  if (outcome != WriteBatch::AppendOutcome::kAppendedFull) {
    if (opened) {
      // A sender that went idle with nothing open sleeps up to its idle bound; the new batch
      // must be sent when its linger time ends, so let the sender recompute its deadline.
      lock.unlock();
      wake_();
    }
    return completion;
  }

  // The batch is full: close it, move the sticky bucket on, and build it on this thread.
  batch->set_state(WriteBatch::State::kClosing);
  assigner_->OnNewBatch(bucket, available_);
  LendSpareBufferLocked(batch);
  lock.unlock();
  BuildClosed(batch);
  return completion;
}

void RecordAccumulator::BuildClosed(WriteBatch* batch) {
  // The batch is kClosing: it stays in its queue, and nobody else touches it until it is
  // marked ready, so building needs no lock.
  Result<std::unique_ptr<RecordsBuilder>> builder = batch->Build();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (builder.ok()) {
      ReturnBuilderLocked(std::move(*builder));
      Account(batch, static_cast<int64_t>(batch->bytes().size()));
    } else {
      // Completed with the error; TakeReady drops it.
      batch->completion()->Complete(builder.status());
    }
    batch->set_state(WriteBatch::State::kReady);
  }
  wake_();
}

std::vector<std::unique_ptr<WriteBatch>> RecordAccumulator::TakeReady(
    BatchClock::time_point now, BatchClock::time_point* next_due) {
  std::vector<std::unique_ptr<WriteBatch>> out;
  std::vector<WriteBatch*> to_build;
  std::vector<std::unique_ptr<WriteBatch>> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [bucket, queue] : queues_) {
      while (!queue.batches.empty()) {
        WriteBatch& front = *queue.batches.front();
        if (front.state() == WriteBatch::State::kReady) {
          if (front.completion()->IsReady()) {
            failed.push_back(std::move(queue.batches.front()));
          } else {
            out.push_back(std::move(queue.batches.front()));
          }
          queue.batches.pop_front();
          continue;
        }
        if (front.state() == WriteBatch::State::kOpen && IsDueLocked(front, now)) {
          front.set_state(WriteBatch::State::kClosing);
          LendSpareBufferLocked(&front);
          to_build.push_back(&front);
          out.push_back(std::move(queue.batches.front()));
          queue.batches.pop_front();
          // An open batch is always the last of its queue.
          break;
        }
        if (front.state() == WriteBatch::State::kOpen && next_due != nullptr) {
          *next_due = std::min(*next_due, front.created() + options_.batch_timeout);
        }
        break;  // open and not due, or being built by an appending thread
      }
    }
  }
  for (WriteBatch* batch : to_build) {
    Result<std::unique_ptr<RecordsBuilder>> builder = batch->Build();
    std::lock_guard<std::mutex> lock(mu_);
    if (builder.ok()) {
      ReturnBuilderLocked(std::move(*builder));
      Account(batch, static_cast<int64_t>(batch->bytes().size()));
      batch->set_state(WriteBatch::State::kReady);
    } else {
      batch->completion()->Complete(builder.status());
    }
  }
  // Batches whose build failed leave the pipeline here.
  for (auto it = out.begin(); it != out.end();) {
    if ((*it)->completion()->IsReady()) {
      failed.push_back(std::move(*it));
      it = out.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& batch : failed) Release(*batch);
  return out;
}

void RecordAccumulator::Release(WriteBatch& batch) {
  ByteBuffer bytes;
  bytes.swap(batch.bytes());
  bytes.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    buffered_bytes_ -= batch.accounted_bytes();
    incomplete_.erase(&batch);
    if (bytes.capacity() > 0 && spare_buffers_.size() < kMaxSpareBuffers) {
      spare_buffers_.push_back(std::move(bytes));
    }
  }
  memory_cv_.notify_all();
}

std::vector<std::shared_ptr<BatchCompletion>> RecordAccumulator::Incomplete() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<BatchCompletion>> out;
  out.reserve(incomplete_.size());
  for (const auto& [batch, completion] : incomplete_) out.push_back(completion);
  return out;
}

void RecordAccumulator::BeginFlush() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++flushes_in_progress_;
  }
  wake_();
}

void RecordAccumulator::EndFlush() {
  std::lock_guard<std::mutex> lock(mu_);
  --flushes_in_progress_;
}

void RecordAccumulator::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  memory_cv_.notify_all();
  wake_();
}

void RecordAccumulator::SetAvailableBuckets(std::vector<BucketId> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  available_ = std::move(buckets);
}

bool RecordAccumulator::HasUndrained() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [bucket, queue] : queues_) {
    if (!queue.batches.empty()) return true;
  }
  return false;
}

int64_t RecordAccumulator::buffered_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffered_bytes_;
}

}  // namespace strom::client
