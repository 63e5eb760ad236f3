#include "zk/zk_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <thread>

#include "testutil/run_task.h"
#include "zk/testing/shared_zookeeper.h"
#include "zk/testing/zookeeper_server.h"

namespace strom::zk {
namespace {

using testing::SharedZooKeeper;
using testing::UniqueRoot;
using testutil::RunTask;

ZkClientOptions OptionsFor(const std::string& address) {
  ZkClientOptions options;
  options.connect_string = address;
  options.session_timeout = std::chrono::seconds(8);
  options.connection_timeout = std::chrono::seconds(20);
  options.retry_wait = std::chrono::milliseconds(200);
  return options;
}

class ZkClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(SharedZooKeeper(), nullptr);
    root_ = UniqueRoot("zk-client");
    client_ = Connect(SharedZooKeeper()->address());
    ASSERT_NE(client_, nullptr);
    ASSERT_TRUE(Run(client_->Create(root_, "", CreateMode::kPersistent)).ok());
  }
  void TearDown() override {
    for (auto* c : {&client_, &other_}) {
      if (*c) Run((*c)->Close());
    }
  }

  std::unique_ptr<ZkClient> Connect(const std::string& address,
                                    std::optional<ZkClientOptions> options = std::nullopt) {
    auto client = Run(ZkClient::Connect(io_.get_executor(), options.value_or(OptionsFor(address))));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  template <typename T>
  T Run(Task<T> task) {
    return RunTask(io_, std::move(task));
  }

  /// Runs the reactor until `done()` holds (bounded, so a missing event fails the test
  /// instead of hanging it).
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::seconds bound = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  std::string P(const std::string& name) const { return root_ + "/" + name; }

  asio::io_context io_;
  std::string root_;
  std::unique_ptr<ZkClient> client_;
  std::unique_ptr<ZkClient> other_;
};

TEST_F(ZkClientTest, CreateGetSetDeleteWithVersions) {
  auto created = Run(client_->Create(P("a"), "one", CreateMode::kPersistent));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(*created, P("a"));
  auto again = Run(client_->Create(P("a"), "x", CreateMode::kPersistent));
  EXPECT_EQ(again.code(), ZkCode::kNodeExists);
  EXPECT_EQ(again.status().code(), ErrorCode::kStorage);
  EXPECT_NE(again.status().message().find("ZNODEEXISTS"), std::string::npos);

  auto node = Run(client_->Get(P("a")));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->data, "one");
  EXPECT_EQ(node->stat.version, 0);
  EXPECT_EQ(node->stat.ephemeral_owner, 0);

  // Compare-and-set: the current version wins, a stale one loses.
  auto set = Run(client_->Set(P("a"), "two", node->stat.version));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->version, 1);
  EXPECT_EQ(Run(client_->Set(P("a"), "three", 0)).code(), ZkCode::kBadVersion);
  EXPECT_EQ(Run(client_->Get(P("a")))->data, "two");
  EXPECT_EQ(Run(client_->Set(P("missing"), "x")).code(), ZkCode::kNoNode);

  EXPECT_EQ(Run(client_->Get(P("missing"))).code(), ZkCode::kNoNode);
  EXPECT_FALSE(Run(client_->Exists(P("missing")))->has_value());
  auto stat = Run(client_->Exists(P("a")));
  ASSERT_TRUE(stat.ok() && stat->has_value());
  EXPECT_EQ((*stat)->data_length, 3);

  EXPECT_EQ(Run(client_->Delete(P("a"), 0)).code(), ZkCode::kBadVersion);
  EXPECT_TRUE(Run(client_->Delete(P("a"), 1)).ok());
  EXPECT_EQ(Run(client_->Delete(P("a"))).code(), ZkCode::kNoNode);
}

