#include "rpc/connection_pool.h"

#include <gtest/gtest.h>

#include <vector>

#include "rpc/rpc_test_util.h"

namespace strom::rpc {
namespace {

using namespace std::chrono_literals;
using proto::ApiKey;
using testing::RpcFixture;

class RpcConnectionPoolTest : public RpcFixture {
 protected:
  void TearDown() override {
    if (pool_) Run(pool_->Close());
    RpcFixture::TearDown();
  }

  void MakePool() {
    ConnectionOptions options;
    options.connect_timeout = 5s;
    pool_ = std::make_unique<ConnectionPool>(io_.get_executor(), options);
  }

  std::unique_ptr<ConnectionPool> pool_;
};

Task<std::vector<std::shared_ptr<Connection>>> GetConcurrently(ConnectionPool* pool, uint16_t port,
                                                               int count) {
  std::vector<std::shared_ptr<Connection>> got;
  Gate gate;
  auto one = [](ConnectionPool* p, uint16_t port,
                std::vector<std::shared_ptr<Connection>>* out) -> Task<void> {
    Result<std::shared_ptr<Connection>> c = co_await p->Get("127.0.0.1", port);
    if (c.ok()) out->push_back(*c);
  };
  Executor ex = co_await asio::this_coro::executor;
  for (int i = 0; i < count; ++i) SpawnBackground(ex, gate, "get", one(pool, port, &got));
  co_await gate.Close();
  co_return got;
}

TEST_F(RpcConnectionPoolTest, ConcurrentGetsShareOneConnection) {
  StartServer();
  MakePool();
  std::vector<std::shared_ptr<Connection>> got =
      Run(GetConcurrently(pool_.get(), server_->port(), 5));
  ASSERT_EQ(got.size(), 5u);
  for (const auto& c : got) EXPECT_EQ(c, got.front());
  EXPECT_EQ(pool_->size(), 1u);
  ASSERT_TRUE(RunUntil([&] { return server_->connection_count() == 1; }));
  auto again = Run(pool_->Get("127.0.0.1", server_->port()));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, got.front());
  auto listed = Run((*again)->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s));
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
}

TEST_F(RpcConnectionPoolTest, AFailedConnectionIsReplaced) {
  StartServer();
  MakePool();
  auto first = Run(pool_->Get("127.0.0.1", server_->port()));
  ASSERT_TRUE(first.ok());
  (*first)->Close();  // as if the network dropped it
  auto second = Run(pool_->Get("127.0.0.1", server_->port()));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(*second, *first);
  EXPECT_TRUE((*second)->is_open());
}

TEST_F(RpcConnectionPoolTest, UnreachableAddressFailsAndIsRetriedNextTime) {
  StartServer();
  uint16_t port = server_->port();
  Run(server_->Stop(1s));  // nothing listens on `port` any more
  MakePool();
  auto failed = Run(pool_->Get("127.0.0.1", port));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kNetwork) << failed.status().ToString();
  EXPECT_EQ(pool_->size(), 0u);
  // A new server on another port: the pool connects there; the dead address is not cached.
  server_.reset();
  StartServer();
  auto ok = Run(pool_->Get("127.0.0.1", server_->port()));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto failed_again = Run(pool_->Get("127.0.0.1", port));
  EXPECT_FALSE(failed_again.ok());
}

TEST_F(RpcConnectionPoolTest, CloseClosesConnectionsAndRefusesGets) {
  StartServer();
  MakePool();
  auto got = Run(pool_->Get("127.0.0.1", server_->port()));
  ASSERT_TRUE(got.ok());
  Run(pool_->Close());
  EXPECT_FALSE((*got)->is_open());
  auto refused = Run(pool_->Get("127.0.0.1", server_->port()));
  EXPECT_EQ(refused.status().code(), ErrorCode::kNetwork);
  ASSERT_TRUE(RunUntil([&] { return server_->connection_count() == 0; }));
}

}  // namespace
}  // namespace strom::rpc
