#include "tablet/tablet_control_service.h"

#include <asio/steady_timer.hpp>

#include "common/logging.h"
#include "rpc/connection_pool.h"

namespace strom::tablet {
namespace {

constexpr std::string_view kLog = "tablet";

using metadata::TableBucket;

TableBucket FromPb(const proto::PbTableBucket& pb) {
  TableBucket out{TableId(pb.table_id()), std::nullopt, BucketId(pb.bucket_id())};
  if (pb.has_partition_id()) out.partition_id = PartitionId(pb.partition_id());
  return out;
}

void ToPb(const TableBucket& bucket, proto::PbTableBucket* pb) {
  pb->set_table_id(bucket.table_id.value());
  if (bucket.partition_id) pb->set_partition_id(bucket.partition_id->value());
  pb->set_bucket_id(bucket.bucket.value());
}

metadata::ServerNode NodeFromPb(const proto::PbServerNode& pb, metadata::ServerRole role) {
  metadata::ServerNode node{ServerId(pb.node_id()), pb.host(), pb.port(), role, std::nullopt};
  if (pb.has_rack()) node.rack = pb.rack();
  return node;
}

template <typename Item>
void SetError(Item* item, const Status& status) {
  item->set_error_code(static_cast<int32_t>(status.code()));
  item->set_error_message(status.message());
}

}  // namespace

// ---------------------------------------------------------------------------------------
// MetadataCache

void MetadataCache::Update(const proto::UpdateMetadataRequest& req) {
  ++updates_;
  if (req.has_coordinator_server()) {
    coordinator_ = NodeFromPb(req.coordinator_server(), metadata::ServerRole::kCoordinator);
  }
  servers_.clear();
  for (const proto::PbServerNode& pb : req.tablet_servers()) {
    servers_[ServerId(pb.node_id())] = NodeFromPb(pb, metadata::ServerRole::kTabletServer);
  }
  for (const proto::PbTableMetadata& table : req.table_metadata()) {
    TableId id(table.table_id());
    std::erase_if(leaders_, [id](const auto& entry) { return entry.first.table_id == id; });
    for (const proto::PbBucketMetadata& b : table.bucket_metadata()) {
      CachedLeader leader;
      if (b.has_leader_id() && b.leader_id() >= 0) leader.leader = ServerId(b.leader_id());
      if (b.has_leader_epoch()) leader.leader_epoch = LeaderEpoch(b.leader_epoch());
      for (int32_t r : b.replica_id()) leader.replicas.push_back(ServerId(r));
      if (b.isr_size() > 0) {
        leader.isr.emplace();
        for (int32_t r : b.isr()) leader.isr->push_back(ServerId(r));
      }
      leaders_[TableBucket{id, std::nullopt, BucketId(b.bucket_id())}] = std::move(leader);
    }
  }
}

std::vector<metadata::ServerNode> MetadataCache::tablet_servers() const {
  std::vector<metadata::ServerNode> out;
  for (const auto& [id, node] : servers_) out.push_back(node);
  return out;
}

std::optional<CachedLeader> MetadataCache::leader(const TableBucket& bucket) const {
  auto it = leaders_.find(bucket);
  if (it == leaders_.end()) return std::nullopt;
  return it->second;
}

std::optional<metadata::ServerNode> MetadataCache::FindTabletServer(ServerId id) const {
  auto it = servers_.find(id);
  if (it == servers_.end()) return std::nullopt;
  return it->second;
}

// ---------------------------------------------------------------------------------------
// TabletControlService

TabletControlService::TabletControlService(replica::ReplicaManager& replicas,
                                           MetadataCache& cache)
    : replicas_(replicas), cache_(cache) {}

void TabletControlService::Register(rpc::Dispatcher& d) {
  using proto::ApiKey;
  d.Handle<ApiKey::kNotifyLeaderAndIsr>(
      [this](rpc::RequestContext, proto::NotifyLeaderAndIsrRequest r) {
        return NotifyLeaderAndIsr(std::move(r));
      });
  d.Handle<ApiKey::kStopReplica>(
      [this](rpc::RequestContext, proto::StopReplicaRequest r) { return StopReplica(std::move(r)); });
  d.Handle<ApiKey::kUpdateMetadata>([this](rpc::RequestContext, proto::UpdateMetadataRequest r) {
    return UpdateMetadata(std::move(r));
  });
}

Status TabletControlService::Fence(int32_t epoch) {
  if (epoch < coordinator_epoch_.value()) {
    return MakeError(ErrorCode::kInvalidCoordinator,
                     "Coordinator epoch {} is older than the current coordinator epoch {}.",
                     epoch, coordinator_epoch_);
  }
  coordinator_epoch_ = CoordinatorEpoch(epoch);
  return Status::OK();
}

Task<Result<proto::NotifyLeaderAndIsrResponse>> TabletControlService::NotifyLeaderAndIsr(
    proto::NotifyLeaderAndIsrRequest req) {
  STROM_CO_RETURN_IF_ERROR(Fence(req.coordinator_epoch()));
  std::vector<replica::NotifyLeaderAndIsrItem> items;
  for (const proto::PbNotifyLeaderAndIsrReqForBucket& pb : req.notify_buckets_leader_req()) {
    replica::NotifyLeaderAndIsrItem item;
    item.table_path = metadata::TablePath{pb.physical_table_path().database_name(),
                                          pb.physical_table_path().table_name()};
    item.bucket = FromPb(pb.table_bucket());
    for (int32_t r : pb.replicas()) item.replicas.push_back(ServerId(r));
    item.leader_and_isr.leader = ServerId(pb.leader());
    item.leader_and_isr.leader_epoch = LeaderEpoch(pb.leader_epoch());
    for (int32_t r : pb.isr()) item.leader_and_isr.isr.push_back(ServerId(r));
    item.leader_and_isr.coordinator_epoch = CoordinatorEpoch(req.coordinator_epoch());
    item.leader_and_isr.bucket_epoch = BucketEpoch(pb.bucket_epoch());
    items.push_back(std::move(item));
  }
  std::vector<replica::BucketResult> results = co_await replicas_.BecomeLeaderOrFollower(
      CoordinatorEpoch(req.coordinator_epoch()), std::move(items));
  proto::NotifyLeaderAndIsrResponse resp;
  for (const replica::BucketResult& result : results) {
    auto* out = resp.add_notify_buckets_leader_resp();
    ToPb(result.bucket, out->mutable_table_bucket());
    if (!result.status.ok()) SetError(out, result.status);
  }
  co_return resp;
}

Task<Result<proto::StopReplicaResponse>> TabletControlService::StopReplica(
    proto::StopReplicaRequest req) {
  STROM_CO_RETURN_IF_ERROR(Fence(req.coordinator_epoch()));
  std::vector<replica::StopReplicaItem> items;
  for (const proto::PbStopReplicaReqForBucket& pb : req.stop_replicas_req()) {
    items.push_back(replica::StopReplicaItem{FromPb(pb.table_bucket()),
                                             LeaderEpoch(pb.leader_epoch()), pb.delete_()});
  }
  std::vector<replica::BucketResult> results =
      co_await replicas_.StopReplicas(CoordinatorEpoch(req.coordinator_epoch()), std::move(items));
  proto::StopReplicaResponse resp;
  for (const replica::BucketResult& result : results) {
    auto* out = resp.add_stop_replicas_resp();
    ToPb(result.bucket, out->mutable_table_bucket());
    if (!result.status.ok()) SetError(out, result.status);
  }
  co_return resp;
}

Task<Result<proto::UpdateMetadataResponse>> TabletControlService::UpdateMetadata(
    proto::UpdateMetadataRequest req) {
  if (req.has_coordinator_epoch()) STROM_CO_RETURN_IF_ERROR(Fence(req.coordinator_epoch()));
  cache_.Update(req);
  // A server that left may have held back the high watermark of buckets led here.
  replicas_.RecomputeHighWatermarks();
  co_return proto::UpdateMetadataResponse();
}

// ---------------------------------------------------------------------------------------
// CoordinatorIsrChannel

CoordinatorIsrChannel::CoordinatorIsrChannel(Executor executor, ServerId self,
                                             const MetadataCache& cache,
                                             rpc::ConnectionOptions options,
                                             SteadyClock::duration timeout, int attempts,
                                             SteadyClock::duration retry_wait)
    : executor_(executor),
      self_(self),
      cache_(cache),
      pool_(std::make_unique<rpc::ConnectionPool>(executor, std::move(options))),
      timeout_(timeout),
      attempts_(attempts),
      retry_wait_(retry_wait) {}

CoordinatorIsrChannel::~CoordinatorIsrChannel() = default;

Task<void> CoordinatorIsrChannel::Close() {
  closed_ = true;
  co_await pool_->Close();
}

template <proto::ApiKey kKey>
Task<Result<typename rpc::ApiTraits<kKey>::Response>> CoordinatorIsrChannel::CallCoordinator(
    typename rpc::ApiTraits<kKey>::Request request) {
  Status last = Status(ErrorCode::kNetwork, "the coordinator is not known yet");
  for (int attempt = 0; attempt < attempts_ && !closed_; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer timer(executor_, retry_wait_);
      co_await timer.async_wait(kAwaitTuple);
    }
    std::optional<metadata::ServerNode> coordinator = cache_.coordinator();
    if (!coordinator) continue;
    auto conn = co_await pool_->Get(coordinator->host, static_cast<uint16_t>(coordinator->port));
    if (!conn.ok()) {
      last = conn.status();
      continue;
    }
    auto resp = co_await (*conn)->template Call<kKey>(request, timeout_);
    if (resp.ok()) co_return resp;
    last = resp.status();
    // A standby (or a coordinator that just lost office) refuses; the active one will tell us
    // its address through UpdateMetadata.
    bool retry = last.code() == ErrorCode::kNetwork || last.code() == ErrorCode::kRequestTimeOut ||
                 last.code() == ErrorCode::kNotCoordinatorLeader;
    if (!retry) co_return last;
  }
  co_return last;
}

