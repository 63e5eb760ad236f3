#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "proto/FlussApi.pb.h"
#include "strom/types.h"

namespace strom::client {

/// The client's view of the cluster at one moment (Fluss `Cluster`): the coordinator, the
/// live tablet servers, and for each table the client asked about its id, schema id and
/// bucket leaders.
///
/// Immutable value; updates build a new Cluster (see MetadataCache), so a snapshot can be
/// read from any thread without locks.
class Cluster {
 public:
  struct TableMeta {
    TablePath path;
    TableId table_id{0};
    SchemaId schema_id{0};
    /// Leader server of each bucket (index = bucket id); nullopt while unknown.
    std::vector<std::optional<ServerId>> leaders;
  };

  Cluster() = default;

  /// Merges a MetadataResponse into `base`: the server lists are replaced (a response always
  /// carries all of them), the tables it names are replaced, others kept. A bucket whose
  /// leader is not among the tablet servers counts as leaderless (the Java client does the
  /// same). kCorruptMessage for a response without tablet servers.
  static Result<std::shared_ptr<const Cluster>> Merge(const Cluster& base,
                                                      const proto::MetadataResponse& response);

  /// A copy in which the bucket leaders of `table` are unknown (after an error that means
  /// they moved), so the next user asks the cluster again.
  std::shared_ptr<const Cluster> WithoutLeaders(TableId table) const;

  const std::optional<ServerNode>& coordinator() const { return coordinator_; }
  const std::map<ServerId, ServerNode>& tablet_servers() const { return tablet_servers_; }
  const std::map<TableId, TableMeta>& tables() const { return tables_; }

  const TableMeta* FindTable(TableId id) const;
  const TableMeta* FindTable(const TablePath& path) const;

  /// The leader of `bucket`, or nullopt when the table, the bucket or its leader is unknown.
  std::optional<ServerNode> Leader(const TableBucket& bucket) const;
  /// Buckets of `table` that have a known leader, ascending.
  std::vector<BucketId> AvailableBuckets(TableId table) const;
  /// True when every bucket of `table` has a known leader.
  bool AllLeadersKnown(TableId table) const;

  /// The coordinator followed by every tablet server.
  std::vector<ServerNode> AllServers() const;

 private:
  std::optional<ServerNode> coordinator_;
  std::map<ServerId, ServerNode> tablet_servers_;
  std::map<TableId, TableMeta> tables_;
};

/// Holds the current Cluster snapshot.
///
/// Thread-safe: Get() from any thread; Set() from the network thread that refreshes it.
class MetadataCache {
 public:
  MetadataCache() : cluster_(std::make_shared<const Cluster>()) {}

  std::shared_ptr<const Cluster> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cluster_;
  }
  void Set(std::shared_ptr<const Cluster> cluster) {
    std::lock_guard<std::mutex> lock(mu_);
    cluster_ = std::move(cluster);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Cluster> cluster_;
};

}  // namespace strom::client
