// ClusterController against a real ZooKeeper, with tablet servers that exist only as
// registrations (their endpoints refuse connections, so the controller's requests to them fail
// and are dropped): the bucket state machine as written to the leader_isr znodes. The fast
// failure detection (a closed connection, then refused probes) is off there, and on in
// ClusterControllerProbeTest, whose servers listen (an rpc::Server each) until they "die".

#include "coordinator/cluster_controller.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <set>

#include "coordinator/coordinator_service.h"
#include "rpc/server.h"
#include "testutil/run_task.h"
#include "zk/leader_and_isr_store.h"
#include "zk/registration.h"
#include "zk/testing/shared_zookeeper.h"
#include "zk/testing/zookeeper_server.h"
#include "zk/zk_metadata_store.h"

namespace strom::coordinator {
namespace {

using metadata::TableBucket;
using replica::LeaderAndIsr;
using zk::testing::SharedZooKeeper;
using zk::testing::UniqueRoot;

std::string TableJson(int buckets, int replication) {
  return R"({"version":1,"schema":{"version":1,"columns":[)"
         R"({"name":"id","data_type":{"type":"INTEGER"},"id":0}],"highest_field_id":0},)"
         R"("partition_key":[],"bucket_key":[],"bucket_count":)" +
         std::to_string(buckets) + R"(,"properties":{"table.replication.factor":")" +
         std::to_string(replication) + R"("},"custom_properties":{}})";
}

class ClusterControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(SharedZooKeeper(), nullptr);
    root_ = UniqueRoot("fluss-controller");
    zk_ = Connect();
    ASSERT_NE(zk_, nullptr);
    auto store = Run(zk::ZkMetadataStore::Open(*zk_, root_));
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    NewController();
  }

  void TearDown() override {
    for (auto& c : controllers_) Run(c->Stop());
    for (auto& [id, listener] : listeners_) Run(listener->Stop(std::chrono::seconds(0)));
    for (auto& [id, server] : servers_) {
      Run(server.registration->Unregister());
      Run(server.client->Close());
    }
    Run(zk_->Close());
  }

  std::unique_ptr<zk::ZkClient> Connect() {
    zk::ZkClientOptions options;
    options.connect_string = SharedZooKeeper()->address();
    options.session_timeout = std::chrono::seconds(8);
    options.retry_wait = std::chrono::milliseconds(200);
    auto client = Run(zk::ZkClient::Connect(io_.get_executor(), options));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  ClusterController& NewController() {
    ClusterControllerOptions options;
    options.max_send_attempts = 1;
    options.rebalance_tick = std::chrono::milliseconds(20);
    options.probe_attempts = probe_attempts_;
    options.connection.connect_timeout = std::chrono::seconds(2);
    controllers_.push_back(std::make_unique<ClusterController>(
        io_.get_executor(), *zk_, zk::ZkPaths(root_), *store_,
        metadata::ServerNode{ServerId(0), "127.0.0.1", 9123, metadata::ServerRole::kCoordinator,
                             std::nullopt},
        options));
    return *controllers_.back();
  }
  ClusterController& controller() { return *controllers_.front(); }

  /// A tablet server that is only a registration (its own session).
  void AddServer(int32_t id, std::optional<std::string> rack = std::nullopt) {
    FakeServer server;
    server.client = Connect();
    server.registration = zk::MakeTabletServerRegistration(*server.client, zk::ZkPaths(root_),
                                                           ServerId(id), "FLUSS://127.0.0.1:1", rack);
    ASSERT_TRUE(Run(server.registration->Register()).ok());
    servers_[id] = std::move(server);
  }
  /// Ends the server's session: its registration goes at once.
  void KillServer(int32_t id) {
    Run(servers_[id].client->Close());
    servers_.erase(id);
  }

  /// A tablet server with a port: an rpc::Server answering the coordinator's requests (empty
  /// answers; counted in requests_[id]), registered with its own session.
  void AddListeningServer(int32_t id) {
    rpc::Dispatcher dispatcher;
    using proto::ApiKey;
    dispatcher.Handle<ApiKey::kUpdateMetadata>(
        [this, id](rpc::RequestContext,
                   proto::UpdateMetadataRequest) -> Task<Result<proto::UpdateMetadataResponse>> {
          ++requests_[id];
          co_return proto::UpdateMetadataResponse();
        });
    dispatcher.Handle<ApiKey::kNotifyLeaderAndIsr>(
        [this, id](rpc::RequestContext, proto::NotifyLeaderAndIsrRequest)
            -> Task<Result<proto::NotifyLeaderAndIsrResponse>> {
          ++requests_[id];
          ++notified_[id];
          co_return proto::NotifyLeaderAndIsrResponse();
        });
    rpc::ServerOptions options;
    options.host = "127.0.0.1";
    auto listener = std::make_unique<rpc::Server>(io_.get_executor(), options,
                                                  std::move(dispatcher));
    ASSERT_TRUE(listener->Start().ok());
    FakeServer server;
    server.client = Connect();
    server.registration = zk::MakeTabletServerRegistration(
        *server.client, zk::ZkPaths(root_), ServerId(id),
        "FLUSS://127.0.0.1:" + std::to_string(listener->port()), std::nullopt);
    listeners_[id] = std::move(listener);
    ASSERT_TRUE(Run(server.registration->Register()).ok());
    servers_[id] = std::move(server);
  }
  /// The server's process dies as with SIGKILL: its connections and its port close, its
  /// ZooKeeper session lives on (until it would expire).
  void CloseListener(int32_t id) {
    Run(listeners_[id]->Stop(std::chrono::seconds(0)));
    listeners_.erase(id);
  }
  bool RegistrationExists(int32_t id) {
    auto stat = Run(zk_->Exists(zk::ZkPaths(root_).TabletServer(ServerId(id))));
    return stat.ok() && stat->has_value();
  }

  template <typename T>
  T Run(Task<T> task) {
    return testutil::RunTask(io_, std::move(task));
  }
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::seconds bound = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  void Elect(ClusterController& c, int32_t epoch, size_t servers) {
    c.OnElected(CoordinatorEpoch(epoch));
    ASSERT_TRUE(RunUntil([&] { return c.active() && c.TabletServers().size() == servers; }));
  }

  /// Creates db.t through a CoordinatorService over the controller; returns its id.
  Result<TableId> CreateTable(ClusterController& c, const std::string& name, int buckets,
                              int replication) {
    CoordinatorService service(*store_, c, TableDefaults(), [] { return TimestampMs(1); });
    service.SetClusterView(&c);
    proto::CreateDatabaseRequest db;
    db.set_database_name("db");
    db.set_ignore_if_exists(true);
    auto created_db = Run(service.CreateDatabase(db));
    if (!created_db.ok()) return created_db.status();
    proto::CreateTableRequest req;
    req.mutable_table_path()->set_database_name("db");
    req.mutable_table_path()->set_table_name(name);
    req.set_table_json(TableJson(buckets, replication));
    auto created = Run(service.CreateTable(req));
    if (!created.ok()) return created.status();
    auto reg = Run(store_->GetTable(metadata::TablePath{"db", name}));
    if (!reg.ok()) return reg.status();
    return (*reg)->table_id;
  }

  LeaderAndIsr ZkState(TableId table, int32_t bucket) {
    zk::LeaderAndIsrStore store(*zk_, zk::ZkPaths(root_));
    auto node = Run(store.Get(TableBucket{table, std::nullopt, BucketId(bucket)}));
    EXPECT_TRUE(node.ok() && node->has_value());
    return node.ok() && node->has_value() ? (*node)->value : LeaderAndIsr{};
  }
  LeaderAndIsr State(TableId table, int32_t bucket, int index = 0) {
    auto lai = controllers_[index]->BucketLeaderAndIsr(TableBucket{table, std::nullopt, BucketId(bucket)});
    EXPECT_TRUE(lai.has_value());
    return lai.value_or(LeaderAndIsr{});
  }

  proto::AdjustIsrRequest AdjustRequest(int32_t server, TableId table, int32_t bucket,
                                        const LeaderAndIsr& proposed) {
    proto::AdjustIsrRequest req;
    req.set_serverid(server);
    auto* t = req.add_tables_req();
    t->set_table_id(table.value());
    auto* b = t->add_buckets_req();
    b->set_bucket_id(bucket);
    b->set_leader_epoch(proposed.leader_epoch.value());
    for (ServerId id : proposed.isr) b->add_new_isr(id.value());
    b->set_coordinator_epoch(proposed.coordinator_epoch.value());
    b->set_bucket_epoch(proposed.bucket_epoch.value());
    return req;
  }

  /// Plays the leaders of `table` while the rebalance of controller `index` goes on: a
  /// replica the assignment gained is reported in sync (AdjustIsr) once it shows up there, as a
  /// real leader does once the follower caught up. True once the rebalance COMPLETED.
  bool PlayLeadersUntilDone(TableId table, bool* saw_widened, int index = 0) {
    ClusterController& c = *controllers_[index];
    return RunUntil(
        [&] {
          auto p = Run(c.ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
          if (p.ok() &&
              p->rebalance_status() == static_cast<int32_t>(RebalanceStatus::kCompleted)) {
            return true;
          }
          auto assignment = Run(store_->GetTableAssignment(table));
          if (!assignment.ok() || !assignment->has_value()) return false;
          for (const auto& [bucket, replicas] : (*assignment)->buckets) {
            LeaderAndIsr cur = State(table, bucket.value(), index);
            if (replicas.size() > 2 && saw_widened != nullptr) *saw_widened = true;
            std::set<ServerId> want(replicas.begin(), replicas.end());
            if (cur.leader.value() < 0 ||
                std::set<ServerId>(cur.isr.begin(), cur.isr.end()) == want) {
              continue;
            }
            LeaderAndIsr proposed = cur;
            proposed.isr = replicas;
            auto adjusted = Run(
                c.AdjustIsr(AdjustRequest(cur.leader.value(), table, bucket.value(), proposed)));
            EXPECT_TRUE(adjusted.ok()) << adjusted.status().ToString();
          }
          return false;
        },
        std::chrono::seconds(60));
  }

  struct FakeServer {
    std::unique_ptr<zk::ZkClient> client;
    std::unique_ptr<zk::EphemeralNode> registration;
  };

  asio::io_context io_;
  int probe_attempts_ = 0;
  std::string root_;
  std::unique_ptr<zk::ZkClient> zk_;
  std::unique_ptr<zk::ZkMetadataStore> store_;
  std::vector<std::unique_ptr<ClusterController>> controllers_;
  std::map<int32_t, FakeServer> servers_;
  std::map<int32_t, std::unique_ptr<rpc::Server>> listeners_;
  std::map<int32_t, int> requests_;
  std::map<int32_t, int> notified_;
};

class ClusterControllerProbeTest : public ClusterControllerTest {
 protected:
  ClusterControllerProbeTest() { probe_attempts_ = 3; }
};

TEST_F(ClusterControllerTest, NewTableLeadersAndIsrInZooKeeper) {
  for (int id : {1, 2, 3}) AddServer(id);
  Elect(controller(), 5, 3);
  auto table = CreateTable(controller(), "t", 3, 3);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto assignment = Run(store_->GetTableAssignment(*table));
  ASSERT_TRUE(assignment.ok() && assignment->has_value());
  for (int b = 0; b < 3; ++b) {
    const std::vector<ServerId>& replicas = (*assignment)->buckets.at(BucketId(b));
    LeaderAndIsr lai = ZkState(*table, b);
    EXPECT_EQ(lai.leader, replicas.front());
    EXPECT_EQ(lai.isr, replicas);
    EXPECT_EQ(lai.leader_epoch, LeaderEpoch(0));
    EXPECT_EQ(lai.bucket_epoch, BucketEpoch(0));
    EXPECT_EQ(lai.coordinator_epoch, CoordinatorEpoch(5));
    EXPECT_EQ(State(*table, b), lai);
    auto leader = controller().Leader(TableBucket{*table, std::nullopt, BucketId(b)});
    ASSERT_TRUE(leader && leader->leader);
    EXPECT_EQ(*leader->leader, replicas.front());
  }
  // More replicas than live servers: refused, nothing registered.
  auto wide = CreateTable(controller(), "wide", 1, 4);
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.status().code(), ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(wide.status().message(), "Replication factor: 4 larger than available tablet servers: 3.");
}

TEST_F(ClusterControllerTest, DeadLeaderIsReplacedFromTheIsrNeverUncleanly) {
  for (int id : {1, 2}) AddServer(id);
  Elect(controller(), 0, 2);
  auto table = CreateTable(controller(), "t", 1, 2);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  LeaderAndIsr first = State(*table, 0);
  ServerId leader = first.leader;
  ServerId follower = first.isr[0] == leader ? first.isr[1] : first.isr[0];

  KillServer(leader.value());
  ASSERT_TRUE(RunUntil([&] { return State(*table, 0).leader == follower; }));
  LeaderAndIsr second = ZkState(*table, 0);
  EXPECT_EQ(second.leader, follower);
  EXPECT_EQ(second.leader_epoch, LeaderEpoch(1));
  EXPECT_EQ(second.isr, std::vector<ServerId>{follower});
  EXPECT_EQ(second.bucket_epoch, BucketEpoch(1));

  // The last ISR member dies: no leader (the old leader is not in the ISR: no unclean
  // election), and the ISR keeps its last member.
  KillServer(follower.value());
  ASSERT_TRUE(RunUntil([&] { return State(*table, 0).leader == ServerId(-1); }));
  EXPECT_EQ(ZkState(*table, 0).isr, std::vector<ServerId>{follower});
  AddServer(leader.value());  // out of the ISR: stays offline
  ASSERT_TRUE(RunUntil([&] { return controller().TabletServers().size() == 1; }));
  EXPECT_EQ(State(*table, 0).leader, ServerId(-1));
  auto offline = controller().Leader(TableBucket{*table, std::nullopt, BucketId(0)});
  ASSERT_TRUE(offline.has_value());
  EXPECT_FALSE(offline->leader.has_value());
  AddServer(follower.value());  // the ISR member returns: it leads again
  ASSERT_TRUE(RunUntil([&] { return State(*table, 0).leader == follower; }));
  EXPECT_EQ(ZkState(*table, 0).leader_epoch, LeaderEpoch(3));
}

TEST_F(ClusterControllerTest, AdjustIsrChecksEpochsAsFluss) {
  for (int id : {1, 2, 3}) AddServer(id);
  Elect(controller(), 2, 3);
  auto table = CreateTable(controller(), "t", 1, 3);
  ASSERT_TRUE(table.ok());
  LeaderAndIsr cur = State(*table, 0);
  int32_t leader = cur.leader.value();
  auto error_of = [&](const proto::AdjustIsrResponse& resp) {
    const auto& b = resp.tables_resp(0).buckets_resp(0);
    return b.has_error_code() ? ErrorCodeFromWire(b.error_code()) : ErrorCode::kNone;
  };
  LeaderAndIsr shrink = cur;
  shrink.isr = {cur.leader};

  LeaderAndIsr stale = shrink;
  stale.leader_epoch = LeaderEpoch(-1);
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(AdjustRequest(leader, *table, 0, stale)))),
            ErrorCode::kFencedLeaderEpoch);
  LeaderAndIsr newer = shrink;
  newer.coordinator_epoch = CoordinatorEpoch(9);
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(AdjustRequest(leader, *table, 0, newer)))),
            ErrorCode::kInvalidCoordinator);
  LeaderAndIsr old_bucket = shrink;
  old_bucket.bucket_epoch = BucketEpoch(-1);
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(AdjustRequest(leader, *table, 0, old_bucket)))),
            ErrorCode::kInvalidUpdateVersion);
  LeaderAndIsr dead = cur;
  dead.isr.push_back(ServerId(7));
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(AdjustRequest(leader, *table, 0, dead)))),
            ErrorCode::kIneligibleReplica);
  int32_t not_leader = cur.isr[0] == cur.leader ? cur.isr[1].value() : cur.isr[0].value();
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(AdjustRequest(not_leader, *table, 0, shrink)))),
            ErrorCode::kNotLeaderOrFollower);
  proto::AdjustIsrRequest unknown = AdjustRequest(leader, TableId(999), 0, shrink);
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(unknown))), ErrorCode::kUnknownTableOrBucket);

  auto ok = Run(controller().AdjustIsr(AdjustRequest(leader, *table, 0, shrink)));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(error_of(*ok), ErrorCode::kNone);
  const auto& b = ok->tables_resp(0).buckets_resp(0);
  EXPECT_EQ(b.leader_id(), leader);
  EXPECT_EQ(b.bucket_epoch(), 1);
  EXPECT_EQ(b.coordinator_epoch(), 2);
  ASSERT_EQ(b.isr_size(), 1);
  LeaderAndIsr written = ZkState(*table, 0);
  EXPECT_EQ(written.isr, std::vector<ServerId>{cur.leader});
  EXPECT_EQ(written.bucket_epoch, BucketEpoch(1));
  EXPECT_EQ(written.leader_epoch, cur.leader_epoch);
  // The same request again is now stale by bucket epoch.
  EXPECT_EQ(error_of(*Run(controller().AdjustIsr(AdjustRequest(leader, *table, 0, shrink)))),
            ErrorCode::kInvalidUpdateVersion);
}

