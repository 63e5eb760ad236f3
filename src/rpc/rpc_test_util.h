#pragma once

// Shared by the rpc component's tests only (header-only, so it never enters strom_rpc):
// a dispatcher with test handlers, a fixture running a Server on loopback, and raw-socket
// helpers for feeding the server bytes no real client would send.

#include <gtest/gtest.h>

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/async.h"
#include "common/bytes.h"
#include "proto/FlussApi.pb.h"
#include "proto/frame.h"
#include "rpc/connection.h"
#include "rpc/dispatcher.h"
#include "rpc/server.h"
#include "testutil/run_task.h"

namespace strom::rpc::testing {

using namespace std::chrono_literals;

/// State the test handlers share with the test body. Lives on the reactor thread.
struct HandlerState {
  explicit HandlerState(Executor executor) : release(std::move(executor)) {}

  // DatabaseExists blocks until `released` (or cancellation); these observe it.
  Notifier release;
  bool released = false;
  int active = 0;
  int max_active = 0;
  int started = 0;
  int cancelled = 0;

  // GetTableInfo hops to this pool and back; the threads it ran on.
  asio::thread_pool* pool = nullptr;
  std::thread::id pool_thread;
  std::thread::id resumed_thread;
};

inline Task<Result<proto::ListDatabasesResponse>> ListDatabases(RequestContext context,
                                                                proto::ListDatabasesRequest) {
  proto::ListDatabasesResponse response;
  response.add_database_name("fluss");
  response.add_database_name(context.listener_name);
  co_return response;
}

// Echoes schema_id and the table name after a delay of (schema_id % 5) ms, so concurrent
// requests finish in a different order than they arrived.
inline Task<Result<proto::GetTableSchemaResponse>> EchoSchema(
    RequestContext, proto::GetTableSchemaRequest request) {
  asio::steady_timer delay(co_await asio::this_coro::executor,
                           std::chrono::milliseconds(request.schema_id() % 5));
  co_await delay.async_wait(kAwaitTuple);
  proto::GetTableSchemaResponse response;
  response.set_schema_id(request.schema_id());
  response.set_schema_json(request.table_path().table_name());
  co_return response;
}

// Blocks until the test releases it; gives up when the request is cancelled.
inline Task<Result<proto::DatabaseExistsResponse>> BlockUntilReleased(
    HandlerState* state, RequestContext, proto::DatabaseExistsRequest) {
  ++state->started;
  ++state->active;
  state->max_active = std::max(state->max_active, state->active);
  while (!state->released) {
    co_await state->release.Wait();
    if ((co_await asio::this_coro::cancellation_state).cancelled() !=
        asio::cancellation_type::none) {
      --state->active;
      ++state->cancelled;
      co_return Status(ErrorCode::kRequestTimeOut, "cancelled");
    }
  }
  --state->active;
  proto::DatabaseExistsResponse response;
  response.set_exists(true);
  co_return response;
}

// Fails by name: "exists" -> DATABASE_ALREADY_EXIST, "throw" -> an exception.
inline Task<Result<proto::CreateDatabaseResponse>> CreateDatabase(
    RequestContext, proto::CreateDatabaseRequest request) {
  if (request.database_name() == "throw") throw std::runtime_error("boom");
  if (request.database_name() == "exists") {
    co_return MakeError(ErrorCode::kDatabaseAlreadyExist, "database {} already exists",
                        request.database_name());
  }
  co_return proto::CreateDatabaseResponse();
}

// A bug: required fields left unset.
inline Task<Result<proto::GetDatabaseInfoResponse>> IncompleteDatabaseInfo(
    RequestContext, proto::GetDatabaseInfoRequest) {
  co_return proto::GetDatabaseInfoResponse();
}

// Runs a step on the blocking pool and records where it ran and where it resumed.
inline Task<Result<proto::GetTableInfoResponse>> HopToPool(HandlerState* state, RequestContext,
                                                           proto::GetTableInfoRequest) {
  state->pool_thread =
      co_await RunBlocking(*state->pool, [] { return std::this_thread::get_id(); });
  state->resumed_thread = std::this_thread::get_id();
  proto::GetTableInfoResponse response;
  response.set_table_id(1);
  response.set_schema_id(1);
  response.set_table_json("{}");
  response.set_created_time(0);
  response.set_modified_time(0);
  co_return response;
}

inline Task<Result<ByteBuffer>> EmptyPutKv(RequestContext, ByteBuffer) { co_return ByteBuffer(); }

/// The handlers above, registered under their apis.
inline Dispatcher MakeTestDispatcher(HandlerState* state) {
  Dispatcher dispatcher;
  dispatcher.Handle<proto::ApiKey::kListDatabases>(ListDatabases);
  dispatcher.Handle<proto::ApiKey::kGetTableSchema>(EchoSchema);
  dispatcher.Handle<proto::ApiKey::kDatabaseExists>(
      [state](RequestContext context, proto::DatabaseExistsRequest request) {
        return BlockUntilReleased(state, std::move(context), std::move(request));
      });
  dispatcher.Handle<proto::ApiKey::kCreateDatabase>(CreateDatabase);
  dispatcher.Handle<proto::ApiKey::kGetDatabaseInfo>(IncompleteDatabaseInfo);
  dispatcher.Handle<proto::ApiKey::kGetTableInfo>(
      [state](RequestContext context, proto::GetTableInfoRequest request) {
        return HopToPool(state, std::move(context), std::move(request));
      });
  dispatcher.RegisterRaw(proto::ApiKey::kPutKv, EmptyPutKv);  // versions 0..1
  return dispatcher;
}

inline proto::GetTableSchemaRequest SchemaRequest(int32_t id) {
  proto::GetTableSchemaRequest request;
  request.mutable_table_path()->set_database_name("db");
  request.mutable_table_path()->set_table_name("t" + std::to_string(id));
  request.set_schema_id(id);
  return request;
}

inline proto::DatabaseExistsRequest ExistsRequest() {
  proto::DatabaseExistsRequest request;
  request.set_database_name("db");
  return request;
}

/// Runs a Server with the test handlers on a private io_context driven by the test thread.
class RpcFixture : public ::testing::Test {
 protected:
  RpcFixture() : state_(io_.get_executor()) {}

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(io_.get_executor(), std::move(options),
                                       MakeTestDispatcher(&state_));
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    for (auto& connection : connections_) Run(connection->CloseAndWait());
    connections_.clear();
    if (server_) Run(server_->Stop(5s));
  }

