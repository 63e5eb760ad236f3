// The distributed cluster as separate processes on loopback (cluster_harness.h): ZooKeeper, a
// coordinator (and a standby), three tablet servers; tables with replication factor 3 created
// and used through the C++ client; tablet servers and the active coordinator killed with
// SIGKILL and restarted.

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_harness.h"
#include "proto/FlussApi.pb.h"
#include "rpc/connection.h"
#include "strom/client.h"
#include "testutil/run_task.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// One bucket as a Metadata answer shows it.
struct BucketView {
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  friend bool operator==(const BucketView&, const BucketView&) = default;
};

/// What one server's Metadata answer says about the cluster and one table.
struct MetadataView {
  int32_t coordinator_port = -1;
  std::set<int32_t> tablet_servers;
  std::map<int32_t, BucketView> buckets;
};

class ClusterProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    testing::ClusterHarness::Options options;
    options.server_binary = STROM_SERVER_BIN;
    options.dir = fs::temp_directory_path() /
                  ("strom-cluster-it-" + std::to_string(::getpid()) + "-" + info->name());
    dir_ = options.dir;
    cluster_ = std::make_unique<testing::ClusterHarness>(options);
    std::string why;
    ASSERT_TRUE(cluster_->Start(&why)) << why;
    // Every tablet server has heard from the coordinator (clients bootstrap from them).
    ASSERT_TRUE(Eventually([&] {
      for (int ts : cluster_->running_tablets()) {
        auto view = Metadata(cluster_->tablet(ts)->port(), std::nullopt);
        if (!view || view->tablet_servers.size() != 3 ||
            view->coordinator_port != cluster_->coordinator(0)->port()) {
          return false;
        }
      }
      return true;
    })) << "the tablet servers did not learn the cluster";
  }

  void TearDown() override {
    connection_.reset();
    cluster_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  Connection& Conn() {
    if (connection_ == nullptr) {
      ClientConfig config;
      config.bootstrap_servers = cluster_->bootstrap();
      config.request_timeout = 10s;
      auto conn = Connection::Create(config);
      EXPECT_TRUE(conn.ok()) << conn.status().ToString();
      if (conn.ok()) connection_ = std::move(*conn);
    }
    return *connection_;
  }

  /// The Metadata answer of the server at `port` for `table` (all tables: none asked).
  std::optional<MetadataView> Metadata(uint16_t port, const std::optional<TablePath>& table) {
    asio::io_context io;
    auto conn = testutil::RunTask(io, rpc::Connection::Connect(io.get_executor(), "127.0.0.1",
                                                               port, rpc::ConnectionOptions()));
    if (!conn.ok()) return std::nullopt;
    proto::MetadataRequest req;
    if (table) {
      auto* path = req.add_table_path();
      path->set_database_name(table->database);
      path->set_table_name(table->table);
    }
    auto resp = testutil::RunTask(io, (*conn)->Call<proto::ApiKey::kGetMetadata>(req, 5s));
    testutil::RunTask(io, (*conn)->CloseAndWait());
    if (!resp.ok()) return std::nullopt;
    MetadataView view;
    if (resp->has_coordinator_server()) view.coordinator_port = resp->coordinator_server().port();
    for (const auto& node : resp->tablet_servers()) view.tablet_servers.insert(node.node_id());
    for (const auto& table_md : resp->table_metadata()) {
      for (const auto& b : table_md.bucket_metadata()) {
        BucketView bucket;
        if (b.has_leader_id()) bucket.leader = b.leader_id();
        if (b.has_leader_epoch()) bucket.leader_epoch = b.leader_epoch();
        bucket.replicas.assign(b.replica_id().begin(), b.replica_id().end());
        view.buckets[b.bucket_id()] = bucket;
      }
    }
    return view;
  }

  /// Polls until `done` holds (bounded); true when it did.
  static bool Eventually(const std::function<bool()>& done, std::chrono::seconds bound = 40s) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return done();
  }

  TablePath CreateReplicatedTable(const std::string& db, const std::string& name, int buckets) {
    auto admin = Conn().GetAdmin();
    Status db_created = admin->CreateDatabase(db, DatabaseDescriptor(), true);
    EXPECT_TRUE(db_created.ok()) << db_created.ToString();
    TableDescriptor::Parts parts;
    parts.schema = *Schema::Builder()
                        .AddColumn("id", DataType::Int().NotNull())
                        .AddColumn("name", DataType::String())
                        .Build();
    parts.distribution = TableDistribution{buckets, {"id"}};
    parts.properties = {{"table.replication.factor", "3"}};
    auto descriptor = TableDescriptor::Make(std::move(parts));
    EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
    TablePath path(db, name);
    Status created = admin->CreateTable(path, *descriptor);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return path;
  }

  /// Appends rows [from, to) and flushes.
  void Produce(const TablePath& path, int32_t from, int32_t to) {
    auto table = Conn().GetTable(path);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    auto writer = (*table)->NewAppend().CreateWriter();
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (int32_t id = from; id < to; ++id) {
      GenericRow row;
      row.push_back(Datum(id));
      row.push_back(Datum("row-" + std::to_string(id)));
      ASSERT_TRUE((*writer)->Append(row).ok());
    }
    Status flushed = (*writer)->Flush();
    ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  }

  /// Reads every row of the table from the start (up to `expected`, bounded) and returns
  /// the ids seen.
  std::multiset<int32_t> ReadIds(const TablePath& path, size_t expected) {
    std::multiset<int32_t> ids;
    auto table = Conn().GetTable(path);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    if (!table.ok()) return ids;
    auto scanner = (*table)->NewScan().CreateLogScanner();
    EXPECT_TRUE(scanner.ok());
    if (!scanner.ok()) return ids;
    EXPECT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (ids.size() < expected && std::chrono::steady_clock::now() < deadline) {
      auto records = (*scanner)->Poll(1s);
      if (!records.ok()) {
        EXPECT_TRUE(records.status().IsRetriable()) << records.status().ToString();
        continue;
      }
      for (const ScanRecord& r : *records) ids.insert(r.row[0].as<int32_t>());
    }
    return ids;
  }

  /// Every server (coordinator and the running tablet servers) reports the same buckets,
  /// each with a leader among its three replicas.
  bool AllServersAgree(const TablePath& path, int buckets, MetadataView* agreed) {
    auto reference = Metadata(cluster_->coordinator(active_coordinator_)->port(), path);
    if (!reference || static_cast<int>(reference->buckets.size()) != buckets) return false;
    for (const auto& [id, b] : reference->buckets) {
      if (b.leader < 0 || b.replicas.size() != 3) return false;
    }
    for (int ts : cluster_->running_tablets()) {
      auto view = Metadata(cluster_->tablet(ts)->port(), path);
      if (!view || view->buckets != reference->buckets ||
          view->tablet_servers != reference->tablet_servers ||
          view->coordinator_port != reference->coordinator_port) {
        return false;
      }
    }
    *agreed = *reference;
    return true;
  }

  fs::path dir_;
  std::unique_ptr<testing::ClusterHarness> cluster_;
  std::unique_ptr<Connection> connection_;
  int active_coordinator_ = 0;
};

