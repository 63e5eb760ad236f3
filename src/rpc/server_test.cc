#include "rpc/server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rpc/connection.h"
#include "rpc/rpc_test_util.h"

namespace strom::rpc {
namespace {

using namespace std::chrono_literals;
using proto::ApiKey;
using testing::ExistsRequest;
using testing::HandlerState;
using testing::RpcFixture;
using testing::SchemaRequest;

class RpcServerTest : public RpcFixture {};

TEST_F(RpcServerTest, TypedRoundTrip) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  Result<proto::ListDatabasesResponse> response =
      Run(connection->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->database_name_size(), 2);
  EXPECT_EQ(response->database_name(0), "fluss");
  EXPECT_EQ(response->database_name(1), "FLUSS");  // the listener name from the context
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(RpcServerTest, ApiVersionsListsExactlyTheRegisteredApis) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  std::set<int16_t> expected = {1000, 1003, 1004, 1001, 1007, 1011, 1016, 1035, 1038};
  std::set<int16_t> advertised;
  for (const auto& [key, range] : connection->server_api_versions()) {
    advertised.insert(key);
    int16_t max = (key == 1016) ? 1 : 0;  // PUT_KV 0..1, everything else 0..0
    EXPECT_EQ(range.min_version, 0) << key;
    EXPECT_EQ(range.max_version, max) << key;
  }
  EXPECT_EQ(advertised, expected);
  EXPECT_FALSE(connection->server_type().has_value());  // one port, both roles: unset
  EXPECT_EQ(server_->advertised_apis().size(), expected.size());
  // Typed calls negotiate the highest common version.
  EXPECT_EQ(*connection->NegotiateVersion(ApiKey::kPutKv), 1);
  Result<int16_t> missing = connection->NegotiateVersion(ApiKey::kProduceLog);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kUnsupportedVersion);
}

TEST_F(RpcServerTest, ApiVersionsCarriesServerTypeWhenConfigured) {
  ServerOptions options;
  options.server_type = proto::ServerType::kTabletServer;
  StartServer(options);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->server_type().has_value());
  EXPECT_EQ(*connection->server_type(), proto::ServerType::kTabletServer);
}

// Starts `count` echo calls at once on one connection and records the order in which they
// complete.
Task<std::vector<int>> Pipeline(std::shared_ptr<Connection> connection, int count,
                                std::vector<Status>* failures) {
  std::vector<int> completion_order;
  Gate gate;
  auto one = [](std::shared_ptr<Connection> c, int id, std::vector<int>* order,
                std::vector<Status>* fails) -> Task<void> {
    Result<proto::GetTableSchemaResponse> r =
        co_await c->Call<ApiKey::kGetTableSchema>(SchemaRequest(id), 10s);
    if (!r.ok()) {
      fails->push_back(r.status());
    } else if (r->schema_id() != id || r->schema_json() != "t" + std::to_string(id)) {
      fails->push_back(Status(ErrorCode::kCorruptMessage, "answer to the wrong call"));
    }
    order->push_back(id);
  };
  Executor ex = co_await asio::this_coro::executor;
  for (int i = 0; i < count; ++i) {
    SpawnBackground(ex, gate, "call", one(connection, i, &completion_order, failures));
  }
  co_await gate.Close();
  co_return completion_order;
}

TEST_F(RpcServerTest, PipelinesAThousandConcurrentCallsOnOneConnection) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  std::vector<Status> failures;
  std::vector<int> order = Run(Pipeline(connection, 1000, &failures));
  EXPECT_TRUE(failures.empty()) << failures.size()
                                << " failed, first: " << failures.front().ToString();
  ASSERT_EQ(order.size(), 1000u);
  // Handlers finish out of order and responses are sent as they finish.
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(connection->pending_calls(), 0u);
  EXPECT_EQ(server_->connection_count(), 1u);
}

Task<std::vector<Result<proto::DatabaseExistsResponse>>> CallBlocking(
    std::shared_ptr<Connection> connection, int count, SteadyClock::duration timeout) {
  std::vector<Result<proto::DatabaseExistsResponse>> results;
  Gate gate;
  auto one = [](std::shared_ptr<Connection> c, SteadyClock::duration t,
                std::vector<Result<proto::DatabaseExistsResponse>>* out) -> Task<void> {
    out->push_back(co_await c->Call<ApiKey::kDatabaseExists>(ExistsRequest(), t));
  };
  Executor ex = co_await asio::this_coro::executor;
  for (int i = 0; i < count; ++i)
    SpawnBackground(ex, gate, "call", one(connection, timeout, &results));
  co_await gate.Close();
  co_return results;
}

