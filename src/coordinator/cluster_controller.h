#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/ids.h"
#include "common/result.h"
#include "coordinator/bucket_host.h"
#include "coordinator/cluster_view.h"
#include "metadata/metadata_store.h"
#include "metadata/server_node.h"
#include "metadata/table_assignment.h"
#include "metadata/table_info.h"
#include "proto/FlussApi.pb.h"
#include "replica/leader_and_isr.h"
#include "rpc/connection.h"
#include "rpc/dispatcher.h"
#include "zk/leader_and_isr_store.h"
#include "zk/zk_client.h"
#include "zk/zk_paths.h"

namespace strom::rpc {
class ConnectionPool;
}

namespace strom::coordinator {

struct ClusterControllerOptions {
  /// How the coordinator connects to tablet servers.
  rpc::ConnectionOptions connection;
  /// Bound on one request to a tablet server.
  SteadyClock::duration request_timeout = std::chrono::seconds(10);
  /// Attempts of one request to a live tablet server that cannot be reached.
  int max_send_attempts = 20;
  SteadyClock::duration send_retry_wait = std::chrono::milliseconds(250);
  /// What CreateTable asks before registering a table (a KV tablet's option checks); may be
  /// empty.
  std::function<Status(const record::TableDescriptor&)> check_table;
};

/// A tablet server as the coordinator knows it: registered under /tabletservers/ids.
struct LiveTabletServer {
  /// Client endpoint (the first listener), with the server's rack.
  metadata::ServerNode node;
  /// The registration's listeners string (also the internal endpoint).
  std::string listeners;
  TimestampMs register_timestamp{0};
};

/// The coordinator's brain (Fluss `CoordinatorEventProcessor` with its bucket and replica
/// state machines, `CoordinatorChannelManager` and `CoordinatorRequestBatch`, reduced to what
/// Strom's non-partitioned tables need).
///
/// State, owned here and changed by one event at a time (events are coroutines serialised by
/// an internal queue, so no two interleave at their suspension points): the coordinator epoch;
/// the live tablet servers (watched at /tabletservers/ids); every table with its assignment
/// and, per bucket, the LeaderAndIsr last written to its leader_isr znode (ZooKeeper first,
/// then memory). Events:
/// - elected (OnElected): reads servers, tables, assignments and leader_isr nodes back from
///   ZooKeeper, initialises buckets without a leader_isr node, elects leaders for buckets
///   whose leader is gone, then tells every live server (UpdateMetadata, NotifyLeaderAndIsr);
/// - tablet servers joined / left (watch): a departed server's buckets get a new leader from
///   the live ISR (leader epoch + 1) or none (-1: offline; never an unclean election) and it
///   leaves their ISRs (bucket epoch + 1; the last ISR member stays so that it can lead
///   again); a joining server gets UpdateMetadata and NotifyLeaderAndIsr for its replicas, and
///   offline buckets whose ISR holds it get it as leader;
/// - table created / dropped (BucketHost): initial leader = first live replica, ISR = live
///   replicas, znodes created, NotifyLeaderAndIsr to the replicas, UpdateMetadata to all;
///   StopReplica(delete) to the replicas of a dropped table;
/// - AdjustIsr from a leader (checks as Fluss: coordinator epoch, leader epoch, bucket epoch,
///   live and assigned ISR members; writes the ISR with bucket epoch + 1 and answers it);
/// - ControlledShutdown: leadership moves to other live ISR members first; the answer lists
///   the buckets it still leads.
/// Requests to tablet servers go through one ordered queue per server (retried while the
/// server is live), each carrying the coordinator epoch.
///
/// Lifecycle: construct, Register() the internal handlers, OnElected/OnLost from the
/// election, Stop() before destruction. Thread: the reactor. Ownership: borrows the ZooKeeper
/// client and the metadata store; owns its connections to tablet servers.
class ClusterController final : public BucketHost, public ClusterView {
 public:
  ClusterController(Executor executor, zk::ZkClient& zk, zk::ZkPaths paths,
                    metadata::MetadataStore& store, metadata::ServerNode self,
                    ClusterControllerOptions options);
  ~ClusterController() override;
  ClusterController(const ClusterController&) = delete;
  ClusterController& operator=(const ClusterController&) = delete;

  /// The coordinator's own client endpoint (known once its listener is bound).
  void SetSelfNode(metadata::ServerNode self) { self_ = std::move(self); }

  /// Election callbacks.
  void OnElected(CoordinatorEpoch epoch);
  void OnLost();
  /// Ends every background task and connection.
  Task<void> Stop();