TEST_F(ClusterProcessTest, ReplicatedTableHasTheSameLeadersOnEveryServer) {
  TablePath path = CreateReplicatedTable("db1", "events", 6);
  MetadataView view;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 6, &view); }))
      << "servers disagree on the table's leaders";
  EXPECT_EQ(view.tablet_servers, (std::set<int32_t>{0, 1, 2}));
  EXPECT_EQ(view.coordinator_port, cluster_->coordinator(0)->port());
  std::map<int32_t, int> leaders;
  for (const auto& [bucket, b] : view.buckets) {
    EXPECT_EQ(std::set<int32_t>(b.replicas.begin(), b.replicas.end()),
              (std::set<int32_t>{0, 1, 2}));
    EXPECT_EQ(b.leader, b.replicas.front()) << "the first live replica leads";
    EXPECT_EQ(b.leader_epoch, 0);
    ++leaders[b.leader];
  }
  // Round-robin placement: every server leads two of the six buckets.
  for (int ts = 0; ts < 3; ++ts) EXPECT_EQ(leaders[ts], 2) << ts;

  // More replicas than live servers: Fluss's error.
  TableDescriptor::Parts parts;
  parts.schema = *Schema::Builder().AddColumn("id", DataType::Int()).Build();
  parts.distribution = TableDistribution{1, {}};
  parts.properties = {{"table.replication.factor", "4"}};
  Status refused = Conn().GetAdmin()->CreateTable(TablePath("db1", "too_wide"),
                                                  *TableDescriptor::Make(std::move(parts)));
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidReplicationFactor) << refused.ToString();
}

TEST_F(ClusterProcessTest, ProduceAndReadBack) {
  TablePath path = CreateReplicatedTable("db1", "rows", 3);
  MetadataView view;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &view); }));
  Produce(path, 0, 3000);
  std::multiset<int32_t> ids = ReadIds(path, 3000);
  ASSERT_EQ(ids.size(), 3000u);
  for (int32_t id = 0; id < 3000; ++id) EXPECT_EQ(ids.count(id), 1u) << id;
}

