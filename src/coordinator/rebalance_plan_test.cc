// PlanRebalance (evenness of replicas and leaders, rack awareness, servers leaving, buckets
// left alone, an empty plan for a balanced cluster) and Fluss's /cluster/rebalance JSON.

#include "coordinator/rebalance_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace strom::coordinator {
namespace {

using metadata::TableBucket;

std::vector<PlannerServer> Servers(int n, std::vector<std::string> racks = {}) {
  std::vector<PlannerServer> out;
  for (int i = 0; i < n; ++i) {
    PlannerServer s{ServerId(i), std::nullopt, false};
    if (!racks.empty()) s.rack = racks[i];
    out.push_back(s);
  }
  return out;
}

/// Fluss's round-robin placement over servers [0, n): bucket b on b, b+1, ... (mod n); the
/// first replica leads.
void AddTable(std::vector<PlannerBucket>& out, int64_t table, int buckets, int rf, int n) {
  for (int b = 0; b < buckets; ++b) {
    PlannerBucket pb;
    pb.bucket = TableBucket{TableId(table), std::nullopt, BucketId(b)};
    for (int r = 0; r < rf; ++r) pb.replicas.emplace_back((b + r) % n);
    pb.leader = pb.replicas.front();
    out.push_back(pb);
  }
}

/// The buckets after the plan is carried out.
std::vector<PlannerBucket> Apply(std::vector<PlannerBucket> buckets,
                                 const std::vector<BucketMovePlan>& plan) {
  for (const BucketMovePlan& p : plan) {
    for (PlannerBucket& b : buckets) {
      if (b.bucket != p.bucket) continue;
      EXPECT_EQ(b.replicas, p.original_replicas);
      EXPECT_EQ(b.leader, p.original_leader);
      b.replicas = p.new_replicas;
      b.leader = p.new_leader;
    }
  }
  return buckets;
}

std::map<int32_t, int> ReplicaCounts(const std::vector<PlannerBucket>& buckets) {
  std::map<int32_t, int> out;
  for (const auto& b : buckets) {
    for (ServerId r : b.replicas) ++out[r.value()];
  }
  return out;
}

std::map<int32_t, int> LeaderCounts(const std::vector<PlannerBucket>& buckets) {
  std::map<int32_t, int> out;
  for (const auto& b : buckets) ++out[b.leader.value()];
  return out;
}

int Spread(const std::map<int32_t, int>& counts, int servers) {
  int lo = 1 << 30, hi = 0;
  for (int s = 0; s < servers; ++s) {
    int c = counts.count(s) ? counts.at(s) : 0;
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  return hi - lo;
}

void ExpectWellFormed(const std::vector<PlannerBucket>& before,
                      const std::vector<BucketMovePlan>& plan) {
  for (const BucketMovePlan& p : plan) {
    EXPECT_EQ(p.new_replicas.size(), p.original_replicas.size()) << p.bucket.ToString();
    std::set<ServerId> distinct(p.new_replicas.begin(), p.new_replicas.end());
    EXPECT_EQ(distinct.size(), p.new_replicas.size()) << p.bucket.ToString();
    ASSERT_FALSE(p.new_replicas.empty());
    EXPECT_EQ(p.new_replicas.front(), p.new_leader) << "the new leader comes first";
  }
  EXPECT_EQ(Apply(before, plan).size(), before.size());
}

TEST(RebalancePlanTest, AFourthServerGetsItsShareOfReplicasAndLeaders) {
  std::vector<PlannerBucket> buckets;
  AddTable(buckets, 1, 6, 3, 3);
  AddTable(buckets, 2, 6, 2, 3);
  AddTable(buckets, 3, 4, 3, 3);
  auto plan = PlanRebalance(Servers(4), buckets, RebalanceGoals{});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_FALSE(plan->empty());
  ExpectWellFormed(buckets, *plan);
  auto after = Apply(buckets, *plan);
  auto replicas = ReplicaCounts(after);
  auto leaders = LeaderCounts(after);
  EXPECT_LE(Spread(replicas, 4), 1);
  EXPECT_LE(Spread(leaders, 4), 1);
  EXPECT_GE(replicas[3], 10);  // 42 replicas over 4 servers
  EXPECT_GE(leaders[3], 4);    // 16 leaders over 4 servers
  // Every table is spread too: no server holds more than its share of a table plus one.
  for (int64_t table : {1, 2, 3}) {
    std::map<int32_t, int> per;
    int total = 0;
    for (const auto& b : after) {
      if (b.bucket.table_id != TableId(table)) continue;
      for (ServerId r : b.replicas) ++per[r.value()];
      total += static_cast<int>(b.replicas.size());
    }
    for (const auto& [server, count] : per) {
      EXPECT_LE(count, (total + 3) / 4 + 1) << "table " << table << " server " << server;
    }
  }

  // Carried out, the cluster is balanced: a second plan moves nothing.
  auto again = PlanRebalance(Servers(4), after, RebalanceGoals{});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST(RebalancePlanTest, NothingMovesInABalancedCluster) {
  std::vector<PlannerBucket> buckets;
  AddTable(buckets, 1, 6, 3, 3);
  AddTable(buckets, 2, 3, 1, 3);
  auto plan = PlanRebalance(Servers(3), buckets, RebalanceGoals{});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->empty());
  // No tables at all: nothing to do either.
  auto empty = PlanRebalance(Servers(3), {}, RebalanceGoals{});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(RebalancePlanTest, LeaderGoalAloneOnlyMovesLeadership) {
  std::vector<PlannerBucket> buckets;
  AddTable(buckets, 1, 6, 3, 3);
  for (auto& b : buckets) b.leader = ServerId(0);  // server 0 leads everything
  RebalanceGoals goals{false, false, true};
  auto plan = PlanRebalance(Servers(3), buckets, goals);
  ASSERT_TRUE(plan.ok());
  ASSERT_FALSE(plan->empty());
  for (const auto& p : *plan) EXPECT_FALSE(p.ReplicasChange()) << p.bucket.ToString();
  auto leaders = LeaderCounts(Apply(buckets, *plan));
  EXPECT_EQ(leaders[0], 2);
  EXPECT_EQ(leaders[1], 2);
  EXPECT_EQ(leaders[2], 2);

  // Only the replica goal: the new server gets replicas, nobody's leadership moves unless
  // its replica does.
  std::vector<PlannerBucket> more;
  AddTable(more, 1, 6, 3, 3);
  auto replicas_only = PlanRebalance(Servers(4), more, RebalanceGoals{false, true, false});
  ASSERT_TRUE(replicas_only.ok());
  EXPECT_LE(Spread(ReplicaCounts(Apply(more, *replicas_only)), 4), 1);
  for (const auto& p : *replicas_only) {
    if (std::find(p.new_replicas.begin(), p.new_replicas.end(), p.original_leader) !=
        p.new_replicas.end()) {
      EXPECT_EQ(p.new_leader, p.original_leader) << p.bucket.ToString();
    }
  }
}

TEST(RebalancePlanTest, RackAwareSpreadsEveryBucketOverRacks) {
  // Servers 0, 1 on rack a; 2, 3 on rack b; every RF-2 bucket sits on rack a only.
  std::vector<PlannerBucket> buckets;
  for (int b = 0; b < 8; ++b) {
    PlannerBucket pb;
    pb.bucket = TableBucket{TableId(7), std::nullopt, BucketId(b)};
    pb.replicas = {ServerId(b % 2), ServerId((b + 1) % 2)};
    pb.leader = pb.replicas.front();
    buckets.push_back(pb);
  }
  std::vector<PlannerServer> servers = Servers(4, {"a", "a", "b", "b"});
  auto plan = PlanRebalance(servers, buckets, RebalanceGoals{});
  ASSERT_TRUE(plan.ok());
  ExpectWellFormed(buckets, *plan);
  auto after = Apply(buckets, *plan);
  std::map<int32_t, std::string> rack = {{0, "a"}, {1, "a"}, {2, "b"}, {3, "b"}};
  for (const auto& b : after) {
    EXPECT_NE(rack[b.replicas[0].value()], rack[b.replicas[1].value()]) << b.bucket.ToString();
  }
  EXPECT_LE(Spread(ReplicaCounts(after), 4), 1);

  // Without the rack goal the racks are not looked at: only the counts even out.
  auto blind = PlanRebalance(servers, buckets, RebalanceGoals{false, true, true});
  ASSERT_TRUE(blind.ok());
  EXPECT_LE(Spread(ReplicaCounts(Apply(buckets, *blind)), 4), 1);

  // Racks on only some servers: rack awareness does not apply (as placement, which refuses
  // such a cluster), the counts still even out.
  std::vector<PlannerServer> partial = Servers(4, {"a", "a", "b", ""});
  auto mixed = PlanRebalance(partial, buckets, RebalanceGoals{});
  ASSERT_TRUE(mixed.ok());
  EXPECT_LE(Spread(ReplicaCounts(Apply(buckets, *mixed)), 4), 1);
}

TEST(RebalancePlanTest, BalancingNeverReducesTheRackSpread) {
  // Racks a, b, c with one server each plus a fourth server on rack c. RF-3 buckets span all
  // three racks; the new server may only take replicas from server 2 (same rack).
  std::vector<PlannerBucket> buckets;
  AddTable(buckets, 1, 6, 3, 3);
  auto plan = PlanRebalance(Servers(4, {"a", "b", "c", "c"}), buckets, RebalanceGoals{});
  ASSERT_TRUE(plan.ok());
  ExpectWellFormed(buckets, *plan);
  std::map<int32_t, std::string> rack = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "c"}};
  for (const auto& b : Apply(buckets, *plan)) {
    std::set<std::string> racks;
    for (ServerId r : b.replicas) racks.insert(rack[r.value()]);
    EXPECT_EQ(racks.size(), 3u) << b.bucket.ToString();
  }
  auto counts = ReplicaCounts(Apply(buckets, *plan));
  EXPECT_EQ(counts[2] + counts[3], 6);
  EXPECT_LE(std::abs(counts[2] - counts[3]), 1);
}

TEST(RebalancePlanTest, LeavingAndDeadServersLoseTheirReplicas) {
  std::vector<PlannerBucket> buckets;
  AddTable(buckets, 1, 8, 2, 4);
  // Server 3 is leaving, server 2 is not live at all (absent).
  std::vector<PlannerServer> servers = Servers(4);
  servers[3].leaving = true;
  servers.erase(servers.begin() + 2);
  auto plan = PlanRebalance(servers, buckets, RebalanceGoals{});
  ASSERT_TRUE(plan.ok());
  ExpectWellFormed(buckets, *plan);
  auto after = Apply(buckets, *plan);
  for (const auto& b : after) {
    if (b.leader == ServerId(2)) continue;  // its buckets have no live leader: left alone
    for (ServerId r : b.replicas) {
      EXPECT_NE(r, ServerId(3)) << b.bucket.ToString();
      EXPECT_NE(r, ServerId(2)) << b.bucket.ToString();
    }
    EXPECT_TRUE(b.leader == ServerId(0) || b.leader == ServerId(1)) << b.bucket.ToString();
  }
  // Every server leaving: nothing can take the replicas.
  for (auto& s : servers) s.leaving = true;
  auto none = PlanRebalance(servers, buckets, RebalanceGoals{});
  EXPECT_EQ(none.status().code(), ErrorCode::kRebalanceFailure);
}

TEST(RebalancePlanTest, OfflineBucketsAreLeftAlone) {
  std::vector<PlannerBucket> buckets;
  AddTable(buckets, 1, 6, 1, 3);
  for (auto& b : buckets) b.leader = ServerId(-1);
  auto plan = PlanRebalance(Servers(4), buckets, RebalanceGoals{});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->empty());
}

