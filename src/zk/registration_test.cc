#include "zk/registration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>

#include "testutil/run_task.h"
#include "zk/testing/shared_zookeeper.h"
#include "zk/testing/zookeeper_server.h"

namespace strom::zk {
namespace {

using testing::SharedZooKeeper;
using testing::UniqueRoot;
using testutil::RunTask;

TEST(RegistrationJsonTest, TabletServerMatchesFluss) {
  // The documents of Fluss's TabletServerRegistrationJsonSerdeTest.
  TabletServerRegistration plain{"CLIENT://localhost:2345,FLUSS://127.0.0.1:2346",
                                 TimestampMs(10000), std::nullopt};
  TabletServerRegistration racked = plain;
  racked.rack = "cn-hangzhou-server10";
  EXPECT_EQ(TabletServerRegistrationToJson(plain),
            R"({"version":3,"listeners":"CLIENT://localhost:2345,FLUSS://127.0.0.1:2346",)"
            R"("register_timestamp":10000})");
  EXPECT_EQ(TabletServerRegistrationToJson(racked),
            R"({"version":3,"listeners":"CLIENT://localhost:2345,FLUSS://127.0.0.1:2346",)"
            R"("register_timestamp":10000,"rack":"cn-hangzhou-server10"})");
  EXPECT_EQ(*TabletServerRegistrationFromJson(TabletServerRegistrationToJson(racked)), racked);
  // Older versions.
  auto v1 = TabletServerRegistrationFromJson(
      R"({"version":1,"host":"localhost","port":1001,"register_timestamp":10000})");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->listeners, "FLUSS://localhost:1001");
  auto v2 = TabletServerRegistrationFromJson(
      R"({"version":2,"listeners":"CLIENT://localhost:2345","register_timestamp":7})");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->register_timestamp, TimestampMs(7));
  EXPECT_FALSE(v2->rack.has_value());
  EXPECT_EQ(TabletServerRegistrationFromJson("[1]").status().code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(TabletServerRegistrationFromJson(R"({"version":3})").status().code(),
            ErrorCode::kCorruptMessage);
}

TEST(RegistrationJsonTest, CoordinatorAddressMatchesFluss) {
  CoordinatorAddress address{"1", "CLIENT://localhost:1001,FLUSS://127.0.0.1:9124"};
  EXPECT_EQ(CoordinatorAddressToJson(address),
            R"({"version":2,"id":"1","listeners":"CLIENT://localhost:1001,FLUSS://127.0.0.1:9124"})");
  EXPECT_EQ(*CoordinatorAddressFromJson(CoordinatorAddressToJson(address)), address);
  auto v1 = CoordinatorAddressFromJson(R"({"version":1,"id":"1","host":"h","port":1})");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->listeners, "CLIENT://h:1");
}

ZkClientOptions OptionsFor(const std::string& address) {
  ZkClientOptions options;
  options.connect_string = address;
  options.session_timeout = std::chrono::seconds(8);
  options.connection_timeout = std::chrono::seconds(20);
  options.retry_wait = std::chrono::milliseconds(200);
  return options;
}

class RegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(SharedZooKeeper(), nullptr);
    paths_ = ZkPaths(UniqueRoot("fluss-reg"));
  }
  void TearDown() override {
    for (auto& c : clients_) Run(c->Close());
  }

  ZkClient& NewClient(bool recreate_expired_session = true) {
    ZkClientOptions options = OptionsFor(SharedZooKeeper()->address());
    options.recreate_expired_session = recreate_expired_session;
    auto client = Run(ZkClient::Connect(io_.get_executor(), options));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    clients_.push_back(std::move(client).value());
    return *clients_.back();
  }

