// The distributed cluster as separate processes on loopback (cluster_harness.h): ZooKeeper, a
// coordinator (and a standby), three tablet servers; tables with replication factor 3 created
// and used through the C++ client; tablet servers and the active coordinator killed with
// SIGKILL and restarted; a leader cut off from ZooKeeper (tcp_proxy.h) and reconnected; a
// killed leader replaced long before its ZooKeeper session (60 s) expires.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_harness.h"
#include "integration/cluster_test_base.h"
#include "integration/tcp_proxy.h"
#include "proto/FlussApi.pb.h"
#include "rpc/connection.h"
#include "server/server_test_util.h"
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
  std::map<int32_t, std::vector<int32_t>> isr;
};

class ClusterProcessTest : public testing::ClusterTest {
 protected:
  void SetUp() override {
    testing::ClusterHarness::Options options;
    options.session_timeout = session_timeout_;
    ASSERT_NO_FATAL_FAILURE(StartCluster("strom-cluster-it", options));
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
        view.isr[b.bucket_id()].assign(b.isr().begin(), b.isr().end());
      }
    }
    return view;
  }

  /// Polls until `done` holds (bounded); true when it did.
  static bool Eventually(const std::function<bool()>& done, std::chrono::seconds bound = 40s) {
    return testing::Eventually(done, bound);
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

  /// The servers' ZooKeeper session timeout (the harness's 3 s: a killed server's session
  /// ends quickly).
  std::string session_timeout_ = "3 s";
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

/// Fluss's default session timeout: a killed server is noticed by its closed connection.
class ClusterLongSessionTest : public ClusterProcessTest {
 protected:
  ClusterLongSessionTest() { session_timeout_ = "60 s"; }
};

TEST_F(ClusterLongSessionTest, KilledLeaderIsReplacedLongBeforeItsSessionExpires) {
  TablePath path = CreateReplicatedTable("db1", "fast", 3);
  MetadataView before;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &before); }));
  Produce(path, 0, 1000);

  int victim = before.buckets.at(0).leader;
  cluster_->tablet(victim)->Kill();
  auto killed = std::chrono::steady_clock::now();
  // Writes go on at a new leader (the client finds it through Metadata).
  Produce(path, 1000, 2000);
  auto written = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(written, 10s) << "writes resumed after "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(written).count()
                          << " ms (session timeout 60 s)";
  auto view = Metadata(cluster_->coordinator(0)->port(), path);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->tablet_servers.count(victim), 0u);
  for (const auto& [bucket, b] : view->buckets) {
    EXPECT_NE(b.leader, victim) << "bucket " << bucket;
    EXPECT_GE(b.leader, 0) << "bucket " << bucket;
  }

  // Restarted at once, within its old session's lifetime: it registers (the coordinator
  // deleted the dead process's node), rejoins and gets back into every ISR.
  auto restart = std::chrono::steady_clock::now();
  ASSERT_TRUE(cluster_->StartTablet(victim));
  EXPECT_LT(std::chrono::steady_clock::now() - restart, 20s);
  ASSERT_TRUE(Eventually([&] {
    MetadataView now;
    if (!AllServersAgree(path, 3, &now) || now.tablet_servers.count(victim) == 0) return false;
    for (const auto& [bucket, isr] : now.isr) {
      if (std::count(isr.begin(), isr.end(), victim) == 0) return false;
    }
    return true;
  })) << "tablet server " << victim << " did not rejoin every ISR";
  Produce(path, 2000, 3000);
  std::multiset<int32_t> ids = ReadIds(path, 3000);
  ASSERT_EQ(ids.size(), 3000u);
  for (int32_t id = 0; id < 3000; ++id) EXPECT_EQ(ids.count(id), 1u) << id;
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

/// ProduceLog and ListOffsets straight to one tablet server over Strom's rpc client: no
/// client retries, no metadata, every answer seen as the server gave it.
class DirectClient {
 public:
  explicit DirectClient(uint16_t port) : port_(port) {}
  ~DirectClient() {
    if (conn_ != nullptr) testutil::RunTask(io_, conn_->CloseAndWait());
  }

  /// Rows [first, first + count) as one batch to `bucket`: 0 (OK) or the bucket's error
  /// code; -2 when the server did not answer.
  int32_t Produce(int64_t table_id, int32_t bucket, int first, int count, int acks,
                  std::chrono::milliseconds timeout) {
    proto::ProduceLogRequest req;
    req.set_acks(acks);
    req.set_table_id(table_id);
    req.set_timeout_ms(static_cast<int32_t>(timeout.count()));
    auto* b = req.add_buckets_req();
    b->set_bucket_id(bucket);
    b->set_records(server::testing::ArrowBatch(first, count));
    if (!Connected()) return -2;
    auto resp = testutil::RunTask(
        io_, conn_->Call<proto::ApiKey::kProduceLog>(std::move(req), timeout + 10s));
    if (!resp.ok() || resp->buckets_resp_size() != 1) return Lost(resp.status());
    const auto& out = resp->buckets_resp(0);
    message_ = out.error_message();
    return out.has_error_code() ? out.error_code() : 0;
  }