TEST_F(RpcServerTest, InFlightBoundStopsReadingUntilAResponseIsWritten) {
  ServerOptions options;
  options.max_in_flight_per_connection = 4;
  StartServer(options);
  auto busy = Connect();
  auto other = Connect();
  ASSERT_NE(busy, nullptr);
  ASSERT_NE(other, nullptr);

  std::vector<Result<proto::DatabaseExistsResponse>> results;
  Gate gate;
  auto calls = [](std::shared_ptr<Connection> c,
                  std::vector<Result<proto::DatabaseExistsResponse>>* out) -> Task<void> {
    *out = co_await CallBlocking(c, 20, 20s);
  };
  SpawnBackground(io_.get_executor(), gate, "calls", calls(busy, &results));
  ASSERT_TRUE(RunUntil([&] { return state_.active == 4; }));
  RunFor(100ms);  // more frames are queued in the socket, yet none is started
  EXPECT_EQ(state_.started, 4);
  EXPECT_EQ(state_.max_active, 4);

  // Other connections are not held back by the busy one.
  Result<proto::ListDatabasesResponse> listed =
      Run(other->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s));
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();

  state_.released = true;
  state_.release.Notify();
  Run(gate.Close());
  ASSERT_EQ(results.size(), 20u);
  for (const auto& r : results) EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(state_.started, 20);
  EXPECT_EQ(state_.max_active, 4);
}

TEST_F(RpcServerTest, UnknownAndUnservedApisAreAnsweredWithUnsupportedVersion) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  // 999: not a Fluss api at all; 1014: a Fluss api this server has no handler for.
  for (int16_t key : {int16_t{999}, int16_t{1014}, int16_t{2000}}) {
    Result<ByteBuffer> r = Run(connection->Call(key, 0, ByteBuffer(), 5s));
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.status().code(), ErrorCode::kUnsupportedVersion) << r.status().ToString();
  }
  // The connection is still in use.
  EXPECT_TRUE(
      Run(connection->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s)).ok());
}

TEST_F(RpcServerTest, VersionsOutsideTheHandlersRangeAreUnsupported) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  Result<ByteBuffer> v1 =
      Run(connection->Call(static_cast<int16_t>(ApiKey::kListDatabases), 1, ByteBuffer(), 5s));
  ASSERT_FALSE(v1.ok());
  EXPECT_EQ(v1.status().code(), ErrorCode::kUnsupportedVersion);
  EXPECT_NE(v1.status().message().find("LIST_DATABASES version 1"), std::string::npos)
      << v1.status().message();
  Result<ByteBuffer> negative =
      Run(connection->Call(static_cast<int16_t>(ApiKey::kPutKv), -1, ByteBuffer(), 5s));
  EXPECT_EQ(negative.status().code(), ErrorCode::kUnsupportedVersion);
  // PUT_KV accepts 0 and 1.
  EXPECT_TRUE(
      Run(connection->Call(static_cast<int16_t>(ApiKey::kPutKv), 1, ByteBuffer(), 5s)).ok());
  EXPECT_EQ(Run(connection->Call(static_cast<int16_t>(ApiKey::kPutKv), 2, ByteBuffer(), 5s))
                .status()
                .code(),
            ErrorCode::kUnsupportedVersion);
}

TEST_F(RpcServerTest, HandlerErrorBecomesAnErrorResponseWithItsCode) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  proto::CreateDatabaseRequest request;
  request.set_database_name("exists");
  request.set_ignore_if_exists(false);
  auto r = Run(connection->Call<ApiKey::kCreateDatabase>(request, 5s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kDatabaseAlreadyExist);
  EXPECT_EQ(r.status().message(), "database exists already exists");
}

TEST_F(RpcServerTest, HandlerExceptionIsUnknownServerErrorAndTheConnectionSurvives) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  proto::CreateDatabaseRequest request;
  request.set_database_name("throw");
  request.set_ignore_if_exists(false);
  auto r = Run(connection->Call<ApiKey::kCreateDatabase>(request, 5s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnknownServerError);
  EXPECT_NE(r.status().message().find("boom"), std::string::npos) << r.status().message();
  EXPECT_TRUE(connection->is_open());
  request.set_database_name("fresh");
  EXPECT_TRUE(Run(connection->Call<ApiKey::kCreateDatabase>(request, 5s)).ok());
}

