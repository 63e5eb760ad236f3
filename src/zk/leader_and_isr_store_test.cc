#include "zk/leader_and_isr_store.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include "testutil/run_task.h"
#include "zk/testing/shared_zookeeper.h"
#include "zk/testing/zookeeper_server.h"

namespace strom::zk {
namespace {

using replica::LeaderAndIsr;
using testing::SharedZooKeeper;
using testing::UniqueRoot;
using testutil::RunTask;

LeaderAndIsr Sample() {
  return LeaderAndIsr{ServerId(1), LeaderEpoch(10), {ServerId(1), ServerId(2), ServerId(3)},
                      CoordinatorEpoch(100), BucketEpoch(1000)};
}

TEST(LeaderAndIsrJsonTest, MatchesFluss) {
  // The document of Fluss's LeaderAndIsrJsonSerdeTest.
  EXPECT_EQ(LeaderAndIsrToJson(Sample()),
            R"({"version":1,"leader":1,"leader_epoch":10,"isr":[1,2,3],)"
            R"("coordinator_epoch":100,"bucket_epoch":1000})");
  auto back = LeaderAndIsrFromJson(LeaderAndIsrToJson(Sample()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Sample());
  // Key order does not matter; an offline bucket has leader -1.
  auto offline = LeaderAndIsrFromJson(
      R"({"isr":[],"leader":-1,"version":1,"bucket_epoch":0,"leader_epoch":3,"coordinator_epoch":0})");
  ASSERT_TRUE(offline.ok());
  EXPECT_EQ(offline->leader, ServerId(-1));
  EXPECT_TRUE(offline->isr.empty());
}

TEST(LeaderAndIsrJsonTest, BadDocumentsAreErrors) {
  for (const char* bad :
       {"", "[]", "{", R"({"version":2,"leader":1,"leader_epoch":1,"isr":[],"coordinator_epoch":0,"bucket_epoch":0})",
        R"({"version":1,"leader":"1","leader_epoch":1,"isr":[],"coordinator_epoch":0,"bucket_epoch":0})",
        R"({"version":1,"leader":1,"leader_epoch":1,"isr":["a"],"coordinator_epoch":0,"bucket_epoch":0})",
        R"({"version":1,"leader":1,"leader_epoch":1,"coordinator_epoch":0,"bucket_epoch":0})",
        R"({"version":1,"leader":99999999999,"leader_epoch":1,"isr":[],"coordinator_epoch":0,"bucket_epoch":0})"}) {
    auto parsed = LeaderAndIsrFromJson(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruptMessage) << bad;
    }
  }
}

TEST(LeaderAndIsrStoreTest, CreateUpdateReadBack) {
  ASSERT_NE(SharedZooKeeper(), nullptr);
  asio::io_context io;
  ZkClientOptions options;
  options.connect_string = SharedZooKeeper()->address();
  options.session_timeout = std::chrono::seconds(8);
  auto client = RunTask(io, ZkClient::Connect(io.get_executor(), options));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ZkPaths paths(UniqueRoot("fluss-lai"));
  LeaderAndIsrStore store(**client, paths);
  metadata::TableBucket b0{TableId(7), std::nullopt, BucketId(0)};
  metadata::TableBucket b1{TableId(7), std::nullopt, BucketId(1)};

  auto none = RunTask(io, store.Get(b0));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(RunTask(io, store.Create(b0, Sample())).ok());
  // A repeated create of the same value is our own success; another value is refused.
  EXPECT_TRUE(RunTask(io, store.Create(b0, Sample())).ok());
  LeaderAndIsr other = Sample();
  other.leader = ServerId(2);
  EXPECT_FALSE(RunTask(io, store.Create(b0, other)).ok());
  ASSERT_TRUE(RunTask(io, store.Create(b1, other)).ok());

  // Fluss's path and bytes.
  auto raw = RunTask(io, (*client)->Get(paths.Root() + "/tabletservers/tables/7/buckets/0/leader_isr"));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->data, LeaderAndIsrToJson(Sample()));

  auto read = RunTask(io, store.Get(b0));
  ASSERT_TRUE(read.ok() && read->has_value());
  LeaderAndIsr next = Sample();
  next.isr = {ServerId(1)};
  next.bucket_epoch = BucketEpoch(1001);
  auto updated = RunTask(io, store.Update(b0, next, (*read)->version));
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  // A stale version loses the compare-and-set.
  EXPECT_FALSE(RunTask(io, store.Update(b0, Sample(), (*read)->version)).ok());

  auto table = RunTask(io, store.GetTable(TableId(7)));
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->size(), 2u);
  EXPECT_EQ(table->at(BucketId(0)).value, next);
  EXPECT_EQ(table->at(BucketId(1)).value, other);
  auto missing = RunTask(io, store.GetTable(TableId(8)));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  RunTask(io, (*client)->Close());
}

}  // namespace
}  // namespace strom::zk
