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
#include "coordinator/rebalance_plan.h"
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
  /// Fast failure detection (`strom.coordinator.tablet-server-probe.*`): when the connection
  /// to a live tablet server ends or cannot be opened, connect this many times,
  /// `probe_interval` apart (each connect bounded by it too); all refused means nothing
  /// listens on the server's port any more, and it is dead at once. 0: off (the ZooKeeper
  /// session alone tells).
  int probe_attempts = 3;
  SteadyClock::duration probe_interval = std::chrono::milliseconds(100);
  /// What CreateTable asks before registering a table (a KV tablet's option checks); may be
  /// empty.
  std::function<Status(const record::TableDescriptor&)> check_table;
  /// Buckets a rebalance moves at the same time.
  int rebalance_max_inflight_buckets = 4;
  /// How often a rebalance in progress looks at its moving buckets (ISR caught up, ...).
  SteadyClock::duration rebalance_tick = std::chrono::milliseconds(100);
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
/// - a tablet server whose connection ends and whose port then refuses every probe connect
///   (options.probe_attempts) is dead at once, handled as if its registration had gone; its
///   registration is then ignored until it changes, and deleted (the process that owned it
///   is gone, and its restart must be able to register before the old session expires);
/// - table created / dropped (BucketHost): initial leader = first live replica, ISR = live
///   replicas, znodes created, NotifyLeaderAndIsr to the replicas, UpdateMetadata to all;
///   StopReplica(delete) to the replicas of a dropped table;
/// - AdjustIsr from a leader (checks as Fluss: coordinator epoch, leader epoch, bucket epoch,
///   live and assigned ISR members; writes the ISR with bucket epoch + 1 and answers it);
/// - ControlledShutdown: leadership moves to other live ISR members first; the answer lists
///   the buckets it still leads;
/// - Rebalance / ListRebalanceProgress / CancelRebalance: a plan (PlanRebalance) carried out
///   bucket by bucket (a few at a time) as Kafka-style reassignment, its task kept in the
///   `/cluster/rebalance` znode so that a successor coordinator resumes or reports it (see
///   README.md).
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

  /// Plans a rebalance of the live servers and starts it; answers its id.
  /// REBALANCE_FAILURE_EXCEPTION while another one is in progress, for an unknown goal, or
  /// when the task cannot be written to ZooKeeper.
  Task<Result<proto::RebalanceResponse>> Rebalance(proto::RebalanceRequest req);
  /// The current (or last) rebalance with every bucket's status; an empty answer when there
  /// was none; NO_REBALANCE_IN_PROGRESS_EXCEPTION for another id.
  Task<Result<proto::ListRebalanceProgressResponse>> ListRebalanceProgress(
      proto::ListRebalanceProgressRequest req);
  /// Stops the rebalance: buckets not started are CANCELED, buckets half moved go back to
  /// their original replicas (the added ones are stopped and deleted), moved ones stay.
  /// NO_REBALANCE_IN_PROGRESS_EXCEPTION when there is none (or for another id); a finished one
  /// is left as it is.
  Task<Result<proto::CancelRebalanceResponse>> CancelRebalance(proto::CancelRebalanceRequest req);
  /// Fluss's server tags, kept in `/tabletservers/server_tags`: a live tablet server tagged
  /// PERMANENT_OFFLINE or TEMPORARY_OFFLINE gets no replicas from the next rebalance and loses
  /// the ones it has (decommissioning). SERVER_NOT_EXIST_EXCEPTION for a server that is not
  /// live; SEVER_TAG_ALREADY_EXIST_EXCEPTION when it has another tag.
  Task<Result<proto::AddServerTagResponse>> AddServerTag(proto::AddServerTagRequest req);
  /// SEVER_TAG_NOT_EXIST_EXCEPTION when a server has another tag than the one removed.
  Task<Result<proto::RemoveServerTagResponse>> RemoveServerTag(proto::RemoveServerTagRequest req);

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
  /// One bucket of the rebalance in progress.
  struct RebalanceBucket {
    BucketMovePlan plan;
    RebalanceStatus status = RebalanceStatus::kNotStarted;
    /// The assignment znode still has to be written with the final replicas.
    bool assignment_pending = false;
  };
  struct RebalanceTask {
    std::string id;
    RebalanceStatus status = RebalanceStatus::kNotStarted;
    std::map<metadata::TableBucket, RebalanceBucket> buckets;
  };

  Task<void> Activate(CoordinatorEpoch epoch, uint64_t generation);
  Task<Status> LoadState();
  Task<void> ServersChanged(uint64_t generation);
  /// The event of a server whose port refused every probe: dead now, if the registration
  /// the channel was opened for is still the live one.
  Task<void> ServerRefusesConnections(uint64_t generation, ServerId id,
                                      TimestampMs register_timestamp);
  /// Deletes the registration znode of a server declared dead if it is still `server`'s.
  Task<void> DeleteDeadRegistration(uint64_t generation, ServerId id, LiveTabletServer server);
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

  // Rebalance (event lock held unless said otherwise).
  Task<Status> LoadRebalance();
  void StartRebalanceLoop();
  /// Not under the lock: takes it for each pass over the moving buckets.
  Task<void> RebalanceLoop(uint64_t generation);
  Task<void> AdvanceRebalance(uint64_t generation);
  Task<void> StepBucket(uint64_t generation, RebalanceBucket& rb, RequestBatch& batch);
  /// Takes the replicas a move added (not the leader) out of the bucket again.
  Task<Status> RevertBucket(uint64_t generation, RebalanceBucket& rb, RequestBatch& batch);
  /// Writes the bucket's leader and ISR (compare-and-set) and memory; false when it failed or
  /// the term ended meanwhile.
  Task<bool> WriteLeaderAndIsr(uint64_t generation, const metadata::TableBucket& bucket,
                               const replica::LeaderAndIsr& next);
  /// Writes the table's assignment znode from memory.
  Task<Status> WriteAssignment(TableId table_id);
  Task<Status> WriteRebalanceTask();
  /// Writes `data` to the persistent znode `path`, creating it (and its parents) if missing.
  Task<Status> PutPersistent(std::string path, std::string data);
  Task<Status> LoadServerTags();
  Task<Status> WriteServerTags(const std::map<ServerId, ServerTag>& tags);
  void AddStopReplica(RequestBatch& batch, ServerId to, const metadata::TableBucket& bucket,
                      LeaderEpoch leader_epoch);

  void OpenChannel(const LiveTabletServer& server);
  void CloseChannel(ServerId id);
  void CloseAllChannels();
  Task<void> ChannelLoop(std::shared_ptr<Channel> channel);
  /// Connects to the channel's server up to options.probe_attempts times; true when every
  /// attempt was refused (and the channel is still open).
  Task<bool> RefusesConnections(const Channel& channel);
  /// Hands a server whose port refuses connections to the event queue.
  void ReportRefused(const Channel& channel);

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
  /// Servers declared dead by the probe whose registration may still be in ZooKeeper (until
  /// deleted or its session expires): that registration is not live; another one is.
  std::map<ServerId, LiveTabletServer> declared_dead_;
  std::set<ServerId> shutting_down_;
  std::map<TableId, TableState> tables_;
  std::map<ServerId, std::shared_ptr<Channel>> channels_;
  /// The current or last rebalance (loaded from ZooKeeper at activation).
  std::optional<RebalanceTask> rebalance_;
  bool rebalance_loop_running_ = false;
  std::map<ServerId, ServerTag> server_tags_;
};

/// The host and port of the first `NAME://host:port` entry of a listeners string.
Result<std::pair<std::string, uint16_t>> FirstListenerEndpoint(std::string_view listeners);

}  // namespace strom::coordinator