  /// ListOffsets (latest) of `bucket`, a read that changes nothing: 0 or the error code.
  int32_t ListLatest(int64_t table_id, int32_t bucket) {
    proto::ListOffsetsRequest req;
    req.set_follower_server_id(-1);
    req.set_offset_type(1);
    req.set_table_id(table_id);
    req.add_bucket_id(bucket);
    if (!Connected()) return -2;
    auto resp = testutil::RunTask(io_, conn_->Call<proto::ApiKey::kListOffsets>(req, 10s));
    if (!resp.ok() || resp->buckets_resp_size() != 1) return Lost(resp.status());
    const auto& out = resp->buckets_resp(0);
    message_ = out.error_message();
    return out.has_error_code() ? out.error_code() : 0;
  }

  const std::string& message() const { return message_; }

 private:
  bool Connected() {
    if (conn_ != nullptr) return true;
    auto conn = testutil::RunTask(io_, rpc::Connection::Connect(io_.get_executor(), "127.0.0.1",
                                                                port_, rpc::ConnectionOptions()));
    if (!conn.ok()) return false;
    conn_ = std::move(*conn);
    return true;
  }
  int32_t Lost(const Status& status) {
    message_ = status.ToString();
    testutil::RunTask(io_, conn_->CloseAndWait());
    conn_.reset();
    return -2;
  }

  uint16_t port_;
  asio::io_context io_;
  std::shared_ptr<rpc::Connection> conn_;
  std::string message_;
};

/// A client that appends rows (id, name, score) with acks=all from its own thread and its
/// own Connection until stopped, keeping each row's WriteResult.
class BackgroundWriter {
 public:
  BackgroundWriter(std::string bootstrap, TablePath path, int32_t first_id)
      : thread_([this, bootstrap = std::move(bootstrap), path = std::move(path), first_id] {
          Run(bootstrap, path, first_id);
        }) {}
  ~BackgroundWriter() { static_cast<void>(Stop()); }  // the test checked it, or failed

  /// Stops appending, waits for every row's outcome; returns the flush status.
  Status Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return final_;
  }
  int64_t appended() const { return appended_; }
  /// After Stop(): the ids acknowledged, and those that failed for good.
  std::set<int32_t> acked() const { return Outcomes(true); }
  std::set<int32_t> failed() const { return Outcomes(false); }
  int64_t AckedNow() const {
    int64_t n = 0;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, result] : results_) n += result.IsReady() && result.Wait().ok();
    return n;
  }

 private:
  void Run(const std::string& bootstrap, const TablePath& path, int32_t first_id) {
    ClientConfig config;
    config.bootstrap_servers = bootstrap;
    config.request_timeout = 10s;
    config.writer_batch_timeout = 20ms;
    auto conn = Connection::Create(config);
    if (!conn.ok()) {
      final_ = conn.status();
      return;
    }
    auto table = (*conn)->GetTable(path);
    if (!table.ok()) {
      final_ = table.status();
      return;
    }
    auto writer = (*table)->NewAppend().CreateWriter();
    if (!writer.ok()) {
      final_ = writer.status();
      return;
    }
    for (int32_t id = first_id; !stop_; ++id) {
      GenericRow row;
      row.push_back(Datum(id));
      row.push_back(Datum("name-" + std::to_string(id)));
      row.push_back(Datum(int64_t{id} * 10));
      WriteResult result;
      Status appended = (*writer)->Append(row, &result);
      if (!appended.ok()) {
        final_ = appended;
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        results_.emplace(id, result);
      }
      ++appended_;
      std::this_thread::sleep_for(5ms);
    }
    final_ = (*writer)->Close();
  }
  std::set<int32_t> Outcomes(bool ok) const {
    std::set<int32_t> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, result] : results_) {
      if (result.IsReady() && result.Wait().ok() == ok) out.insert(id);
    }
    return out;
  }

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> appended_{0};
  mutable std::mutex mu_;
  std::map<int32_t, WriteResult> results_;
  Status final_;
  std::thread thread_;
};

