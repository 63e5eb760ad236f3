#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/async.h"
#include "common/result.h"
#include "metadata/table_bucket.h"
#include "replica/leader_and_isr.h"
#include "zk/zk_client.h"
#include "zk/zk_paths.h"

// The per-bucket leader_isr znodes of Fluss 0.9.1 (`LeaderAndIsrZNode`, fluss-formats §7.3):
// `/tabletservers/tables/{tableId}/buckets/{bucket}/leader_isr` holding
// `{"version":1,"leader":1,"leader_epoch":10,"isr":[1,2,3],"coordinator_epoch":100,
// "bucket_epoch":1000}`. Only the active coordinator writes them; a failed-over coordinator
// reads them back. (Partitioned tables keep theirs under `/tabletservers/partitions/{id}`;
// Strom has no partitions yet.)

namespace strom::zk {

std::string LeaderAndIsrToJson(const replica::LeaderAndIsr& value);
/// kCorruptMessage for a document that is not Fluss's leader_isr JSON.
Result<replica::LeaderAndIsr> LeaderAndIsrFromJson(std::string_view json);

/// A leader_isr node as read: its value and the znode version (for compare-and-set).
struct VersionedLeaderAndIsr {
  replica::LeaderAndIsr value;
  int32_t version = 0;
};

/// Reads and writes the leader_isr nodes of non-partitioned tables. Thread: the client's
/// executor. Ownership: borrows the client. No background work.
class LeaderAndIsrStore {
 public:
  LeaderAndIsrStore(ZkClient& client, ZkPaths paths) : client_(client), paths_(std::move(paths)) {}

  /// Creates the node (and its parents). kNodeExists-derived kStorage when it exists with
  /// other content; OK when it already holds exactly `value` (a repeated create).
  Task<Status> Create(metadata::TableBucket bucket, replica::LeaderAndIsr value);
  /// Replaces the node when its version still equals `expected_version` (kAnyVersion:
  /// always); returns the new version. kStorage on a version conflict or a missing node.
  Task<Result<int32_t>> Update(metadata::TableBucket bucket, replica::LeaderAndIsr value,
                               int32_t expected_version = kAnyVersion);
  /// The node, or nullopt when the bucket has none.
  Task<Result<std::optional<VersionedLeaderAndIsr>>> Get(metadata::TableBucket bucket);
  /// Every bucket node of a table (bucket id -> node).
  Task<Result<std::map<BucketId, VersionedLeaderAndIsr>>> GetTable(TableId table_id);

 private:
  ZkClient& client_;
  ZkPaths paths_;
};

}  // namespace strom::zk
