#include "zk/zk_metadata_store.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include "metadata/testing/metadata_store_conformance.h"
#include "metadata/znode_json.h"
#include "testutil/run_task.h"
#include "zk/testing/shared_zookeeper.h"

namespace strom::zk {
namespace {

using metadata::testing::MetadataStoreConformanceTest;
using metadata::testing::StoreFactory;
using metadata::testing::StoreHarness;
using testing::SharedZooKeeper;
using testing::UniqueRoot;
using testutil::RunTask;

ZkClientOptions TestOptions() {
  ZkClientOptions options;
  options.connect_string = SharedZooKeeper()->address();
  options.session_timeout = std::chrono::seconds(8);
  options.connection_timeout = std::chrono::seconds(20);
  return options;
}

/// Every Open() connects a new client (a new session) to the same root, so what a store
/// reads back was durable in ZooKeeper, not cached in a process.
class ZkHarness final : public StoreHarness {
 public:
  ZkHarness() : root_(UniqueRoot("strom-conformance")) {}
  ~ZkHarness() override {
    for (auto& client : clients_) RunTask(io_, client->Close());
  }

  std::unique_ptr<metadata::MetadataStore> Open() override {
    if (SharedZooKeeper() == nullptr) return nullptr;
    auto client = RunTask(io_, ZkClient::Connect(io_.get_executor(), TestOptions()));
    if (!client.ok()) {
      ADD_FAILURE() << client.status().ToString();
      return nullptr;
    }
    clients_.push_back(std::move(client).value());
    auto store = RunTask(io_, ZkMetadataStore::Open(*clients_.back(), root_));
    if (!store.ok()) {
      ADD_FAILURE() << store.status().ToString();
      return nullptr;
    }
    return std::move(store).value();
  }
  asio::io_context& io() override { return io_; }

 private:
  asio::io_context io_;
  std::string root_;
  std::vector<std::unique_ptr<ZkClient>> clients_;
};

INSTANTIATE_TEST_SUITE_P(ZooKeeper, MetadataStoreConformanceTest,
                         ::testing::Values(StoreFactory{
                             "ZooKeeper", [] { return std::make_unique<ZkHarness>(); }}),
                         metadata::testing::StoreFactoryName);

/// Reads the znodes a store writes, byte for byte.
class ZkLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(SharedZooKeeper(), nullptr);
    root_ = UniqueRoot("fluss-layout");
    auto client = Run(ZkClient::Connect(io_.get_executor(), TestOptions()));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    auto store = Run(ZkMetadataStore::Open(*client_, root_));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    if (client_) Run(client_->Close());
  }

  template <typename T>
  T Run(Task<T> task) {
    return RunTask(io_, std::move(task));
  }
  std::string Raw(const std::string& relative) {
    auto node = Run(client_->Get(root_ + relative));
    EXPECT_TRUE(node.ok()) << relative << ": " << node.status().ToString();
    return node.ok() ? node->data : std::string();
  }

  asio::io_context io_;
  std::string root_;
  std::unique_ptr<ZkClient> client_;
  std::unique_ptr<ZkMetadataStore> store_;
};

TEST_F(ZkLayoutTest, NodesHoldFlussJsonAtFlussPaths) {
  metadata::DatabaseRegistration db{
      record::DatabaseDescriptor("my db", {{"owner", "ops"}}), TimestampMs(1700000000000),
      TimestampMs(1700000000001)};
  ASSERT_TRUE(Run(store_->CreateDatabase("sales", db)).ok());
  EXPECT_EQ(Raw("/metadata/databases/sales"),
            R"({"version":1,"comment":"my db","custom_properties":{"owner":"ops"},)"
            R"("created_time":1700000000000,"modified_time":1700000000001})");

  auto id = Run(store_->NextTableId());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, TableId(0)) << "Fluss's first table id is 0";
  EXPECT_EQ(Raw("/metadata/table_seqid"), std::string("\0\0\0\0\0\0\0\1", 8));

  metadata::TableRegistration table;
  table.table_id = *id;
  table.bucket_keys = {"id"};
  table.bucket_count = 2;
  table.properties = {{"table.replication.factor", "3"}};
  table.created_time = TimestampMs(5);
  table.modified_time = TimestampMs(5);
  auto schema = record::Schema::Builder()
                    .AddColumn("id", record::DataType::Int().NotNull())
                    .AddColumn("v", record::DataType::String())
                    .PrimaryKey({"id"})
                    .Build();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  metadata::TableAssignment assignment;
  assignment.buckets[BucketId(0)] = {ServerId(1), ServerId(4), ServerId(5)};
  assignment.buckets[BucketId(1)] = {ServerId(2), ServerId(3)};
  ASSERT_TRUE(Run(store_->CreateTable({"sales", "orders"}, table, *schema, assignment)).ok());

  EXPECT_EQ(Raw("/metadata/databases/sales/tables/orders"),
            R"({"version":1,"table_id":0,"bucket_key":["id"],"bucket_count":2,)"
            R"("properties":{"table.replication.factor":"3"},"custom_properties":{},)"
            R"("created_time":5,"modified_time":5})");
  EXPECT_EQ(Raw("/metadata/databases/sales/tables/orders/schemas/1"),
            R"({"version":1,"columns":[{"name":"id","data_type":{"type":"INTEGER","nullable":false},"id":0},)"
            R"({"name":"v","data_type":{"type":"STRING"},"id":1}],"primary_key":["id"],)"
            R"("highest_field_id":1})");
  EXPECT_EQ(Raw("/tabletservers/tables/0"), R"({"version":1,"buckets":{"0":[1,4,5],"1":[2,3]}})");

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Run(store_->NextWriterId()).ok());
  EXPECT_EQ(Raw("/metadata/writer_id"), std::string("\0\0\0\0\0\0\0\3", 8));
  ASSERT_TRUE(Run(store_->NextPartitionId()).ok());
  EXPECT_EQ(Raw("/metadata/partition_seqid"), std::string("\0\0\0\0\0\0\0\1", 8));
}

