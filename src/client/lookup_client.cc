#include "client/lookup_client.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cstring>

#include "client/kv_keys.h"
#include "common/logging.h"
#include "proto/messages.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "strom/table.h"

namespace strom::client {

namespace {

constexpr std::string_view kLog = "client";
// Pause before a lookup is re-sent, and the shortest gap between two metadata refreshes.
constexpr std::chrono::milliseconds kRetryBackoff(100);
// Longest the sender sleeps without being woken.
constexpr std::chrono::seconds kMaxIdle(1);

}  // namespace

// ---- ValueDecoder ----

ValueDecoder::ValueDecoder(Schema schema, SchemaId schema_id, KvFormat format,
                           SchemaFetcher fetch_schema)
    : schema_(std::move(schema)),
      schema_id_(schema_id),
      format_(format),
      fetch_schema_(std::move(fetch_schema)) {}

Result<std::shared_ptr<const ValueDecoder::Plan>> ValueDecoder::PlanFor(int16_t schema_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(schema_id);
    if (it != plans_.end()) return it->second;
  }
  auto plan = std::make_shared<Plan>();
  if (schema_id == schema_id_.value()) {
    plan->field_types = schema_.FieldTypes();
    for (size_t i = 0; i < plan->field_types.size(); ++i) {
      plan->output_map.push_back(static_cast<int32_t>(i));
    }
  } else {
    if (schema_id < 0 || !fetch_schema_) {
      return MakeError(ErrorCode::kSchemaNotExist, "a value has the unknown schema id {}",
                       schema_id);
    }
    STROM_ASSIGN_OR_RETURN(Schema source, fetch_schema_(SchemaId(schema_id)));
    plan->field_types = source.FieldTypes();
    std::vector<std::string> source_names = source.ColumnNames();
    for (const std::string& name : schema_.ColumnNames()) {
      auto it = std::find(source_names.begin(), source_names.end(), name);
      plan->output_map.push_back(
          it == source_names.end() ? -1 : static_cast<int32_t>(it - source_names.begin()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  plans_[schema_id] = plan;
  return std::shared_ptr<const Plan>(plan);
}

Result<GenericRow> ValueDecoder::Decode(ByteView value) const {
  if (value.size() < 2) {
    return MakeError(ErrorCode::kCorruptRecord, "a stored value of {} bytes lacks its schema id",
                     value.size());
  }
  int16_t schema_id = 0;
  std::memcpy(&schema_id, value.data(), 2);
  return DecodeRow(SchemaId(schema_id), value.substr(2));
}

Result<GenericRow> ValueDecoder::DecodeRow(SchemaId id, ByteView row_bytes) const {
  const int16_t schema_id = id.value();
  STROM_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, PlanFor(schema_id));
  GenericRow decoded;
  if (format_ == KvFormat::kIndexed) {
    STROM_RETURN_IF_ERROR(record::DecodeIndexedRow(plan->field_types, row_bytes, &decoded));
  } else {
    STROM_RETURN_IF_ERROR(record::DecodeCompactedRow(plan->field_types, row_bytes, &decoded));
  }
  if (schema_id == schema_id_.value()) return decoded;
  GenericRow row(plan->output_map.size());
  for (size_t i = 0; i < plan->output_map.size(); ++i) {
    if (plan->output_map[i] >= 0)
      row[i] = std::move(decoded[static_cast<size_t>(plan->output_map[i])]);
  }
  return row;
}

// ---- LookupQuery ----

void LookupQuery::Complete(Result<std::vector<ByteBuffer>> values) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (outcome_) return;
    outcome_.emplace(std::move(values));
  }
  cv_.notify_all();
}

Result<std::vector<ByteBuffer>> LookupQuery::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return outcome_.has_value(); });
  return *outcome_;
}

bool LookupQuery::IsReady() {
  std::lock_guard<std::mutex> lock(mu_);
  return outcome_.has_value();
}

// ---- LookupClient ----

Result<std::shared_ptr<LookupClient>> LookupClient::Create(std::shared_ptr<ClientContext> context,
                                                           TableInfo info) {
  std::shared_ptr<LookupClient> client(new LookupClient(std::move(context), std::move(info)));
  if (!SpawnBackground(client->context_->executor(), client->gate_, "lookup-sender",
                       client->SenderLoop())) {
    return MakeError(ErrorCode::kUnknownServerError, "cannot start the lookup sender");
  }
  return client;
}

LookupClient::LookupClient(std::shared_ptr<ClientContext> context, TableInfo info)
    : context_(std::move(context)),
      info_(std::move(info)),
      config_(context_->config()),
      waker_(std::make_shared<Waker>(context_->executor())) {}

LookupClient::~LookupClient() { Close(); }

