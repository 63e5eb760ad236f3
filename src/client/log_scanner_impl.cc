#include "client/log_scanner_impl.h"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <set>

#include "common/logging.h"
#include "proto/fetch_log_view.h"
#include "record/log_record_batch.h"
#include "strom/table.h"

namespace strom::client {

namespace {

constexpr std::string_view kLog = "client";
constexpr std::chrono::milliseconds kRetryBackoff(100);
constexpr std::chrono::seconds kMaxIdle(1);

}  // namespace

Result<std::unique_ptr<LogScannerImpl>> LogScannerImpl::Create(
    std::shared_ptr<ClientContext> context, TableInfo info,
    std::optional<std::vector<size_t>> projection) {
  if (info.IsPartitioned()) {
    return MakeError(ErrorCode::kInvalidTable,
                     "table {} is partitioned; this client scans non-partitioned tables",
                     info.path.ToString());
  }
  STROM_ASSIGN_OR_RETURN(auto decoder, ScanDecoder::Create(info, std::move(projection),
                                                           context->config().scanner_check_crc));
  std::unique_ptr<LogScannerImpl> impl(
      new LogScannerImpl(std::move(context), std::move(info), std::move(decoder)));
  if (!SpawnBackground(impl->context_->executor(), impl->gate_, "log-scanner-fetch",
                       impl->FetchLoop())) {
    return MakeError(ErrorCode::kUnknownServerError, "cannot start the scanner's fetch loop");
  }
  return impl;
}

LogScannerImpl::LogScannerImpl(std::shared_ptr<ClientContext> context, TableInfo info,
                               std::unique_ptr<ScanDecoder> decoder)
    : context_(std::move(context)),
      info_(std::move(info)),
      config_(context_->config()),
      decoder_(std::move(decoder)),
      waker_(std::make_shared<Waker>(context_->executor())) {}

LogScannerImpl::~LogScannerImpl() { context_->RunSync(Stop()).IgnoreError(); }

Task<Status> LogScannerImpl::Stop() {
  stopping_ = true;
  for (const auto& [leader, cancel] : cancels_) cancel->emit(asio::cancellation_type::terminal);
  waker_->notifier.Notify();
  co_await gate_.Close();
  co_return Status::OK();
}

void LogScannerImpl::Wake() {
  if (!waker_->pending.exchange(true)) {
    asio::post(context_->executor(), [waker = waker_] {
      waker->pending = false;
      waker->notifier.Notify();
    });
  }
}

Status LogScannerImpl::CheckBucket(BucketId bucket) const {
  if (bucket.value() < 0 || bucket.value() >= info_.num_buckets()) {
    return MakeError(ErrorCode::kUnknownTableOrBucket, "table {} has no bucket {} (it has {})",
                     info_.path.ToString(), bucket, info_.num_buckets());
  }
  return Status::OK();
}

void LogScannerImpl::DropBucketData(BucketId bucket) {
  // Caller holds mu_ for completed_; pending_ is the user thread's own.
  completed_.erase(std::remove_if(completed_.begin(), completed_.end(),
                                  [&](const CompletedFetch& f) { return f.bucket == bucket; }),
                   completed_.end());
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                [&](const ScanBatch& b) { return b.bucket() == bucket; }),
                 pending_.end());
}

Status LogScannerImpl::Subscribe(BucketId bucket, int64_t offset) {
  STROM_RETURN_IF_ERROR(CheckBucket(bucket));
  if (offset < 0 && offset != kEarliestOffsetValue) {
    return MakeError(ErrorCode::kLogOffsetOutOfRange,
                     "offset {} is neither >= 0 nor kEarliestOffsetValue", offset);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    BucketState& state = buckets_[bucket];
    state.fetch_offset = offset;
    state.epoch = next_epoch_++;
    state.buffered = false;
    state.failed = false;
    state.retry_after = {};
    DropBucketData(bucket);
  }
  decoded_end_[bucket] = offset;
  Wake();
  return Status::OK();
}