  /// AdjustIsr and ControlledShutdown.
  void Register(rpc::Dispatcher& dispatcher);

  Task<Result<proto::AdjustIsrResponse>> AdjustIsr(proto::AdjustIsrRequest req);
  Task<Result<proto::ControlledShutdownResponse>> ControlledShutdown(
      proto::ControlledShutdownRequest req);

  // BucketHost
  Task<Status> CreateTableBuckets(metadata::TableInfo table,
                                  metadata::TableAssignment assignment) override;
  Status CheckTable(const record::TableDescriptor& table) override;
  Task<Status> DropTableBuckets(TableId table_id) override;

  // ClusterView
  std::optional<metadata::ServerNode> CoordinatorNode() const override;
  std::vector<metadata::ServerNode> TabletServers() const override;
  std::optional<BucketLeader> Leader(const metadata::TableBucket& bucket) const override;
  Status CheckActive() const override;

  /// Whether this coordinator is active and has loaded the cluster state.
  bool active() const { return active_; }
  CoordinatorEpoch epoch() const { return epoch_; }
  /// The bucket's current LeaderAndIsr (tests and tools).
  std::optional<replica::LeaderAndIsr> BucketLeaderAndIsr(const metadata::TableBucket& b) const;

 private:
  struct BucketState {
    replica::LeaderAndIsr lai;
    int32_t zk_version = 0;
  };
  struct TableState {
    std::shared_ptr<const metadata::TableInfo> info;
    metadata::TableAssignment assignment;
    std::map<BucketId, BucketState> buckets;
  };
  /// What one event sends once it is done (Fluss `CoordinatorRequestBatch`).
  struct RequestBatch {
    std::map<ServerId, proto::NotifyLeaderAndIsrRequest> notify;
    std::map<ServerId, proto::StopReplicaRequest> stop;
    bool update_metadata = false;
  };
  class Channel;
  class EventQueue;

  Task<void> Activate(CoordinatorEpoch epoch, uint64_t generation);
  Task<Status> LoadState();
  Task<void> ServersChanged(uint64_t generation);
  Task<Result<std::map<ServerId, LiveTabletServer>>> ReadServersAndWatch(uint64_t generation);
  void ApplyServerChanges(std::map<ServerId, LiveTabletServer> now, RequestBatch& batch,
                          std::vector<std::pair<metadata::TableBucket, replica::LeaderAndIsr>>&
                              updates);

  /// The first replica (assignment order) that is in `isr`, live and not shutting down.
  std::optional<ServerId> ElectLeader(const std::vector<ServerId>& replicas,
                                      const std::vector<ServerId>& isr) const;
  bool Eligible(ServerId id) const;
  /// Writes the new leader_isr nodes (one by one; compare-and-set on the known version) and
  /// takes the successful ones into memory; adds NotifyLeaderAndIsr for their live replicas.
  Task<void> CommitUpdates(
      std::vector<std::pair<metadata::TableBucket, replica::LeaderAndIsr>> updates,
      RequestBatch& batch);
  void AddNotify(RequestBatch& batch, ServerId to, const TableState& table, BucketId bucket);
  void AddNotifyAllReplicas(RequestBatch& batch, const metadata::TableBucket& bucket);
  proto::UpdateMetadataRequest BuildUpdateMetadata() const;
  void Send(RequestBatch batch);

  void OpenChannel(const LiveTabletServer& server);
  void CloseChannel(ServerId id);
  void CloseAllChannels();
  Task<void> ChannelLoop(std::shared_ptr<Channel> channel);

  Executor executor_;
  zk::ZkClient& zk_;
  zk::ZkPaths paths_;
  zk::LeaderAndIsrStore lai_store_;
  metadata::MetadataStore& store_;
  metadata::ServerNode self_;
  ClusterControllerOptions options_;
  std::unique_ptr<rpc::ConnectionPool> pool_;
  std::unique_ptr<EventQueue> events_;
  Gate gate_;

  bool active_ = false;
  bool stopped_ = false;
  /// Bumped on every election and loss, so that events of an earlier term do nothing.
  uint64_t generation_ = 0;
  CoordinatorEpoch epoch_{0};
  std::map<ServerId, LiveTabletServer> live_;
  std::set<ServerId> shutting_down_;
  std::map<TableId, TableState> tables_;
  std::map<ServerId, std::shared_ptr<Channel>> channels_;
};

/// The host and port of the first `NAME://host:port` entry of a listeners string.
Result<std::pair<std::string, uint16_t>> FirstListenerEndpoint(std::string_view listeners);

}  // namespace strom::coordinator
