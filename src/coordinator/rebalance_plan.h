#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "metadata/table_bucket.h"

// Rebalancing: the plan (which buckets move where, and which replica leads them) and the task
// the coordinator keeps in ZooKeeper while it carries the plan out. Fluss 0.9.1's
// `org.apache.fluss.cluster.rebalance` vocabulary (GoalType, RebalanceStatus,
// RebalancePlanForBucket) and its `/cluster/rebalance` znode (`RebalanceTaskJsonSerde`).

namespace strom::coordinator {

/// Fluss `GoalType` (the wire values of RebalanceRequest.goals).
enum class RebalanceGoal : int32_t {
  kReplicaDistribution = 0,
  kLeaderDistribution = 1,
  kRackAware = 2,
};

/// Fluss `RebalanceStatus` (the wire values of ListRebalanceProgressResponse and the znode).
enum class RebalanceStatus : int32_t {
  kNotStarted = 0,
  kRebalancing = 1,
  kFailed = 2,
  kCompleted = 3,
  kCanceled = 4,
};
/// COMPLETED, CANCELED and FAILED.
bool IsFinal(RebalanceStatus status);
std::string_view RebalanceStatusName(RebalanceStatus status);

/// Fluss `ServerTag` (AddServerTagRequest.server_tag): a tagged server is taken out by the next
/// rebalance.
enum class ServerTag : int32_t {
  kPermanentOffline = 0,
  kTemporaryOffline = 1,
};
bool IsServerTag(int32_t value);

/// Fluss `RebalancePlanForBucket`: one bucket's move. The new leader is the first of
/// `new_replicas` (it becomes the preferred leader).
struct BucketMovePlan {
  metadata::TableBucket bucket;
  ServerId original_leader{-1};
  ServerId new_leader{-1};
  std::vector<ServerId> original_replicas;
  std::vector<ServerId> new_replicas;

  bool ReplicasChange() const;
  friend bool operator==(const BucketMovePlan&, const BucketMovePlan&) = default;
};

/// A tablet server as the planner sees it.
struct PlannerServer {
  ServerId id;
  std::optional<std::string> rack;
  /// Tagged to leave (Fluss's PERMANENT_OFFLINE / TEMPORARY_OFFLINE server tags): it gets no
  /// replicas and loses the ones it has.
  bool leaving = false;
};

/// A bucket as the planner sees it: its assigned replicas (the preferred leader first) and
/// current leader (-1 when offline).
struct PlannerBucket {
  metadata::TableBucket bucket;
  std::vector<ServerId> replicas;
  ServerId leader{-1};
};

/// Which goals a plan pursues (all of them when a request names none).
struct RebalanceGoals {
  bool rack_aware = true;
  bool replica_distribution = true;
  bool leader_distribution = true;

  /// From RebalanceRequest.goals: INVALID_ARGUMENT-like kRebalanceFailure for an unknown value.
  static Result<RebalanceGoals> FromWire(const std::vector<int32_t>& goals);
};

/// The moves that even out the cluster (Fluss `GoalOptimizer` with its RackAware,
/// ReplicaDistribution and LeaderReplicaDistribution goals, as a greedy pass each):
/// 1. replicas on servers that are not live (absent from `servers`) or are leaving move to
///    live servers (the least loaded first, a rack the bucket lacks first);
/// 2. rack awareness (only when every live server has a rack): a bucket with two replicas on
///    one rack while a rack it does not use exists gets one of them moved there;
/// 3. replica counts: while the most loaded server holds two or more replicas more than the
///    least loaded one, one replica moves from the first to the second (a bucket of the table
///    the first holds most of relative to the second, a follower before a leader; never onto a
///    server that already has the bucket, never reducing its rack spread);
/// 4. leader counts: a bucket whose leader left its replicas is led by its replica with the
///    fewest leaderships (one that already held it first); then, while some server leads two or
///    more buckets more than another that replicates one of them, leadership moves.
/// Only buckets whose leader is live and among their replicas are moved (offline buckets and
/// buckets in a transient state are left alone, as Fluss does); the replication factor of
/// every bucket stays. A balanced cluster gets an empty plan. Deterministic (ties by id).
/// kRebalanceFailure when no live server may take replicas.
Result<std::vector<BucketMovePlan>> PlanRebalance(const std::vector<PlannerServer>& servers,
                                                  const std::vector<PlannerBucket>& buckets,
                                                  const RebalanceGoals& goals);

/// The contents of the `/cluster/rebalance` znode (Fluss `RebalanceTask`).
struct RebalanceTaskRecord {
  std::string rebalance_id;
  RebalanceStatus status = RebalanceStatus::kNotStarted;
  std::vector<BucketMovePlan> plan;
};

/// Fluss's `RebalanceTaskJsonSerde` layout: `{"version":1,"rebalance_id":"...",
/// "rebalance_status":0,"rebalance_plan":[{"table_id":0,"buckets":[{"bucket_id":1,
/// "original_leader":1,"new_leader":1,"origin_replicas":[0,1,2],"new_replicas":[1,2,3]}]}]}`
/// (a "partition_id" key per table entry for partitioned tables).
std::string RebalanceTaskToJson(const RebalanceTaskRecord& task);
/// kCorruptMessage for a document that is not such a task.
Result<RebalanceTaskRecord> RebalanceTaskFromJson(std::string_view json);

/// The `/tabletservers/server_tags` znode (Fluss's `ServerTagsJsonSerde`):
/// `{"version":1,"server_tags":{"0":0,"1":1}}` (server id -> ServerTag value).
std::string ServerTagsToJson(const std::map<ServerId, ServerTag>& tags);
/// kCorruptMessage for a document that is not such a map.
Result<std::map<ServerId, ServerTag>> ServerTagsFromJson(std::string_view json);

}  // namespace strom::coordinator