TEST_F(ZkLayoutTest, ReadsWhatAFlussCoordinatorWrites) {
  // Fluss writes the schema first (creating an empty table node), then the assignment and
  // the table data, then increments counters with Curator; replay that by hand.
  const std::string t = root_ + "/metadata/databases/db/tables/t";
  ASSERT_TRUE(Run(client_->EnsurePath(root_ + "/metadata/databases/db")).ok());
  ASSERT_TRUE(Run(client_->Set(root_ + "/metadata/databases/db",
                               R"({"version":1,"custom_properties":{},"created_time":1,)"
                               R"("modified_time":1})"))
                  .ok());
  ASSERT_TRUE(Run(client_->EnsurePath(t + "/schemas")).ok());
  ASSERT_TRUE(Run(client_->Create(t + "/schemas/1",
                                  R"({"version":1,"columns":[{"name":"a","data_type":)"
                                  R"({"type":"BIGINT"},"id":0}],"highest_field_id":0})",
                                  CreateMode::kPersistent))
                  .ok());
  // Half-created: the table node has no data yet.
  EXPECT_FALSE(Run(store_->GetTable({"db", "t"}))->has_value());
  EXPECT_TRUE(Run(store_->ListTables("db"))->empty());

  ASSERT_TRUE(Run(client_->Set(t, R"({"version":1,"table_id":41,"bucket_count":1,)"
                                  R"("properties":{},"custom_properties":{},)"
                                  R"("created_time":9,"modified_time":9})"))
                  .ok());
  ASSERT_TRUE(Run(client_->EnsurePath(root_ + "/tabletservers/tables/41")).ok());
  ASSERT_TRUE(
      Run(client_->Set(root_ + "/tabletservers/tables/41", R"({"version":1,"buckets":{"0":[0]}})"))
          .ok());
  // A lake-table node without assignment data reads as "no assignment".
  ASSERT_TRUE(Run(client_->EnsurePath(root_ + "/tabletservers/tables/42/laketable")).ok());
  ASSERT_TRUE(Run(client_->Create(root_ + "/metadata/table_seqid",
                                  std::string("\0\0\0\0\0\0\0\x2a", 8), CreateMode::kPersistent))
                  .ok());

  auto info = Run(metadata::LoadTableInfo(*store_, {"db", "t"}));
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  EXPECT_EQ((*info)->table_id, TableId(41));
  EXPECT_EQ((*info)->schema().columns().size(), 1u);
  EXPECT_EQ(*Run(store_->ListTables("db")), std::vector<std::string>{"t"});
  auto assignments = Run(store_->ListTableAssignments());
  ASSERT_TRUE(assignments.ok());
  ASSERT_EQ(assignments->size(), 1u);
  EXPECT_EQ(assignments->begin()->first, TableId(41));
  EXPECT_EQ(*Run(store_->NextTableId()), TableId(42));

  // A table whose creation never finished is replaced by a new create.
  const std::string u = root_ + "/metadata/databases/db/tables/u";
  ASSERT_TRUE(Run(client_->EnsurePath(u + "/schemas/1")).ok());
  auto schema = record::Schema::Builder().AddColumn("a", record::DataType::BigInt()).Build();
  ASSERT_TRUE(schema.ok());
  metadata::TableRegistration reg;
  reg.table_id = TableId(43);
  reg.bucket_count = 1;
  ASSERT_TRUE(Run(store_->CreateTable({"db", "u"}, reg, *schema, std::nullopt)).ok());
  EXPECT_TRUE(Run(store_->GetTable({"db", "u"}))->has_value());
}

TEST_F(ZkLayoutTest, CorruptNodesAreReportedNotFatal) {
  ASSERT_TRUE(Run(client_->EnsurePath(root_ + "/metadata/databases/bad")).ok());
  ASSERT_TRUE(Run(client_->Set(root_ + "/metadata/databases/bad", "{not json")).ok());
  auto db = Run(store_->GetDatabase("bad"));
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), ErrorCode::kCorruptMessage);
  ASSERT_TRUE(Run(client_->Create(root_ + "/metadata/writer_id", "abc", CreateMode::kPersistent))
                  .ok());
  EXPECT_EQ(Run(store_->NextWriterId()).status().code(), ErrorCode::kCorruptMessage);
  EXPECT_TRUE(Run(store_->ListDatabases()).ok()) << "still serving";
}

TEST(ZkCounterTest, EncodingIsBigEndianAndEmptyIsZero) {
  EXPECT_EQ(EncodeCounter(0x0102030405060708), std::string("\1\2\3\4\5\6\7\10", 8));
  EXPECT_EQ(*DecodeCounter(EncodeCounter(123456789012345)), 123456789012345);
  EXPECT_EQ(*DecodeCounter(""), 0);
  EXPECT_EQ(DecodeCounter("abc").status().code(), ErrorCode::kCorruptMessage);
}

}  // namespace
}  // namespace strom::zk