TEST_F(RpcServerTest, MalformedPayloadsAreCorruptMessage) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  // Not protobuf at all (a truncated varint).
  Result<ByteBuffer> garbage = Run(connection->Call(static_cast<int16_t>(ApiKey::kListDatabases), 0,
                                                    ByteBuffer("\x08\xff", 2), 5s));
  EXPECT_EQ(garbage.status().code(), ErrorCode::kCorruptMessage) << garbage.status().ToString();
  // Valid protobuf, but the required database_name is missing.
  Result<ByteBuffer> incomplete =
      Run(connection->Call(static_cast<int16_t>(ApiKey::kDatabaseExists), 0, ByteBuffer(), 5s));
  EXPECT_EQ(incomplete.status().code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(incomplete.status().message().find("database_name"), std::string::npos)
      << incomplete.status().message();
  EXPECT_EQ(state_.started, 0);  // the handler never ran
  EXPECT_TRUE(connection->is_open());
}

TEST_F(RpcServerTest, ResponseMissingRequiredFieldsIsNeverSent) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  proto::GetDatabaseInfoRequest request;
  request.set_database_name("db");
  auto r = Run(connection->Call<ApiKey::kGetDatabaseInfo>(request, 5s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnknownServerError);
  EXPECT_TRUE(connection->is_open());
  EXPECT_TRUE(
      Run(connection->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s)).ok());
}

TEST_F(RpcServerTest, AuthenticateOnAPlaintextListener) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  proto::AuthenticateRequest plaintext;
  plaintext.set_protocol("plaintext");
  plaintext.set_token("");
  auto ok = Run(connection->Call<ApiKey::kAuthenticate>(plaintext, 5s));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(ok->has_challenge());

  proto::AuthenticateRequest sasl;
  sasl.set_protocol("PLAIN");
  sasl.set_token(std::string("\0admin\0secret", 13));
  auto refused = Run(connection->Call<ApiKey::kAuthenticate>(sasl, 5s));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kAuthenticate);
}

TEST_F(RpcServerTest, ClientCallTimesOutAndALateAnswerIsDropped) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  auto start = SteadyClock::now();
  auto r = Run(connection->Call<ApiKey::kDatabaseExists>(ExistsRequest(), 50ms));
  EXPECT_LT(SteadyClock::now() - start, 3s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kRequestTimeOut);
  EXPECT_EQ(connection->pending_calls(), 0u);
  // Now let the handler answer; the client drops the late response and carries on.
  state_.released = true;
  state_.release.Notify();
  ASSERT_TRUE(RunUntil([&] { return state_.active == 0; }));
  RunFor(20ms);
  EXPECT_TRUE(connection->is_open());
  EXPECT_TRUE(Run(connection->Call<ApiKey::kDatabaseExists>(ExistsRequest(), 5s)).ok());
}

TEST_F(RpcServerTest, HandlersUseTheBlockingPoolAndResumeOnTheReactor) {
  asio::thread_pool pool(2);
  state_.pool = &pool;
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  proto::GetTableInfoRequest request;
  request.mutable_table_path()->set_database_name("db");
  request.mutable_table_path()->set_table_name("t");
  auto r = Run(connection->Call<ApiKey::kGetTableInfo>(request, 5s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(state_.pool_thread, std::this_thread::get_id());
  EXPECT_EQ(state_.resumed_thread, std::this_thread::get_id());  // the reactor thread
  pool.join();
}

TEST_F(RpcServerTest, StopLetsInFlightRequestsFinishThenCloses) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  std::vector<Result<proto::DatabaseExistsResponse>> results;
  Gate gate;
  auto calls = [](std::shared_ptr<Connection> c,
                  std::vector<Result<proto::DatabaseExistsResponse>>* out) -> Task<void> {
    *out = co_await CallBlocking(c, 3, 10s);
  };
  SpawnBackground(io_.get_executor(), gate, "calls", calls(connection, &results));
  ASSERT_TRUE(RunUntil([&] { return state_.active == 3; }));

  auto release_later = [](HandlerState* state) -> Task<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(kAwaitTuple);
    state->released = true;
    state->release.Notify();
  };
  SpawnBackground(io_.get_executor(), gate, "release", release_later(&state_));
  auto start = SteadyClock::now();
  Run(server_->Stop(5s));
  EXPECT_LT(SteadyClock::now() - start, 4s);
  Run(gate.Close());
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(state_.cancelled, 0);
  EXPECT_EQ(server_->connection_count(), 0u);
  ASSERT_TRUE(RunUntil([&] { return !connection->is_open(); }));
  // A stopped server accepts nothing.
  auto refused = Run(Connection::Connect(io_.get_executor(), "127.0.0.1", server_->port(),
                                         ConnectionOptions{.connect_timeout = 2s}));
  EXPECT_FALSE(refused.ok());
}

