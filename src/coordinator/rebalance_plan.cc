#include "coordinator/rebalance_plan.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace strom::coordinator {
namespace {

using metadata::TableBucket;

bool Contains(const std::vector<ServerId>& ids, ServerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

/// One bucket while the planner works on it.
struct WorkBucket {
  TableBucket bucket;
  std::vector<ServerId> original_replicas;
  ServerId original_leader;
  std::vector<ServerId> replicas;
  ServerId leader;
  bool movable = false;
};

/// The planner's view of the cluster: replica and leader counts per eligible server (live and
/// not leaving), per table too, and the racks.
class Planner {
 public:
  Planner(const std::vector<PlannerServer>& servers, const std::vector<PlannerBucket>& buckets,
          const RebalanceGoals& goals)
      : goals_(goals) {
    bool all_racks = true;
    for (const PlannerServer& s : servers) {
      if (s.leaving) continue;
      eligible_.push_back(s.id);
      counts_[s.id] = 0;
      leaders_[s.id] = 0;
      if (s.rack && !s.rack->empty()) {
        rack_[s.id] = *s.rack;
        racks_.insert(*s.rack);
      } else {
        all_racks = false;
      }
    }
    std::sort(eligible_.begin(), eligible_.end());
    rack_aware_ = goals.rack_aware && all_racks && racks_.size() > 1;
    std::set<ServerId> live;
    for (const PlannerServer& s : servers) live.insert(s.id);
    for (const PlannerBucket& b : buckets) {
      WorkBucket w;
      w.bucket = b.bucket;
      w.original_replicas = b.replicas;
      w.original_leader = b.leader;
      w.replicas = b.replicas;
      w.leader = b.leader;
      // As Fluss: a bucket without a live leader among its replicas is not touched.
      w.movable =
          b.leader.value() >= 0 && live.contains(b.leader) && Contains(b.replicas, b.leader);
      for (ServerId r : b.replicas) Add(w.bucket, r, +1);
      work_.push_back(std::move(w));
    }
    std::sort(work_.begin(), work_.end(),
              [](const WorkBucket& a, const WorkBucket& b) { return a.bucket < b.bucket; });
  }

  bool has_eligible() const { return !eligible_.empty(); }

  void Evacuate() {
    for (WorkBucket& b : work_) {
      if (!b.movable) continue;
      for (size_t i = 0; i < b.replicas.size(); ++i) {
        ServerId from = b.replicas[i];
        if (counts_.contains(from)) continue;
        std::optional<ServerId> to;
        auto key = [&](ServerId t) {
          bool rack_used = rack_aware_ && RackUsed(b, rack_.at(t), /*except=*/from);
          return std::make_tuple(rack_used, counts_.at(t), t);
        };
        for (ServerId t : eligible_) {
          if (Contains(b.replicas, t)) continue;
          if (!to || key(t) < key(*to)) to = t;
        }
        if (to) Move(b, from, *to);
      }
    }
  }

  void SpreadRacks() {
    if (!rack_aware_) return;
    for (WorkBucket& b : work_) {
      if (!b.movable) continue;
      size_t want = std::min(b.replicas.size(), racks_.size());
      while (DistinctRacks(b.replicas) < want) {
        // A replica sharing its rack with another one of the bucket: a follower, the most
        // loaded server first.
        std::optional<ServerId> from;
        auto from_key = [&](ServerId s) {
          return std::make_tuple(s == b.leader, -counts_.at(s), s);
        };
        for (ServerId r : b.replicas) {
          if (!rack_.contains(r)) continue;
          int same = 0;
          for (ServerId o : b.replicas) same += rack_.contains(o) && rack_.at(o) == rack_.at(r);
          if (same < 2) continue;
          if (!from || from_key(r) < from_key(*from)) from = r;
        }
        std::optional<ServerId> to;
        for (ServerId t : eligible_) {
          if (Contains(b.replicas, t) || RackUsed(b, rack_.at(t), ServerId(-1))) continue;
          if (!to || std::make_pair(counts_.at(t), t) < std::make_pair(counts_.at(*to), *to)) {
            to = t;
          }
        }
        if (!from || !to) break;
        Move(b, *from, *to);
      }
    }
  }

  void EvenReplicas() {
    if (!goals_.replica_distribution) return;
    // Each move narrows the spread between two servers; the bound only guards the loop.
    for (size_t round = 0; round < 100000; ++round) {
      std::vector<ServerId> by_load = eligible_;
      std::stable_sort(by_load.begin(), by_load.end(),
                       [&](ServerId a, ServerId b) { return counts_.at(a) > counts_.at(b); });
      bool moved = false;
      for (auto src = by_load.begin(); src != by_load.end() && !moved; ++src) {
        for (auto dst = by_load.rbegin(); dst != by_load.rend() && !moved; ++dst) {
          if (counts_.at(*src) - counts_.at(*dst) < 2) break;
          WorkBucket* best = nullptr;
          auto key = [&](const WorkBucket& b) {
            int table_skew = TableCount(b.bucket, *src) - TableCount(b.bucket, *dst);
            return std::make_tuple(-table_skew, b.leader == *src);
          };
          for (WorkBucket& b : work_) {
            if (!b.movable || !Contains(b.replicas, *src) || Contains(b.replicas, *dst)) continue;
            if (rack_aware_ && !KeepsRackSpread(b, *src, *dst)) continue;
            if (best == nullptr || key(b) < key(*best)) best = &b;
          }
          if (best != nullptr) {
            Move(*best, *src, *dst);
            moved = true;
          }
        }
      }
      if (!moved) break;
    }
  }

  void PlaceLeaders() {
    for (WorkBucket& b : work_) {
      if (Contains(b.replicas, b.leader) && leaders_.contains(b.leader)) {
        ++leaders_[b.leader];
      } else if (!b.movable && b.leader.value() >= 0 && leaders_.contains(b.leader)) {
        ++leaders_[b.leader];
      }
    }
    // Buckets whose leader moved away: the replica with the fewest leaderships, one that
    // already had the bucket (in its ISR) first.
    for (WorkBucket& b : work_) {
      if (!b.movable || Contains(b.replicas, b.leader)) continue;
      std::optional<ServerId> best;
      auto key = [&](ServerId s) {
        return std::make_tuple(!Contains(b.original_replicas, s), leaders_.at(s), s);
      };
      for (ServerId r : b.replicas) {
        if (!leaders_.contains(r)) continue;
        if (!best || key(r) < key(*best)) best = r;
      }
      if (best) {
        b.leader = *best;
        ++leaders_[*best];
      }
    }
    if (!goals_.leader_distribution) return;
    for (size_t round = 0; round < 100000; ++round) {
      std::vector<ServerId> by_load = eligible_;
      std::stable_sort(by_load.begin(), by_load.end(),
                       [&](ServerId a, ServerId b) { return leaders_.at(a) > leaders_.at(b); });
      bool moved = false;
      for (auto src = by_load.begin(); src != by_load.end() && !moved; ++src) {
        for (auto dst = by_load.rbegin(); dst != by_load.rend() && !moved; ++dst) {
          if (leaders_.at(*src) - leaders_.at(*dst) < 2) break;
          WorkBucket* best = nullptr;
          // A bucket whose replica set stays first (the new leader already has its data).
          auto key = [&](const WorkBucket& b) { return b.replicas != b.original_replicas; };
          for (WorkBucket& b : work_) {
            if (!b.movable || b.leader != *src || !Contains(b.replicas, *dst)) continue;
            if (best == nullptr || key(b) < key(*best)) best = &b;
          }
          if (best != nullptr) {
            best->leader = *dst;
            --leaders_[*src];
            ++leaders_[*dst];
            moved = true;
          }
        }
      }
      if (!moved) break;
    }
  }

  std::vector<BucketMovePlan> Diff() const {
    std::vector<BucketMovePlan> out;
    for (const WorkBucket& b : work_) {
      if (!b.movable) continue;
      if (b.replicas == b.original_replicas && b.leader == b.original_leader) continue;
      BucketMovePlan plan;
      plan.bucket = b.bucket;
      plan.original_leader = b.original_leader;
      plan.new_leader = b.leader;
      plan.original_replicas = b.original_replicas;
      plan.new_replicas = b.replicas;
      // The new leader first (Fluss GoalOptimizerUtils.getDiff): the preferred leader.
      auto pos = std::find(plan.new_replicas.begin(), plan.new_replicas.end(), b.leader);
      if (pos != plan.new_replicas.end()) std::iter_swap(plan.new_replicas.begin(), pos);
      out.push_back(std::move(plan));
    }
    return out;
  }

 private:
  void Add(const TableBucket& bucket, ServerId server, int delta) {
    auto it = counts_.find(server);
    if (it == counts_.end()) return;
    it->second += delta;
    table_counts_[{bucket.table_id, server}] += delta;
  }

  int TableCount(const TableBucket& bucket, ServerId server) const {
    auto it = table_counts_.find({bucket.table_id, server});
    return it == table_counts_.end() ? 0 : it->second;
  }

  void Move(WorkBucket& b, ServerId from, ServerId to) {
    auto pos = std::find(b.replicas.begin(), b.replicas.end(), from);
    if (pos == b.replicas.end()) return;
    *pos = to;
    Add(b.bucket, from, -1);
    Add(b.bucket, to, +1);
  }

  /// Whether another replica of the bucket (not `except`) is on `rack`.
  bool RackUsed(const WorkBucket& b, const std::string& rack, ServerId except) const {
    for (ServerId r : b.replicas) {
      if (r == except) continue;
      auto it = rack_.find(r);
      if (it != rack_.end() && it->second == rack) return true;
    }
    return false;
  }

  size_t DistinctRacks(const std::vector<ServerId>& replicas) const {
    std::set<std::string> seen;
    for (ServerId r : replicas) {
      auto it = rack_.find(r);
      if (it != rack_.end()) seen.insert(it->second);
    }
    return seen.size();
  }

  bool KeepsRackSpread(const WorkBucket& b, ServerId from, ServerId to) const {
    std::vector<ServerId> after = b.replicas;
    std::replace(after.begin(), after.end(), from, to);
    return DistinctRacks(after) >= DistinctRacks(b.replicas);
  }

  RebalanceGoals goals_;
  bool rack_aware_ = false;
  std::vector<ServerId> eligible_;
  std::map<ServerId, std::string> rack_;
  std::set<std::string> racks_;
  std::map<ServerId, int> counts_;
  std::map<ServerId, int> leaders_;
  std::map<std::pair<TableId, ServerId>, int> table_counts_;
  std::vector<WorkBucket> work_;
};

}  // namespace

bool IsFinal(RebalanceStatus status) {
  return status == RebalanceStatus::kCompleted || status == RebalanceStatus::kCanceled ||
         status == RebalanceStatus::kFailed;
}

std::string_view RebalanceStatusName(RebalanceStatus status) {
  switch (status) {
    case RebalanceStatus::kNotStarted:
      return "NOT_STARTED";
    case RebalanceStatus::kRebalancing:
      return "REBALANCING";
    case RebalanceStatus::kFailed:
      return "FAILED";
    case RebalanceStatus::kCompleted:
      return "COMPLETED";
    case RebalanceStatus::kCanceled:
      return "CANCELED";
  }
  return "UNKNOWN";
}

bool IsServerTag(int32_t value) {
  return value == static_cast<int32_t>(ServerTag::kPermanentOffline) ||
         value == static_cast<int32_t>(ServerTag::kTemporaryOffline);
}

bool BucketMovePlan::ReplicasChange() const {
  std::vector<ServerId> a = original_replicas;
  std::vector<ServerId> b = new_replicas;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a != b;
}

Result<RebalanceGoals> RebalanceGoals::FromWire(const std::vector<int32_t>& goals) {
  if (goals.empty()) return RebalanceGoals{};
  RebalanceGoals out{false, false, false};
  for (int32_t g : goals) {
    switch (g) {
      case static_cast<int32_t>(RebalanceGoal::kReplicaDistribution):
        out.replica_distribution = true;
        break;
      case static_cast<int32_t>(RebalanceGoal::kLeaderDistribution):
        out.leader_distribution = true;
        break;
      case static_cast<int32_t>(RebalanceGoal::kRackAware):
        out.rack_aware = true;
        break;
      default:
        return MakeError(ErrorCode::kRebalanceFailure,
                         "Unknown rebalance goal {}: must be one of 0 (REPLICA_DISTRIBUTION), 1 "
                         "(LEADER_DISTRIBUTION), 2 (RACK_AWARE).",
                         g);
    }
  }
  return out;
}

Result<std::vector<BucketMovePlan>> PlanRebalance(const std::vector<PlannerServer>& servers,
                                                  const std::vector<PlannerBucket>& buckets,
                                                  const RebalanceGoals& goals) {
  Planner planner(servers, buckets, goals);
  if (!planner.has_eligible()) {
    return MakeError(ErrorCode::kRebalanceFailure,
                     "No live tablet server can take replicas: nothing to rebalance onto.");
  }
  planner.Evacuate();
  planner.SpreadRacks();
  planner.EvenReplicas();
  planner.PlaceLeaders();
  return planner.Diff();
}

// ---------------------------------------------------------------------------------------
// The /cluster/rebalance znode.

std::string RebalanceTaskToJson(const RebalanceTaskRecord& task) {
  using nlohmann::ordered_json;
  // Grouped by table (then partition), in ascending order.
  std::map<std::pair<int64_t, int64_t>, std::vector<const BucketMovePlan*>> groups;
  for (const BucketMovePlan& p : task.plan) {
    int64_t partition = p.bucket.partition_id ? p.bucket.partition_id->value() : -1;
    groups[{p.bucket.table_id.value(), partition}].push_back(&p);
  }
  auto ids = [](const std::vector<ServerId>& v) {
    ordered_json out = ordered_json::array();
    for (ServerId id : v) out.push_back(id.value());
    return out;
  };
  ordered_json plan = ordered_json::array();
  for (auto& [key, plans] : groups) {
    std::sort(plans.begin(), plans.end(), [](const BucketMovePlan* a, const BucketMovePlan* b) {
      return a->bucket < b->bucket;
    });
    ordered_json entry;
    entry["table_id"] = key.first;
    if (key.second >= 0) entry["partition_id"] = key.second;
    ordered_json list = ordered_json::array();
    for (const BucketMovePlan* p : plans) {
      ordered_json b;
      b["bucket_id"] = p->bucket.bucket.value();
      b["original_leader"] = p->original_leader.value();
      b["new_leader"] = p->new_leader.value();
      b["origin_replicas"] = ids(p->original_replicas);
      b["new_replicas"] = ids(p->new_replicas);
      list.push_back(std::move(b));
    }
    entry["buckets"] = std::move(list);
    plan.push_back(std::move(entry));
  }
  ordered_json doc;
  doc["version"] = 1;
  doc["rebalance_id"] = task.rebalance_id;
  doc["rebalance_status"] = static_cast<int32_t>(task.status);
  doc["rebalance_plan"] = std::move(plan);
  return doc.dump();
}

Result<RebalanceTaskRecord> RebalanceTaskFromJson(std::string_view text) {
  using nlohmann::json;
  auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kCorruptMessage, "rebalance task znode: {}: {}", why, text);
  };
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return bad("not a JSON object");
  auto id = doc.find("rebalance_id");
  auto status = doc.find("rebalance_status");
  auto plan = doc.find("rebalance_plan");
  if (id == doc.end() || !id->is_string() || status == doc.end() || !status->is_number_integer() ||
      plan == doc.end() || !plan->is_array()) {
    return bad("rebalance_id, rebalance_status or rebalance_plan missing");
  }
  RebalanceTaskRecord task;
  task.rebalance_id = id->get<std::string>();
  int32_t code = status->get<int32_t>();
  if (code < 0 || code > static_cast<int32_t>(RebalanceStatus::kCanceled)) {
    return bad("unknown rebalance_status");
  }
  task.status = static_cast<RebalanceStatus>(code);
  auto read_ids = [](const json& node, std::vector<ServerId>* out) {
    if (!node.is_array()) return false;
    for (const json& v : node) {
      if (!v.is_number_integer()) return false;
      out->emplace_back(v.get<int32_t>());
    }
    return true;
  };
  for (const json& table : *plan) {
    if (!table.is_object() || !table.contains("table_id") ||
        !table["table_id"].is_number_integer() || !table.contains("buckets") ||
        !table["buckets"].is_array()) {
      return bad("a plan entry without table_id or buckets");
    }
    std::optional<PartitionId> partition;
    if (table.contains("partition_id")) {
      if (!table["partition_id"].is_number_integer()) return bad("partition_id is not a number");
      partition = PartitionId(table["partition_id"].get<int64_t>());
    }
    for (const json& b : table["buckets"]) {
      if (!b.is_object()) return bad("a bucket plan is not an object");
      BucketMovePlan p;
      p.bucket = TableBucket{TableId(table["table_id"].get<int64_t>()), partition, BucketId(0)};
      for (const char* key : {"bucket_id", "original_leader", "new_leader"}) {
        if (!b.contains(key) || !b[key].is_number_integer()) {
          return bad(std::string("a bucket plan without ") + key);
        }
      }
      p.bucket.bucket = BucketId(b["bucket_id"].get<int32_t>());
      p.original_leader = ServerId(b["original_leader"].get<int32_t>());
      p.new_leader = ServerId(b["new_leader"].get<int32_t>());
      if (!b.contains("origin_replicas") || !read_ids(b["origin_replicas"], &p.original_replicas) ||
          !b.contains("new_replicas") || !read_ids(b["new_replicas"], &p.new_replicas)) {
        return bad("a bucket plan without origin_replicas or new_replicas");
      }
      task.plan.push_back(std::move(p));
    }
  }
  return task;
}

std::string ServerTagsToJson(const std::map<ServerId, ServerTag>& tags) {
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  for (const auto& [id, tag] : tags) map[std::to_string(id.value())] = static_cast<int32_t>(tag);
  nlohmann::ordered_json doc;
  doc["version"] = 1;
  doc["server_tags"] = std::move(map);
  return doc.dump();
}

Result<std::map<ServerId, ServerTag>> ServerTagsFromJson(std::string_view text) {
  using nlohmann::json;
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kCorruptMessage, "server tags znode: {}: {}", why, text);
  };
  if (!doc.is_object() || !doc.contains("server_tags") || !doc["server_tags"].is_object()) {
    return bad("no server_tags object");
  }
  std::map<ServerId, ServerTag> out;
  for (const auto& [key, value] : doc["server_tags"].items()) {
    int32_t id = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || end != key.data() + key.size()) return bad("a key is not a server id");
    if (!value.is_number_integer() || !IsServerTag(value.get<int32_t>())) {
      return bad("a value is not a server tag");
    }
    out[ServerId(id)] = static_cast<ServerTag>(value.get<int32_t>());
  }
  return out;
}

}  // namespace strom::coordinator