Status LogScannerImpl::Subscribe(BucketId bucket, const OffsetSpec& spec) {
  STROM_RETURN_IF_ERROR(CheckBucket(bucket));
  if (spec.kind == OffsetSpec::Kind::kEarliest) return Subscribe(bucket, kEarliestOffsetValue);
  STROM_ASSIGN_OR_RETURN(auto offsets, context_->RunSync(ListOffsetsTask(
                                           context_.get(), info_.path, {bucket}, spec)));
  return Subscribe(bucket, offsets.at(bucket).value());
}

Status LogScannerImpl::SubscribeAll(const OffsetSpec& spec) {
  std::map<BucketId, LogOffset> offsets;
  if (spec.kind != OffsetSpec::Kind::kEarliest) {
    STROM_ASSIGN_OR_RETURN(offsets, context_->RunSync(ListOffsetsTask(context_.get(), info_.path,
                                                                      {}, spec)));
  }
  for (int32_t b = 0; b < info_.num_buckets(); ++b) {
    BucketId bucket(b);
    int64_t offset = kEarliestOffsetValue;
    if (spec.kind != OffsetSpec::Kind::kEarliest) {
      auto it = offsets.find(bucket);
      if (it == offsets.end()) {
        return MakeError(ErrorCode::kLeaderNotAvailable, "no offset for bucket {} of {}", b,
                         info_.path.ToString());
      }
      offset = it->second.value();
    }
    STROM_RETURN_IF_ERROR(Subscribe(bucket, offset));
  }
  return Status::OK();
}

Status LogScannerImpl::Unsubscribe(BucketId bucket) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_.erase(bucket);
    DropBucketData(bucket);
  }
  decoded_end_.erase(bucket);
  return Status::OK();
}

std::map<BucketId, LogOffset> LogScannerImpl::Positions() const {
  std::map<BucketId, LogOffset> out;
  for (const auto& [bucket, end] : decoded_end_) out[bucket] = LogOffset(end);
  // Records decoded but not yet returned come first.
  std::map<BucketId, int64_t> first_pending;
  for (const ScanBatch& batch : pending_) {
    first_pending.emplace(batch.bucket(), batch.offset(0).value());
  }
  for (const auto& [bucket, offset] : first_pending) out[bucket] = LogOffset(offset);
  return out;
}

Result<Schema> LogScannerImpl::FetchSchema(SchemaId id) {
  auto task = [](ClientContext* ctx, TablePath path, SchemaId schema_id) -> Task<Result<Schema>> {
    proto::GetTableSchemaRequest request;
    request.mutable_table_path()->set_database_name(path.database);
    request.mutable_table_path()->set_table_name(path.table);
    request.set_schema_id(schema_id.value());
    auto response =
        co_await ctx->CallAnyTabletServer<proto::ApiKey::kGetTableSchema>(std::move(request));
    if (!response.ok()) co_return std::move(response).status();
    co_return Schema::FromJson(response->schema_json());
  };
  return context_->RunSync(task(context_.get(), info_.path, id));
}