  template <typename T>
  T Run(Task<T> task) {
    return RunTask(io_, std::move(task));
  }
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::seconds bound = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  asio::io_context io_;
  ZkPaths paths_{"/"};
  std::vector<std::unique_ptr<ZkClient>> clients_;
};

TEST_F(RegistrationTest, TabletServerNodeLivesWithItsSession) {
  ZkClient& server = NewClient();
  ZkClient& observer = NewClient();
  auto reg = MakeTabletServerRegistration(server, paths_, ServerId(3), "FLUSS://127.0.0.1:9124",
                                          std::string("rack-a"));
  ASSERT_TRUE(Run(reg->Register()).ok());
  auto node = Run(observer.Get(paths_.TabletServer(ServerId(3))));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->stat.ephemeral_owner, server.session_id());
  auto servers = Run(ReadTabletServers(observer, paths_));
  ASSERT_TRUE(servers.ok());
  ASSERT_EQ(servers->size(), 1u);
  EXPECT_EQ(servers->at(ServerId(3)).listeners, "FLUSS://127.0.0.1:9124");
  EXPECT_EQ(servers->at(ServerId(3)).rack, std::optional<std::string>("rack-a"));
  EXPECT_GT(servers->at(ServerId(3)).register_timestamp.value(), 0);

  // A second server with the same id cannot register while the first lives.
  ZkClient& twin = NewClient();
  auto clash = MakeTabletServerRegistration(twin, paths_, ServerId(3), "FLUSS://127.0.0.1:1",
                                            std::nullopt);
  Status s = Run(clash->Register(std::chrono::milliseconds(300), std::chrono::milliseconds(100)));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidConfig) << s.ToString();

  // The session dies (the process is gone): the node goes with it.
  Run(server.Close());
  EXPECT_TRUE(Run(ReadTabletServers(observer, paths_))->empty());
  // ... and a restarted server waiting for it gets the id.
  ASSERT_TRUE(Run(clash->Register(std::chrono::seconds(20), std::chrono::milliseconds(100))).ok());
  EXPECT_EQ(Run(ReadTabletServers(observer, paths_))->at(ServerId(3)).listeners,
            "FLUSS://127.0.0.1:1");
  Run(clash->Unregister());
  EXPECT_TRUE(Run(ReadTabletServers(observer, paths_))->empty());
  Run(reg->Unregister());
}

TEST_F(RegistrationTest, RestartWaitsForTheOldSessionsNode) {
  // The old process is gone: its client will not replace the session once it has expired
  // (a live process would, and would rightly win its node back).
  ZkClient& old_process = NewClient(/*recreate_expired_session=*/false);
  ZkClient& new_process = NewClient();
  auto old_reg = MakeTabletServerRegistration(old_process, paths_, ServerId(1), "FLUSS://a:1",
                                              std::nullopt);
  ASSERT_TRUE(Run(old_reg->Register()).ok());
  auto new_reg = MakeTabletServerRegistration(new_process, paths_, ServerId(1), "FLUSS://a:2",
                                              std::nullopt);
  // The new process starts registering while the old session still holds the node; the
  // old session ends meanwhile (as the server expires it), and the new one gets through.
  bool done = false;
  Status result;
  auto registering = [](EphemeralNode* reg, Status* out, bool* flag) -> Task<void> {
    *out = co_await reg->Register(std::chrono::seconds(30), std::chrono::seconds(10));
    *flag = true;
  };
  asio::co_spawn(io_, registering(new_reg.get(), &result, &done), [](std::exception_ptr e) {
    if (e) ADD_FAILURE() << "registration threw";
  });
  ASSERT_FALSE(RunUntil([&] { return done; }, std::chrono::seconds(1)));
  ASSERT_TRUE(testing::ExpireSession(SharedZooKeeper()->address(), old_process.session_id(),
                                     old_process.session_password())
                  .ok());
  // Woken by the deletion watch, not by the 10 s re-check.
  ASSERT_TRUE(RunUntil([&] { return done; }));
  EXPECT_TRUE(result.ok()) << result.ToString();
  auto node = Run(new_process.Get(paths_.TabletServer(ServerId(1))));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->stat.ephemeral_owner, new_process.session_id());
  Run(old_reg->Unregister());
  Run(new_reg->Unregister());
}

