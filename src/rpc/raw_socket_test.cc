// The server fed hand-made bytes: the Java client's exact first request, and frames no
// correct client sends (garbage, truncated, oversized, negative lengths).

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "common/bytes.h"
#include "proto/FlussApi.pb.h"
#include "proto/frame.h"
#include "proto/messages.h"
#include "rpc/rpc_test_util.h"

namespace strom::rpc {
namespace {

using namespace std::chrono_literals;
using proto::ApiKey;
using testing::RawConnect;
using testing::RawReadFrameWithin;
using testing::RawWrite;
using testing::RequestFrame;
using testing::RpcFixture;

class RpcRawSocketTest : public RpcFixture {
 protected:
  asio::ip::tcp::socket Open() {
    Result<asio::ip::tcp::socket> socket = Run(RawConnect(server_->port()));
    EXPECT_TRUE(socket.ok()) << socket.status().ToString();
    return std::move(*socket);
  }

  void Send(asio::ip::tcp::socket& socket, ByteBuffer bytes) {
    Status written = Run(RawWrite(&socket, std::move(bytes)));
    ASSERT_TRUE(written.ok()) << written.ToString();
  }

  Result<ByteBuffer> Receive(asio::ip::tcp::socket& socket) {
    return Run(RawReadFrameWithin(&socket, 5s));
  }

  /// Expects the server to close the connection next (after the frames already read).
  void ExpectClosed(asio::ip::tcp::socket& socket) {
    Result<ByteBuffer> next = Receive(socket);
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.status().message(), "eof") << next.status().ToString();
  }

  /// Other clients are still served after one connection misbehaved.
  void ExpectServerStillServes() {
    auto connection = Connect();
    ASSERT_NE(connection, nullptr);
    auto listed = Run(connection->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s));
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  }
};

// Decodes a response frame, failing the test on malformed bytes.
proto::ResponseFrame DecodeResponse(const ByteBuffer& frame) {
  Result<proto::ResponseFrame> decoded = proto::DecodeResponseFrame(frame);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? *decoded : proto::ResponseFrame{};
}

Status ErrorOf(const proto::ResponseFrame& frame) {
  Status carried;
  Status parsed = proto::DecodeErrorResponseBody(frame.payload, &carried);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return carried;
}

TEST_F(RpcRawSocketTest, JavaClientsFirstRequestGetsAnApiVersionsFrame) {
  StartServer();
  auto socket = Open();
  // spec/fluss-rpc.md §15.2 item 1: ApiVersions v0, request id 0, {"fluss", "0.1.0"}.
  ByteBuffer java_first;
  ASSERT_TRUE(
      FromHex("00000016"
              "03e8"
              "0000"
              "00000000"
              "0a05666c757373"
              "1205302e312e30",
              &java_first));
  Send(socket, java_first);
  Result<ByteBuffer> frame = Receive(socket);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  // Shape: length, type 0 (SUCCESS_RESPONSE), request id 0, then the ApiVersionsResponse.
  ByteReader reader(*frame);
  EXPECT_EQ(static_cast<size_t>(reader.I32BE()), frame->size() - 4);
  EXPECT_EQ(reader.I8(), 0);
  EXPECT_EQ(reader.I32BE(), 0);
  proto::ApiVersionsResponse response;
  ASSERT_TRUE(proto::ParseMessage(frame->substr(9), &response).ok());
  EXPECT_FALSE(response.has_server_type());
  ASSERT_EQ(static_cast<size_t>(response.api_versions_size()), server_->advertised_apis().size());
  // Entries in key order, the first being ApiVersions itself: 0a 07 08 e8 07 10 00 18 00.
  EXPECT_EQ(ToHex(frame->substr(9, 9)), "0a0708e80710001800");
  for (int i = 1; i < response.api_versions_size(); ++i) {
    EXPECT_LT(response.api_versions(i - 1).api_key(), response.api_versions(i).api_key());
  }
}

TEST_F(RpcRawSocketTest, ClientsThatSkipApiVersionsAreServed) {
  StartServer();
  auto socket = Open();
  // Two pipelined requests in one write, the way pyfluss 0.1.0 starts (no ApiVersions).
  ByteBuffer bytes = RequestFrame(1003, 0, 41, "");
  bytes += RequestFrame(1003, 0, 42, "");
  Send(socket, bytes);
  for (int i = 0; i < 2; ++i) {
    Result<ByteBuffer> frame = Receive(socket);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    proto::ResponseFrame response = DecodeResponse(*frame);
    EXPECT_EQ(response.type, proto::ResponseType::kSuccess);
    EXPECT_TRUE(response.request_id == 41 || response.request_id == 42);
  }
}

