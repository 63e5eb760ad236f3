#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/ids.h"
#include "common/result.h"
#include "metadata/server_node.h"
#include "metadata/table_bucket.h"
#include "proto/FlussApi.pb.h"
#include "replica/leader_and_isr.h"
#include "replica/replica_manager.h"
#include "rpc/connection.h"
#include "rpc/dispatcher.h"

namespace strom::rpc {
class ConnectionPool;
}

namespace strom::tablet {

/// A bucket's leader as the coordinator last announced it.
struct CachedLeader {
  std::optional<ServerId> leader;
  LeaderEpoch leader_epoch{0};
  std::vector<ServerId> replicas;
  /// The in-sync replicas, when the coordinator sent them (Strom's `isr` extension).
  std::optional<std::vector<ServerId>> isr;
};

/// A tablet server's view of the cluster, from the coordinator's UpdateMetadata requests
/// (Fluss `TabletServerMetadataCache`): the active coordinator's endpoint, the live tablet
/// servers, and every known bucket's leader. Answers Metadata requests on this server and
/// tells followers where their leaders listen. Thread: the reactor. A plain owned value.
class MetadataCache final : public replica::ServerDirectory {
 public:
  /// Takes an UpdateMetadata: the coordinator and the server list are replaced, the tables
  /// it lists replace their earlier entries.
  void Update(const proto::UpdateMetadataRequest& req);

  std::optional<metadata::ServerNode> coordinator() const { return coordinator_; }
  /// Ascending by id.
  std::vector<metadata::ServerNode> tablet_servers() const;
  std::optional<CachedLeader> leader(const metadata::TableBucket& bucket) const;
  /// How many UpdateMetadata requests were taken.
  int64_t updates() const { return updates_; }

  std::optional<metadata::ServerNode> FindTabletServer(ServerId id) const override;

 private:
  std::optional<metadata::ServerNode> coordinator_;
  std::map<ServerId, metadata::ServerNode> servers_;
  std::map<metadata::TableBucket, CachedLeader> leaders_;
  int64_t updates_ = 0;
};

/// A tablet server's handlers of the coordinator's requests (Fluss `TabletService`'s
/// notifyLeaderAndIsr, stopReplica, updateMetadata): each request carries the coordinator
/// epoch, and one older than the newest seen is refused with INVALID_COORDINATOR_EXCEPTION
/// (a deposed coordinator). NotifyLeaderAndIsr and StopReplica go to the ReplicaManager,
/// which answers per bucket; UpdateMetadata fills the MetadataCache.
///
/// Lifecycle: construct, Register() before the server starts. Thread: the reactor.
/// Ownership: borrows the replica manager and the cache, which outlive it.
class TabletControlService {
 public:
  TabletControlService(replica::ReplicaManager& replicas, MetadataCache& cache);

  void Register(rpc::Dispatcher& dispatcher);

  Task<Result<proto::NotifyLeaderAndIsrResponse>> NotifyLeaderAndIsr(
      proto::NotifyLeaderAndIsrRequest req);
  Task<Result<proto::StopReplicaResponse>> StopReplica(proto::StopReplicaRequest req);
  Task<Result<proto::UpdateMetadataResponse>> UpdateMetadata(proto::UpdateMetadataRequest req);

  /// The newest coordinator epoch seen (-1 before the first request).
  CoordinatorEpoch coordinator_epoch() const { return coordinator_epoch_; }

 private:
  /// kInvalidCoordinator for an epoch older than the newest seen; remembers a newer one.
  Status Fence(int32_t epoch);

  replica::ReplicaManager& replicas_;
  MetadataCache& cache_;
  CoordinatorEpoch coordinator_epoch_{-1};
};

/// The IsrChannel of a tablet server: AdjustIsr to the active coordinator named by the
/// MetadataCache, retried (re-reading the coordinator's address, which a failover changes)
/// while the coordinator cannot be reached, up to `attempts` times `retry_wait` apart.
/// Thread: the reactor. Ownership: borrows the cache; owns its connections. Lifecycle:
/// Close() before destruction.
class CoordinatorIsrChannel final : public replica::IsrChannel {
 public:
  CoordinatorIsrChannel(Executor executor, ServerId self, const MetadataCache& cache,
                        rpc::ConnectionOptions options,
                        SteadyClock::duration timeout = std::chrono::seconds(10), int attempts = 30,
                        SteadyClock::duration retry_wait = std::chrono::milliseconds(300));
  ~CoordinatorIsrChannel() override;

  Task<Result<replica::LeaderAndIsr>> AdjustIsr(metadata::TableBucket bucket,
                                                replica::LeaderAndIsr proposed) override;

  /// Asks the coordinator to move this server's leaderships away (ControlledShutdown);
  /// returns the buckets it still leads.
  Task<Result<std::vector<metadata::TableBucket>>> ControlledShutdown(int32_t server_epoch);

  Task<void> Close();

 private:
  template <proto::ApiKey kKey>
  Task<Result<typename rpc::ApiTraits<kKey>::Response>> CallCoordinator(
      typename rpc::ApiTraits<kKey>::Request request);

  Executor executor_;
  ServerId self_;
  const MetadataCache& cache_;
  std::unique_ptr<rpc::ConnectionPool> pool_;
  SteadyClock::duration timeout_;
  int attempts_;
  SteadyClock::duration retry_wait_;
  bool closed_ = false;
};

}  // namespace strom::tablet