TEST_F(ClusterControllerTest, ControlledShutdownMovesLeadershipAway) {
  for (int id : {1, 2, 3}) AddServer(id);
  Elect(controller(), 0, 3);
  auto table = CreateTable(controller(), "t", 3, 3);
  ASSERT_TRUE(table.ok());
  proto::ControlledShutdownRequest req;
  req.set_tablet_server_id(1);
  req.set_tablet_server_epoch(0);
  auto resp = Run(controller().ControlledShutdown(req));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->remaining_leader_buckets_size(), 0);
  for (int b = 0; b < 3; ++b) {
    LeaderAndIsr lai = ZkState(*table, b);
    EXPECT_NE(lai.leader, ServerId(1)) << b;
    EXPECT_EQ(std::count(lai.isr.begin(), lai.isr.end(), ServerId(1)), 0) << b;
  }
  EXPECT_EQ(controller().TabletServers().size(), 2u);
  req.set_tablet_server_id(42);
  EXPECT_EQ(Run(controller().ControlledShutdown(req)).status().code(), ErrorCode::kServerNotExist);
}

TEST_F(ClusterControllerTest, NewCoordinatorReadsTheStateBackAndElectsMissingLeaders) {
  for (int id : {1, 2, 3}) AddServer(id);
  Elect(controller(), 0, 3);
  auto table = CreateTable(controller(), "t", 3, 3);
  ASSERT_TRUE(table.ok());
  std::vector<LeaderAndIsr> before;
  for (int b = 0; b < 3; ++b) before.push_back(State(*table, b));
  controller().OnLost();
  EXPECT_FALSE(controller().active());
  EXPECT_EQ(controller().CheckActive().code(), ErrorCode::kNotCoordinatorLeader);
  EXPECT_FALSE(CreateTable(controller(), "refused", 1, 1).ok());

  // While no coordinator is active, the leader of bucket 0 dies.
  ServerId dead = before[0].leader;
  KillServer(dead.value());
  ClusterController& successor = NewController();
  Elect(successor, 1, 2);
  for (int b = 0; b < 3; ++b) {
    LeaderAndIsr now = State(*table, b, 1);
    if (before[b].leader == dead) {
      EXPECT_NE(now.leader, dead) << b;
      EXPECT_GE(now.leader.value(), 0) << b;
      EXPECT_EQ(now.leader_epoch, LeaderEpoch(1)) << b;
      EXPECT_EQ(now.coordinator_epoch, CoordinatorEpoch(1)) << b;
      EXPECT_EQ(ZkState(*table, b), now);
    } else {
      EXPECT_EQ(now.leader, before[b].leader) << b;
      EXPECT_EQ(now.leader_epoch, before[b].leader_epoch) << b;
    }
  }
  // DDL goes on through the successor.
  EXPECT_TRUE(CreateTable(successor, "after", 2, 2).ok());
}

