#include "replica/replica_fetcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "common/logging.h"
#include "proto/FlussApi.pb.h"
#include "replica/leader_and_isr.h"
#include "replica/replica_manager.h"
#include "rpc/connection.h"

namespace strom::replica {
namespace {

using metadata::TableBucket;

constexpr std::string_view kComponent = "replica-fetcher";

// ListOffsets offset types (Fluss ListOffsetsParam).
constexpr int32_t kEarliestOffsetType = 0;
constexpr int32_t kLatestOffsetType = 1;
constexpr int32_t kLeaderEndOffsetSnapshotType = 3;

Status BucketStatus(int32_t code, const std::string& message) {
  return Status(ErrorCodeFromWire(code), message);
}

}  // namespace

ReplicaFetcher::ReplicaFetcher(Executor executor, ReplicaManager& manager, ServerId leader,
                               FetcherOptions options)
    : executor_(executor),
      manager_(manager),
      leader_(leader),
      options_(options),
      wake_(executor),
      loop_gate_(std::make_unique<Gate>()) {}

ReplicaFetcher::~ReplicaFetcher() = default;

void ReplicaFetcher::Start(Gate& gate) {
  // The loop is counted by our own gate (Stop awaits it) and by the owner's (shutdown order).
  auto holder = gate.TryEnter();
  if (!holder) return;
  auto run = [](ReplicaFetcher* self, Gate::Holder owner) -> Task<void> { co_await self->Run(); };
  SpawnBackground(executor_, *loop_gate_, fmt::format("replica-fetcher-{}", leader_),
                  run(this, std::move(holder)));
}

Task<void> ReplicaFetcher::Stop() {
  stopped_ = true;
  wake_.Notify();
  if (connection_) connection_->Close();
  co_await loop_gate_->Close();
  if (connection_) {
    co_await connection_->CloseAndWait();
    connection_.reset();
  }
}

void ReplicaFetcher::AddBucket(const TableBucket& bucket) {
  BucketState& state = buckets_[bucket];
  state.generation = next_generation_++;
  state.fetch_offset = LogOffset(-1);
  state.check_leader_end = true;
  state.force_reconcile = false;
  state.delayed_until = {};
  wake_.Notify();
}

void ReplicaFetcher::RemoveBucket(const TableBucket& bucket) { buckets_.erase(bucket); }

void ReplicaFetcher::Delay(const TableBucket& bucket) {
  auto it = buckets_.find(bucket);
  if (it != buckets_.end()) it->second.delayed_until = SteadyClock::now() + options_.backoff;
}

Task<void> ReplicaFetcher::Sleep(SteadyClock::duration d) {
  if (d <= SteadyClock::duration::zero()) co_return;
  co_await WithTimeout(wake_.Wait(), d);
}

Task<bool> ReplicaFetcher::EnsureConnected() {
  if (connection_ && connection_->is_open()) co_return true;
  if (connection_) {
    co_await connection_->CloseAndWait();
    connection_.reset();
  }
  const ServerDirectory* directory = manager_.server_directory();
  std::optional<metadata::ServerNode> node =
      directory ? directory->FindTabletServer(leader_) : std::nullopt;
  if (!node) {
    STROM_LOG_DEBUG(kComponent, "leader {} is not known to be alive", leader_);
    co_return false;
  }
  rpc::ConnectionOptions opts;
  opts.connect_timeout = options_.request_timeout;
  opts.client_software_name = fmt::format("strom-follower-{}", manager_.server_id());
  auto connected = co_await rpc::Connection::Connect(executor_, node->host,
                                                     static_cast<uint16_t>(node->port), opts);
  if (!connected.ok()) {
    STROM_LOG_WARN(kComponent, "cannot reach leader {} at {}:{}: {}", leader_, node->host,
                   node->port, connected.status().ToString());
    co_return false;
  }
  connection_ = std::move(connected).value();
  co_return true;
}

Task<Result<LogOffset>> ReplicaFetcher::LeaderOffset(TableBucket bucket, int32_t offset_type) {
  proto::ListOffsetsRequest req;
  req.set_follower_server_id(manager_.server_id().value());
  req.set_offset_type(offset_type);
  req.set_table_id(bucket.table_id.value());
  if (bucket.partition_id) req.set_partition_id(bucket.partition_id->value());
  req.add_bucket_id(bucket.bucket.value());
  std::shared_ptr<rpc::Connection> conn = connection_;
  auto resp =
      co_await conn->Call<proto::ApiKey::kListOffsets>(std::move(req), options_.request_timeout);
  if (!resp.ok()) co_return std::move(resp).status();
  if (resp->buckets_resp_size() != 1) {
    co_return MakeError(ErrorCode::kUnknownServerError, "ListOffsets for {} answered {} buckets",
                        bucket, resp->buckets_resp_size());
  }
  const proto::PbListOffsetsRespForBucket& b = resp->buckets_resp(0);
  if (b.has_error_code()) co_return BucketStatus(b.error_code(), b.error_message());
  if (!b.has_offset()) {
    co_return MakeError(ErrorCode::kUnknownServerError, "ListOffsets for {} without offset",
                        bucket);
  }
  co_return LogOffset(b.offset());
}

Task<void> ReplicaFetcher::CheckLeaderEnd(TableBucket bucket, uint64_t generation) {
  auto snapshot = co_await LeaderOffset(bucket, kLeaderEndOffsetSnapshotType);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end() || it->second.generation != generation) co_return;
  if (!snapshot.ok()) {
    STROM_LOG_INFO(kComponent, "leader {} end-offset snapshot of {}: {}", leader_, bucket,
                   snapshot.status().ToString());
    Delay(bucket);
    co_return;
  }
  auto reconciled = manager_.ReconcileWithLeader(bucket, *snapshot, it->second.force_reconcile);
  if (!reconciled.ok()) {
    if (reconciled.status().code() == ErrorCode::kNotLeaderOrFollower ||
        reconciled.status().code() == ErrorCode::kUnknownTableOrBucket) {
      buckets_.erase(it);
    } else {
      STROM_LOG_WARN(kComponent, "reconciling {} with leader {}: {}", bucket, leader_,
                     reconciled.status().ToString());
      Delay(bucket);
    }
    co_return;
  }
  auto now_end = reconciled;
  it->second.fetch_offset = *now_end;
  it->second.check_leader_end = false;
  it->second.force_reconcile = false;
}