TEST_F(ZkClientTest, ParentsChildrenAndRecursiveDelete) {
  EXPECT_EQ(Run(client_->Create(P("x/y/z"), "", CreateMode::kPersistent)).code(),
            ZkCode::kNoNode);
  ASSERT_TRUE(Run(client_->CreateParents(P("x/y/z"))).ok());
  ASSERT_TRUE(Run(client_->Create(P("x/y/z"), "leaf", CreateMode::kPersistent)).ok());
  ASSERT_TRUE(Run(client_->CreateParents(P("x/y/z"))).ok()) << "idempotent";
  EXPECT_EQ(Run(client_->Get(P("x/y")))->data, "") << "parents have empty data";
  ASSERT_TRUE(Run(client_->Create(P("x/w"), "", CreateMode::kPersistent)).ok());
  auto children = Run(client_->Children(P("x")));
  ASSERT_TRUE(children.ok());
  std::sort(children->begin(), children->end());
  EXPECT_EQ(*children, (std::vector<std::string>{"w", "y"}));
  EXPECT_EQ(Run(client_->Children(P("nope"))).code(), ZkCode::kNoNode);

  EXPECT_EQ(Run(client_->Delete(P("x"))).code(), ZkCode::kNotEmpty);
  ASSERT_TRUE(Run(client_->DeleteRecursive(P("x"))).ok());
  EXPECT_FALSE(Run(client_->Exists(P("x")))->has_value());
  EXPECT_TRUE(Run(client_->DeleteRecursive(P("x"))).ok()) << "already gone is fine";
}

TEST_F(ZkClientTest, SequentialAndEphemeralNodes) {
  auto first = Run(client_->Create(P("seq-"), "", CreateMode::kPersistentSequential));
  auto second = Run(client_->Create(P("seq-"), "", CreateMode::kPersistentSequential));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->size(), P("seq-").size() + 10) << *first;
  EXPECT_LT(*first, *second);

  other_ = Connect(SharedZooKeeper()->address());
  ASSERT_NE(other_, nullptr);
  ASSERT_TRUE(Run(other_->Create(P("eph"), "mine", CreateMode::kEphemeral)).ok());
  auto eph_seq = Run(other_->Create(P("eph-"), "", CreateMode::kEphemeralSequential));
  ASSERT_TRUE(eph_seq.ok());
  auto stat = Run(client_->Exists(P("eph")));
  ASSERT_TRUE(stat.ok() && stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, other_->session_id());
  EXPECT_EQ(Run(other_->Create(P("eph/child"), "", CreateMode::kPersistent)).code(),
            ZkCode::kNoChildrenForEphemerals);

  Run(other_->Close());
  other_.reset();
  EXPECT_FALSE(Run(client_->Exists(P("eph")))->has_value()) << "ephemeral outlived its session";
  EXPECT_FALSE(Run(client_->Exists(*eph_seq))->has_value());
}