TEST_F(ClusterControllerTest, RestartSeenInOnePassLeadsAgainAsTheOnlyIsrMember) {
  AddServer(1);
  Elect(controller(), 0, 1);
  auto table = CreateTable(controller(), "t", 1, 1);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(State(*table, 0).leader, ServerId(1));
  ASSERT_EQ(State(*table, 0).isr, std::vector<ServerId>{ServerId(1)});

  // The server restarts, and its new registration replaces the old one in one ZooKeeper
  // transaction (on the new process's session), so the controller sees both in one pass.
  FakeServer restarted;
  restarted.client = Connect();
  const std::string path = zk::ZkPaths(root_).TabletServer(ServerId(1));
  std::vector<zk::ZkOp> ops;
  ops.push_back(zk::ZkOp::Delete(path));
  ops.push_back(zk::ZkOp::Create(
      path,
      zk::TabletServerRegistrationToJson(
          zk::TabletServerRegistration{"FLUSS://127.0.0.1:1", TimestampMs(1), std::nullopt}),
      zk::CreateMode::kEphemeral));
  auto replaced = Run(restarted.client->Multi(std::move(ops)));
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  restarted.registration = zk::MakeTabletServerRegistration(
      *restarted.client, zk::ZkPaths(root_), ServerId(1), "FLUSS://127.0.0.1:1", std::nullopt);
  KillServer(1);  // the old session (its node is already gone)
  servers_[1] = std::move(restarted);

  // It left (leader epoch + 1) and came back as the last ISR member: it leads again, the
  // bucket is not left offline.
  ASSERT_TRUE(RunUntil([&] { return State(*table, 0).leader_epoch == LeaderEpoch(1); }));
  ASSERT_TRUE(RunUntil([&] { return State(*table, 0).leader == ServerId(1); },
                       std::chrono::seconds(2)))
      << "leader " << State(*table, 0).leader;
  LeaderAndIsr now = ZkState(*table, 0);
  EXPECT_EQ(now.leader, ServerId(1));
  EXPECT_EQ(now.leader_epoch, LeaderEpoch(1));
  EXPECT_EQ(now.isr, std::vector<ServerId>{ServerId(1)});
  EXPECT_EQ(controller().TabletServers().size(), 1u);
}

