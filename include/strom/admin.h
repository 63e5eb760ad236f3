#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class ClientContext;
}

/// Where one bucket of a table lives, as the cluster's metadata says.
struct BucketLocation {
  BucketId bucket{0};
  /// The leader's server id; nullopt while the bucket has no leader.
  std::optional<ServerId> leader;
  std::optional<int32_t> leader_epoch;
  /// Every replica, the preferred leader first.
  std::vector<ServerId> replicas;
  /// The in-sync replicas. Strom servers report them; nullopt when the server does not
  /// (the Fluss 0.9 metadata has no ISR).
  std::optional<std::vector<ServerId>> isr;

  friend bool operator==(const BucketLocation&, const BucketLocation&) = default;
};

/// Fluss `GoalType`: what a rebalance evens out (RebalanceRequest.goals).
enum class RebalanceGoal : int32_t {
  kReplicaDistribution = 0,
  kLeaderDistribution = 1,
  /// Replicas of a bucket on different racks (when every tablet server has one).
  kRackAware = 2,
};

/// Fluss `RebalanceStatus`, of a whole rebalance and of each bucket in it.
enum class RebalanceStatus : int32_t {
  kNotStarted = 0,
  kRebalancing = 1,
  kFailed = 2,
  kCompleted = 3,
  kCanceled = 4,
};
/// "NOT_STARTED", "REBALANCING", "FAILED", "COMPLETED", "CANCELED" ("UNKNOWN(n)" otherwise).
std::string RebalanceStatusName(RebalanceStatus status);
/// COMPLETED, CANCELED or FAILED.
bool IsFinal(RebalanceStatus status);

/// Fluss `ServerTag`: a tagged tablet server is taken out by the next rebalance (its replicas
/// and leaderships move to the other servers), e.g. before it is decommissioned.
enum class ServerTag : int32_t {
  kPermanentOffline = 0,
  kTemporaryOffline = 1,
};

/// One bucket's move in a rebalance (Fluss `RebalancePlanForBucket` with its status).
struct RebalanceBucketProgress {
  TableBucket bucket;
  std::optional<ServerId> original_leader;
  std::optional<ServerId> new_leader;
  std::vector<ServerId> original_replicas;
  /// The new leader first.
  std::vector<ServerId> new_replicas;
  RebalanceStatus status = RebalanceStatus::kNotStarted;
};

/// A rebalance as the coordinator reports it (Fluss `RebalanceProgress`).
struct RebalanceProgress {
  std::string rebalance_id;
  RebalanceStatus status = RebalanceStatus::kNotStarted;
  /// Every bucket the plan moves, by table and bucket id.
  std::vector<RebalanceBucketProgress> buckets;

  /// Share of the buckets in a final state, 0..1 (1 for a plan without buckets).
  double progress() const;
  /// Whether the rebalance is over (IsFinal(status)).
  bool done() const { return IsFinal(status); }
};

/// Cluster administration: databases, tables, offsets and servers.
///
/// DDL goes to the coordinator, reads about tables to any tablet server, ListOffsets to each
/// bucket's leader, as the Fluss Java client does. Every call blocks until the cluster
/// answered; failures carry the server's Fluss error code and message (for example
/// kDatabaseNotExist, kTableAlreadyExist, kInvalidTable).
///
/// Threads: safe to use from several threads at once. Ownership: created by
/// Connection::GetAdmin; shares the connection's internals (see Connection).
class Admin {
 public:
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // ---- databases ----

  /// kDatabaseAlreadyExist unless `ignore_if_exists`; kInvalidDatabase for a bad name.
  Status CreateDatabase(const std::string& name,
                        const DatabaseDescriptor& descriptor = DatabaseDescriptor(),
                        bool ignore_if_exists = false);
  /// kDatabaseNotExist unless `ignore_if_not_exists`; kDatabaseNotEmpty when the database
  /// still has tables and `cascade` is false (with cascade its tables are dropped too).
  Status DropDatabase(const std::string& name, bool ignore_if_not_exists = false,
                      bool cascade = false);
  Result<std::vector<std::string>> ListDatabases();
  Result<bool> DatabaseExists(const std::string& name);
  /// kDatabaseNotExist when missing.
  Result<DatabaseInfo> GetDatabaseInfo(const std::string& name);

