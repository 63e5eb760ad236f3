#include "client/append_writer_impl.h"

#include <algorithm>
#include <asio/post.hpp>
#include <random>

#include "client/kv_keys.h"
#include "common/logging.h"
#include "proto/messages.h"
#include "strom/table.h"

namespace strom::client {

namespace {

constexpr std::string_view kLog = "client";
// Shortest pause between two metadata refreshes of one writer.
constexpr std::chrono::milliseconds kRefreshInterval(100);
// Longest the sender sleeps without being woken.
constexpr std::chrono::seconds kMaxIdle(1);

Result<record::arrow::ArrowCompression> TableCompression(const TableInfo& info) {
  record::arrow::ArrowCompression compression = record::arrow::ArrowCompression::Zstd(3);
  if (const std::string* type = info.descriptor.Property("table.log.arrow.compression.type")) {
    STROM_ASSIGN_OR_RETURN(compression.codec, record::arrow::ParseCompressionCodec(*type));
  }
  if (const std::string* level =
          info.descriptor.Property("table.log.arrow.compression.zstd.level")) {
    try {
      compression.zstd_level = std::stoi(*level);
    } catch (const std::exception&) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "table.log.arrow.compression.zstd.level '{}' is not a number", *level);
    }
  }
  return compression;
}

}  // namespace

Result<std::unique_ptr<AppendWriterImpl>> AppendWriterImpl::Create(
    std::shared_ptr<ClientContext> context, TableInfo info) {
  if (info.HasPrimaryKey()) {
    return MakeError(ErrorCode::kInvalidTable,
                     "table {} has a primary key: it takes upserts, not appends",
                     info.path.ToString());
  }
  if (info.IsPartitioned()) {
    return MakeError(ErrorCode::kInvalidTable,
                     "table {} is partitioned; this client writes non-partitioned log tables",
                     info.path.ToString());
  }
  STROM_ASSIGN_OR_RETURN(LogFormat format, info.log_format());
  STROM_ASSIGN_OR_RETURN(record::arrow::ArrowCompression compression, TableCompression(info));
  STROM_ASSIGN_OR_RETURN(
      auto assigner,
      MakeBucketAssigner(info, context->config().writer_no_key_assigner, std::random_device()()));
  AccumulatorOptions options;
  options.log_format = format;
  options.compression = compression;
  return Start(std::move(context), std::move(info), std::move(options), std::move(assigner), {});
}

Result<std::vector<int32_t>> ResolveTargetColumns(
    const TableInfo& info, const std::optional<std::vector<size_t>>& target_columns) {
  const DataType row_type = info.schema().RowType();
  const Schema& schema = info.schema();
  const size_t columns = schema.column_count();
  std::vector<int32_t> targets;
  if (target_columns) {
    // The rules of the Java client's partial-update writer.
    std::vector<bool> chosen(columns, false);
    for (size_t index : *target_columns) {
      if (index >= columns) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "target column {} is out of range: table {} has {} columns", index,
                         info.path.ToString(), columns);
      }
      if (chosen[index]) {
        return MakeError(ErrorCode::kInvalidTargetColumn, "target column '{}' is named twice",
                         row_type.fields()[index].name);
      }
      chosen[index] = true;
      targets.push_back(static_cast<int32_t>(index));
    }
    std::vector<bool> key(columns, false);
    for (const std::string& name : info.primary_keys()) {
      size_t index = *schema.ColumnIndex(name);
      key[index] = true;
      if (!chosen[index]) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "the target columns of a partial update must include the primary key "
                         "column '{}'",
                         name);
      }
    }
    for (const std::string& name : schema.auto_increment_columns()) {
      std::optional<size_t> index = schema.ColumnIndex(name);
      if (index && chosen[*index]) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "the auto-increment column '{}' cannot be written", name);
      }
      if (index) key[*index] = true;
    }
    for (size_t i = 0; i < columns; ++i) {
      if (!key[i] && !row_type.fields()[i].type.nullable()) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "a partial update needs every column outside the primary key to be "
                         "nullable, but '{}' is NOT NULL",
                         row_type.fields()[i].name);
      }
    }
  } else if (!schema.auto_increment_columns().empty()) {
    return MakeError(ErrorCode::kInvalidTargetColumn,
                     "table {} has the auto-increment column '{}': write it with a partial "
                     "update whose target columns leave that column out",
                     info.path.ToString(), schema.auto_increment_columns().front());
  }
  return targets;
}