TEST_F(ZkClientTest, MultiIsAllOrNothing) {
  ASSERT_TRUE(Run(client_->Create(P("counter"), "0", CreateMode::kPersistent)).ok());
  // The check fails (version 5 != 0): nothing of the transaction may be applied.
  auto failed = Run(client_->Multi({ZkOp::Create(P("t1"), "a"), ZkOp::Check(P("counter"), 5),
                                    ZkOp::Create(P("t2"), "b")}));
  EXPECT_EQ(failed.code(), ZkCode::kBadVersion);
  ASSERT_EQ(failed->size(), 3u);
  EXPECT_EQ((*failed)[1].code, ZkCode::kBadVersion);
  EXPECT_FALSE(Run(client_->Exists(P("t1")))->has_value());
  EXPECT_NE(failed.status().message().find(P("counter")), std::string::npos);

  auto ok = Run(client_->Multi({ZkOp::Create(P("t1"), "a"),
                                ZkOp::Create(P("t1/s-"), "", CreateMode::kPersistentSequential),
                                ZkOp::SetData(P("counter"), "1", 0),
                                ZkOp::Check(P("counter"), 1)}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 4u);
  EXPECT_EQ((*ok)[0].path, P("t1"));
  EXPECT_EQ((*ok)[1].path, P("t1/s-0000000000"));
  EXPECT_EQ((*ok)[2].stat.version, 1);
  EXPECT_EQ(Run(client_->Get(P("counter")))->data, "1");
}

TEST_F(ZkClientTest, WatchesArriveOnTheReactorOnce) {
  ASSERT_TRUE(Run(client_->Create(P("w"), "v0", CreateMode::kPersistent)).ok());
  const auto reactor = std::this_thread::get_id();
  std::vector<WatchEvent> data_events, exist_events, child_events;
  bool wrong_thread = false;
  auto recorder = [&](std::vector<WatchEvent>* out) {
    return [&wrong_thread, reactor, out](WatchEvent e) {
      if (std::this_thread::get_id() != reactor) wrong_thread = true;
      out->push_back(std::move(e));
    };
  };
  ASSERT_TRUE(Run(client_->Get(P("w"), recorder(&data_events))).ok());
  ASSERT_TRUE(Run(client_->Exists(P("later"), recorder(&exist_events))).ok());
  ASSERT_TRUE(Run(client_->Children(P("w"), recorder(&child_events))).ok());

  other_ = Connect(SharedZooKeeper()->address());
  ASSERT_TRUE(Run(other_->Set(P("w"), "v1")).ok());
  ASSERT_TRUE(Run(other_->Create(P("later"), "", CreateMode::kPersistent)).ok());
  ASSERT_TRUE(Run(other_->Create(P("w/c"), "", CreateMode::kPersistent)).ok());
  ASSERT_TRUE(RunUntil([&] {
    return !data_events.empty() && !exist_events.empty() && !child_events.empty();
  }));
  EXPECT_EQ(data_events[0].type, WatchEvent::Type::kDataChanged);
  EXPECT_EQ(data_events[0].path, P("w"));
  EXPECT_EQ(exist_events[0].type, WatchEvent::Type::kCreated);
  EXPECT_EQ(child_events[0].type, WatchEvent::Type::kChildrenChanged);
  // One-shot: a second change is not delivered to the same watch.
  ASSERT_TRUE(Run(other_->Set(P("w"), "v2")).ok());
  ASSERT_TRUE(Run(client_->Get(P("w"))).ok());  // a round trip after the change
  EXPECT_EQ(data_events.size(), 1u);
  EXPECT_FALSE(wrong_thread) << "a watch ran on a C client thread";
}

TEST_F(ZkClientTest, CallsBeyondTheInflightBoundWaitTheirTurn) {
  ZkClientOptions options = OptionsFor(SharedZooKeeper()->address());
  options.max_inflight_requests = 2;
  other_ = Connect(SharedZooKeeper()->address(), options);
  ASSERT_NE(other_, nullptr);
  int done = 0;
  int failed = 0;
  for (int i = 0; i < 12; ++i) {
    auto create = [](ZkClient* c, std::string path, int* ok, int* bad) -> Task<void> {
      std::string data = "x";
      auto r = co_await c->Create(std::move(path), std::move(data), CreateMode::kPersistent);
      ++*(r.ok() ? ok : bad);
    };
    asio::co_spawn(io_, create(other_.get(), P("n" + std::to_string(i)), &done, &failed),
                   [](std::exception_ptr e) {
                     if (e) ADD_FAILURE() << "create threw";
                   });
  }
  ASSERT_TRUE(RunUntil([&] { return done + failed == 12; }));
  EXPECT_EQ(done, 12);
  EXPECT_EQ(Run(client_->Children(root_))->size(), 12u);
}

TEST(ZkClientOptionsTest, FromServerConfiguration) {
  auto config = config::Configuration::FromYaml(
      "zookeeper.address: 127.0.0.1:2181,127.0.0.1:2182\n"
      "zookeeper.client.session-timeout: 5 s\n"
      "zookeeper.client.max-inflight-requests: 7\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto options = ZkClientOptions::FromConfig(*config);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->connect_string, "127.0.0.1:2181,127.0.0.1:2182");
  EXPECT_EQ(options->session_timeout, std::chrono::seconds(5));
  EXPECT_EQ(options->connection_timeout, std::chrono::seconds(15)) << "Fluss's default";
  EXPECT_EQ(options->max_retry_attempts, 3);
  EXPECT_EQ(options->max_inflight_requests, 7);
  EXPECT_EQ(ZkClientOptions::FromConfig(config::Configuration()).status().code(),
            ErrorCode::kInvalidConfig);
}

TEST_F(ZkClientTest, BadInputIsAStatusNotACrash) {
  EXPECT_EQ(Run(client_->Create("no-leading-slash", "", CreateMode::kPersistent)).code(),
            ZkCode::kBadArguments);
  EXPECT_EQ(Run(client_->Get("")).code(), ZkCode::kBadArguments);
  EXPECT_EQ(Run(client_->Get(P("trailing/"))).code(), ZkCode::kBadArguments);
  auto bad_multi = Run(client_->Multi({ZkOp::Create("bad", "")}));
  EXPECT_FALSE(bad_multi.ok());
  EXPECT_FALSE(bad_multi.status().ok());
  // Still serving.
  EXPECT_TRUE(Run(client_->Exists(root_)).ok());
}

TEST_F(ZkClientTest, ConnectWithoutServerFailsWithNetworkError) {
  auto server = SharedZooKeeper();
  ZkClientOptions options = OptionsFor("127.0.0.1:1");  // nothing listens on port 1
  options.connection_timeout = std::chrono::milliseconds(500);
  auto client = Run(ZkClient::Connect(io_.get_executor(), options));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kNetwork);
  (void)server;
}

TEST_F(ZkClientTest, ExpiredSessionIsAnnouncedAndReplaced) {
  std::vector<SessionEvent> events;
  client_->AddSessionListener([&](SessionEvent e) { events.push_back(e); });
  ASSERT_TRUE(Run(client_->Create(P("eph"), "", CreateMode::kEphemeral)).ok());
  std::vector<WatchEvent> watch_events;
  ASSERT_TRUE(Run(client_->Exists(P("never"), [&](WatchEvent e) {
                   watch_events.push_back(std::move(e));
                 })).ok());
  const int64_t old_session = client_->session_id();

  ASSERT_TRUE(testing::ExpireSession(SharedZooKeeper()->address(), old_session,
                                     client_->session_password())
                  .ok());
  ASSERT_TRUE(RunUntil([&] {
    return std::find(events.begin(), events.end(), SessionEvent::kNewSession) != events.end();
  }));
  auto expired = std::find(events.begin(), events.end(), SessionEvent::kExpired);
  ASSERT_NE(expired, events.end());
  EXPECT_LT(expired - events.begin(),
            std::find(events.begin(), events.end(), SessionEvent::kNewSession) - events.begin());
  ASSERT_EQ(watch_events.size(), 1u);
  EXPECT_EQ(watch_events[0].type, WatchEvent::Type::kSessionExpired);
  EXPECT_NE(client_->session_id(), old_session);
  EXPECT_TRUE(client_->connected());
  EXPECT_FALSE(Run(client_->Exists(P("eph")))->has_value()) << "ephemeral survived expiry";
  EXPECT_TRUE(Run(client_->Create(P("eph"), "", CreateMode::kEphemeral)).ok());

  // An explicit replacement works the same way.
  const int64_t second = client_->session_id();
  events.clear();
  watch_events.clear();
  ASSERT_TRUE(Run(client_->Exists(P("never"), [&](WatchEvent e) {
                   watch_events.push_back(std::move(e));
                 })).ok());
  ASSERT_TRUE(Run(client_->RecreateSession()).ok());
  EXPECT_NE(client_->session_id(), second);
  EXPECT_FALSE(Run(client_->Exists(P("eph")))->has_value());
  EXPECT_EQ(events, (std::vector<SessionEvent>{SessionEvent::kExpired, SessionEvent::kNewSession}));
  ASSERT_EQ(watch_events.size(), 1u);
  EXPECT_EQ(watch_events[0].type, WatchEvent::Type::kSessionExpired);
}

TEST(ZkClientRestartTest, CallsSurviveAServerRestartWithinTheSession) {
  testing::ZooKeeperServer::Options server_options;
  server_options.tick = std::chrono::milliseconds(1000);  // sessions up to 20 s
  auto server = testing::ZooKeeperServer::Start(server_options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  asio::io_context io;
  ZkClientOptions options = OptionsFor((*server)->address());
  options.session_timeout = std::chrono::seconds(20);
  options.max_retry_attempts = 10;
  auto client = RunTask(io, ZkClient::Connect(io.get_executor(), options));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  std::vector<SessionEvent> events;
  (*client)->AddSessionListener([&](SessionEvent e) { events.push_back(e); });
  ASSERT_TRUE(RunTask(io, (*client)->Create("/r", "kept", CreateMode::kPersistent)).ok());
  ASSERT_TRUE(RunTask(io, (*client)->Create("/r/e", "", CreateMode::kEphemeral)).ok());
  const int64_t session = (*client)->session_id();

  (*server)->Stop();
  ASSERT_TRUE((*server)->Restart().ok());
  // The read is retried until the client has reconnected to the restarted server.
  auto node = RunTask(io, (*client)->Get("/r"));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(node->data, "kept");
  EXPECT_EQ((*client)->session_id(), session) << "the session must survive a short outage";
  EXPECT_TRUE(RunTask(io, (*client)->Exists("/r/e"))->has_value());
  EXPECT_NE(std::find(events.begin(), events.end(), SessionEvent::kDisconnected), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), SessionEvent::kReconnected), events.end());
  EXPECT_EQ(std::find(events.begin(), events.end(), SessionEvent::kExpired), events.end());
  RunTask(io, (*client)->Close());
}

}  // namespace
}  // namespace strom::zk