Task<Result<replica::LeaderAndIsr>> CoordinatorIsrChannel::AdjustIsr(
    TableBucket bucket, replica::LeaderAndIsr proposed) {
  proto::AdjustIsrRequest req;
  req.set_serverid(self_.value());
  auto* table = req.add_tables_req();
  table->set_table_id(bucket.table_id.value());
  auto* b = table->add_buckets_req();
  if (bucket.partition_id) b->set_partition_id(bucket.partition_id->value());
  b->set_bucket_id(bucket.bucket.value());
  b->set_leader_epoch(proposed.leader_epoch.value());
  for (ServerId id : proposed.isr) b->add_new_isr(id.value());
  b->set_coordinator_epoch(proposed.coordinator_epoch.value());
  b->set_bucket_epoch(proposed.bucket_epoch.value());
  auto resp = co_await CallCoordinator<proto::ApiKey::kAdjustIsr>(std::move(req));
  if (!resp.ok()) co_return std::move(resp).status();
  for (const auto& t : resp->tables_resp()) {
    if (t.table_id() != bucket.table_id.value()) continue;
    for (const auto& r : t.buckets_resp()) {
      if (r.bucket_id() != bucket.bucket.value()) continue;
      if (r.has_error_code()) {
        co_return Status(ErrorCodeFromWire(r.error_code()),
                         r.has_error_message() ? r.error_message() : std::string());
      }
      replica::LeaderAndIsr out;
      out.leader = ServerId(r.leader_id());
      out.leader_epoch = LeaderEpoch(r.leader_epoch());
      for (int32_t id : r.isr()) out.isr.push_back(ServerId(id));
      out.bucket_epoch = BucketEpoch(r.bucket_epoch());
      out.coordinator_epoch = CoordinatorEpoch(r.coordinator_epoch());
      co_return out;
    }
  }
  co_return Status(ErrorCode::kUnknownServerError,
                   "the coordinator's AdjustIsr answer lacks the bucket");
}

Task<Result<std::vector<TableBucket>>> CoordinatorIsrChannel::ControlledShutdown(
    int32_t server_epoch) {
  proto::ControlledShutdownRequest req;
  req.set_tablet_server_id(self_.value());
  req.set_tablet_server_epoch(server_epoch);
  auto resp = co_await CallCoordinator<proto::ApiKey::kControlledShutdown>(std::move(req));
  if (!resp.ok()) co_return std::move(resp).status();
  std::vector<TableBucket> out;
  for (const auto& pb : resp->remaining_leader_buckets()) out.push_back(FromPb(pb));
  co_return out;
}

}  // namespace strom::tablet