Result<std::unique_ptr<AppendWriterImpl>> AppendWriterImpl::CreateUpsert(
    std::shared_ptr<ClientContext> context, TableInfo info,
    std::optional<std::vector<size_t>> target_columns) {
  const DataType row_type = info.schema().RowType();
  STROM_ASSIGN_OR_RETURN(std::shared_ptr<const KvKeyCodec> codec,
                         KvKeyCodec::Create(info, row_type, info.primary_keys()));
  STROM_ASSIGN_OR_RETURN(KvFormat kv_format, info.kv_format());
  STROM_ASSIGN_OR_RETURN(std::vector<int32_t> targets, ResolveTargetColumns(info, target_columns));
  AccumulatorOptions options;
  options.kv = AccumulatorOptions::Kv{kv_format, codec->key_encoder()};
  return Start(std::move(context), std::move(info), std::move(options),
               std::make_unique<KvBucketAssigner>(codec), std::move(targets));
}

Result<std::unique_ptr<AppendWriterImpl>> AppendWriterImpl::Start(
    std::shared_ptr<ClientContext> context, TableInfo info, AccumulatorOptions options,
    std::unique_ptr<BucketAssigner> assigner, std::vector<int32_t> target_columns) {
  const BatchFormat format = options.kv ? BatchFormat::kKv : BatchFormat::kLog;
  std::unique_ptr<AppendWriterImpl> impl(
      new AppendWriterImpl(context, info, format, std::move(target_columns)));
  options.table_id = info.table_id;
  options.schema_id = info.schema_id;
  options.row_type = info.schema().RowType();
  options.batch_size = context->config().writer_batch_size;
  options.batch_timeout = context->config().writer_batch_timeout;
  options.buffer_memory = context->config().writer_buffer_memory;
  std::shared_ptr<Waker> waker = impl->waker_;
  Executor executor = context->executor();
  impl->accumulator_ = std::make_unique<RecordAccumulator>(std::move(options), std::move(assigner),
                                                           [waker, executor] {
                                                             if (!waker->pending.exchange(true)) {
                                                               asio::post(executor, [waker] {
                                                                 waker->pending = false;
                                                                 waker->notifier.Notify();
                                                               });
                                                             }
                                                           });
  impl->accumulator_->SetAvailableBuckets(
      context->metadata().Get()->AvailableBuckets(info.table_id));
  if (!SpawnBackground(executor, impl->gate_, "append-writer-sender", impl->SenderLoop())) {
    return MakeError(ErrorCode::kUnknownServerError, "cannot start the writer's sender");
  }
  return impl;
}

AppendWriterImpl::AppendWriterImpl(std::shared_ptr<ClientContext> context, TableInfo info,
                                   BatchFormat format, std::vector<int32_t> target_columns)
    : context_(std::move(context)),
      info_(std::move(info)),
      format_(format),
      target_columns_(std::move(target_columns)),
      config_(context_->config()),
      waker_(std::make_shared<Waker>(context_->executor())),
      idempotence_(config_.writer_enable_idempotence,
                   config_.writer_max_inflight_requests_per_bucket) {}

AppendWriterImpl::~AppendWriterImpl() { Close().IgnoreError(); }

void AppendWriterImpl::Wake() {
  if (!waker_->pending.exchange(true)) {
    asio::post(context_->executor(), [waker = waker_] {
      waker->pending = false;
      waker->notifier.Notify();
    });
  }
}