void LookupClient::Wake() {
  if (!waker_->pending.exchange(true)) {
    asio::post(context_->executor(), [waker = waker_] {
      waker->pending = false;
      waker->notifier.Notify();
    });
  }
}

Status LookupClient::Enqueue(std::shared_ptr<LookupQuery> query) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [this] {
      return closed_ || queue_.size() < static_cast<size_t>(config_.lookup_queue_size);
    });
    if (!closed_) {
      queue_.push_back(std::move(query));
      query = nullptr;
    }
  }
  if (query != nullptr) {
    Status closed = MakeError(ErrorCode::kUnknownServerError, "the lookuper is closed");
    query->Complete(closed);
    return closed;
  }
  Wake();
  return Status::OK();
}

void LookupClient::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  if (stopped_) return;
  std::deque<std::shared_ptr<LookupQuery>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    left.swap(queue_);
  }
  space_cv_.notify_all();
  Status closed = MakeError(ErrorCode::kUnknownServerError, "the lookuper was closed");
  for (auto& query : left) query->Complete(closed);
  context_->RunSync(Stop()).IgnoreError();
  stopped_ = true;
}

Task<Status> LookupClient::Stop() {
  stopping_ = true;
  waker_->notifier.Notify();
  co_await gate_.Close();
  co_return Status::OK();
}

ValueDecoder::SchemaFetcher MakeSchemaFetcher(std::shared_ptr<ClientContext> context,
                                              TablePath path) {
  return [context, path](SchemaId id) -> Result<Schema> {
    auto task = [](ClientContext* ctx, TablePath table,
                   SchemaId schema_id) -> Task<Result<Schema>> {
      proto::GetTableSchemaRequest request;
      request.mutable_table_path()->set_database_name(table.database);
      request.mutable_table_path()->set_table_name(table.table);
      request.set_schema_id(schema_id.value());
      auto response =
          co_await ctx->CallAnyTabletServer<proto::ApiKey::kGetTableSchema>(std::move(request));
      if (!response.ok()) co_return std::move(response).status();
      co_return Schema::FromJson(response->schema_json());
    };
    return context->RunSync(task(context.get(), path, id));
  };
}

void LookupClient::FailPending(const Status& error) {
  for (auto& query : retrying_) query->Complete(error);
  retrying_.clear();
}