TEST(RebalancePlanTest, GoalsFromTheWire) {
  auto all = RebalanceGoals::FromWire({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->rack_aware && all->replica_distribution && all->leader_distribution);
  auto some = RebalanceGoals::FromWire({1});
  ASSERT_TRUE(some.ok());
  EXPECT_TRUE(some->leader_distribution);
  EXPECT_FALSE(some->replica_distribution || some->rack_aware);
  EXPECT_EQ(RebalanceGoals::FromWire({7}).status().code(), ErrorCode::kRebalanceFailure);
}

TEST(RebalanceTaskJsonTest, ReadsFlussJsonAndWritesItBack) {
  // RebalanceTaskJsonSerdeTest's document (Fluss 0.9.1).
  std::string fluss =
      R"({"version":1,"rebalance_id":"rebalance-task-21jd","rebalance_status":0,"rebalance_plan":)"
      R"([{"table_id":0,"buckets":)"
      R"([{"bucket_id":1,"original_leader":1,"new_leader":1,"origin_replicas":[0,1,2],"new_replicas":[1,2,3]},)"
      R"({"bucket_id":0,"original_leader":0,"new_leader":3,"origin_replicas":[0,1,2],"new_replicas":[3,4,5]}]},)"
      R"({"table_id":1,"partition_id":0,"buckets":[)"
      R"({"bucket_id":0,"original_leader":0,"new_leader":3,"origin_replicas":[0,1,2],"new_replicas":[3,4,5]},)"
      R"({"bucket_id":1,"original_leader":1,"new_leader":1,"origin_replicas":[0,1,2],"new_replicas":[1,2,3]}]},)"
      R"({"table_id":1,"partition_id":1,"buckets":[)"
      R"({"bucket_id":0,"original_leader":0,"new_leader":3,"origin_replicas":[0,1,2],"new_replicas":[3,4,5]}]}]})";
  auto task = RebalanceTaskFromJson(fluss);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->rebalance_id, "rebalance-task-21jd");
  EXPECT_EQ(task->status, RebalanceStatus::kNotStarted);
  ASSERT_EQ(task->plan.size(), 5u);
  const BucketMovePlan& first = task->plan[0];
  EXPECT_EQ(first.bucket, (TableBucket{TableId(0), std::nullopt, BucketId(1)}));
  EXPECT_EQ(first.new_replicas, (std::vector<ServerId>{ServerId(1), ServerId(2), ServerId(3)}));
  EXPECT_EQ(task->plan[4].bucket, (TableBucket{TableId(1), PartitionId(1), BucketId(0)}));

  // Written back in Fluss's layout, buckets in ascending order within each table entry.
  std::string ours = RebalanceTaskToJson(*task);
  EXPECT_EQ(
      ours,
      R"({"version":1,"rebalance_id":"rebalance-task-21jd","rebalance_status":0,"rebalance_plan":)"
      R"([{"table_id":0,"buckets":)"
      R"([{"bucket_id":0,"original_leader":0,"new_leader":3,"origin_replicas":[0,1,2],"new_replicas":[3,4,5]},)"
      R"({"bucket_id":1,"original_leader":1,"new_leader":1,"origin_replicas":[0,1,2],"new_replicas":[1,2,3]}]},)"
      R"({"table_id":1,"partition_id":0,"buckets":[)"
      R"({"bucket_id":0,"original_leader":0,"new_leader":3,"origin_replicas":[0,1,2],"new_replicas":[3,4,5]},)"
      R"({"bucket_id":1,"original_leader":1,"new_leader":1,"origin_replicas":[0,1,2],"new_replicas":[1,2,3]}]},)"
      R"({"table_id":1,"partition_id":1,"buckets":[)"
      R"({"bucket_id":0,"original_leader":0,"new_leader":3,"origin_replicas":[0,1,2],"new_replicas":[3,4,5]}]}]})");
  auto again = RebalanceTaskFromJson(ours);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->plan.size(), 5u);

  EXPECT_EQ(RebalanceTaskFromJson("{}").status().code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(RebalanceTaskFromJson("not json").status().code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(
      RebalanceTaskFromJson(R"({"rebalance_id":"x","rebalance_status":9,"rebalance_plan":[]})")
          .status()
          .code(),
      ErrorCode::kCorruptMessage);
}

}  // namespace
}  // namespace strom::coordinator