Status AppendWriterImpl::Append(const GenericRow& row, WriteKind kind, WriteResult* result) {
  if ((kind == WriteKind::kAppend) != (format_ == BatchFormat::kLog)) {
    return MakeError(ErrorCode::kInvalidTable, "table {} {}", info_.path.ToString(),
                     format_ == BatchFormat::kLog ? "takes appends, not upserts or deletes"
                                                  : "takes upserts and deletes, not appends");
  }
  STROM_ASSIGN_OR_RETURN(std::shared_ptr<BatchCompletion> completion,
                         accumulator_->Append(row, kind));
  records_appended_.fetch_add(1, std::memory_order_relaxed);
  if (result != nullptr) *result = WriteResult(std::move(completion));
  return Status::OK();
}

Status AppendWriterImpl::Flush() {
  accumulator_->BeginFlush();
  for (const auto& completion : accumulator_->Incomplete()) completion->Wait().IgnoreError();
  accumulator_->EndFlush();
  std::lock_guard<std::mutex> lock(error_mu_);
  Status status = std::move(first_error_);
  first_error_ = Status::OK();
  return status;
}

Status AppendWriterImpl::Close() {
  std::lock_guard<std::mutex> lock(close_mu_);
  if (closed_) return close_status_;
  close_status_ = Flush();
  accumulator_->Close();
  context_->RunSync(Stop()).IgnoreError();
  closed_ = true;
  return close_status_;
}

Task<Status> AppendWriterImpl::Stop() {
  stopping_ = true;
  waker_->notifier.Notify();
  co_await gate_.Close();
  co_return Status::OK();
}

AppendWriterStats AppendWriterImpl::stats() const {
  AppendWriterStats stats;
  stats.records_appended = records_appended_.load();
  stats.records_acked = records_acked_.load();
  stats.records_failed = records_failed_.load();
  stats.batches_sent = batches_sent_.load();
  stats.bytes_sent = bytes_sent_.load();
  stats.requests_sent = requests_sent_.load();
  stats.retries = retries_.load();
  return stats;
}

bool AppendWriterImpl::HasPendingWork() const {
  if (requests_in_flight_ > 0 || refreshing_ || accumulator_->HasUndrained()) return true;
  for (const auto& [bucket, queue] : queues_) {
    if (!queue.batches.empty()) return true;
  }
  return false;
}

void AppendWriterImpl::Enqueue(std::unique_ptr<WriteBatch> batch) {
  BucketQueue& queue = queues_[batch->bucket().bucket];
  // Keep creation order, which within a bucket is sequence order (retries go back in
  // front of newer batches).
  auto it = std::upper_bound(
      queue.batches.begin(), queue.batches.end(), batch,
      [](const auto& a, const auto& b) { return a->creation_index() < b->creation_index(); });
  queue.batches.insert(it, std::move(batch));
}

Task<void> AppendWriterImpl::SenderLoop() {
  BatchClock::time_point next_refresh_allowed{};
  for (;;) {
    BatchClock::time_point now = BatchClock::now();
    BatchClock::time_point next_wake = now + kMaxIdle;
    for (auto& batch : accumulator_->TakeReady(now, &next_wake)) Enqueue(std::move(batch));

    next_wake = std::min(next_wake, ExpireQueued(now));
    bool queued = false;
    for (const auto& [bucket, queue] : queues_) queued = queued || !queue.batches.empty();
    if (stopping_ && !HasPendingWork()) break;

    if (queued && !idempotence_.ready()) {
      Status init = co_await EnsureWriterId();
      if (!init.ok()) {
        STROM_LOG_WARN(kLog, "cannot get a writer id for {}: {}", info_.path.ToString(),
                       init.ToString());
        FailQueued(init);
        continue;
      }
    }

    // Buckets whose leader is unknown need fresh metadata (at most every 100 ms).
    std::shared_ptr<const Cluster> cluster = context_->metadata().Get();
    bool leaderless = false;
    for (const auto& [bucket, queue] : queues_) {
      if (!queue.batches.empty() && !cluster->Leader(TableBucket(info_.table_id, bucket))) {
        leaderless = true;
      }
    }
    if (leaderless && !refreshing_) {
      if (now >= next_refresh_allowed) {
        next_refresh_allowed = now + kRefreshInterval;
        refreshing_ = true;
        SpawnBackground(context_->executor(), gate_, "append-writer-metadata", RefreshMetadata());
      } else {
        next_wake = std::min(next_wake, next_refresh_allowed);
      }
    }

    next_wake = std::min(next_wake, Drain(now));
    now = BatchClock::now();
    if (next_wake > now) {
      co_await WithTimeout(waker_->notifier.Wait(), next_wake - now);
    }
  }
}