TEST_F(RpcServerTest, StopDeadlineCancelsStuckHandlersAndFailsPendingCalls) {
  StartServer();
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  std::vector<Result<proto::DatabaseExistsResponse>> results;
  Gate gate;
  auto calls = [](std::shared_ptr<Connection> c,
                  std::vector<Result<proto::DatabaseExistsResponse>>* out) -> Task<void> {
    *out = co_await CallBlocking(c, 3, 30s);
  };
  SpawnBackground(io_.get_executor(), gate, "calls", calls(connection, &results));
  ASSERT_TRUE(RunUntil([&] { return state_.active == 3; }));
  auto start = SteadyClock::now();
  Run(server_->Stop(100ms));  // never released: the deadline passes
  EXPECT_LT(SteadyClock::now() - start, 4s);
  EXPECT_EQ(state_.cancelled, 3);
  EXPECT_EQ(state_.active, 0);
  Run(gate.Close());
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kNetwork) << r.status().ToString();
  }
  EXPECT_FALSE(connection->is_open());
}

TEST_F(RpcServerTest, IdleConnectionsAreClosed) {
  ServerOptions options;
  options.max_idle_time = 100ms;
  StartServer(options);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  EXPECT_TRUE(connection->is_open());
  ASSERT_TRUE(RunUntil([&] { return !connection->is_open(); }, 5s));
  EXPECT_TRUE(RunUntil([&] { return server_->connection_count() == 0; }));
  auto r = Run(connection->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 1s));
  EXPECT_EQ(r.status().code(), ErrorCode::kNetwork);
}

TEST_F(RpcServerTest, StartFailsOnAPortInUse) {
  StartServer();
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = server_->port();
  Server second(io_.get_executor(), options, Dispatcher());
  Status started = second.Start();
  EXPECT_EQ(started.code(), ErrorCode::kNetwork) << started.ToString();
  Run(second.Stop(1s));
}

// A client that pipelines far more than the budget and reads none of the answers: the server
// stops reading it once the queued requests and responses reach the budget, instead of
// buffering every response; other connections are still served; and once the client reads,
// every request is answered.
TEST_F(RpcServerTest, SlowReaderCannotGrowQueuedBytesPastTheBudget) {
  constexpr size_t kBudget = 1u << 20;
  constexpr int kRequests = 800;
  constexpr size_t kNameBytes = 64 * 1024;  // echoed back: ~64 KiB requests and responses
  ServerOptions options;
  options.max_in_flight_per_connection = 100000;  // only the byte budget bounds this client
  options.max_queued_bytes = kBudget;
  StartServer(options);

  Result<asio::ip::tcp::socket> slow = Run(testing::RawConnect(server_->port()));
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  asio::error_code ignored;
  slow->set_option(asio::socket_base::receive_buffer_size(64 * 1024), ignored);
  ByteBuffer requests;
  size_t frame_bytes = 0;
  for (int i = 0; i < kRequests; ++i) {
    proto::GetTableSchemaRequest request = SchemaRequest(i * 5);  // no handler delay
    request.mutable_table_path()->set_table_name(std::string(kNameBytes, 'x'));
    ByteBuffer frame = testing::RequestFrame(static_cast<int16_t>(ApiKey::kGetTableSchema), 0,
                                             i, request.SerializeAsString());
    frame_bytes = frame.size();
    requests += frame;
  }
  // 50 MiB of requests: more than the kernel buffers of the loopback connection hold, so
  // this write completes only once the server reads everything.
  Gate gate;
  Status written;
  auto write = [](asio::ip::tcp::socket* socket, ByteBuffer bytes, Status* out) -> Task<void> {
    *out = co_await testing::RawWrite(socket, std::move(bytes));
  };
  SpawnBackground(io_.get_executor(), gate, "slow writer",
                  write(&*slow, std::move(requests), &written));

  ASSERT_TRUE(RunUntil([&] { return server_->queued_bytes() >= kBudget; }, 30s));
  RunFor(300ms);  // the server had every chance to read and answer more
  // Over the budget by at most the request that crossed it and its response.
  EXPECT_LE(server_->queued_bytes_peak(), kBudget + 2 * frame_bytes);

  // The slow client holds the whole budget; a connection holding nothing is still served.
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  Result<proto::ListDatabasesResponse> listed =
      Run(other->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 10s));
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();

  // Reading the answers lets the server go on, within the budget all along.
  std::set<int32_t> answered;
  auto read_all = [](asio::ip::tcp::socket* socket, std::set<int32_t>* ids) -> Task<Status> {
    for (int i = 0; i < kRequests; ++i) {
      Result<ByteBuffer> frame = co_await testing::RawReadFrameWithin(socket, 30s);
      if (!frame.ok()) co_return frame.status();
      Result<proto::ResponseFrame> decoded = proto::DecodeResponseFrame(*frame);
      if (!decoded.ok()) co_return decoded.status();
      if (decoded->type != proto::ResponseType::kSuccess) {
        co_return MakeError(ErrorCode::kUnknownServerError, "request {} failed",
                            decoded->request_id);
      }
      ids->insert(decoded->request_id);
    }
    co_return Status::OK();
  };
  Status read = Run(read_all(&*slow, &answered));
  ASSERT_TRUE(read.ok()) << read.ToString();
  Run(gate.Close());
  EXPECT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(answered.size(), static_cast<size_t>(kRequests));
  EXPECT_LE(server_->queued_bytes_peak(), kBudget + 2 * frame_bytes);
  ASSERT_TRUE(RunUntil([&] { return server_->queued_bytes() == 0; }));
}