TEST_F(ClusterProcessTest, KilledLeaderIsReplacedFromTheIsrAndRejoins) {
  TablePath path = CreateReplicatedTable("db1", "failover", 3);
  MetadataView before;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &before); }));
  Produce(path, 0, 1000);

  int victim = before.buckets.at(0).leader;
  cluster_->tablet(victim)->Kill();
  uint16_t coordinator_port = cluster_->coordinator(0)->port();
  MetadataView after;
  ASSERT_TRUE(Eventually([&] {
    auto view = Metadata(coordinator_port, path);
    if (!view || view->tablet_servers.count(victim) != 0) return false;
    for (const auto& [bucket, b] : view->buckets) {
      if (b.leader == victim || b.leader < 0) return false;
    }
    after = *view;
    return true;
  })) << "no new leader after tablet server " << victim << " died";
  for (const auto& [bucket, b] : after.buckets) {
    const BucketView& old = before.buckets.at(bucket);
    if (old.leader == victim) {
      EXPECT_GT(b.leader_epoch, old.leader_epoch) << "bucket " << bucket;
      EXPECT_NE(b.leader, victim);
    } else {
      EXPECT_EQ(b.leader, old.leader) << "bucket " << bucket;
      EXPECT_EQ(b.leader_epoch, old.leader_epoch) << "bucket " << bucket;
    }
  }
  // The surviving tablet servers agree with the coordinator.
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &after); }));

  // Clients carry on against the new leaders (retriable errors only, hidden by the client).
  Produce(path, 1000, 2000);
  std::multiset<int32_t> ids = ReadIds(path, 2000);
  for (int32_t id = 1000; id < 2000; ++id) EXPECT_EQ(ids.count(id), 1u) << id;

  // Restarted, it rejoins: listed again everywhere, a follower of its buckets.
  ASSERT_TRUE(cluster_->StartTablet(victim));
  ASSERT_TRUE(Eventually([&] {
    MetadataView view;
    return AllServersAgree(path, 3, &view) && view.tablet_servers.count(victim) == 1;
  })) << "tablet server " << victim << " did not rejoin";
}

TEST_F(ClusterProcessTest, StandbyCoordinatorTakesOver) {
  int standby = cluster_->StartCoordinator();
  ASSERT_GE(standby, 0);
  TablePath path = CreateReplicatedTable("db1", "before", 2);
  MetadataView view;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 2, &view); }));

  // The standby refuses DDL while the active one lives.
  {
    asio::io_context io;
    auto conn = testutil::RunTask(
        io, rpc::Connection::Connect(io.get_executor(), "127.0.0.1",
                                     cluster_->coordinator(standby)->port(),
                                     rpc::ConnectionOptions()));
    ASSERT_TRUE(conn.ok());
    proto::CreateDatabaseRequest req;
    req.set_database_name("refused");
    req.set_ignore_if_exists(true);
    auto resp = testutil::RunTask(io, (*conn)->Call<proto::ApiKey::kCreateDatabase>(req, 5s));
    EXPECT_EQ(resp.status().code(), ErrorCode::kNotCoordinatorLeader) << resp.status().ToString();
    testutil::RunTask(io, (*conn)->CloseAndWait());
  }

  cluster_->coordinator(0)->Kill();
  active_coordinator_ = standby;
  // Tablet servers learn the new coordinator; the old table keeps its leaders.
  uint16_t standby_port = cluster_->coordinator(standby)->port();
  ASSERT_TRUE(Eventually([&] {
    MetadataView now;
    return AllServersAgree(path, 2, &now) && now.coordinator_port == standby_port &&
           now.buckets == view.buckets;
  })) << "the standby did not take over";

  // DDL works through the new coordinator (a fresh client discovers it).
  connection_.reset();
  TablePath after = CreateReplicatedTable("db2", "after", 3);
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(after, 3, &view); }));
  Produce(after, 0, 500);
  EXPECT_EQ(ReadIds(after, 500).size(), 500u);
}

TEST_F(ClusterProcessTest, GracefulStopMovesLeadershipFirst) {
  TablePath path = CreateReplicatedTable("db1", "graceful", 3);
  MetadataView before;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &before); }));
  int victim = before.buckets.at(0).leader;
  // SIGTERM: ControlledShutdown first, so its buckets have other leaders before it goes.
  EXPECT_EQ(cluster_->tablet(victim)->Terminate(), 0);
  auto view = Metadata(cluster_->coordinator(0)->port(), path);
  ASSERT_TRUE(view.has_value());
  for (const auto& [bucket, b] : view->buckets) {
    EXPECT_NE(b.leader, victim) << "bucket " << bucket;
    EXPECT_GE(b.leader, 0) << "bucket " << bucket;
  }
}

}  // namespace
}  // namespace strom