Task<Status> AppendWriterImpl::EnsureWriterId() {
  Status last;
  for (int attempt = 0; attempt <= 3; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer timer(context_->executor(),
                               std::chrono::milliseconds(100 << (attempt - 1)));
      co_await timer.async_wait(kAwaitTuple);
    }
    proto::InitWriterRequest request;
    auto* path = request.add_table_path();
    path->set_database_name(info_.path.database);
    path->set_table_name(info_.path.table);
    auto response =
        co_await context_->CallAnyTabletServer<proto::ApiKey::kInitWriter>(std::move(request));
    if (response.ok()) {
      if (response->writer_id() < 0) {
        co_return MakeError(ErrorCode::kUnknownServerError, "InitWriter returned writer id {}",
                            response->writer_id());
      }
      idempotence_.SetWriterId(WriterId(response->writer_id()));
      co_return Status::OK();
    }
    last = std::move(response).status();
    if (!last.IsRetriable()) co_return last;
  }
  co_return last;
}

Task<void> AppendWriterImpl::RefreshMetadata() {
  Status status = co_await context_->UpdateMetadata(OneTable(info_.path));
  refreshing_ = false;
  if (!status.ok()) {
    STROM_LOG_WARN(kLog, "metadata refresh for {} failed: {}", info_.path.ToString(),
                   status.ToString());
    if (status.code() == ErrorCode::kTableNotExist) FailQueued(status);
  } else {
    const Cluster::TableMeta* meta = context_->metadata().Get()->FindTable(info_.path);
    if (meta != nullptr && meta->table_id != info_.table_id) {
      FailQueued(MakeError(ErrorCode::kTableNotExist,
                           "table {} was dropped (it now has id {}, the writer's was {})",
                           info_.path.ToString(), meta->table_id, info_.table_id));
    }
  }
  accumulator_->SetAvailableBuckets(context_->metadata().Get()->AvailableBuckets(info_.table_id));
  waker_->notifier.Notify();
}

BatchClock::time_point AppendWriterImpl::Drain(BatchClock::time_point now) {
  BatchClock::time_point next = BatchClock::time_point::max();
  if (!idempotence_.ready()) return next;
  std::shared_ptr<const Cluster> cluster = context_->metadata().Get();
  std::map<ServerId, std::vector<BucketId>> by_leader;
  std::map<ServerId, ServerNode> leaders;
  for (const auto& [bucket, queue] : queues_) {
    if (queue.batches.empty()) continue;
    std::optional<ServerNode> leader = cluster->Leader(TableBucket(info_.table_id, bucket));
    if (!leader) continue;
    by_leader[leader->id].push_back(bucket);
    leaders[leader->id] = *leader;
  }
  const auto max_size = static_cast<size_t>(config_.writer_request_max_size);
  for (auto& [leader_id, buckets] : by_leader) {
    for (;;) {
      std::vector<std::unique_ptr<WriteBatch>> request;
      size_t size = 0;
      size_t start = drain_start_[leader_id] % buckets.size();
      drain_start_[leader_id] = start + 1;
      for (size_t k = 0; k < buckets.size(); ++k) {
        BucketId bucket = buckets[(start + k) % buckets.size()];
        BucketQueue& queue = queues_[bucket];
        if (queue.batches.empty()) continue;
        WriteBatch& head = *queue.batches.front();
        if (head.retry_after() > now) {
          next = std::min(next, head.retry_after());
          continue;
        }
        if (!request.empty() && size + head.bytes().size() > max_size) break;
        TableBucket table_bucket(info_.table_id, bucket);
        if (idempotence_.enabled() && head.sealed() && head.writer_id() != kNoWriterId &&
            head.writer_id() != idempotence_.writer_id()) {
          // Waited for a retry while the writer id was reset: the earlier attempt may or
          // may not be stored, and re-sending under the new id could store it twice.
          std::unique_ptr<WriteBatch> stale = std::move(queue.batches.front());
          queue.batches.pop_front();
          Complete(std::move(stale),
                   MakeError(ErrorCode::kUnknownWriterId,
                             "the writer id changed while a batch of bucket {} waited for a "
                             "retry; whether it was written is unknown",
                             bucket));
          continue;
        }
        if (!idempotence_.CanSend(table_bucket, head.sequence(), queue.inflight)) continue;
        if (!head.sealed()) {
          // New (or re-sent as new): its header, writer id, sequence and CRC are written now.
          WriterId writer = kNoWriterId;
          BatchSequence sequence = kNoBatchSequence;
          if (idempotence_.enabled()) {
            writer = idempotence_.writer_id();
            sequence = idempotence_.AssignSequence(table_bucket);
          }
          Status sealed = head.Seal(writer, sequence);
          if (!sealed.ok()) {
            std::unique_ptr<WriteBatch> bad = std::move(queue.batches.front());
            queue.batches.pop_front();
            if (idempotence_.enabled()) {
              idempotence_.OnError(table_bucket, writer, sequence, ErrorCode::kCorruptRecord,
                                   false);
            }
            Complete(std::move(bad), sealed);
            continue;
          }
        }
        std::unique_ptr<WriteBatch> batch = std::move(queue.batches.front());
        queue.batches.pop_front();
        ++queue.inflight;
        batch->add_attempt();
        size += batch->bytes().size();
        request.push_back(std::move(batch));
      }
      if (request.empty()) break;
      ++requests_in_flight_;
      SpawnBackground(context_->executor(), gate_, "produce-log",
                      SendRequest(leaders[leader_id], std::move(request)));
    }
  }
  return next;
}