Status LogScannerImpl::AwaitPending(std::chrono::steady_clock::time_point deadline) {
  const ScanDecoder::SchemaFetcher fetch_schema = [this](SchemaId id) { return FetchSchema(id); };
  while (pending_.empty()) {
    std::optional<CompletedFetch> fetch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, deadline, [this] { return !completed_.empty() || !errors_.empty(); });
      if (!errors_.empty()) {
        Status error = std::move(errors_.front());
        errors_.pop_front();
        return error;
      }
      if (completed_.empty()) return Status::OK();  // timed out
      fetch = std::move(completed_.front());
      completed_.pop_front();
      auto it = buckets_.find(fetch->bucket);
      if (it == buckets_.end() || it->second.epoch != fetch->epoch) continue;  // stale
      it->second.buffered = false;
    }
    Wake();  // the bucket may be fetched again while this one is decoded
    Result<int64_t> end = decoder_->Decode(fetch->bucket, std::move(fetch->owner), fetch->records,
                                           fetch->fetch_offset, fetch_schema, &pending_);
    if (!end.ok()) {
      // The bucket stops here: its data cannot be read.
      std::lock_guard<std::mutex> lock(mu_);
      auto it = buckets_.find(fetch->bucket);
      if (it != buckets_.end()) it->second.failed = true;
      return end.status().WithContext(
          fmt::format("table {} bucket {}", info_.path.ToString(), fetch->bucket));
    }
    decoded_end_[fetch->bucket] = std::max(decoded_end_[fetch->bucket], *end);
  }
  return Status::OK();
}

Result<ScanBatches> LogScannerImpl::PollBatches(std::chrono::milliseconds timeout) {
  STROM_RETURN_IF_ERROR(AwaitPending(std::chrono::steady_clock::now() + timeout));
  ScanBatches out;
  size_t room = static_cast<size_t>(config_.scanner_max_poll_records);
  while (room > 0 && !pending_.empty()) {
    ScanBatch& front = pending_.front();
    if (front.size() <= room) {
      room -= front.size();
      out.record_count += front.size();
      out.batches.push_back(std::move(front));
      pending_.pop_front();
    } else {
      out.batches.push_back(front.Slice(0, room));
      out.record_count += room;
      front = front.Slice(room, front.size() - room);
      room = 0;
    }
  }
  return out;
}

Result<ScanRecords> LogScannerImpl::Poll(std::chrono::milliseconds timeout) {
  STROM_ASSIGN_OR_RETURN(ScanBatches batches, PollBatches(timeout));
  ScanRecords records;
  records.records.reserve(batches.record_count);
  for (const ScanBatch& batch : batches) {
    for (size_t i = 0; i < batch.size(); ++i) records.records.push_back(batch.GetRecord(i));
  }
  return records;
}

Task<void> LogScannerImpl::FetchLoop() {
  BatchClock::time_point next_refresh_allowed{};
  while (!stopping_) {
    BatchClock::time_point now = BatchClock::now();
    BatchClock::time_point next_wake = now + kMaxIdle;
    std::shared_ptr<const Cluster> cluster = context_->metadata().Get();
    std::map<ServerId, std::vector<FetchTarget>> by_leader;
    std::map<ServerId, ServerNode> leaders;
    bool leaderless = false;
    std::set<ServerId> has_buffered;  // leaders of buckets whose data waits to be polled
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [bucket, state] : buckets_) {
        if (state.buffered && !state.failed) {
          if (auto leader = cluster->Leader(TableBucket(info_.table_id, bucket))) {
            has_buffered.insert(leader->id);
          }
        }
        if (state.inflight || state.buffered || state.failed) continue;
        if (state.retry_after > now) {
          next_wake = std::min(next_wake, state.retry_after);
          continue;
        }
        std::optional<ServerNode> leader = cluster->Leader(TableBucket(info_.table_id, bucket));
        if (!leader) {
          leaderless = true;
          continue;
        }
        if (leader_busy_[leader->id]) continue;
        int32_t budget = std::max(config_.scanner_fetch_max_bytes_for_bucket, state.fetch_bytes_hint);
        by_leader[leader->id].push_back({bucket, state.fetch_offset, state.epoch, budget});
        leaders[leader->id] = *leader;
      }
      // A leader whose no-wait fetch just came back empty waits until its buffered buckets
      // are polled; fetching its other buckets again now would only spin.
      for (auto it = by_leader.begin(); it != by_leader.end();) {
        if (has_buffered.count(it->first) > 0 && idle_until_drained_[it->first]) {
          it = by_leader.erase(it);
        } else {
          if (has_buffered.count(it->first) == 0) idle_until_drained_[it->first] = false;
          ++it;
        }
      }
      // Buckets whose batch did not fit last time go first (the server gives the first
      // bucket of a request at least one whole batch).
      for (auto& [leader_id, targets] : by_leader) {
        std::stable_partition(targets.begin(), targets.end(), [this](const FetchTarget& t) {
          return buckets_[t.bucket].fetch_bytes_hint > 0;
        });
      }
      for (const auto& [leader_id, targets] : by_leader) {
        for (const FetchTarget& target : targets) buckets_[target.bucket].inflight = true;
      }
    }
    if (leaderless && !refreshing_) {
      if (now >= next_refresh_allowed) {
        next_refresh_allowed = now + kRetryBackoff;
        refreshing_ = true;
        SpawnBackground(context_->executor(), gate_, "log-scanner-metadata", RefreshMetadata());
      } else {
        next_wake = std::min(next_wake, next_refresh_allowed);
      }
    }
    for (auto& [leader_id, targets] : by_leader) {
      leader_busy_[leader_id] = true;
      auto cancel = std::make_shared<asio::cancellation_signal>();
      cancels_[leader_id] = cancel;  // the previous fetch to this leader has finished
      const bool no_wait = has_buffered.count(leader_id) > 0;
      SpawnBackground(context_->executor(), gate_, "log-scanner-fetch-log",
                      Fetch(leaders[leader_id], std::move(targets), no_wait), cancel);
    }
    now = BatchClock::now();
    if (next_wake > now) co_await WithTimeout(waker_->notifier.Wait(), next_wake - now);
  }
}

