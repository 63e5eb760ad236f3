#include "coordinator/table_assignment_utils.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace strom::coordinator {
namespace {

std::vector<ServerId> Ids(std::initializer_list<int32_t> ids) {
  std::vector<ServerId> out;
  for (int32_t id : ids) out.push_back(ServerId(id));
  return out;
}

std::vector<PlacementServer> Plain(int32_t n) {
  std::vector<PlacementServer> out;
  for (int32_t i = 0; i < n; ++i) out.push_back({ServerId(i), std::nullopt});
  return out;
}

TEST(TableAssignmentUtilsTest, RackUnawareMatchesFlussExample) {
  // The table of Fluss's TableAssignmentUtils comment: 5 servers, 10 buckets, factor 3,
  // start 0, shift 0.
  auto assignment = GenerateAssignment(10, 3, Plain(5), 0, 0);
  ASSERT_TRUE(assignment.ok());
  EXPECT_EQ(assignment->buckets.at(BucketId(0)), Ids({0, 1, 2}));
  EXPECT_EQ(assignment->buckets.at(BucketId(4)), Ids({4, 0, 1}));
  // After a full round the followers shift by one more.
  EXPECT_EQ(assignment->buckets.at(BucketId(5)), Ids({0, 2, 3}));
  EXPECT_EQ(assignment->buckets.at(BucketId(9)), Ids({4, 1, 2}));
  // Every bucket has 3 distinct replicas and leaders spread evenly.
  std::map<ServerId, int> leaders;
  for (const auto& [bucket, replicas] : assignment->buckets) {
    EXPECT_EQ(std::set<ServerId>(replicas.begin(), replicas.end()).size(), 3u);
    ++leaders[replicas.front()];
  }
  for (const auto& [server, count] : leaders) EXPECT_EQ(count, 2) << server;
}

TEST(TableAssignmentUtilsTest, RackAwareMatchesFlussExample) {
  std::vector<PlacementServer> servers = {{ServerId(0), "rack1"}, {ServerId(1), "rack3"},
                                          {ServerId(2), "rack3"}, {ServerId(3), "rack2"},
                                          {ServerId(4), "rack2"}, {ServerId(5), "rack1"}};
  EXPECT_EQ(RackAlternatedServers(servers), Ids({0, 3, 1, 5, 4, 2}));
  auto assignment = GenerateAssignment(7, 3, servers, 0, 0);
  ASSERT_TRUE(assignment.ok());
  EXPECT_EQ(assignment->buckets.at(BucketId(0)), Ids({0, 3, 1}));
  EXPECT_EQ(assignment->buckets.at(BucketId(1)), Ids({3, 1, 5}));
  EXPECT_EQ(assignment->buckets.at(BucketId(5)), Ids({2, 0, 3}));
  EXPECT_EQ(assignment->buckets.at(BucketId(6)), Ids({0, 4, 2}));
  // Three racks, factor three: every bucket has one replica per rack.
  std::map<ServerId, std::string> rack;
  for (const auto& s : servers) rack[s.id] = *s.rack;
  for (const auto& [bucket, replicas] : assignment->buckets) {
    std::set<std::string> racks;
    for (ServerId r : replicas) racks.insert(rack[r]);
    EXPECT_EQ(racks.size(), 3u) << bucket;
  }
}

TEST(TableAssignmentUtilsTest, Refusals) {
  auto too_few = GenerateAssignment(3, 3, Plain(2));
  ASSERT_FALSE(too_few.ok());
  EXPECT_EQ(too_few.status().code(), ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(too_few.status().message(),
            "Replication factor: 3 larger than available tablet servers: 2.");
  EXPECT_EQ(GenerateAssignment(3, 1, {}).status().code(), ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(GenerateAssignment(3, 0, Plain(2)).status().code(),
            ErrorCode::kInvalidReplicationFactor);
  EXPECT_FALSE(GenerateAssignment(0, 1, Plain(2)).ok());
  std::vector<PlacementServer> mixed = {{ServerId(0), "r"}, {ServerId(1), std::nullopt}};
  EXPECT_EQ(GenerateAssignment(2, 2, mixed).status().code(), ErrorCode::kInvalidServerRackInfo);
  // A single server with factor 1 works (no follower shift over n - 1 = 0 servers).
  auto single = GenerateAssignment(4, 1, Plain(1));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->buckets.at(BucketId(3)), Ids({0}));
}

}  // namespace
}  // namespace strom::coordinator
