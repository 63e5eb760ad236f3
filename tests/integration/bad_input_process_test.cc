// Bad input against a real `strom-server local` process: bytes no correct client sends
// (garbage, a truncated frame, an oversized frame, an unknown api key) and well-framed
// requests with bad contents (a batch with a broken CRC, a schema id the table does not have,
// a table that does not exist, a fetch past the end of the log). Each must get the Fluss error
// (or, for broken framing, a closed connection), and afterwards the same process must still
// serve appends and fetches on a fresh connection.

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "proto/FlussApi.pb.h"
#include "proto/frame.h"
#include "rpc/connection.h"
#include "rpc/rpc_test_util.h"
#include "server/server_test_util.h"
#include "server_process.h"
#include "testutil/run_task.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using proto::ApiKey;
using server::testing::ArrowBatch;
using server::testing::DecodeIds;
using server::testing::LogTableJson;
using server::testing::Path;
using testutil::RunTask;

constexpr auto kCallTimeout = 10s;

class BadInputProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("strom-bad-input-{}-{}", ::getpid(), n_++);
    fs::remove_all(dir_);
    server_ = testing::ServerProcess::Start(STROM_SERVER_BIN, dir_.string());
    ASSERT_NE(server_, nullptr) << "strom-server did not print its ready line";
    conn_ = Open();
    ASSERT_NE(conn_, nullptr);
    table_id_ = CreateLogTable("t");
    ASSERT_GE(table_id_, 0);
  }

  void TearDown() override {
    for (auto& conn : opened_) conn->Close();
    opened_.clear();
    conn_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  std::shared_ptr<rpc::Connection> Open() {
    auto conn = RunTask(io_, rpc::Connection::Connect(io_.get_executor(), "127.0.0.1",
                                                      server_->port(), rpc::ConnectionOptions()));
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return nullptr;
    opened_.push_back(*conn);
    return *conn;
  }

  template <ApiKey kKey>
  Result<typename rpc::ApiTraits<kKey>::Response> Call(
      rpc::Connection& conn, typename rpc::ApiTraits<kKey>::Request request) {
    return RunTask(io_, conn.Call<kKey>(std::move(request), kCallTimeout));
  }

  int64_t CreateLogTable(const std::string& table) {
    proto::CreateDatabaseRequest db;
    db.set_database_name("bad");
    db.set_ignore_if_exists(true);
    EXPECT_TRUE(Call<ApiKey::kCreateDatabase>(*conn_, db).ok());
    proto::CreateTableRequest create;
    *create.mutable_table_path() = Path("bad", table);
    create.set_table_json(LogTableJson(1));
    create.set_ignore_if_exists(false);
    auto created = Call<ApiKey::kCreateTable>(*conn_, create);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    proto::GetTableInfoRequest info;
    *info.mutable_table_path() = Path("bad", table);
    auto resp = Call<ApiKey::kGetTableInfo>(*conn_, info);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? resp->table_id() : -1;
  }

  static proto::ProduceLogRequest Produce(int64_t table_id, ByteBuffer records) {
    proto::ProduceLogRequest req;
    req.set_acks(-1);
    req.set_table_id(table_id);
    req.set_timeout_ms(30000);
    auto* bucket = req.add_buckets_req();
    bucket->set_bucket_id(0);
    bucket->set_records(std::move(records));
    return req;
  }

  static proto::FetchLogRequest Fetch(int64_t table_id, int64_t offset) {
    proto::FetchLogRequest req;
    req.set_follower_server_id(-1);
    req.set_max_bytes(1 << 20);
    req.set_min_bytes(1);
    req.set_max_wait_ms(100);
    auto* table = req.add_tables_req();
    table->set_table_id(table_id);
    table->set_projection_pushdown_enabled(false);
    auto* bucket = table->add_buckets_req();
    bucket->set_bucket_id(0);
    bucket->set_fetch_offset(offset);
    bucket->set_max_fetch_bytes(1 << 20);
    return req;
  }

  /// The ids stored in bucket 0 of the test table, read from the start on `conn`.
  std::vector<int32_t> ReadIds(rpc::Connection& conn) {
    auto fetched = Call<ApiKey::kFetchLog>(conn, Fetch(table_id_, 0));
    EXPECT_TRUE(fetched.ok()) << fetched.status().ToString();
    if (!fetched.ok()) return {};
    const auto& bucket = fetched->tables_resp(0).buckets_resp(0);
    EXPECT_FALSE(bucket.has_error_code()) << bucket.error_message();
    return DecodeIds(bucket.records(), /*arrow=*/true);
  }

  /// On a fresh connection: appends `count` more rows and reads the whole log back, which
  /// must hold exactly the rows appended by this helper so far.
  void ExpectStillServes(int count = 3) {
    auto conn = Open();
    ASSERT_NE(conn, nullptr);
    auto produced =
        Call<ApiKey::kProduceLog>(*conn, Produce(table_id_, ArrowBatch(next_id_, count)));
    ASSERT_TRUE(produced.ok()) << produced.status().ToString();
    ASSERT_FALSE(produced->buckets_resp(0).has_error_code())
        << produced->buckets_resp(0).error_message();
    next_id_ += count;
    std::vector<int32_t> expected;
    for (int i = 0; i < next_id_; ++i) expected.push_back(i);
    EXPECT_EQ(ReadIds(*conn), expected);
  }

  asio::ip::tcp::socket RawOpen() {
    Result<asio::ip::tcp::socket> socket = RunTask(io_, rpc::testing::RawConnect(server_->port()));
    EXPECT_TRUE(socket.ok()) << socket.status().ToString();
    return std::move(*socket);
  }

  void RawSend(asio::ip::tcp::socket& socket, ByteBuffer bytes) {
    Status written = RunTask(io_, rpc::testing::RawWrite(&socket, std::move(bytes)));
    ASSERT_TRUE(written.ok()) << written.ToString();
  }

  /// Reads what the server sends until it closes the connection (bounded): the frames.
  std::vector<ByteBuffer> ReadUntilClosed(asio::ip::tcp::socket& socket) {
    std::vector<ByteBuffer> frames;
    for (int i = 0; i < 16; ++i) {
      Result<ByteBuffer> frame = RunTask(io_, rpc::testing::RawReadFrameWithin(&socket, 10s));
      if (!frame.ok()) {
        EXPECT_EQ(frame.status().message(), "eof") << "the server neither answered nor closed: "
                                                   << frame.status().ToString();
        return frames;
      }
      frames.push_back(std::move(*frame));
    }
    ADD_FAILURE() << "the server kept sending frames";
    return frames;
  }

  static inline int n_ = 0;
  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::shared_ptr<rpc::Connection> conn_;
  std::vector<std::shared_ptr<rpc::Connection>> opened_;
  int64_t table_id_ = -1;
  int next_id_ = 0;
};

