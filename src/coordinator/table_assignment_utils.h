#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "metadata/table_assignment.h"

namespace strom::coordinator {

/// A live tablet server as replica placement sees it.
struct PlacementServer {
  ServerId id;
  std::optional<std::string> rack;
};

/// Places the replicas of `buckets` buckets on `servers` as Fluss's `TableAssignmentUtils`
/// does: the first replica of each bucket round-robin from `start_index`, the others at an
/// increasing shift (`next_replica_shift`, bumped after every full round), so that replicas
/// and leaders spread evenly. When every server has a rack, the round-robin runs over a
/// rack-alternated server list and the other replicas prefer racks (then servers) that do not
/// hold one yet; when only some have a rack: kInvalidServerRackInfo.
/// kInvalidTable / kInvalidReplicationFactor for non-positive counts, and
/// kInvalidReplicationFactor when the factor exceeds the servers.
Result<metadata::TableAssignment> GenerateAssignment(int32_t buckets, int32_t replication_factor,
                                                     std::vector<PlacementServer> servers,
                                                     int32_t start_index,
                                                     int32_t next_replica_shift);

/// GenerateAssignment with random start and shift (what CreateTable uses).
Result<metadata::TableAssignment> GenerateAssignment(int32_t buckets, int32_t replication_factor,
                                                     std::vector<PlacementServer> servers);

/// Servers ordered so that consecutive entries alternate racks (racks in name order, servers
/// of a rack by id): {0:r1, 1:r3, 2:r3, 3:r2, 4:r2, 5:r1} -> 0, 3, 1, 5, 4, 2.
std::vector<ServerId> RackAlternatedServers(const std::vector<PlacementServer>& servers);

}  // namespace strom::coordinator