namespace {

// Moves each batch's bytes into `request` (one bucket entry per batch), serializes it into
// `payload`, and moves the bytes back, so the batches keep them for a retry.
template <typename Request>
Status EncodeBatches(Request* request, std::vector<std::unique_ptr<WriteBatch>>& batches,
                     ByteBuffer* payload) {
  for (auto& batch : batches) {
    auto* entry = request->add_buckets_req();
    entry->set_bucket_id(batch->bucket().bucket.value());
    entry->set_records(std::move(batch->bytes()));
  }
  Status encoded = proto::AppendMessage(*request, payload);
  for (size_t i = 0; i < batches.size(); ++i) {
    batches[i]->bytes() =
        std::move(*request->mutable_buckets_req(static_cast<int>(i))->mutable_records());
  }
  return encoded;
}

// One bucket's answer in a ProduceLog or PutKv response.
struct BucketAnswer {
  int32_t bucket = 0;
  Status status;
};

template <typename Response>
Status ParseAnswers(const ByteBuffer& raw, std::vector<BucketAnswer>* answers) {
  Response response;
  STROM_RETURN_IF_ERROR(proto::ParseMessage(raw, &response));
  for (const auto& entry : response.buckets_resp()) {
    BucketAnswer answer;
    answer.bucket = entry.bucket_id();
    if (entry.has_error_code() && entry.error_code() != 0) {
      answer.status = Status(ErrorCodeFromWire(entry.error_code()), entry.error_message());
    }
    answers->push_back(std::move(answer));
  }
  return Status::OK();
}

}  // namespace