TEST_F(BadInputProcessTest, GarbageBytesCloseOnlyThatConnection) {
  ExpectStillServes();
  // Text where a frame should be: its first four bytes read as a 1.2 GB length.
  auto http = RawOpen();
  RawSend(http, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  for (const ByteBuffer& frame : ReadUntilClosed(http)) {
    auto decoded = proto::DecodeResponseFrame(frame);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_NE(decoded->type, proto::ResponseType::kSuccess);
  }
  // All ones: a negative length, the framing is lost.
  auto ones = RawOpen();
  RawSend(ones, ByteBuffer(256, '\xff'));
  std::vector<ByteBuffer> frames = ReadUntilClosed(ones);
  ASSERT_EQ(frames.size(), 1u);
  auto failure = proto::DecodeResponseFrame(frames[0]);
  ASSERT_TRUE(failure.ok());
  EXPECT_EQ(failure->type, proto::ResponseType::kServerFailure);
  EXPECT_TRUE(conn_->is_open()) << "an unrelated connection was closed";
  ExpectStillServes();
}

TEST_F(BadInputProcessTest, TruncatedFrameIsDroppedAndTheServerServesOn) {
  proto::ListDatabasesRequest request;
  ByteBuffer frame = rpc::testing::RequestFrame(static_cast<int16_t>(ApiKey::kListDatabases), 0,
                                                5, request.SerializeAsString());
  // A length that promises 100 more bytes than ever arrive, then the client goes away.
  ByteBuffer truncated;
  ByteWriter(&truncated).I32BE(static_cast<int32_t>(frame.size() - 4 + 100));
  truncated.append(frame, 4);
  auto socket = RawOpen();
  RawSend(socket, truncated);
  asio::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  EXPECT_TRUE(ReadUntilClosed(socket).empty()) << "a request that never arrived was answered";
  ExpectStillServes();
}

TEST_F(BadInputProcessTest, OversizedFrameIsRefusedByRequestId) {
  // 200 MiB claimed (over the 100 MiB default of netty.server.max-request-size), only the
  // header sent: the server must refuse it from the prefix, without waiting for the body.
  ByteBuffer frame;
  ByteWriter writer(&frame);
  writer.I32BE(200 << 20);
  writer.I16BE(static_cast<int16_t>(ApiKey::kProduceLog));
  writer.I16BE(0);
  writer.I32BE(77);
  auto socket = RawOpen();
  RawSend(socket, frame);
  std::vector<ByteBuffer> frames = ReadUntilClosed(socket);
  ASSERT_EQ(frames.size(), 1u);
  auto decoded = proto::DecodeResponseFrame(frames[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, proto::ResponseType::kError);
  EXPECT_EQ(decoded->request_id, 77);
  Status carried;
  ASSERT_TRUE(proto::DecodeErrorResponseBody(decoded->payload, &carried).ok());
  EXPECT_EQ(carried.code(), ErrorCode::kRecordTooLarge) << carried.ToString();
  ExpectStillServes();
}

TEST_F(BadInputProcessTest, UnknownApiKeyIsAnsweredAndTheConnectionStaysUp) {
  auto unknown = RunTask(io_, conn_->Call(1999, 0, ByteBuffer(), kCallTimeout));
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnsupportedVersion) << unknown.status().ToString();
  // A known api at a version nobody serves.
  auto future = RunTask(io_, conn_->Call(static_cast<int16_t>(ApiKey::kProduceLog), 999,
                                          ByteBuffer(), kCallTimeout));
  EXPECT_EQ(future.status().code(), ErrorCode::kUnsupportedVersion) << future.status().ToString();
  // A payload that is not the api's message.
  auto garbage = RunTask(io_, conn_->Call(static_cast<int16_t>(ApiKey::kProduceLog), 0,
                                           ByteBuffer("\xff\xff\xff", 3), kCallTimeout));
  EXPECT_EQ(garbage.status().code(), ErrorCode::kCorruptMessage) << garbage.status().ToString();
  EXPECT_TRUE(conn_->is_open());
  EXPECT_TRUE(Call<ApiKey::kListDatabases>(*conn_, proto::ListDatabasesRequest()).ok());
  ExpectStillServes();
}

TEST_F(BadInputProcessTest, BatchWithBadCrcIsCorruptRecordAndNotStored) {
  ExpectStillServes();
  ByteBuffer bad = ArrowBatch(100, 5);
  bad[bad.size() - 1] ^= 0x5a;  // a byte of the body: the header CRC no longer matches
  auto produced = Call<ApiKey::kProduceLog>(*conn_, Produce(table_id_, bad));
  ASSERT_TRUE(produced.ok()) << produced.status().ToString();
  EXPECT_EQ(produced->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kCorruptRecord));
  ExpectStillServes();  // reads back only the good rows
}