Task<void> LogScannerImpl::RefreshMetadata() {
  Status status = co_await context_->UpdateMetadata(OneTable(info_.path));
  refreshing_ = false;
  if (!status.ok()) {
    STROM_LOG_WARN(kLog, "metadata refresh for {} failed: {}", info_.path.ToString(),
                   status.ToString());
    if (status.code() == ErrorCode::kTableNotExist) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(status);
      for (auto& [bucket, state] : buckets_) state.failed = true;
      cv_.notify_all();
    }
  }
  waker_->notifier.Notify();
}

Task<Result<std::shared_ptr<const ByteBuffer>>> LogScannerImpl::CallFetchLog(
    rpc::Connection& conn, proto::FetchLogRequest request) {
  Result<int16_t> version = conn.NegotiateVersion(proto::ApiKey::kFetchLog);
  if (!version.ok()) co_return std::move(version).status();
  ByteBuffer payload;
  STROM_CO_RETURN_IF_ERROR(proto::AppendMessage(request, &payload));
  Result<ByteBuffer> raw =
      co_await conn.Call(static_cast<int16_t>(proto::ApiKey::kFetchLog), *version,
                         std::move(payload),
                         config_.request_timeout + config_.scanner_fetch_wait_max_time);
  if (!raw.ok()) co_return std::move(raw).status();
  co_return std::make_shared<const ByteBuffer>(std::move(raw).value());
}