TEST_F(RpcRawSocketTest, UnknownApiKeyGetsAnErrorFrameNotSilence) {
  StartServer();
  auto socket = Open();
  Send(socket, RequestFrame(4321, 0, 9, ""));
  Result<ByteBuffer> frame = Receive(socket);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  proto::ResponseFrame response = DecodeResponse(*frame);
  EXPECT_EQ(response.type, proto::ResponseType::kError);
  EXPECT_EQ(response.request_id, 9);
  EXPECT_EQ(ErrorOf(response).code(), ErrorCode::kUnsupportedVersion);
  // Still open: a valid request on the same socket is answered.
  Send(socket, RequestFrame(1003, 0, 10, ""));
  Result<ByteBuffer> next = Receive(socket);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(DecodeResponse(*next).type, proto::ResponseType::kSuccess);
}

TEST_F(RpcRawSocketTest, GarbageBytesCloseOnlyThatConnection) {
  StartServer();
  auto socket = Open();
  // An HTTP request: its first four bytes read as a length of about 1.2 GB, far over the
  // limit, so the server answers the "request id" it finds after them and closes.
  Send(socket, "GET / HTTP/1.1\r\nHost: strom\r\n\r\n");
  Result<ByteBuffer> frame = Receive(socket);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  proto::ResponseFrame response = DecodeResponse(*frame);
  EXPECT_EQ(response.type, proto::ResponseType::kError);
  EXPECT_EQ(ErrorOf(response).code(), ErrorCode::kRecordTooLarge);
  ExpectClosed(socket);
  ExpectServerStillServes();
}

TEST_F(RpcRawSocketTest, OversizedFrameIsRefusedByRequestIdWithoutReadingItsBody) {
  ServerOptions options;
  options.max_frame_size = 1024;
  StartServer(options);
  auto socket = Open();
  // A valid request, then a header announcing 4000 bytes for request 7. The body is never
  // sent: the server must answer from the header alone.
  ByteBuffer bytes = RequestFrame(1003, 0, 6, "");
  ByteWriter writer(&bytes);
  writer.I32BE(4000);
  writer.I16BE(1003);
  writer.I16BE(0);
  writer.I32BE(7);
  Send(socket, bytes);
  bool answered_6 = false;
  bool refused_7 = false;
  for (int i = 0; i < 2; ++i) {
    Result<ByteBuffer> frame = Receive(socket);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    proto::ResponseFrame response = DecodeResponse(*frame);
    if (response.request_id == 6) {
      answered_6 = response.type == proto::ResponseType::kSuccess;
    } else if (response.request_id == 7) {
      refused_7 = response.type == proto::ResponseType::kError &&
                  ErrorOf(response).code() == ErrorCode::kRecordTooLarge;
    }
  }
  EXPECT_TRUE(answered_6);
  EXPECT_TRUE(refused_7);
  ExpectClosed(socket);
  ExpectServerStillServes();
}

TEST_F(RpcRawSocketTest, NegativeLengthGetsServerFailureAndClose) {
  StartServer();
  auto socket = Open();
  Send(socket, ByteBuffer("\xff\xff\xff\xfe\x03\xeb\x00\x00", 8));
  Result<ByteBuffer> frame = Receive(socket);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  proto::ResponseFrame response = DecodeResponse(*frame);
  EXPECT_EQ(response.type, proto::ResponseType::kServerFailure);
  EXPECT_EQ(ErrorOf(response).code(), ErrorCode::kCorruptMessage);
  ExpectClosed(socket);
  ExpectServerStillServes();
}

TEST_F(RpcRawSocketTest, LengthShorterThanTheHeaderGetsServerFailureAndClose) {
  StartServer();
  auto socket = Open();
  Send(socket, ByteBuffer("\x00\x00\x00\x03\x03\xeb\x00", 7));
  Result<ByteBuffer> frame = Receive(socket);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  proto::ResponseFrame response = DecodeResponse(*frame);
  EXPECT_EQ(response.type, proto::ResponseType::kServerFailure);
  EXPECT_EQ(ErrorOf(response).code(), ErrorCode::kCorruptMessage);
  ExpectClosed(socket);
  ExpectServerStillServes();
}