Task<Result<LogOffset>> ReplicaFetcher::HandleOutOfRange(TableBucket bucket) {
  STROM_CO_ASSIGN_OR_RETURN(LogOffset replica_end, manager_.FollowerLogEndOffset(bucket));
  auto leader_end = co_await LeaderOffset(bucket, kLatestOffsetType);
  if (!leader_end.ok()) co_return std::move(leader_end).status();
  if (*leader_end < replica_end) {
    // The leader has less than this replica (unclean election): follow its log end.
    STROM_LOG_WARN(kComponent, "reset fetch offset of {} from {} to leader's end {}", bucket,
                   replica_end, *leader_end);
    STROM_CO_RETURN_IF_ERROR(manager_.TruncateFollower(bucket, *leader_end));
    co_return *leader_end;
  }
  auto leader_start = co_await LeaderOffset(bucket, kEarliestOffsetType);
  if (!leader_start.ok()) co_return std::move(leader_start).status();
  if (*leader_start > replica_end) {
    // The leader deleted what this replica lacks: start over at the leader's log start.
    STROM_CO_RETURN_IF_ERROR(manager_.TruncateFollowerFullyAndStartAt(bucket, *leader_start));
  }
  co_return std::max(*leader_start, replica_end);
}

Task<void> ReplicaFetcher::FetchOnce() {
  const auto now = SteadyClock::now();
  // First the buckets that must compare their log with the leader's election-time end.
  std::vector<std::pair<TableBucket, uint64_t>> to_check;
  for (const auto& [bucket, state] : buckets_) {
    if (state.check_leader_end && state.delayed_until <= now) {
      to_check.emplace_back(bucket, state.generation);
    }
  }
  for (const auto& [bucket, generation] : to_check) {
    if (stopped_) co_return;
    co_await CheckLeaderEnd(bucket, generation);
  }

  proto::FetchLogRequest req;
  req.set_follower_server_id(manager_.server_id().value());
  req.set_max_bytes(options_.max_bytes);
  req.set_min_bytes(options_.min_bytes);
  req.set_max_wait_ms(static_cast<int32_t>(options_.max_wait.count()));
  struct Sent {
    uint64_t generation;
    LogOffset offset;
  };
  std::unordered_map<TableBucket, Sent> sent;
  std::map<int64_t, proto::PbFetchLogReqForTable*> tables;
  std::optional<SteadyClock::time_point> next_ready;
  for (const auto& [bucket, state] : buckets_) {
    if (state.check_leader_end || state.delayed_until > now) {
      SteadyClock::time_point ready = std::max(state.delayed_until, now);
      if (!next_ready || ready < *next_ready) next_ready = ready;
      continue;
    }
    auto& table = tables[bucket.table_id.value()];
    if (table == nullptr) {
      table = req.add_tables_req();
      table->set_table_id(bucket.table_id.value());
      table->set_projection_pushdown_enabled(false);
    }
    proto::PbFetchLogReqForBucket* b = table->add_buckets_req();
    if (bucket.partition_id) b->set_partition_id(bucket.partition_id->value());
    b->set_bucket_id(bucket.bucket.value());
    b->set_fetch_offset(state.fetch_offset.value());
    b->set_max_fetch_bytes(options_.max_bytes_per_bucket);
    sent.emplace(bucket, Sent{state.generation, state.fetch_offset});
  }
  if (sent.empty()) {
    // Every bucket waits out a backoff (or a check failed): sleep until the first is ready.
    co_await Sleep(next_ready ? *next_ready - now : options_.backoff);
    co_return;
  }

  std::shared_ptr<rpc::Connection> conn = connection_;
  auto resp = co_await conn->Call<proto::ApiKey::kFetchLog>(
      std::move(req), options_.max_wait + options_.request_timeout);
  if (stopped_) co_return;
  if (!resp.ok()) {
    STROM_LOG_WARN(kComponent, "fetch from leader {} failed: {}", leader_,
                   resp.status().ToString());
    if (resp.status().code() == ErrorCode::kNetwork) conn->Close();
    for (const auto& [bucket, s] : sent) Delay(bucket);
    co_return;
  }
  for (const proto::PbFetchLogRespForTable& table : resp->tables_resp()) {
    for (const proto::PbFetchLogRespForBucket& b : table.buckets_resp()) {
      std::optional<PartitionId> partition;
      if (b.has_partition_id()) partition = PartitionId(b.partition_id());
      TableBucket bucket{TableId(table.table_id()), partition, BucketId(b.bucket_id())};
      auto s = sent.find(bucket);
      auto it = buckets_.find(bucket);
      // Removed, re-added or moved meanwhile: this answer is for an older request.
      if (s == sent.end() || it == buckets_.end() ||
          it->second.generation != s->second.generation ||
          it->second.fetch_offset != s->second.offset) {
        continue;
      }
      BucketState& state = it->second;
      if (b.has_error_code()) {
        Status error = BucketStatus(b.error_code(), b.error_message());
        if (error.code() == ErrorCode::kLogOffsetOutOfRange) {
          const uint64_t generation = state.generation;
          auto reset = co_await HandleOutOfRange(bucket);
          it = buckets_.find(bucket);
          if (it == buckets_.end() || it->second.generation != generation) continue;
          if (reset.ok()) {
            STROM_LOG_INFO(kComponent, "fetch offset {} of {} out of range; now {}",
                           s->second.offset, bucket, *reset);
            it->second.fetch_offset = *reset;
          } else {
            STROM_LOG_WARN(kComponent, "fetch offset {} of {} out of range: {}", s->second.offset,
                           bucket, reset.status().ToString());
            Delay(bucket);
          }
        } else {
          STROM_LOG_DEBUG(kComponent, "fetching {} from leader {}: {}", bucket, leader_,
                          error.ToString());
          Delay(bucket);
        }
        continue;
      }
      const std::string& records = b.records();
      auto appended = manager_.AppendAsFollower(
          bucket, state.fetch_offset, ByteView(records.data(), records.size()),
          LogOffset(b.has_high_watermark() ? b.high_watermark() : -1));
      if (appended.ok()) {
        state.fetch_offset = *appended;
        continue;
      }
      const ErrorCode code = appended.status().code();
      STROM_LOG_WARN(kComponent, "appending fetched records of {} at {}: {}", bucket,
                     state.fetch_offset, appended.status().ToString());
      if (code == ErrorCode::kDuplicateSequence || code == ErrorCode::kOutOfOrderSequence ||
          code == ErrorCode::kUnknownServerError) {
        // The logs disagree: cut back to the leader's election-time end and fetch again
        // (Fluss's truncateToLeaderEndOffsetSnapshot).
        state.check_leader_end = true;
        state.force_reconcile = true;
      } else if (code == ErrorCode::kNotLeaderOrFollower ||
                 code == ErrorCode::kUnknownTableOrBucket) {
        buckets_.erase(it);
        continue;
      }
      Delay(bucket);
    }
  }
}

Task<void> ReplicaFetcher::Run() {
  while (!stopped_) {
    if (buckets_.empty()) {
      co_await wake_.Wait();
    } else {
      // A named local: GCC 12 miscompiles some co_await expressions inside conditions.
      const bool connected = co_await EnsureConnected();
      if (stopped_) break;
      if (connected) {
        co_await FetchOnce();
      } else {
        co_await Sleep(options_.backoff);
      }
    }
  }
}

}  // namespace strom::replica