// ---- fast failure detection ----

TEST_F(ClusterControllerProbeTest, ServerWhosePortRefusesIsDeadBeforeItsSessionEnds) {
  for (int id : {1, 2}) AddListeningServer(id);
  Elect(controller(), 0, 2);
  auto table = CreateTable(controller(), "t", 1, 2);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  LeaderAndIsr first = State(*table, 0);
  const int32_t leader = first.leader.value();
  const ServerId follower = first.isr[0] == first.leader ? first.isr[1] : first.isr[0];
  ASSERT_TRUE(RunUntil([&] { return notified_[leader] > 0; }));

  // Its process dies; its session does not end (the test keeps it open).
  CloseListener(leader);
  auto died = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return State(*table, 0).leader == follower; },
                       std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - died, std::chrono::seconds(3));
  LeaderAndIsr second = ZkState(*table, 0);
  EXPECT_EQ(second.leader, follower);
  EXPECT_EQ(second.leader_epoch, LeaderEpoch(1));
  EXPECT_EQ(second.isr, std::vector<ServerId>{follower});
  EXPECT_EQ(second.bucket_epoch, BucketEpoch(1));
  EXPECT_EQ(controller().TabletServers().size(), 1u);
  EXPECT_TRUE(servers_[leader].client->connected());
  // Its registration is deleted (the dead process cannot), and that is not a second death.
  ASSERT_TRUE(RunUntil([&] { return !RegistrationExists(leader); }, std::chrono::seconds(5)));
  RunUntil([] { return false; }, std::chrono::seconds(1));
  EXPECT_EQ(State(*table, 0), second);
  EXPECT_EQ(ZkState(*table, 0), second);

  // Restarted while the old session still lives, it registers at once and joins: a follower
  // (out of the ISR until the leader finds it caught up), told its buckets' state.
  FakeServer old = std::move(servers_[leader]);
  notified_[leader] = 0;
  auto restart = std::chrono::steady_clock::now();
  AddListeningServer(leader);
  EXPECT_LT(std::chrono::steady_clock::now() - restart, std::chrono::seconds(5));
  Run(old.registration->Unregister());  // leaves the new session's node alone
  Run(old.client->Close());
  EXPECT_TRUE(RegistrationExists(leader));
  ASSERT_TRUE(RunUntil([&] {
    return controller().TabletServers().size() == 2 && notified_[leader] > 0;
  }));
  EXPECT_EQ(State(*table, 0), second);
  // It can die again the same way.
  CloseListener(leader);
  ASSERT_TRUE(RunUntil([&] { return !RegistrationExists(leader); }, std::chrono::seconds(5)));
  EXPECT_EQ(controller().TabletServers().size(), 1u);
  EXPECT_EQ(State(*table, 0), second);
}