Task<void> AppendWriterImpl::SendRequest(ServerNode leader,
                                         std::vector<std::unique_ptr<WriteBatch>> batches) {
  int64_t bytes = 0;
  for (const auto& batch : batches) bytes += static_cast<int64_t>(batch->bytes().size());
  ByteBuffer payload;
  Status encoded;
  proto::ApiKey api = proto::ApiKey::kProduceLog;
  const auto timeout_ms = static_cast<int32_t>(config_.request_timeout.count());
  if (format_ == BatchFormat::kKv) {
    api = proto::ApiKey::kPutKv;
    proto::PutKvRequest request;
    request.set_acks(config_.writer_acks);
    request.set_table_id(info_.table_id.value());
    request.set_timeout_ms(timeout_ms);
    for (int32_t column : target_columns_) request.add_target_columns(column);
    request.set_agg_mode(0);  // the merge engine applies, as the Java client's default
    encoded = EncodeBatches(&request, batches, &payload);
  } else {
    proto::ProduceLogRequest request;
    request.set_acks(config_.writer_acks);
    request.set_table_id(info_.table_id.value());
    request.set_timeout_ms(timeout_ms);
    encoded = EncodeBatches(&request, batches, &payload);
  }
  requests_sent_.fetch_add(1, std::memory_order_relaxed);
  batches_sent_.fetch_add(static_cast<int64_t>(batches.size()), std::memory_order_relaxed);
  bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);

  Result<ByteBuffer> raw = encoded.ok() ? Status(ErrorCode::kNetwork, "not sent") : encoded;
  if (encoded.ok()) {
    Result<std::shared_ptr<rpc::Connection>> conn = co_await context_->Connect(leader);
    if (!conn.ok()) {
      raw = std::move(conn).status();
    } else {
      Result<int16_t> version = (*conn)->NegotiateVersion(api);
      if (!version.ok()) {
        raw = std::move(version).status();
      } else {
        // The server may take up to timeout_ms to replicate; allow for the round trip too.
        raw = co_await (*conn)->Call(static_cast<int16_t>(api), *version, std::move(payload),
                                     config_.request_timeout + std::chrono::seconds(5));
      }
    }
  }

  std::vector<BucketAnswer> answers;
  Status outcome = raw.status();
  if (raw.ok()) {
    outcome = format_ == BatchFormat::kKv ? ParseAnswers<proto::PutKvResponse>(*raw, &answers)
                                          : ParseAnswers<proto::ProduceLogResponse>(*raw, &answers);
  }
  if (!outcome.ok()) {
    for (auto& batch : batches) {
      --queues_[batch->bucket().bucket].inflight;
      HandleError(std::move(batch), outcome);
    }
  } else {
    for (BucketAnswer& answer : answers) {
      auto it = std::find_if(batches.begin(), batches.end(), [&](const auto& b) {
        return b != nullptr && b->bucket().bucket.value() == answer.bucket;
      });
      if (it == batches.end()) continue;  // not ours: ignore
      std::unique_ptr<WriteBatch> batch = std::move(*it);
      --queues_[batch->bucket().bucket].inflight;
      if (!answer.status.ok()) {
        HandleError(std::move(batch), answer.status);
      } else {
        idempotence_.OnSuccess(batch->bucket(), batch->writer_id(), batch->sequence());
        Complete(std::move(batch), Status::OK());
      }
    }
    for (auto& batch : batches) {
      if (batch == nullptr) continue;
      --queues_[batch->bucket().bucket].inflight;
      Status missing =
          MakeError(ErrorCode::kUnknownServerError, "{} answer from server {} lacks bucket {}",
                    proto::ApiKeyName(api), leader.id, batch->bucket().bucket);
      HandleError(std::move(batch), missing);
    }
  }
  --requests_in_flight_;
  waker_->notifier.Notify();
}

bool AppendWriterImpl::Expired(const WriteBatch& batch, BatchClock::time_point now) const {
  return config_.writer_delivery_timeout.count() > 0 &&
         now - batch.created() >= config_.writer_delivery_timeout;
}

BatchClock::time_point AppendWriterImpl::ExpireQueued(BatchClock::time_point now) {
  BatchClock::time_point next = BatchClock::time_point::max();
  if (config_.writer_delivery_timeout.count() <= 0) return next;
  for (auto& [bucket, queue] : queues_) {
    for (auto it = queue.batches.begin(); it != queue.batches.end();) {
      if (!Expired(**it, now)) {
        next = std::min(next, (*it)->created() + config_.writer_delivery_timeout);
        ++it;
        continue;
      }
      std::unique_ptr<WriteBatch> batch = std::move(*it);
      it = queue.batches.erase(it);
      Status timeout = MakeError(
          ErrorCode::kRequestTimeOut, "a batch of {} bucket {} was not acknowledged within {} ms",
          info_.path.ToString(), bucket, config_.writer_delivery_timeout.count());
      if (batch->sealed() && idempotence_.enabled()) {
        // It was sent before: whether it was stored is unknown.
        idempotence_.OnError(batch->bucket(), batch->writer_id(), batch->sequence(),
                             ErrorCode::kRequestTimeOut, /*retries_left=*/false);
      }
      Complete(std::move(batch), timeout);
    }
  }
  return next;
}