Task<void> LookupClient::SenderLoop() {
  const size_t max_batch = static_cast<size_t>(config_.lookup_max_batch_size);
  const int32_t max_inflight = config_.lookup_max_inflight_requests;
  BatchClock::time_point next_refresh_allowed{};
  for (;;) {
    if (stopping_) {
      FailPending(MakeError(ErrorCode::kUnknownServerError, "the lookuper was closed"));
      break;
    }
    BatchClock::time_point now = BatchClock::now();
    BatchClock::time_point next_wake = now + kMaxIdle;

    // What may go out now: retries that are due, then new lookups, as many as the free
    // request slots can carry.
    std::vector<std::shared_ptr<LookupQuery>> ready;
    const size_t capacity =
        inflight_ < max_inflight ? static_cast<size_t>(max_inflight - inflight_) * max_batch : 0;
    for (auto it = retrying_.begin(); it != retrying_.end() && ready.size() < capacity;) {
      if ((*it)->retry_after <= now) {
        ready.push_back(std::move(*it));
        it = retrying_.erase(it);
      } else {
        next_wake = std::min(next_wake, (*it)->retry_after);
        ++it;
      }
    }
    if (ready.size() < capacity) {
      std::lock_guard<std::mutex> lock(mu_);
      while (!queue_.empty() && ready.size() < capacity) {
        ready.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    space_cv_.notify_all();

    // Group by leader and kind, keeping each bucket's keys together.
    std::shared_ptr<const Cluster> cluster = context_->metadata().Get();
    std::map<std::pair<ServerId, bool>, std::vector<std::shared_ptr<LookupQuery>>> groups;
    std::map<ServerId, ServerNode> leaders;
    bool leaderless = false;
    for (auto& query : ready) {
      std::optional<ServerNode> leader = cluster->Leader(query->bucket);
      if (!leader) {
        // Waits for the metadata refresh below; counts as a retry, so a cluster that stays
        // leaderless fails the lookup eventually.
        leaderless = true;
        if (query->retries >= config_.lookup_max_retries) {
          query->Complete(MakeError(ErrorCode::kLeaderNotAvailable, "{} has no leader",
                                    query->bucket.ToString()));
          continue;
        }
        ++query->retries;
        query->retry_after = now + kRetryBackoff;
        next_wake = std::min(next_wake, query->retry_after);
        retrying_.push_back(std::move(query));
        continue;
      }
      leaders[leader->id] = *leader;
      groups[{leader->id, query->prefix}].push_back(std::move(query));
    }
    if (leaderless && !refreshing_) {
      if (now >= next_refresh_allowed) {
        next_refresh_allowed = now + kRetryBackoff;
        refreshing_ = true;
        SpawnBackground(context_->executor(), gate_, "lookup-metadata", RefreshMetadata());
      } else {
        next_wake = std::min(next_wake, next_refresh_allowed);
      }
    }
    for (auto& [target, queries] : groups) {
      std::stable_sort(queries.begin(), queries.end(), [](const auto& a, const auto& b) {
        return a->bucket.bucket < b->bucket.bucket;
      });
      for (size_t start = 0; start < queries.size(); start += max_batch) {
        size_t end = std::min(queries.size(), start + max_batch);
        std::vector<std::shared_ptr<LookupQuery>> batch(
            std::make_move_iterator(queries.begin() + static_cast<std::ptrdiff_t>(start)),
            std::make_move_iterator(queries.begin() + static_cast<std::ptrdiff_t>(end)));
        ++inflight_;
        SpawnBackground(context_->executor(), gate_, "lookup",
                        Send(leaders[target.first], target.second, std::move(batch)));
      }
    }

    now = BatchClock::now();
    if (next_wake > now) co_await WithTimeout(waker_->notifier.Wait(), next_wake - now);
  }
}

Task<void> LookupClient::RefreshMetadata() {
  Status status = co_await context_->UpdateMetadata(OneTable(info_.path));
  refreshing_ = false;
  if (!status.ok()) {
    STROM_LOG_WARN(kLog, "metadata refresh for {} failed: {}", info_.path.ToString(),
                   status.ToString());
    if (status.code() == ErrorCode::kTableNotExist) FailPending(status);
  } else {
    const Cluster::TableMeta* meta = context_->metadata().Get()->FindTable(info_.path);
    if (meta != nullptr && meta->table_id != info_.table_id) {
      FailPending(MakeError(ErrorCode::kTableNotExist,
                            "table {} was dropped (it now has id {}, the lookuper's was {})",
                            info_.path.ToString(), meta->table_id, info_.table_id));
    }
  }
  waker_->notifier.Notify();
}

void LookupClient::Retry(std::vector<std::shared_ptr<LookupQuery>> queries, const Status& error) {
  if (InvalidatesMetadata(error.code())) context_->InvalidateLeaders(info_.table_id);
  const BatchClock::time_point when = BatchClock::now() + kRetryBackoff;
  for (auto& query : queries) {
    if (error.IsRetriable() && query->retries < config_.lookup_max_retries) {
      ++query->retries;
      query->retry_after = when;
      retrying_.push_back(std::move(query));
    } else {
      query->Complete(error);
    }
  }
}

namespace {

// Builds a Lookup / PrefixLookup request: one bucket entry per run of queries with the same
// bucket (the queries are sorted by bucket).
template <typename Request>
Request MakeLookupRequest(TableId table_id,
                          const std::vector<std::shared_ptr<LookupQuery>>& queries) {
  Request request;
  request.set_table_id(table_id.value());
  decltype(request.add_buckets_req()) entry = nullptr;
  for (const auto& query : queries) {
    if (entry == nullptr || entry->bucket_id() != query->bucket.bucket.value()) {
      entry = request.add_buckets_req();
      entry->set_bucket_id(query->bucket.bucket.value());
    }
    entry->add_keys(query->key);
  }
  return request;
}

}  // namespace

Task<void> LookupClient::Send(ServerNode leader, bool prefix,
                              std::vector<std::shared_ptr<LookupQuery>> queries) {
  // Queries of each bucket, in request order.
  std::map<int32_t, std::vector<std::shared_ptr<LookupQuery>>> by_bucket;
  for (const auto& query : queries) by_bucket[query->bucket.bucket.value()].push_back(query);

  // Per bucket: the answer's error, or the values of each key.
  std::map<int32_t, Status> bucket_errors;
  std::map<int32_t, std::vector<std::vector<ByteBuffer>>> bucket_values;
  Status request_error;
  if (prefix) {
    auto response = co_await context_->CallNode<proto::ApiKey::kPrefixLookup>(
        leader, MakeLookupRequest<proto::PrefixLookupRequest>(info_.table_id, queries));
    if (!response.ok()) {
      request_error = response.status();
    } else {
      for (auto& entry : *response->mutable_buckets_resp()) {
        if (entry.has_error_code() && entry.error_code() != 0) {
          bucket_errors[entry.bucket_id()] =
              Status(ErrorCodeFromWire(entry.error_code()), entry.error_message());
          continue;
        }
        auto& values = bucket_values[entry.bucket_id()];
        for (auto& list : *entry.mutable_value_lists()) {
          std::vector<ByteBuffer> rows;
          for (auto& value : *list.mutable_values()) rows.push_back(std::move(value));
          values.push_back(std::move(rows));
        }
      }
    }
  } else {
    auto response = co_await context_->CallNode<proto::ApiKey::kLookup>(
        leader, MakeLookupRequest<proto::LookupRequest>(info_.table_id, queries));
    if (!response.ok()) {
      request_error = response.status();
    } else {
      for (auto& entry : *response->mutable_buckets_resp()) {
        if (entry.has_error_code() && entry.error_code() != 0) {
          bucket_errors[entry.bucket_id()] =
              Status(ErrorCodeFromWire(entry.error_code()), entry.error_message());
          continue;
        }
        auto& values = bucket_values[entry.bucket_id()];
        for (auto& value : *entry.mutable_values()) {
          std::vector<ByteBuffer> found;
          if (value.has_values()) found.push_back(std::move(*value.mutable_values()));
          values.push_back(std::move(found));
        }
      }
    }
  }

  for (auto& [bucket, bucket_queries] : by_bucket) {
    Status error = request_error;
    if (error.ok()) {
      auto failed = bucket_errors.find(bucket);
      auto answered = bucket_values.find(bucket);
      if (failed != bucket_errors.end()) {
        error = failed->second;
      } else if (answered == bucket_values.end()) {
        error = MakeError(ErrorCode::kUnknownServerError,
                          "the {} answer from server {} lacks bucket {}",
                          prefix ? "PrefixLookup" : "Lookup", leader.id, bucket);
      } else if (answered->second.size() != bucket_queries.size()) {
        error = MakeError(ErrorCode::kUnknownServerError,
                          "server {} answered {} of the {} keys of bucket {}", leader.id,
                          answered->second.size(), bucket_queries.size(), bucket);
      } else {
        for (size_t i = 0; i < bucket_queries.size(); ++i) {
          bucket_queries[i]->Complete(std::move(answered->second[i]));
        }
        continue;
      }
    }
    STROM_LOG_DEBUG(kLog, "lookup on {} bucket {} failed: {}", info_.path.ToString(), bucket,
                    error.ToString());
    Retry(std::move(bucket_queries), error);
  }
  --inflight_;
  waker_->notifier.Notify();
}

}  // namespace strom::client

namespace strom {

// ---- LookupFuture ----

Result<LookupResult> LookupFuture::Wait() const {
  if (!immediate_.ok()) return immediate_;
  if (query_ == nullptr) return LookupResult();
  STROM_ASSIGN_OR_RETURN(std::vector<ByteBuffer> values, query_->Wait());
  std::vector<GenericRow> rows;
  rows.reserve(values.size());
  for (const ByteBuffer& value : values) {
    STROM_ASSIGN_OR_RETURN(GenericRow row, decoder_->Decode(ByteView(value)));
    rows.push_back(std::move(row));
  }
  return LookupResult(std::move(rows));
}

bool LookupFuture::IsReady() const { return query_ == nullptr || query_->IsReady(); }

// ---- Lookuper ----

Lookuper::Lookuper(std::shared_ptr<client::LookupClient> client,
                   std::shared_ptr<const client::ValueDecoder> decoder,
                   std::shared_ptr<const client::KvKeyCodec> codec, TableId table_id,
                   std::vector<std::string> key_columns, std::vector<DataType> key_types,
                   bool prefix)
    : client_(std::move(client)),
      decoder_(std::move(decoder)),
      codec_(std::move(codec)),
      table_id_(table_id),
      key_columns_(std::move(key_columns)),
      key_types_(std::move(key_types)),
      prefix_(prefix) {}

Lookuper::~Lookuper() { client_->Close(); }

LookupFuture Lookuper::LookupAsync(const GenericRow& key) {
  if (key.size() != key_columns_.size()) {
    return LookupFuture(
        nullptr, nullptr,
        MakeError(ErrorCode::kCorruptRecord, "a lookup key needs {} values ({}), not {}",
                  key_columns_.size(), fmt::join(key_columns_, ", "), key.size()));
  }
  ByteBuffer key_bytes;
  Status encoded = codec_->EncodeKey(key, &key_bytes);
  if (!encoded.ok()) return LookupFuture(nullptr, nullptr, encoded);
  Result<BucketId> bucket = codec_->Bucket(key, ByteView(key_bytes));
  if (!bucket.ok()) return LookupFuture(nullptr, nullptr, bucket.status());
  auto query = std::make_shared<client::LookupQuery>(TableBucket(table_id_, *bucket),
                                                     std::move(key_bytes), prefix_);
  Status queued = client_->Enqueue(query);
  if (!queued.ok()) return LookupFuture(nullptr, nullptr, queued);
  return LookupFuture(std::move(query), decoder_, Status::OK());
}

Result<LookupResult> Lookuper::Lookup(const GenericRow& key) { return LookupAsync(key).Wait(); }

}  // namespace strom
