#pragma once

#include <optional>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "metadata/server_node.h"
#include "metadata/table_bucket.h"

namespace strom::coordinator {

/// A bucket's leader as metadata answers report it.
struct BucketLeader {
  /// Absent while the bucket has no leader (offline, or not elected yet).
  std::optional<ServerId> leader;
  LeaderEpoch leader_epoch{0};
  /// The in-sync replicas (sent to clients in Strom's `isr` extension of PbBucketMetadata);
  /// nullopt when this view does not know them.
  std::optional<std::vector<ServerId>> isr;
};

/// The live cluster as a server that answers Metadata requests knows it: in a distributed
/// cluster the active coordinator's own state (ClusterController), or a tablet server's
/// cache of the coordinator's UpdateMetadata. Thread: the reactor.
class ClusterView {
 public:
  virtual ~ClusterView() = default;
  /// The active coordinator's client endpoint, when known.
  virtual std::optional<metadata::ServerNode> CoordinatorNode() const = 0;
  /// Every live tablet server's client endpoint (with its rack), ascending by id.
  virtual std::vector<metadata::ServerNode> TabletServers() const = 0;
  /// The leader of a bucket; nullopt when the bucket is unknown to this view.
  virtual std::optional<BucketLeader> Leader(const metadata::TableBucket& bucket) const = 0;
  /// OK when this server may take DDL now; kNotCoordinator-like errors on a standby.
  virtual Status CheckActive() const { return Status::OK(); }
};

}  // namespace strom::coordinator
