#pragma once

#include <string>
#include <string_view>

#include "common/ids.h"
#include "metadata/table_path.h"

namespace strom::zk {

/// The znode paths of Fluss 0.9.1 (`ZkData`, fluss-formats §7.3), below a root
/// (`zookeeper.path.root`, default "/fluss", which Fluss uses as its Curator namespace).
/// A plain value; every path it returns is absolute.
class ZkPaths {
 public:
  /// `root` is "/fluss"-like; "" or "/" put the layout at the top of the tree.
  explicit ZkPaths(std::string_view root) {
    root_ = std::string(root);
    while (!root_.empty() && root_.back() == '/') root_.pop_back();
    if (!root_.empty() && root_.front() != '/') root_.insert(root_.begin(), '/');
  }

  /// The root node itself ("/" when the layout sits at the top).
  std::string Root() const { return root_.empty() ? "/" : root_; }

  // /metadata/...
  std::string Databases() const { return root_ + "/metadata/databases"; }
  std::string Database(std::string_view db) const { return Databases() + "/" + std::string(db); }
  std::string Tables(std::string_view db) const { return Database(db) + "/tables"; }
  std::string Table(const metadata::TablePath& path) const {
    return Tables(path.database) + "/" + path.table;
  }
  std::string Schemas(const metadata::TablePath& path) const { return Table(path) + "/schemas"; }
  std::string Schema(const metadata::TablePath& path, SchemaId id) const {
    return Schemas(path) + "/" + std::to_string(id.value());
  }
  std::string TableSeqId() const { return root_ + "/metadata/table_seqid"; }
  std::string PartitionSeqId() const { return root_ + "/metadata/partition_seqid"; }
  std::string WriterId() const { return root_ + "/metadata/writer_id"; }

  // /tabletservers/...
  std::string TabletServerIds() const { return root_ + "/tabletservers/ids"; }
  std::string TabletServer(ServerId id) const {
    return TabletServerIds() + "/" + std::to_string(id.value());
  }
  std::string TableAssignments() const { return root_ + "/tabletservers/tables"; }
  /// `/tabletservers/server_tags`: Fluss's `ServerTagsZNode` (`{"version":1,"server_tags":
  /// {"0":0,"1":1}}`).
  std::string ServerTags() const { return root_ + "/tabletservers/server_tags"; }
  std::string TableAssignment(TableId id) const {
    return TableAssignments() + "/" + std::to_string(id.value());
  }
  /// `/tabletservers/tables/{tableId}/buckets/{bucket}/leader_isr`: the bucket's leader and
  /// ISR as the coordinator last decided them.
  std::string BucketLeaderAndIsr(TableId id, BucketId bucket) const {
    return TableAssignment(id) + "/buckets/" + std::to_string(bucket.value()) + "/leader_isr";
  }

  /// `/cluster/rebalance`: the rebalance task (Fluss `RebalanceZNode`, RebalanceTaskJsonSerde).
  std::string Rebalance() const { return root_ + "/cluster/rebalance"; }

  // /coordinators/...
  /// The active coordinator's ephemeral node (Fluss 0.9.1 `CoordinatorZNode`).
  std::string ActiveCoordinator() const { return root_ + "/coordinators/active"; }
  /// The coordinator epoch, a decimal number as text: not written by Fluss 0.9.1 (its
  /// coordinators always use epoch 0), but by the Fluss releases after it that elect among
  /// several coordinators; Strom keeps its epochs there so that they survive failovers.
  std::string CoordinatorEpoch() const { return root_ + "/coordinators/epoch"; }

 private:
  std::string root_;
};

}  // namespace strom::zk