Task<void> LogScannerImpl::Fetch(ServerNode leader, std::vector<FetchTarget> targets,
                                 bool no_wait) {
  proto::FetchLogRequest request;
  request.set_follower_server_id(-1);
  request.set_max_bytes(config_.scanner_fetch_max_bytes);
  request.set_max_wait_ms(
      no_wait ? 0 : static_cast<int32_t>(config_.scanner_fetch_wait_max_time.count()));
  request.set_min_bytes(config_.scanner_fetch_min_bytes);
  auto* table = request.add_tables_req();
  table->set_table_id(info_.table_id.value());
  table->set_projection_pushdown_enabled(decoder_->server_side_projection());
  if (decoder_->server_side_projection()) {
    for (int32_t field : decoder_->projected_fields()) table->add_projected_fields(field);
  }
  for (const FetchTarget& target : targets) {
    auto* bucket = table->add_buckets_req();
    bucket->set_bucket_id(target.bucket.value());
    bucket->set_fetch_offset(target.offset);
    bucket->set_max_fetch_bytes(target.max_bytes);
  }

  // The response is read in place: each bucket's records stay a view into the payload,
  // which the decoded batches share (no copy out of the frame).
  Result<std::shared_ptr<const ByteBuffer>> payload = Status(ErrorCode::kNetwork, "not sent");
  Result<std::shared_ptr<rpc::Connection>> conn = co_await context_->Connect(leader);
  if (!conn.ok()) {
    payload = std::move(conn).status();
  } else {
    payload = co_await CallFetchLog(**conn, std::move(request));
  }
  proto::FetchLogResponseView view;
  Status response = payload.status();
  if (response.ok()) response = proto::ParseFetchLogResponse(**payload, &view);

  bool invalidate = false;
  bool got_records = false;
  const BatchClock::time_point retry_at = BatchClock::now() + kRetryBackoff;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto state_of = [&](const FetchTarget& target) -> BucketState* {
      auto it = buckets_.find(target.bucket);
      if (it == buckets_.end() || it->second.epoch != target.epoch) return nullptr;
      return &it->second;
    };
    // Every target is answered below or not at all; clear in-flight flags first.
    for (const FetchTarget& target : targets) {
      auto it = buckets_.find(target.bucket);
      if (it != buckets_.end()) it->second.inflight = false;
    }
    if (!response.ok()) {
      if (!stopping_) {
        STROM_LOG_DEBUG(kLog, "FetchLog to server {} failed: {}", leader.id, response.ToString());
      }
      invalidate = InvalidatesMetadata(response.code());
      for (const FetchTarget& target : targets) {
        if (BucketState* state = state_of(target)) state->retry_after = retry_at;
      }
    } else {
      for (const proto::FetchLogResponseView::Table& table_resp : view.tables) {
        if (table_resp.table_id != info_.table_id.value()) continue;
        for (const proto::FetchLogResponseView::Bucket& bucket_resp : table_resp.buckets) {
          auto target = std::find_if(targets.begin(), targets.end(), [&](const FetchTarget& t) {
            return t.bucket.value() == bucket_resp.bucket_id;
          });
          if (target == targets.end()) continue;
          BucketState* state = state_of(*target);
          if (state == nullptr) continue;  // unsubscribed or moved meanwhile
          if (bucket_resp.error_code) {
            Status error(ErrorCodeFromWire(*bucket_resp.error_code),
                         std::string(bucket_resp.error_message.value_or(ByteView())));
            if (error.IsRetriable()) {
              invalidate = invalidate || InvalidatesMetadata(error.code());
              state->retry_after = retry_at;
            } else {
              state->failed = true;
              errors_.push_back(error.WithContext(fmt::format(
                  "table {} bucket {} at offset {}", info_.path.ToString(), target->bucket,
                  target->offset)));
            }
            continue;
          }
          if (!bucket_resp.records || bucket_resp.records->empty()) continue;
          const ByteView records = *bucket_resp.records;
          Result<int64_t> next = NextFetchOffset(records, target->offset);
          if (next.ok() && *next == target->offset && state->incomplete_rounds < 3) {
            // Only part of a batch came back: ask again, first and with room for all of it.
            const ByteView cut = records;
            int64_t needed = cut.size() >= record::kLogOverhead
                                 ? static_cast<int64_t>(record::kLogOverhead) +
                                       LoadI32LE(cut.data() + record::kLogLengthOffset)
                                 : int64_t{2} * target->max_bytes;
            state->fetch_bytes_hint = static_cast<int32_t>(std::clamp<int64_t>(
                std::max<int64_t>(needed, target->max_bytes), 1, INT32_MAX));
            ++state->incomplete_rounds;
            continue;
          }
          if (!next.ok() || *next == target->offset) {
            state->failed = true;
            errors_.push_back(
                (next.ok() ? MakeError(ErrorCode::kCorruptRecord,
                                       "FetchLog returned no complete batch {} times in a row",
                                       state->incomplete_rounds + 1)
                           : next.status())
                    .WithContext(fmt::format("table {} bucket {} at offset {}",
                                             info_.path.ToString(), target->bucket,
                                             target->offset)));
            continue;
          }
          state->fetch_bytes_hint = 0;
          state->incomplete_rounds = 0;
          state->fetch_offset = *next;
          state->buffered = true;
          CompletedFetch fetch;
          fetch.bucket = target->bucket;
          fetch.epoch = target->epoch;
          fetch.fetch_offset = target->offset;
          fetch.owner = *payload;
          fetch.records = records;
          fetch.high_watermark = bucket_resp.high_watermark.value_or(-1);
          completed_.push_back(std::move(fetch));
          got_records = true;
        }
      }
    }
  }
  cv_.notify_all();
  if (invalidate) context_->InvalidateLeaders(info_.table_id);
  leader_busy_[leader.id] = false;
  idle_until_drained_[leader.id] = no_wait && response.ok() && !got_records;
  waker_->notifier.Notify();
}

}  // namespace strom::client