TEST_F(RegistrationTest, SessionExpiryLeadsToReRegistration) {
  ZkClient& server = NewClient();
  ZkClient& observer = NewClient();
  auto reg = MakeTabletServerRegistration(server, paths_, ServerId(7), "FLUSS://127.0.0.1:7",
                                          std::nullopt);
  ASSERT_TRUE(Run(reg->Register()).ok());
  const int64_t first_session = server.session_id();
  ASSERT_TRUE(testing::ExpireSession(SharedZooKeeper()->address(), first_session,
                                     server.session_password())
                  .ok());
  ASSERT_TRUE(RunUntil([&] { return reg->registrations() == 2 && reg->registered(); }));
  EXPECT_NE(server.session_id(), first_session);
  auto node = Run(observer.Get(paths_.TabletServer(ServerId(7))));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(node->stat.ephemeral_owner, server.session_id());
  Run(reg->Unregister());
  EXPECT_FALSE(Run(observer.Exists(paths_.TabletServer(ServerId(7))))->has_value());
}

struct ElectionLog {
  std::vector<int32_t> elected;
  int lost = 0;
};

std::unique_ptr<CoordinatorElection> MakeElection(ZkClient& client, const ZkPaths& paths,
                                                  std::string id, ElectionLog* log) {
  CoordinatorElection::Callbacks callbacks;
  callbacks.on_elected = [log](CoordinatorEpoch e) { log->elected.push_back(e.value()); };
  callbacks.on_lost = [log] { ++log->lost; };
  return std::make_unique<CoordinatorElection>(
      client, paths, CoordinatorAddress{std::move(id), "FLUSS://127.0.0.1:9123"}, callbacks);
}

TEST_F(RegistrationTest, LeadershipMovesWhenTheLeadersSessionCloses) {
  ZkClient& a = NewClient();
  ElectionLog log_a;
  auto election_a = MakeElection(a, paths_, "coordinator-a", &log_a);
  election_a->Start();
  ASSERT_TRUE(RunUntil([&] { return election_a->is_leader(); }));
  EXPECT_EQ(log_a.elected, std::vector<int32_t>{0}) << "the first epoch is 0";
  auto active = Run(ReadActiveCoordinator(a, paths_));
  ASSERT_TRUE(active.ok() && active->has_value());
  EXPECT_EQ((*active)->id, "coordinator-a");
  EXPECT_EQ(Run(a.Get(paths_.CoordinatorEpoch()))->data, "0");

  ZkClient& b = NewClient();
  ElectionLog log_b;
  auto election_b = MakeElection(b, paths_, "coordinator-b", &log_b);
  election_b->Start();
  // b stands by: a round trip on its session shows it has looked and is waiting.
  ASSERT_TRUE(Run(b.Exists(paths_.ActiveCoordinator())).ok());
  RunUntil([] { return false; }, std::chrono::seconds(1));
  EXPECT_FALSE(election_b->is_leader());

  // The active coordinator's process dies: its session closes, b takes over.
  Run(a.Close());
  ASSERT_TRUE(RunUntil([&] { return election_b->is_leader(); }));
  EXPECT_EQ(log_b.elected, std::vector<int32_t>{1});
  EXPECT_EQ((*Run(ReadActiveCoordinator(b, paths_)))->id, "coordinator-b");
  Run(election_a->Stop());

  // b's session expires: it loses the leadership first, then wins it again (nobody else
  // campaigns) with a new epoch.
  ASSERT_TRUE(testing::ExpireSession(SharedZooKeeper()->address(), b.session_id(),
                                     b.session_password())
                  .ok());
  ASSERT_TRUE(RunUntil([&] { return log_b.lost == 1 && election_b->is_leader(); }));
  EXPECT_EQ(log_b.elected, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(election_b->epoch(), CoordinatorEpoch(2));

  // A controlled stop hands over at once.
  ZkClient& c = NewClient();
  ElectionLog log_c;
  auto election_c = MakeElection(c, paths_, "coordinator-c", &log_c);
  election_c->Start();
  Run(election_b->Stop());
  ASSERT_TRUE(RunUntil([&] { return election_c->is_leader(); }));
  EXPECT_EQ(log_c.elected, std::vector<int32_t>{3});
  Run(election_c->Stop());
  EXPECT_FALSE(Run(c.Exists(paths_.ActiveCoordinator()))->has_value());
}

}  // namespace
}  // namespace strom::zk
