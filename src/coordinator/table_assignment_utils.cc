#include "coordinator/table_assignment_utils.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace strom::coordinator {
namespace {

int32_t ReplicaIndex(int32_t first, int32_t shift, int32_t replica, int32_t n) {
  int32_t step = 1 + (shift + replica) % (n - 1);
  return (first + step) % n;
}

}  // namespace

std::vector<ServerId> RackAlternatedServers(const std::vector<PlacementServer>& servers) {
  std::map<std::string, std::vector<ServerId>> by_rack;  // racks in name order
  for (const PlacementServer& s : servers) by_rack[s.rack.value_or("")].push_back(s.id);
  for (auto& [rack, ids] : by_rack) std::sort(ids.begin(), ids.end());
  std::vector<ServerId> out;
  for (size_t round = 0; out.size() < servers.size(); ++round) {
    for (auto& [rack, ids] : by_rack) {
      if (round < ids.size()) out.push_back(ids[round]);
    }
  }
  return out;
}

Result<metadata::TableAssignment> GenerateAssignment(int32_t buckets, int32_t replication_factor,
                                                     std::vector<PlacementServer> servers,
                                                     int32_t start_index,
                                                     int32_t next_replica_shift) {
  if (buckets <= 0) {
    return Status(ErrorCode::kInvalidTable, "Number of buckets must be larger than 0.");
  }
  if (replication_factor <= 0) {
    return Status(ErrorCode::kInvalidReplicationFactor,
                  "Replication factor must be larger than 0.");
  }
  if (replication_factor > static_cast<int32_t>(servers.size())) {
    return MakeError(ErrorCode::kInvalidReplicationFactor,
                     "Replication factor: {} larger than available tablet servers: {}.",
                     replication_factor, servers.size());
  }
  size_t with_rack = static_cast<size_t>(
      std::count_if(servers.begin(), servers.end(), [](const auto& s) { return s.rack.has_value(); }));
  std::sort(servers.begin(), servers.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  metadata::TableAssignment out;
  const int32_t n = static_cast<int32_t>(servers.size());
  if (with_rack == 0) {
    for (int32_t b = 0; b < buckets; ++b) {
      if (b > 0 && b % n == 0) ++next_replica_shift;
      int32_t first = (b + start_index) % n;
      std::vector<ServerId> replicas{servers[first].id};
      for (int32_t j = 0; j < replication_factor - 1; ++j) {
        replicas.push_back(servers[ReplicaIndex(first, next_replica_shift, j, n)].id);
      }
      out.buckets[BucketId(b)] = std::move(replicas);
    }
    return out;
  }
  if (with_rack != servers.size()) {
    return Status(ErrorCode::kInvalidServerRackInfo,
                  "Not all tabletServers have rack information for replica rack aware "
                  "assignment.");
  }
  std::map<ServerId, std::string> rack_of;
  for (const PlacementServer& s : servers) rack_of[s.id] = *s.rack;
  std::set<std::string> racks;
  for (const auto& [id, rack] : rack_of) racks.insert(rack);
  const int32_t num_racks = static_cast<int32_t>(racks.size());
  std::vector<ServerId> arranged = RackAlternatedServers(servers);
  for (int32_t b = 0; b < buckets; ++b) {
    if (b > 0 && b % n == 0) ++next_replica_shift;
    int32_t first = (b + start_index) % n;
    ServerId leader = arranged[first];
    std::vector<ServerId> replicas{leader};
    std::set<std::string> racks_used{rack_of[leader]};
    std::set<ServerId> servers_used{leader};
    int32_t k = 0;
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      while (true) {
        ServerId candidate = arranged[ReplicaIndex(first, next_replica_shift * num_racks, k, n)];
        ++k;
        const std::string& rack = rack_of[candidate];
        bool rack_ok = !racks_used.contains(rack) || static_cast<int32_t>(racks_used.size()) == num_racks;
        bool server_ok =
            !servers_used.contains(candidate) || static_cast<int32_t>(servers_used.size()) == n;
        if (rack_ok && server_ok) {
          replicas.push_back(candidate);
          racks_used.insert(rack);
          servers_used.insert(candidate);
          break;
        }
      }
    }
    out.buckets[BucketId(b)] = std::move(replicas);
  }
  return out;
}

Result<metadata::TableAssignment> GenerateAssignment(int32_t buckets, int32_t replication_factor,
                                                     std::vector<PlacementServer> servers) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  int32_t n = static_cast<int32_t>(servers.size());
  int32_t start = n == 0 ? 0 : static_cast<int32_t>(rng() % static_cast<uint32_t>(n));
  int32_t shift = n == 0 ? 0 : static_cast<int32_t>(rng() % static_cast<uint32_t>(n));
  return GenerateAssignment(buckets, replication_factor, std::move(servers), start, shift);
}

}  // namespace strom::coordinator