void AppendWriterImpl::HandleError(std::unique_ptr<WriteBatch> batch, const Status& error) {
  if (InvalidatesMetadata(error.code())) context_->InvalidateLeaders(info_.table_id);
  bool retries_left =
      batch->attempts() <= config_.writer_retries && !Expired(*batch, BatchClock::now());
  BatchErrorAction action = idempotence_.OnError(batch->bucket(), batch->writer_id(),
                                                 batch->sequence(), error.code(), retries_left);
  switch (action) {
    case BatchErrorAction::kSucceed:
      Complete(std::move(batch), Status::OK());
      return;
    case BatchErrorAction::kRetryAsNew:
      batch->ClearSeal();
      [[fallthrough]];
    case BatchErrorAction::kRetry:
      STROM_LOG_DEBUG(kLog, "retrying a batch of {} bucket {} after {}", info_.path.ToString(),
                      batch->bucket().bucket, error.ToString());
      retries_.fetch_add(1, std::memory_order_relaxed);
      batch->set_retry_after(BatchClock::now() + config_.writer_retry_backoff);
      Enqueue(std::move(batch));
      return;
    case BatchErrorAction::kFail:
      STROM_LOG_WARN(kLog, "a batch of {} bucket {} failed: {}", info_.path.ToString(),
                     batch->bucket().bucket, error.ToString());
      Complete(std::move(batch), error);
      return;
  }
}

void AppendWriterImpl::Complete(std::unique_ptr<WriteBatch> batch, Status status) {
  if (status.ok()) {
    records_acked_.fetch_add(batch->record_count(), std::memory_order_relaxed);
  } else {
    records_failed_.fetch_add(batch->record_count(), std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(error_mu_);
    if (first_error_.ok()) first_error_ = status;
  }
  batch->completion()->Complete(std::move(status));
  accumulator_->Release(*batch);
}

void AppendWriterImpl::FailQueued(const Status& error) {
  for (auto& [bucket, queue] : queues_) {
    while (!queue.batches.empty()) {
      std::unique_ptr<WriteBatch> batch = std::move(queue.batches.front());
      queue.batches.pop_front();
      Complete(std::move(batch), error);
    }
  }
}

}  // namespace strom::client

namespace strom {

Status WriteResult::Wait() const { return state_ ? state_->Wait() : Status::OK(); }
bool WriteResult::IsReady() const { return state_ ? state_->IsReady() : true; }

AppendWriter::AppendWriter(std::unique_ptr<client::AppendWriterImpl> impl)
    : impl_(std::move(impl)) {}
AppendWriter::~AppendWriter() = default;

Status AppendWriter::Append(const GenericRow& row) {
  return impl_->Append(row, client::WriteKind::kAppend, nullptr);
}
Status AppendWriter::Append(const GenericRow& row, WriteResult* result) {
  return impl_->Append(row, client::WriteKind::kAppend, result);
}
Status AppendWriter::AppendRows(std::span<const GenericRow> rows) {
  for (const GenericRow& row : rows) {
    STROM_RETURN_IF_ERROR(impl_->Append(row, client::WriteKind::kAppend, nullptr));
  }
  return Status::OK();
}
Status AppendWriter::Flush() { return impl_->Flush(); }
Status AppendWriter::Close() { return impl_->Close(); }
AppendWriterStats AppendWriter::stats() const { return impl_->stats(); }

Result<std::unique_ptr<AppendWriter>> TableAppend::CreateWriter() {
  STROM_ASSIGN_OR_RETURN(auto impl, client::AppendWriterImpl::Create(context_, info_));
  return std::unique_ptr<AppendWriter>(new AppendWriter(std::move(impl)));
}

}  // namespace strom