TEST_F(RpcRawSocketTest, TruncatedFrameThenCloseIsDroppedQuietly) {
  StartServer();
  auto socket = Open();
  // 32 bytes announced, 10 sent, then the client stops sending.
  ByteBuffer bytes;
  ByteWriter writer(&bytes);
  writer.I32BE(32);
  writer.I16BE(1003);
  writer.I16BE(0);
  writer.I32BE(1);
  writer.Bytes("ab");
  Send(socket, bytes);
  asio::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  ExpectClosed(socket);  // nothing to answer: the request never arrived whole
  ASSERT_TRUE(RunUntil([&] { return server_->connection_count() == 0; }));
  ExpectServerStillServes();
}

TEST_F(RpcRawSocketTest, ManyBadConnectionsDoNotDisturbAGoodOne) {
  StartServer();
  auto good = Connect();
  ASSERT_NE(good, nullptr);
  for (int i = 0; i < 20; ++i) {
    auto socket = Open();
    Send(socket, ByteBuffer("\x80\x00\x00\x00", 4));  // a negative length
    Result<ByteBuffer> frame = Receive(socket);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    EXPECT_EQ(DecodeResponse(*frame).type, proto::ResponseType::kServerFailure);
    ExpectClosed(socket);
  }
  auto listed = Run(good->Call<ApiKey::kListDatabases>(proto::ListDatabasesRequest(), 5s));
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
}

// Frames larger than the server's 64 KiB read chunk are read from the socket straight into
// their request's payload; whatever way the bytes are split on the wire, and with small
// frames between them, every request arrives whole and in its own frame.
TEST_F(RpcRawSocketTest, LargeFramesArriveWholeWhateverTheirSplit) {
  StartServer();
  auto socket = Open();
  const int16_t api = static_cast<int16_t>(ApiKey::kGetTableSchema);
  auto request = [&](int32_t id, size_t name_size) {
    proto::GetTableSchemaRequest message = testing::SchemaRequest(id);
    std::string name(name_size, '\0');
    for (size_t i = 0; i < name.size(); ++i) name[i] = static_cast<char>('a' + (i * 7 + id) % 26);
    message.mutable_table_path()->set_table_name(name);
    ByteBuffer payload;
    EXPECT_TRUE(proto::AppendMessage(message, &payload).ok());
    return std::make_pair(RequestFrame(api, 0, id, payload), name);
  };
  std::map<int32_t, std::string> names;
  ByteBuffer stream;
  for (auto [id, size] : {std::pair<int32_t, size_t>{1, 300 << 10}, {2, 10}, {3, 70 << 10},
                          {4, 1 << 20}, {5, 0}, {6, 65 << 10}}) {
    auto [frame, name] = request(id, size);
    stream += frame;
    names[id] = name;
  }
  // Pieces of 1 byte (a length prefix split), 11 (a header split), a read chunk, and more.
  size_t sent = 0;
  for (size_t piece : {1, 11, 65536, 100000, 5, 300000, 1 << 20}) {
    piece = std::min(piece, stream.size() - sent);
    Send(socket, stream.substr(sent, piece));
    sent += piece;
  }
  Send(socket, stream.substr(sent));
  for (size_t i = 0; i < names.size(); ++i) {
    Result<ByteBuffer> frame = Receive(socket);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    proto::ResponseFrame response = DecodeResponse(*frame);
    ASSERT_EQ(response.type, proto::ResponseType::kSuccess);
    proto::GetTableSchemaResponse schema;
    ASSERT_TRUE(proto::ParseMessage(response.payload, &schema).ok());
    EXPECT_EQ(schema.schema_id(), response.request_id);
    EXPECT_TRUE(schema.schema_json() == names[response.request_id])
        << "request " << response.request_id << ": " << schema.schema_json().size()
        << " bytes echoed";
  }
}

TEST_F(RpcRawSocketTest, LargeFrameCutShortThenCloseIsDroppedQuietly) {
  StartServer();
  auto socket = Open();
  // 1 MiB announced, 200 KiB sent (past the first read chunk), then the client stops.
  ByteBuffer bytes;
  ByteWriter writer(&bytes);
  writer.I32BE(1 << 20);
  writer.I16BE(static_cast<int16_t>(ApiKey::kGetTableSchema));
  writer.I16BE(0);
  writer.I32BE(1);
  bytes.append(200 << 10, 'p');
  Send(socket, bytes);
  asio::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  ExpectClosed(socket);  // nothing to answer: the request never arrived whole
  ASSERT_TRUE(RunUntil([&] { return server_->connection_count() == 0; }));
  ExpectServerStillServes();
}

}  // namespace
}  // namespace strom::rpc