TEST_F(BadInputProcessTest, WrongSchemaIdIsSchemaNotExist) {
  auto produced = Call<ApiKey::kProduceLog>(
      *conn_, Produce(table_id_, ArrowBatch(100, 5, kNoWriterId, kNoBatchSequence, SchemaId(9))));
  ASSERT_TRUE(produced.ok()) << produced.status().ToString();
  EXPECT_EQ(produced->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kSchemaNotExist));
  ExpectStillServes();
}

TEST_F(BadInputProcessTest, MissingTableIsUnknownTableOrBucket) {
  auto produced = Call<ApiKey::kProduceLog>(*conn_, Produce(table_id_ + 1000, ArrowBatch(0, 5)));
  ASSERT_TRUE(produced.ok()) << produced.status().ToString();
  EXPECT_EQ(produced->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
  // A bucket the table does not have.
  proto::ProduceLogRequest bucket_request = Produce(table_id_, ArrowBatch(0, 5));
  bucket_request.mutable_buckets_req(0)->set_bucket_id(3);
  auto bucket = Call<ApiKey::kProduceLog>(*conn_, bucket_request);
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  EXPECT_EQ(bucket->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
  auto fetched = Call<ApiKey::kFetchLog>(*conn_, Fetch(table_id_ + 1000, 0));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->tables_resp(0).buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
  proto::GetTableInfoRequest info;
  *info.mutable_table_path() = Path("bad", "no_such_table");
  EXPECT_EQ(Call<ApiKey::kGetTableInfo>(*conn_, info).status().code(), ErrorCode::kTableNotExist);
  ExpectStillServes();
}

TEST_F(BadInputProcessTest, FetchBeyondTheLogEndIsOffsetOutOfRange) {
  ExpectStillServes(10);
  auto fetched = Call<ApiKey::kFetchLog>(*conn_, Fetch(table_id_, 1000));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  const auto& bucket = fetched->tables_resp(0).buckets_resp(0);
  EXPECT_EQ(bucket.error_code(), static_cast<int32_t>(ErrorCode::kLogOffsetOutOfRange))
      << bucket.error_message();
  EXPECT_TRUE(bucket.records().empty());
  // Exactly at the end is not out of range: an empty answer (after the long-poll wait).
  auto at_end = Call<ApiKey::kFetchLog>(*conn_, Fetch(table_id_, 10));
  ASSERT_TRUE(at_end.ok()) << at_end.status().ToString();
  EXPECT_FALSE(at_end->tables_resp(0).buckets_resp(0).has_error_code());
  ExpectStillServes();
}

// Unprojected FetchLog records leave the segment by sendfile(2), which cannot be told not to
// raise SIGPIPE. A client that asks for megabytes and resets its connection before reading
// them must cost only that connection, not the process.
TEST_F(BadInputProcessTest, ClientResettingMidFetchCostsOnlyItsConnection) {
  proto::CreateTableRequest create;
  *create.mutable_table_path() = Path("bad", "big");
  create.set_table_json(LogTableJson(1, R"("table.log.format":"INDEXED")"));
  create.set_ignore_if_exists(false);
  auto created = Call<ApiKey::kCreateTable>(*conn_, create);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  proto::GetTableInfoRequest info;
  *info.mutable_table_path() = Path("bad", "big");
  auto table = Call<ApiKey::kGetTableInfo>(*conn_, info);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  // About 10 MiB stored: more than the loopback socket buffers of both ends hold.
  for (int i = 0; i < 32; ++i) {
    auto produced = Call<ApiKey::kProduceLog>(
        *conn_, Produce(table->table_id(), server::testing::IndexedBatch(i * 10000, 10000)));
    ASSERT_TRUE(produced.ok()) << produced.status().ToString();
    ASSERT_FALSE(produced->buckets_resp(0).has_error_code());
  }
  proto::FetchLogRequest fetch = Fetch(table->table_id(), 0);
  fetch.set_max_bytes(64 << 20);
  fetch.mutable_tables_req(0)->mutable_buckets_req(0)->set_max_fetch_bytes(64 << 20);
  for (int round = 0; round < 5; ++round) {
    Result<asio::ip::tcp::socket> opened =
        RunTask(io_, rpc::testing::RawConnect(server_->port()));
    ASSERT_TRUE(opened.ok()) << "round " << round << ": " << opened.status().ToString();
    asio::ip::tcp::socket socket = std::move(*opened);
    RawSend(socket, rpc::testing::RequestFrame(static_cast<int16_t>(ApiKey::kFetchLog), 0,
                                               round, fetch.SerializeAsString()));
    std::this_thread::sleep_for(100ms);  // the server is now blocked in the middle of the answer
    socket.set_option(asio::socket_base::linger(true, 0));  // close with a reset
    asio::error_code ignored;
    socket.close(ignored);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(conn_->is_open()) << "an unrelated connection was closed";
  ExpectStillServes();
}

}  // namespace
}  // namespace strom