  template <typename T>
  T Run(Task<T> task) {
    return testutil::RunTask(io_, std::move(task));
  }

  /// A client connection to the test server; closed in TearDown.
  std::shared_ptr<Connection> Connect() {
    Result<std::shared_ptr<Connection>> connection =
        Run(Connection::Connect(io_.get_executor(), "127.0.0.1", server_->port(), {}));
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    if (!connection.ok()) return nullptr;
    connections_.push_back(*connection);
    return *connection;
  }

  /// Runs the reactor for `duration` (timers and I/O progress meanwhile).
  void RunFor(SteadyClock::duration duration) {
    io_.restart();
    io_.run_for(duration);
  }

  /// Runs the reactor until `done()` holds or `limit` passes; returns done().
  template <typename Pred>
  bool RunUntil(Pred done, SteadyClock::duration limit = 5s) {
    auto deadline = SteadyClock::now() + limit;
    io_.restart();
    while (!done() && SteadyClock::now() < deadline) io_.run_one_for(10ms);
    return done();
  }

  asio::io_context io_;
  HandlerState state_;
  std::unique_ptr<Server> server_;
  std::vector<std::shared_ptr<Connection>> connections_;
};

/// A plain TCP connection to the server for hand-made bytes.
inline Task<Result<asio::ip::tcp::socket>> RawConnect(uint16_t port) {
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  auto [ec] = co_await socket.async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kAwaitTuple);
  if (ec) co_return MakeError(ErrorCode::kNetwork, "connect: {}", ec.message());
  co_return std::move(socket);
}

inline Task<Status> RawWrite(asio::ip::tcp::socket* socket, ByteBuffer bytes) {
  auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(bytes), kAwaitTuple);
  if (ec) co_return MakeError(ErrorCode::kNetwork, "write: {}", ec.message());
  co_return Status::OK();
}

/// Reads one whole frame (prefix included); NETWORK_EXCEPTION "eof" at a clean end of
/// stream before any byte of a frame.
inline Task<Result<ByteBuffer>> RawReadFrame(asio::ip::tcp::socket* socket) {
  ByteBuffer frame(4, '\0');
  auto [ec, n] = co_await asio::async_read(*socket, asio::buffer(frame), kAwaitTuple);
  if (ec == asio::error::eof && n == 0) co_return Status(ErrorCode::kNetwork, "eof");
  if (ec) co_return MakeError(ErrorCode::kNetwork, "read: {}", ec.message());
  ByteReader reader(frame);
  int32_t length = reader.I32BE();
  if (length < 0 || length > (64 << 20)) co_return Corruption("bad length {}", length);
  frame.resize(4 + static_cast<size_t>(length));
  auto [ec2, n2] =
      co_await asio::async_read(*socket, asio::buffer(frame.data() + 4, length), kAwaitTuple);
  if (ec2) co_return MakeError(ErrorCode::kNetwork, "read body: {}", ec2.message());
  co_return frame;
}

/// RawReadFrame with a deadline, so a silent server fails the test instead of hanging it.
inline Task<Result<ByteBuffer>> RawReadFrameWithin(asio::ip::tcp::socket* socket,
                                                   SteadyClock::duration timeout) {
  co_return co_await WithTimeout(RawReadFrame(socket), timeout);
}

/// A request frame with a raw payload.
inline ByteBuffer RequestFrame(int16_t api_key, int16_t version, int32_t request_id,
                               ByteView payload) {
  ByteBuffer out;
  Status st = proto::AppendRequestFrame({api_key, version, request_id}, payload, &out);
  EXPECT_TRUE(st.ok());
  return out;
}

}  // namespace strom::rpc::testing