TEST_F(ClusterControllerProbeTest, NewCoordinatorFindsADeadServersRegistrationDead) {
  for (int id : {1, 2}) AddListeningServer(id);
  // Server 2 died while no coordinator was active; its session outlives it.
  CloseListener(2);
  controller().OnElected(CoordinatorEpoch(0));
  ASSERT_TRUE(RunUntil([&] {
    return controller().active() && controller().TabletServers().size() == 1 &&
           !RegistrationExists(2);
  }, std::chrono::seconds(10)));
  EXPECT_EQ(controller().TabletServers().front().id, ServerId(1));
  EXPECT_TRUE(RegistrationExists(1));
}

TEST_F(ClusterControllerProbeTest, ServerThatStillAcceptsConnectionsIsNotDead) {
  AddListeningServer(1);
  // Server 2's port accepts connections and closes them at once (as a server dropping idle
  // connections, or a stalled one); its process is there.
  asio::ip::tcp::acceptor acceptor(
      io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  auto accept_loop = [](asio::ip::tcp::acceptor& a) -> Task<void> {
    while (a.is_open()) {
      auto [ec, socket] = co_await a.async_accept(kAwaitTuple);
      if (ec) co_return;
    }
  };
  Gate gate;
  SpawnBackground(io_.get_executor(), gate, "test-acceptor", accept_loop(acceptor));
  FakeServer server;
  server.client = Connect();
  server.registration =
      zk::MakeTabletServerRegistration(*server.client, zk::ZkPaths(root_), ServerId(2),
                                       "FLUSS://127.0.0.1:" + std::to_string(port), std::nullopt);
  ASSERT_TRUE(Run(server.registration->Register()).ok());
  servers_[2] = std::move(server);

  Elect(controller(), 0, 2);
  auto table = CreateTable(controller(), "t", 2, 2);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  std::vector<LeaderAndIsr> before{State(*table, 0), State(*table, 1)};
  RunUntil([] { return false; }, std::chrono::seconds(3));
  EXPECT_EQ(controller().TabletServers().size(), 2u);
  EXPECT_EQ(State(*table, 0), before[0]);
  EXPECT_EQ(State(*table, 1), before[1]);
  EXPECT_TRUE(RegistrationExists(2));

  // Once nothing listens there any more, it is dead.
  acceptor.close();
  ASSERT_TRUE(RunUntil(
      [&] { return State(*table, 0).isr.size() == 1 && State(*table, 1).isr.size() == 1; },
      std::chrono::seconds(5)));
  EXPECT_EQ(controller().TabletServers().size(), 1u);
  for (int b = 0; b < 2; ++b) {
    EXPECT_EQ(State(*table, b).leader, ServerId(1)) << b;
    EXPECT_EQ(State(*table, b).isr, std::vector<ServerId>{ServerId(1)}) << b;
  }
  Run(gate.Close());
}

// ---- rebalance ----

std::map<int32_t, int> ReplicaCounts(const metadata::TableAssignment& assignment) {
  std::map<int32_t, int> out;
  for (const auto& [bucket, replicas] : assignment.buckets) {
    for (ServerId r : replicas) ++out[r.value()];
  }
  return out;
}

std::set<ServerId> AsSet(const std::vector<ServerId>& ids) { return {ids.begin(), ids.end()}; }

TEST_F(ClusterControllerTest, RebalanceMovesReplicasOntoANewServerAsReassignment) {
  for (int id : {0, 1, 2}) AddServer(id);
  Elect(controller(), 3, 3);
  auto table = CreateTable(controller(), "t", 6, 2);
  ASSERT_TRUE(table.ok()) << table.status().ToString();

  // Even already: a rebalance without moves, COMPLETED at once.
  auto even = Run(controller().Rebalance(proto::RebalanceRequest()));
  ASSERT_TRUE(even.ok()) << even.status().ToString();
  auto listed = Run(controller().ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->rebalance_id(), even->rebalance_id());
  EXPECT_EQ(listed->rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCompleted));
  EXPECT_EQ(listed->table_progress_size(), 0);

  AddServer(3);
  ASSERT_TRUE(RunUntil([&] { return controller().TabletServers().size() == 4; }));
  proto::RebalanceRequest req;
  req.add_goals(static_cast<int32_t>(RebalanceGoal::kReplicaDistribution));
  req.add_goals(static_cast<int32_t>(RebalanceGoal::kLeaderDistribution));
  auto started = Run(controller().Rebalance(req));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  // One at a time.
  EXPECT_EQ(Run(controller().Rebalance(req)).status().code(), ErrorCode::kRebalanceFailure);
  proto::ListRebalanceProgressRequest other;
  other.set_rebalance_id("another");
  EXPECT_EQ(Run(controller().ListRebalanceProgress(other)).status().code(),
            ErrorCode::kNoRebalanceInProgress);

  bool saw_widened = false;
  ASSERT_TRUE(PlayLeadersUntilDone(*table, &saw_widened)) << "the rebalance did not complete";
  EXPECT_TRUE(saw_widened) << "new replicas join before old ones leave";

  auto assignment = Run(store_->GetTableAssignment(*table));
  ASSERT_TRUE(assignment.ok() && assignment->has_value());
  auto counts = ReplicaCounts(**assignment);
  for (int id = 0; id < 4; ++id) EXPECT_EQ(counts[id], 3) << "server " << id;
  std::map<int32_t, int> leaders;
  for (const auto& [bucket, replicas] : (*assignment)->buckets) {
    EXPECT_EQ(replicas.size(), 2u);
    LeaderAndIsr lai = ZkState(*table, bucket.value());
    EXPECT_EQ(State(*table, bucket.value()), lai);
    EXPECT_EQ(lai.leader, replicas.front()) << "the leader is the preferred replica";
    EXPECT_EQ(AsSet(lai.isr), AsSet(replicas)) << bucket;
    ++leaders[lai.leader.value()];
  }
  for (int id = 0; id < 4; ++id) EXPECT_GE(leaders[id], 1) << "server " << id;

  auto done = Run(controller().ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->rebalance_id(), started->rebalance_id());
  ASSERT_EQ(done->table_progress_size(), 1);
  EXPECT_GT(done->table_progress(0).buckets_progress_size(), 0);
  for (const auto& b : done->table_progress(0).buckets_progress()) {
    EXPECT_EQ(b.rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCompleted));
  }
  auto znode = Run(zk_->Get(root_ + "/cluster/rebalance"));
  ASSERT_TRUE(znode.ok());
  auto task = RebalanceTaskFromJson(znode->data);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->rebalance_id, started->rebalance_id());
  EXPECT_EQ(task->status, RebalanceStatus::kCompleted);

  // A successor coordinator reports it from ZooKeeper and the cluster's state.
  controller().OnLost();
  ClusterController& successor = NewController();
  Elect(successor, 4, 4);
  auto reported = Run(successor.ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ(reported->rebalance_id(), started->rebalance_id());
  EXPECT_EQ(reported->rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCompleted));
  for (const auto& b : reported->table_progress(0).buckets_progress()) {
    EXPECT_EQ(b.rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCompleted));
  }

  // Decommissioning: server 0 tagged PERMANENT_OFFLINE loses its replicas to the others.
  proto::AddServerTagRequest tag;
  tag.add_server_ids(9);
  tag.set_server_tag(static_cast<int32_t>(ServerTag::kPermanentOffline));
  EXPECT_EQ(Run(successor.AddServerTag(tag)).status().code(), ErrorCode::kServerNotExist);
  tag.clear_server_ids();
  tag.add_server_ids(0);
  ASSERT_TRUE(Run(successor.AddServerTag(tag)).ok());
  proto::AddServerTagRequest other_tag = tag;
  other_tag.set_server_tag(static_cast<int32_t>(ServerTag::kTemporaryOffline));
  EXPECT_EQ(Run(successor.AddServerTag(other_tag)).status().code(),
            ErrorCode::kSeverTagAlreadyExist);
  auto tags_node = Run(zk_->Get(root_ + "/tabletservers/server_tags"));
  ASSERT_TRUE(tags_node.ok());
  EXPECT_EQ(tags_node->data, R"({"version":1,"server_tags":{"0":0}})");
  ASSERT_TRUE(Run(successor.Rebalance(proto::RebalanceRequest())).ok());
  ASSERT_TRUE(PlayLeadersUntilDone(*table, nullptr, 1)) << "the decommission did not complete";
  auto drained = Run(store_->GetTableAssignment(*table));
  ASSERT_TRUE(drained.ok() && drained->has_value());
  auto left = ReplicaCounts(**drained);
  EXPECT_EQ(left[0], 0);
  for (int id = 1; id < 4; ++id) EXPECT_EQ(left[id], 4) << "server " << id;
  proto::RemoveServerTagRequest untag;
  untag.add_server_ids(0);
  untag.set_server_tag(static_cast<int32_t>(ServerTag::kTemporaryOffline));
  EXPECT_EQ(Run(successor.RemoveServerTag(untag)).status().code(), ErrorCode::kSeverTagNotExist);
  untag.set_server_tag(static_cast<int32_t>(ServerTag::kPermanentOffline));
  ASSERT_TRUE(Run(successor.RemoveServerTag(untag)).ok());
  EXPECT_EQ(Run(zk_->Get(root_ + "/tabletservers/server_tags")).code(), zk::ZkCode::kNoNode);
}

