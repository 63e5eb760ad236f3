// Layout compatibility with the released Fluss 0.9.1 server: bench/peer/fluss-peer.sh starts
// ZooKeeper, a Fluss CoordinatorServer and a TabletServer on free loopback ports; DDL sent to
// the Fluss coordinator (through Strom's client) is read back from ZooKeeper by
// ZkMetadataStore, and what ZkMetadataStore writes is served by the Fluss coordinator.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "strom/client.h"
#include "testutil/run_task.h"
#include "zk/registration.h"
#include "zk/zk_metadata_store.h"

namespace strom::zk {
namespace {

namespace fs = std::filesystem;
using testutil::RunTask;

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint16_t port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class FlussLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("strom-zk-fluss-" + std::to_string(::getpid()));
    zk_port_ = FreePort();
    cs_port_ = FreePort();
    ts_port_ = FreePort();
    ASSERT_TRUE(zk_port_ && cs_port_ && ts_port_);
    ASSERT_NE(cs_port_, ts_port_);
    ASSERT_EQ(Peer("start --no-client-check"), 0) << "fluss-peer.sh start failed";
    started_ = true;

    ZkClientOptions options;
    options.connect_string = "127.0.0.1:" + std::to_string(zk_port_);
    options.session_timeout = std::chrono::seconds(10);
    auto client = RunTask(io_, ZkClient::Connect(io_.get_executor(), options));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    zk_ = std::move(client).value();
    auto store = RunTask(io_, ZkMetadataStore::Open(*zk_, "/fluss"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();

    // The peer is started without its client check (ports only): the Fluss coordinator
    // answers "not initialized yet" for a moment after its port opens. Bounded wait.
    ClientConfig config;
    config.bootstrap_servers = "127.0.0.1:" + std::to_string(cs_port_);
    Status last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (fluss_ == nullptr && std::chrono::steady_clock::now() < deadline) {
      auto conn = Connection::Create(config);
      if (conn.ok()) {
        auto servers = (*conn)->GetAdmin()->GetServerNodes();
        if (servers.ok() && servers->size() >= 2) {
          fluss_ = std::move(conn).value();
          break;
        }
        last = servers.ok() ? Status(ErrorCode::kNetwork, "no tablet server yet")
                            : servers.status();
      } else {
        last = conn.status();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_NE(fluss_, nullptr) << "Fluss did not become ready: " << last.ToString();
  }

  void TearDown() override {
    fluss_.reset();
    store_.reset();
    if (zk_) RunTask(io_, zk_->Close());
    if (started_) Peer("stop");
  }

  int Peer(const std::string& command) {
    std::string line = std::string(STROM_SOURCE_DIR) + "/bench/peer/fluss-peer.sh " + command +
                       " --data-dir " + dir_.string() + " --zk-port " + std::to_string(zk_port_) +
                       " --cs-port " + std::to_string(cs_port_) + " --ts-port " +
                       std::to_string(ts_port_) + " >" + dir_.string() + ".out 2>&1";
    int rc = std::system(line.c_str());
    if (rc != 0) {
      std::system(("tail -n 40 " + dir_.string() + ".out >&2").c_str());
    }
    return rc;
  }

  template <typename T>
  T Run(Task<T> task) {
    return RunTask(io_, std::move(task));
  }

  fs::path dir_;
  uint16_t zk_port_ = 0, cs_port_ = 0, ts_port_ = 0;
  bool started_ = false;
  asio::io_context io_;
  std::unique_ptr<ZkClient> zk_;
  std::unique_ptr<ZkMetadataStore> store_;
  std::unique_ptr<Connection> fluss_;
};

TEST_F(FlussLayoutTest, StoreReadsFlussAndFlussReadsStore) {
  auto admin = fluss_->GetAdmin();
  // --- Fluss writes, ZkMetadataStore reads.
  ASSERT_TRUE(admin->CreateDatabase("from_fluss", DatabaseDescriptor("made by Fluss", {{"k", "v"}}))
                  .ok());
  auto schema = Schema::Builder()
                    .AddColumn("id", DataType::Int().NotNull())
                    .AddColumn("name", DataType::String())
                    .PrimaryKey({"id"})
                    .Build();
  ASSERT_TRUE(schema.ok());
  TableDescriptor::Parts parts;
  parts.schema = *schema;
  parts.distribution = TableDistribution{2, {"id"}};
  auto descriptor = TableDescriptor::Make(std::move(parts));
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  ASSERT_TRUE(admin->CreateTable(TablePath("from_fluss", "users"), *descriptor).ok());
  auto fluss_info = admin->GetTableInfo(TablePath("from_fluss", "users"));
  ASSERT_TRUE(fluss_info.ok()) << fluss_info.status().ToString();

  auto dbs = Run(store_->ListDatabases());
  ASSERT_TRUE(dbs.ok()) << dbs.status().ToString();
  EXPECT_NE(std::find(dbs->begin(), dbs->end(), "from_fluss"), dbs->end());
  auto db = Run(store_->GetDatabase("from_fluss"));
  ASSERT_TRUE(db.ok() && db->has_value()) << db.status().ToString();
  EXPECT_EQ((*db)->descriptor.comment(), std::optional<std::string>("made by Fluss"));
  auto info = Run(metadata::LoadTableInfo(*store_, {"from_fluss", "users"}));
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  EXPECT_EQ((*info)->table_id, fluss_info->table_id);
  EXPECT_EQ((*info)->bucket_count(), 2);
  EXPECT_TRUE((*info)->HasPrimaryKey());
  EXPECT_EQ((*info)->schema(), fluss_info->schema());
  auto assignment = Run(store_->GetTableAssignment((*info)->table_id));
  ASSERT_TRUE(assignment.ok() && assignment->has_value()) << assignment.status().ToString();
  EXPECT_EQ((*assignment)->buckets.size(), 2u);
  EXPECT_EQ((*assignment)->buckets.at(BucketId(0)), std::vector<ServerId>{ServerId(0)});

  ZkPaths paths("/fluss");
  auto servers = Run(ReadTabletServers(*zk_, paths));
  ASSERT_TRUE(servers.ok()) << servers.status().ToString();
  ASSERT_EQ(servers->count(ServerId(0)), 1u);
  EXPECT_NE(servers->at(ServerId(0)).listeners.find(":" + std::to_string(ts_port_)),
            std::string::npos)
      << servers->at(ServerId(0)).listeners;
  auto coordinator = Run(ReadActiveCoordinator(*zk_, paths));
  ASSERT_TRUE(coordinator.ok() && coordinator->has_value()) << coordinator.status().ToString();
  EXPECT_NE((*coordinator)->listeners.find(":" + std::to_string(cs_port_)), std::string::npos);
  EXPECT_FALSE((*coordinator)->id.empty());

  // The id counters are shared with Fluss's Curator counters.
  auto next_id = Run(store_->NextTableId());
  ASSERT_TRUE(next_id.ok()) << next_id.status().ToString();
  EXPECT_GT(*next_id, fluss_info->table_id);

  // --- ZkMetadataStore writes, the Fluss coordinator serves it.
  ASSERT_TRUE(Run(store_->CreateDatabase(
                      "from_strom", {DatabaseDescriptor("made by Strom", {}), TimestampMs(1),
                                     TimestampMs(1)}))
                  .ok());
  auto strom_schema = Schema::Builder()
                          .AddColumn("k", DataType::BigInt())
                          .AddColumn("v", DataType::String())
                          .Build();
  ASSERT_TRUE(strom_schema.ok());
  metadata::TableRegistration reg;
  reg.table_id = *next_id;
  reg.bucket_count = 1;
  reg.properties = {{"table.replication.factor", "1"}};
  reg.created_time = TimestampMs(2);
  reg.modified_time = TimestampMs(2);
  metadata::TableAssignment strom_assignment;
  strom_assignment.buckets[BucketId(0)] = {ServerId(0)};
  ASSERT_TRUE(
      Run(store_->CreateTable({"from_strom", "t"}, reg, *strom_schema, strom_assignment)).ok());

  auto fluss_dbs = admin->ListDatabases();
  ASSERT_TRUE(fluss_dbs.ok());
  EXPECT_NE(std::find(fluss_dbs->begin(), fluss_dbs->end(), "from_strom"), fluss_dbs->end());
  auto fluss_db = admin->GetDatabaseInfo("from_strom");
  ASSERT_TRUE(fluss_db.ok()) << fluss_db.status().ToString();
  EXPECT_EQ(fluss_db->descriptor.comment(), std::optional<std::string>("made by Strom"));
  auto tables = admin->ListTables("from_strom");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, std::vector<std::string>{"t"});
  auto strom_info = admin->GetTableInfo(TablePath("from_strom", "t"));
  ASSERT_TRUE(strom_info.ok()) << strom_info.status().ToString();
  EXPECT_EQ(strom_info->table_id, *next_id);
  EXPECT_EQ(strom_info->schema(), *strom_schema);
  EXPECT_EQ(strom_info->num_buckets(), 1);
}

}  // namespace
}  // namespace strom::zk