// A frame larger than the read chunk counts against the budget from the moment its body
// starts coming in, not only once whole: a connection that holds requests does not start
// receiving yet another one while the server is at its limit. A connection that ends inside
// the frame gives the bytes back.
TEST_F(RpcServerTest, ALargeFrameIsChargedWhileItsBodyIsReceived) {
  StartServer();
  proto::GetTableSchemaRequest request = SchemaRequest(0);
  request.mutable_table_path()->set_table_name(std::string(1 << 20, 'x'));
  ByteBuffer frame = testing::RequestFrame(static_cast<int16_t>(ApiKey::kGetTableSchema), 0, 7,
                                           request.SerializeAsString());
  const size_t payload_bytes = frame.size() - proto::kFrameLengthSize - proto::kRequestHeaderSize;
  const size_t half = frame.size() / 2;
  for (bool finish : {true, false}) {
    Result<asio::ip::tcp::socket> socket = Run(testing::RawConnect(server_->port()));
    ASSERT_TRUE(socket.ok()) << socket.status().ToString();
    Status sent = Run(testing::RawWrite(&*socket, frame.substr(0, half)));
    ASSERT_TRUE(sent.ok()) << sent.ToString();
    ASSERT_TRUE(RunUntil([&] { return server_->queued_bytes() == payload_bytes; }, 5s))
        << server_->queued_bytes();
    if (finish) {
      sent = Run(testing::RawWrite(&*socket, frame.substr(half)));
      ASSERT_TRUE(sent.ok()) << sent.ToString();
      Result<ByteBuffer> answer = Run(testing::RawReadFrameWithin(&*socket, 10s));
      ASSERT_TRUE(answer.ok()) << answer.status().ToString();
      Result<proto::ResponseFrame> decoded = proto::DecodeResponseFrame(*answer);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(decoded->request_id, 7);
      EXPECT_EQ(decoded->type, proto::ResponseType::kSuccess);
    } else {
      socket->close();
    }
    EXPECT_TRUE(RunUntil([&] { return server_->queued_bytes() == 0; }, 5s))
        << server_->queued_bytes();
  }
}

TEST_F(RpcServerTest, OptionsFromFlussConfiguration) {
  config::Configuration conf;
  ASSERT_TRUE(conf.Set("netty.server.max-request-size", "1mb").ok());
  ASSERT_TRUE(conf.Set("netty.server.max-queued-requests", "7").ok());
  ASSERT_TRUE(conf.Set("netty.connection.max-idle-time", "30 s").ok());
  ASSERT_TRUE(conf.Set("strom.server.max-queued-bytes", "8mb").ok());
  ServerOptions options = ServerOptions::FromConfiguration(conf);
  EXPECT_EQ(options.max_frame_size, 1u << 20);
  EXPECT_EQ(options.max_in_flight_per_connection, 7u);
  EXPECT_EQ(options.max_idle_time, 30s);
  EXPECT_EQ(options.max_queued_bytes, 8u << 20);
  ServerOptions defaults = ServerOptions::FromConfiguration(config::Configuration());
  EXPECT_EQ(defaults.max_frame_size, 100u << 20);
  EXPECT_EQ(defaults.max_in_flight_per_connection, 500u);
  EXPECT_EQ(defaults.max_idle_time, 10min);
  EXPECT_EQ(defaults.max_queued_bytes, 256u << 20);
}

}  // namespace
}  // namespace strom::rpc
