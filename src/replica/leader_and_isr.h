#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/status.h"
#include "metadata/server_node.h"
#include "metadata/table_bucket.h"
#include "metadata/table_path.h"

// The contract between the coordinator (control plane) and the replica manager of a tablet
// server (data plane) in a distributed cluster. The coordinator decides leaders and ISRs and
// tells tablet servers through NotifyLeaderAndIsr / StopReplica / UpdateMetadata; a leader
// asks the coordinator to change its bucket's ISR through AdjustIsr. These plain types are
// what both sides see once the protobuf messages are decoded, so the replica manager does
// not depend on the coordinator nor on the RPC layer.

namespace strom::replica {

/// The leader and ISR of one bucket as the coordinator last wrote it (znode
/// `.../buckets/{bucket}/leader_isr`: `{"version":1,"leader":1,"leader_epoch":10,"isr":[1,2,3],
/// "coordinator_epoch":100,"bucket_epoch":1000}`). `bucket_epoch` moves on every ISR change,
/// `leader_epoch` on every leader change.
struct LeaderAndIsr {
  ServerId leader{-1};
  LeaderEpoch leader_epoch{0};
  std::vector<ServerId> isr;
  CoordinatorEpoch coordinator_epoch{0};
  BucketEpoch bucket_epoch{0};

  friend bool operator==(const LeaderAndIsr&, const LeaderAndIsr&) = default;
};

/// One bucket of a NotifyLeaderAndIsr request (PbNotifyLeaderAndIsrReqForBucket): the server
/// receiving it becomes the bucket's leader when `leader_and_isr.leader` is its own id,
/// otherwise a follower of that leader.
struct NotifyLeaderAndIsrItem {
  metadata::TablePath table_path;
  metadata::TableBucket bucket;
  /// Every replica of the bucket, preferred leader first.
  std::vector<ServerId> replicas;
  LeaderAndIsr leader_and_isr;
};

/// One bucket of a StopReplica request (PbStopReplicaReqForBucket).
struct StopReplicaItem {
  metadata::TableBucket bucket;
  LeaderEpoch leader_epoch{0};
  /// Delete the tablet's files too (the table was dropped or the replica moved away).
  bool delete_data = false;
};

/// The answer for one bucket of NotifyLeaderAndIsr / StopReplica: OK, or the Fluss error
/// (e.g. kFencedLeaderEpoch for an epoch older than the one the replica has).
struct BucketResult {
  metadata::TableBucket bucket;
  Status status;
};

/// How a bucket leader changes its ISR: AdjustIsr to the active coordinator. The answer is
/// the leader and ISR the coordinator now holds (which the leader adopts), or the Fluss error
/// (kFencedLeaderEpoch, kInvalidCoordinator, kNotLeaderOrFollower, ...).
/// Implementations retry transport failures themselves. Thread: the reactor.
class IsrChannel {
 public:
  virtual ~IsrChannel() = default;
  virtual Task<Result<LeaderAndIsr>> AdjustIsr(metadata::TableBucket bucket,
                                               LeaderAndIsr proposed) = 0;
};

/// Where the other tablet servers listen (from UpdateMetadata), so a follower can reach its
/// leader. Thread: the reactor.
class ServerDirectory {
 public:
  virtual ~ServerDirectory() = default;
  /// The tablet server's internal endpoint, or nullopt when it is not known to be alive.
  virtual std::optional<metadata::ServerNode> FindTabletServer(ServerId id) const = 0;
};

}  // namespace strom::replica