  // ---- tables ----

  /// kTableAlreadyExist unless `ignore_if_exists`; kDatabaseNotExist; kInvalidTable for a
  /// descriptor the server refuses.
  Status CreateTable(const TablePath& path, const TableDescriptor& descriptor,
                     bool ignore_if_exists = false);
  /// kTableNotExist unless `ignore_if_not_exists`.
  Status DropTable(const TablePath& path, bool ignore_if_not_exists = false);
  /// Table names of a database (kDatabaseNotExist when missing).
  Result<std::vector<std::string>> ListTables(const std::string& database);
  Result<bool> TableExists(const TablePath& path);
  /// kTableNotExist when missing.
  Result<TableInfo> GetTableInfo(const TablePath& path);
  /// The latest schema, or the one with `schema_id` (kSchemaNotExist when unknown).
  Result<SchemaInfo> GetTableSchema(const TablePath& path,
                                    std::optional<SchemaId> schema_id = std::nullopt);

  // ---- offsets and servers ----

  /// The offset `spec` names for each of `buckets` of a non-partitioned table (all buckets
  /// when `buckets` is empty). Asks each bucket's leader. kInvalidTimestamp for a timestamp
  /// in the future.
  Result<std::map<BucketId, LogOffset>> ListOffsets(const TablePath& path,
                                                    const std::vector<BucketId>& buckets,
                                                    const OffsetSpec& spec);

  /// The coordinator and every live tablet server, freshly asked from the cluster.
  Result<std::vector<ServerNode>> GetServerNodes();

  /// Leader, replicas and ISR of every bucket of a non-partitioned table, freshly asked from
  /// the cluster, by bucket id. kTableNotExist when missing.
  Result<std::vector<BucketLocation>> GetBucketLocations(const TablePath& path);

  /// Connects to `node` and answers how long an ApiVersions round trip took: a liveness
  /// probe. The error (kNetworkException, ...) when the server does not answer in time.
  Result<std::chrono::microseconds> Ping(const ServerNode& node);

  // ---- rebalance ----

  /// Asks the coordinator to even out replicas and leaders over the live tablet servers
  /// (`goals`, in priority order; every goal when empty) and answers the rebalance id at once;
  /// the moves go on in the background (ListRebalanceProgress). kRebalanceFailure while
  /// another rebalance is in progress or when no plan can be made. A balanced cluster gets a
  /// rebalance that is COMPLETED at once, without buckets.
  Result<std::string> Rebalance(const std::vector<RebalanceGoal>& goals = {});
  /// The current or last rebalance (the one named by `rebalance_id`, when given); nullopt when
  /// the cluster never ran one. kNoRebalanceInProgress when `rebalance_id` is not the current
  /// one.
  Result<std::optional<RebalanceProgress>> ListRebalanceProgress(
      const std::optional<std::string>& rebalance_id = std::nullopt);
  /// Stops the rebalance in progress: moves not started are dropped, half-done ones undone.
  /// kNoRebalanceInProgress when there is none (or `rebalance_id` is another); OK for one that
  /// already ended.
  Status CancelRebalance(const std::optional<std::string>& rebalance_id = std::nullopt);
  /// Tags live tablet servers (kServerNotExist for one that is not live;
  /// kSeverTagAlreadyExist when one has the other tag).
  Status AddServerTag(const std::vector<ServerId>& servers, ServerTag tag);
  /// Removes the tag (kSeverTagNotExist when a server has the other tag).
  Status RemoveServerTag(const std::vector<ServerId>& servers, ServerTag tag);

 private:
  friend class Connection;
  explicit Admin(std::shared_ptr<client::ClientContext> context);

  std::shared_ptr<client::ClientContext> context_;
};

}  // namespace strom
