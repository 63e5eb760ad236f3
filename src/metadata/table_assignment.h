#pragma once

#include <map>
#include <vector>

#include "common/ids.h"

namespace strom::metadata {

/// Which servers hold the replicas of each bucket of a table (or partition); the first
/// replica is the preferred leader. The data of znode `/tabletservers/tables/{tableId}`
/// (`{"version":1,"buckets":{"0":[1,4,5],"1":[2,3]}}`). A plain value.
struct TableAssignment {
  /// Bucket id -> replica server ids.
  std::map<BucketId, std::vector<ServerId>> buckets;

  friend bool operator==(const TableAssignment&, const TableAssignment&) = default;
};

}  // namespace strom::metadata