TEST_F(ClusterControllerTest, CancelStopsTheRebalanceAndUndoesHalfDoneMoves) {
  for (int id : {0, 1, 2}) AddServer(id);
  Elect(controller(), 1, 3);
  // Nothing to cancel or list yet.
  EXPECT_EQ(Run(controller().CancelRebalance(proto::CancelRebalanceRequest())).status().code(),
            ErrorCode::kNoRebalanceInProgress);
  auto none = Run(controller().ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_rebalance_id());

  auto table = CreateTable(controller(), "t", 6, 2);
  ASSERT_TRUE(table.ok());
  auto original = Run(store_->GetTableAssignment(*table));
  ASSERT_TRUE(original.ok() && original->has_value());
  AddServer(3);
  ASSERT_TRUE(RunUntil([&] { return controller().TabletServers().size() == 4; }));
  auto started = Run(controller().Rebalance(proto::RebalanceRequest()));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  // Nobody reports the new replicas in sync: the moves wait half done.
  ASSERT_TRUE(RunUntil([&] {
    auto assignment = Run(store_->GetTableAssignment(*table));
    if (!assignment.ok() || !assignment->has_value()) return false;
    for (const auto& [bucket, replicas] : (*assignment)->buckets) {
      if (replicas.size() > 2) return true;
    }
    return false;
  }));

  proto::CancelRebalanceRequest wrong;
  wrong.set_rebalance_id("not-it");
  EXPECT_EQ(Run(controller().CancelRebalance(wrong)).status().code(),
            ErrorCode::kNoRebalanceInProgress);
  proto::CancelRebalanceRequest cancel;
  cancel.set_rebalance_id(started->rebalance_id());
  ASSERT_TRUE(Run(controller().CancelRebalance(cancel)).ok());

  auto progress = Run(controller().ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCanceled));
  std::map<int32_t, int32_t> status_of;
  for (const auto& b : progress->table_progress(0).buckets_progress()) {
    status_of[b.rebalance_plan().bucket_id()] = b.rebalance_status();
    // Moves of leadership alone may have finished; nothing else could.
    if (b.rebalance_status() == static_cast<int32_t>(RebalanceStatus::kCompleted)) {
      std::vector<int32_t> from(b.rebalance_plan().original_replicas().begin(),
                                b.rebalance_plan().original_replicas().end());
      std::vector<int32_t> to(b.rebalance_plan().new_replicas().begin(),
                              b.rebalance_plan().new_replicas().end());
      std::sort(from.begin(), from.end());
      std::sort(to.begin(), to.end());
      EXPECT_EQ(from, to);
    } else {
      EXPECT_EQ(b.rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCanceled));
    }
  }
  // Every bucket is back on its original replicas, in ZooKeeper and in memory, with an ISR
  // of those replicas only.
  auto after = Run(store_->GetTableAssignment(*table));
  ASSERT_TRUE(after.ok() && after->has_value());
  for (const auto& [bucket, replicas] : (*after)->buckets) {
    EXPECT_EQ(AsSet(replicas), AsSet((*original)->buckets.at(bucket))) << bucket;
    LeaderAndIsr lai = ZkState(*table, bucket.value());
    for (ServerId id : lai.isr) EXPECT_TRUE(AsSet(replicas).contains(id)) << bucket;
    EXPECT_TRUE(AsSet(replicas).contains(lai.leader)) << bucket;
  }
  EXPECT_EQ(ReplicaCounts(**after)[3], 0);
  auto znode = Run(zk_->Get(root_ + "/cluster/rebalance"));
  ASSERT_TRUE(znode.ok());
  EXPECT_EQ(RebalanceTaskFromJson(znode->data)->status, RebalanceStatus::kCanceled);
  // Cancelling an ended rebalance changes nothing.
  EXPECT_TRUE(Run(controller().CancelRebalance(proto::CancelRebalanceRequest())).ok());

  // A successor coordinator reports the canceled rebalance.
  controller().OnLost();
  ClusterController& successor = NewController();
  Elect(successor, 2, 4);
  auto reported = Run(successor.ListRebalanceProgress(proto::ListRebalanceProgressRequest()));
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ(reported->rebalance_id(), started->rebalance_id());
  EXPECT_EQ(reported->rebalance_status(), static_cast<int32_t>(RebalanceStatus::kCanceled));
  for (const auto& b : reported->table_progress(0).buckets_progress()) {
    EXPECT_EQ(b.rebalance_status(), status_of[b.rebalance_plan().bucket_id()]);
  }
  // And a new rebalance may start.
  EXPECT_TRUE(Run(successor.Rebalance(proto::RebalanceRequest())).ok());
}

}  // namespace
}  // namespace strom::coordinator