// Issue 6: a leader that loses its ZooKeeper session steps down and acknowledges nothing
// afterwards. One tablet server reaches ZooKeeper only through a proxy the test cuts for
// longer than the session timeout (3 s) while a client writes with acks=all throughout.
TEST_F(ClusterProcessTest, LeaderCutOffFromZooKeeperStepsDownAndRejoins) {
  const int victim = 2;
  testing::TcpProxy proxy(cluster_->zookeeper().port());
  ASSERT_TRUE(proxy.Start());
  // Restart the victim so that its ZooKeeper session runs through the proxy.
  ASSERT_EQ(cluster_->tablet(victim)->Terminate(), 0);
  std::string config =
      cluster_->WriteConfig("ts-2-through-proxy", "zookeeper.address", proxy.address());
  ASSERT_TRUE(cluster_->StartTablet(victim, config));
  ASSERT_GT(proxy.forwarded(), 0);
  const uint16_t coordinator_port = cluster_->coordinator(0)->port();
  ASSERT_TRUE(Eventually([&] {
    auto view = Metadata(coordinator_port, std::nullopt);
    return view && view->tablet_servers == std::set<int32_t>{0, 1, 2};
  }));

  // An RF=3 log table whose rows the direct requests can build: (id, name, score).
  Status db = Conn().GetAdmin()->CreateDatabase("db1", DatabaseDescriptor(), true);
  ASSERT_TRUE(db.ok()) << db.ToString();
  TableDescriptor::Parts parts;
  parts.schema = *Schema::Builder()
                      .AddColumn("id", DataType::Int())
                      .AddColumn("name", DataType::String())
                      .AddColumn("score", DataType::BigInt())
                      .Build();
  parts.distribution = TableDistribution{3, {"id"}};
  parts.properties = {{"table.replication.factor", "3"}};
  TablePath path("db1", "zk_loss");
  Status created =
      Conn().GetAdmin()->CreateTable(path, *TableDescriptor::Make(std::move(parts)));
  ASSERT_TRUE(created.ok()) << created.ToString();
  MetadataView before;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &before); }));
  int32_t bucket = -1;
  for (const auto& [id, b] : before.buckets) {
    if (b.leader == victim) bucket = id;
  }
  ASSERT_GE(bucket, 0) << "round-robin placement gives every server a bucket to lead";
  const int32_t old_epoch = before.buckets.at(bucket).leader_epoch;
  auto table = Conn().GetTable(path);
  ASSERT_TRUE(table.ok());
  const int64_t table_id = (*table)->info().table_id.value();

  // A client writes with acks=all through the whole episode (ids from 0).
  BackgroundWriter writer(cluster_->bootstrap(), path, 0);
  DirectClient direct(cluster_->tablet(victim)->port());
  std::set<int32_t> direct_acked;   // answered OK: must be there exactly once
  std::set<int32_t> direct_failed;  // answered with an error before the fence: at most once
  std::set<int32_t> after_fence;    // sent after the fence: must not be there at all
  int32_t next_direct = 1000000;
  auto direct_write = [&](int acks, std::chrono::milliseconds timeout) {
    int32_t id = next_direct++;
    int32_t code = direct.Produce(table_id, bucket, id, 1, acks, timeout);
    (code == 0 ? direct_acked : direct_failed).insert(id);
    return code;
  };
  ASSERT_EQ(direct_write(-1, 10s), 0) << direct.message();
  ASSERT_TRUE(Eventually([&] { return writer.AckedNow() > 50; }, 30s));

  // Cut: the victim's session is lost. Its direct acks=all writes are acknowledged while the
  // followers still copy from it (it is the legitimate leader until ZooKeeper expires the
  // session), then one waits for followers that have moved to the new leader and is answered
  // NOT_LEADER_OR_FOLLOWER at the fence, never acknowledged, and never REQUEST_TIME_OUT.
  proxy.Cut();
  const auto cut_at = std::chrono::steady_clock::now();
  int32_t first_error = 0;
  while (std::chrono::steady_clock::now() - cut_at < 30s) {
    first_error = direct_write(-1, 20s);
    if (first_error != 0) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(first_error, static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower))
      << direct.message();
  const auto fenced_after = std::chrono::steady_clock::now() - cut_at;
  EXPECT_GE(fenced_after, 2500ms) << "fenced before the session timeout";

  // The coordinator elected another leader from the ISR with a newer epoch.
  MetadataView during;
  ASSERT_TRUE(Eventually([&] {
    auto view = Metadata(coordinator_port, path);
    if (!view || view->tablet_servers.count(victim) != 0) return false;
    const BucketView& b = view->buckets.at(bucket);
    if (b.leader < 0 || b.leader == victim) return false;
    during = *view;
    return true;
  })) << "no new leader for bucket " << bucket;
  EXPECT_GT(during.buckets.at(bucket).leader_epoch, old_epoch);

  // Fenced: every write to it is refused with the retriable NOT_LEADER_OR_FOLLOWER, whatever
  // the acks, and a read that changes nothing is refused too.
  EXPECT_EQ(direct.ListLatest(table_id, bucket),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));
  for (int i = 0; i < 20; ++i) {
    int32_t id = next_direct++;
    int acks = i % 2 == 0 ? -1 : 1;
    int32_t code = direct.Produce(table_id, bucket, id, 1, acks, 5s);
    after_fence.insert(id);
    EXPECT_EQ(code, static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower))
        << "acks " << acks << ": " << direct.message();
  }
  EXPECT_TRUE(IsRetriable(ErrorCode::kNotLeaderOrFollower));
  // The client carries on against the new leader while the victim is cut off.
  const int64_t acked_during = writer.AckedNow();
  ASSERT_TRUE(Eventually([&] { return writer.AckedNow() > acked_during + 50; }, 30s))
      << "the client made no progress while the old leader was cut off";

  // Restore: a new session, registered again; it follows the new leader, catches up and
  // rejoins the ISR.
  proxy.Restore();
  auto isr_of = [&](uint16_t port) -> std::optional<std::vector<int32_t>> {
    asio::io_context io;
    auto conn = testutil::RunTask(io, rpc::Connection::Connect(io.get_executor(), "127.0.0.1",
                                                               port, rpc::ConnectionOptions()));
    if (!conn.ok()) return std::nullopt;
    proto::MetadataRequest req;
    auto* p = req.add_table_path();
    p->set_database_name(path.database);
    p->set_table_name(path.table);
    auto resp = testutil::RunTask(io, (*conn)->Call<proto::ApiKey::kGetMetadata>(req, 5s));
    testutil::RunTask(io, (*conn)->CloseAndWait());
    if (!resp.ok() || resp->table_metadata_size() != 1) return std::nullopt;
    for (const auto& b : resp->table_metadata(0).bucket_metadata()) {
      if (b.bucket_id() == bucket) return std::vector<int32_t>(b.isr().begin(), b.isr().end());
    }
    return std::nullopt;
  };
  ASSERT_TRUE(Eventually([&] {
    auto view = Metadata(coordinator_port, path);
    auto isr = isr_of(coordinator_port);
    return view && view->tablet_servers.count(victim) == 1 && isr &&
           std::count(isr->begin(), isr->end(), victim) == 1 &&
           view->buckets.at(bucket).leader != victim;
  })) << "tablet server " << victim << " did not rejoin the ISR of bucket " << bucket;
  MetadataView rejoined;
  ASSERT_TRUE(Eventually([&] { return AllServersAgree(path, 3, &rejoined); }));
  // A follower now: still refuses writes.
  EXPECT_EQ(direct.Produce(table_id, bucket, next_direct, 1, 1, 5s),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));
  after_fence.insert(next_direct++);

  Status flushed = writer.Stop();
  EXPECT_TRUE(flushed.ok()) << flushed.ToString();
  std::set<int32_t> acked = writer.acked();
  EXPECT_TRUE(writer.failed().empty()) << writer.failed().size() << " rows failed";
  EXPECT_EQ(static_cast<int64_t>(acked.size()), writer.appended());

  // Every acknowledged row exactly once; nothing sent after the fence.
  std::multiset<int32_t> ids;
  {
    auto scanner = (*table)->NewScan().CreateLogScanner();
    ASSERT_TRUE(scanner.ok());
    ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
    auto has_all = [&] {
      for (int32_t id : acked) {
        if (ids.count(id) == 0) return false;
      }
      for (int32_t id : direct_acked) {
        if (ids.count(id) == 0) return false;
      }
      return true;
    };
    auto deadline = std::chrono::steady_clock::now() + 90s;
    bool quiet = false;
    while (std::chrono::steady_clock::now() < deadline && !(quiet && has_all())) {
      auto records = (*scanner)->Poll(1s);
      if (!records.ok()) {
        EXPECT_TRUE(records.status().IsRetriable()) << records.status().ToString();
        continue;
      }
      quiet = records->empty();
      for (const ScanRecord& r : *records) ids.insert(r.row[0].as<int32_t>());
    }
  }
  size_t missing = 0;
  size_t duplicated = 0;
  for (int32_t id : acked) {
    missing += ids.count(id) == 0;
    duplicated += ids.count(id) > 1;
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " rows the client had acknowledged";
  EXPECT_EQ(duplicated, 0u);
  for (int32_t id : direct_acked) EXPECT_EQ(ids.count(id), 1u) << "direct row " << id;
  for (int32_t id : direct_failed) EXPECT_LE(ids.count(id), 1u) << "direct row " << id;
  for (int32_t id : after_fence) EXPECT_EQ(ids.count(id), 0u) << "row sent after the fence " << id;
  RecordProperty("direct_acked", static_cast<int>(direct_acked.size()));
  RecordProperty("client_acked", static_cast<int>(acked.size()));
}

}  // namespace
}  // namespace strom