namespace strom {

LogScanner::LogScanner(std::unique_ptr<client::LogScannerImpl> impl) : impl_(std::move(impl)) {}
LogScanner::~LogScanner() = default;

Status LogScanner::Subscribe(BucketId bucket, int64_t offset) {
  return impl_->Subscribe(bucket, offset);
}
Status LogScanner::Subscribe(BucketId bucket, const OffsetSpec& spec) {
  return impl_->Subscribe(bucket, spec);
}
Status LogScanner::SubscribeAll(const OffsetSpec& spec) { return impl_->SubscribeAll(spec); }
Status LogScanner::Unsubscribe(BucketId bucket) { return impl_->Unsubscribe(bucket); }
Result<ScanRecords> LogScanner::Poll(std::chrono::milliseconds timeout) {
  return impl_->Poll(timeout);
}
Result<ScanBatches> LogScanner::PollBatches(std::chrono::milliseconds timeout) {
  return impl_->PollBatches(timeout);
}
std::map<BucketId, LogOffset> LogScanner::Positions() const { return impl_->Positions(); }
const std::vector<std::string>& LogScanner::column_names() const { return impl_->column_names(); }
const std::vector<DataType>& LogScanner::column_types() const { return impl_->column_types(); }

TableScan& TableScan::ProjectByIndex(std::vector<size_t> column_indexes) {
  projection_indexes_ = std::move(column_indexes);
  projection_names_.reset();
  return *this;
}

TableScan& TableScan::ProjectByName(std::vector<std::string> column_names) {
  projection_names_ = std::move(column_names);
  projection_indexes_.reset();
  return *this;
}

Result<std::optional<std::vector<size_t>>> TableScan::ResolveProjection() const {
  std::optional<std::vector<size_t>> projection = projection_indexes_;
  if (projection_names_) {
    projection.emplace();
    for (const std::string& name : *projection_names_) {
      std::optional<size_t> index = info_.schema().ColumnIndex(name);
      if (!index) {
        return MakeError(ErrorCode::kInvalidColumnProjection, "table {} has no column '{}'",
                         info_.path.ToString(), name);
      }
      projection->push_back(*index);
    }
  }
  return projection;
}

Result<std::unique_ptr<LogScanner>> TableScan::CreateLogScanner() {
  STROM_ASSIGN_OR_RETURN(std::optional<std::vector<size_t>> projection, ResolveProjection());
  STROM_ASSIGN_OR_RETURN(auto impl,
                         client::LogScannerImpl::Create(context_, info_, std::move(projection)));
  return std::unique_ptr<LogScanner>(new LogScanner(std::move(impl)));
}

}  // namespace strom
