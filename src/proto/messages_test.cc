#include "proto/messages.h"

#include <gtest/gtest.h>

#include <string>

#include "proto/frame.h"

namespace strom::proto {
namespace {

// Bytes from a spaced hex string as written in spec/fluss-rpc.md §15.
ByteBuffer Bytes(std::string hex) {
  std::erase(hex, ' ');
  ByteBuffer out;
  EXPECT_TRUE(FromHex(hex, &out)) << hex;
  return out;
}

std::string Encode(const google::protobuf::MessageLite& message) {
  ByteBuffer out;
  Status st = AppendMessage(message, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return ToHex(out);
}

std::string Spaced(std::string hex) {
  std::erase(hex, ' ');
  return hex;
}

// §15.2 item 1: the Java client's first request on a connection.
TEST(GoldenRpcTest, JavaApiVersionsRequestFrame) {
  ApiVersionsRequest request;
  request.set_client_software_name("fluss");
  request.set_client_software_version("0.1.0");
  EXPECT_EQ(Encode(request), Spaced("0a 05 66 6c 75 73 73 12 05 30 2e 31 2e 30"));

  ByteBuffer frame;
  ASSERT_TRUE(AppendRequestFrame({1000, 0, 0}, request, &frame).ok());
  const std::string expected =
      "00 00 00 16 03 e8 00 00 00 00 00 00 0a 05 66 6c 75 73 73 12 05 30 2e 31 2e 30";
  EXPECT_EQ(ToHex(frame), Spaced(expected));

  ByteBuffer wire = Bytes(expected);  // the decoded payload borrows from it
  auto decoded = DecodeRequestFrame(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->header.api_key, 1000);
  EXPECT_EQ(decoded->header.api_version, 0);
  EXPECT_EQ(decoded->header.request_id, 0);
  ApiVersionsRequest parsed;
  ASSERT_TRUE(ParseMessage(decoded->payload, &parsed).ok());
  EXPECT_EQ(parsed.client_software_name(), "fluss");
  EXPECT_EQ(parsed.client_software_version(), "0.1.0");
}

// §15.2 item 2: pyfluss's ApiVersionsRequest body.
TEST(GoldenRpcTest, PyflussApiVersionsRequestBody) {
  ApiVersionsRequest request;
  request.set_client_software_name("fluss-rust");
  request.set_client_software_version("0.2.0");
  const std::string expected = "0a 0a 66 6c 75 73 73 2d 72 75 73 74 12 05 30 2e 32 2e 30";
  EXPECT_EQ(Encode(request), Spaced(expected));
  ApiVersionsRequest parsed;
  ASSERT_TRUE(ParseMessage(Bytes(expected), &parsed).ok());
  EXPECT_EQ(parsed.client_software_name(), "fluss-rust");
  EXPECT_EQ(parsed.client_software_version(), "0.2.0");
}

// §15.2 item 3: ApiVersionsResponse listing two apis, as body and as a success frame.
TEST(GoldenRpcTest, ApiVersionsResponse) {
  ApiVersionsResponse response;
  PbApiVersion* v = response.add_api_versions();
  v->set_api_key(1000);
  v->set_min_version(0);
  v->set_max_version(0);
  v = response.add_api_versions();
  v->set_api_key(1016);
  v->set_min_version(0);
  v->set_max_version(1);
  response.set_server_type(static_cast<int32_t>(ServerType::kTabletServer));
  const std::string body = "0a 07 08 e8 07 10 00 18 00 0a 07 08 f8 07 10 00 18 01 10 02";
  EXPECT_EQ(Encode(response), Spaced(body));

  ByteBuffer frame;
  ASSERT_TRUE(AppendSuccessResponseFrame(0, response, &frame).ok());
  const std::string expected_frame = "00 00 00 19 00 00 00 00 00 " + body;
  EXPECT_EQ(ToHex(frame), Spaced(expected_frame));

  ByteBuffer wire = Bytes(expected_frame);
  auto decoded = DecodeResponseFrame(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, ResponseType::kSuccess);
  EXPECT_EQ(decoded->request_id, 0);
  ApiVersionsResponse parsed;
  ASSERT_TRUE(ParseMessage(decoded->payload, &parsed).ok());
  ASSERT_EQ(parsed.api_versions_size(), 2);
  EXPECT_EQ(parsed.api_versions(0).api_key(), 1000);
  EXPECT_EQ(parsed.api_versions(0).max_version(), 0);
  EXPECT_EQ(parsed.api_versions(1).api_key(), 1016);
  EXPECT_EQ(parsed.api_versions(1).min_version(), 0);
  EXPECT_EQ(parsed.api_versions(1).max_version(), 1);
  ASSERT_TRUE(parsed.has_server_type());
  EXPECT_EQ(parsed.server_type(), 2);

  // A combined server leaves server_type unset: the trailing `10 02` disappears.
  response.clear_server_type();
  EXPECT_EQ(Encode(response), Spaced("0a 07 08 e8 07 10 00 18 00 0a 07 08 f8 07 10 00 18 01"));
}

// §15.2 item 4: ERROR_RESPONSE for request 5, TABLE_NOT_EXIST "x".
TEST(GoldenRpcTest, ErrorResponseFrame) {
  ByteBuffer frame;
  AppendErrorResponseFrame(5, Status(ErrorCode::kTableNotExist, "x"), &frame);
  const std::string expected = "00 00 00 0a 01 00 00 00 05 08 07 12 01 78";
  EXPECT_EQ(ToHex(frame), Spaced(expected));

  ByteBuffer wire = Bytes(expected);
  auto decoded = DecodeResponseFrame(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, ResponseType::kError);
  EXPECT_EQ(decoded->request_id, 5);
  Status carried;
  ASSERT_TRUE(DecodeErrorResponseBody(decoded->payload, &carried).ok());
  EXPECT_EQ(carried, Status(ErrorCode::kTableNotExist, "x"));
}

// §15.2 item 5: a negative int32 is a 10-byte varint.
TEST(GoldenRpcTest, ErrorResponseWithNegativeCode) {
  ErrorResponse body;
  body.set_error_code(-1);
  const std::string expected = "08 ff ff ff ff ff ff ff ff ff 01";
  EXPECT_EQ(Encode(body), Spaced(expected));
  ByteBuffer via_helper;
  AppendErrorResponseBody(Status(ErrorCode::kUnknownServerError, ""), &via_helper);
  EXPECT_EQ(ToHex(via_helper), Spaced(expected));

  ErrorResponse parsed;
  ASSERT_TRUE(ParseMessage(Bytes(expected), &parsed).ok());
  EXPECT_EQ(parsed.error_code(), -1);
  EXPECT_FALSE(parsed.has_error_message());
}

// §15.2 item 6: MetadataRequest variants.
TEST(GoldenRpcTest, MetadataRequests) {
  MetadataRequest empty;
  EXPECT_EQ(Encode(empty), "");
  ByteBuffer frame;
  ASSERT_TRUE(AppendRequestFrame({1012, 0, 0x01020304}, empty, &frame).ok());
  EXPECT_EQ(ToHex(frame), Spaced("00 00 00 08 03 f4 00 00 01 02 03 04"));
  auto decoded = DecodeRequestFrame(frame);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->header.api_key, 1012);
  EXPECT_EQ(decoded->header.request_id, 0x01020304);
  EXPECT_TRUE(decoded->payload.empty());

  MetadataRequest one_table;
  PbTablePath* path = one_table.add_table_path();
  path->set_database_name("db");
  path->set_table_name("t");
  const std::string table_hex = "0a 07 0a 02 64 62 12 01 74";
  EXPECT_EQ(Encode(one_table), Spaced(table_hex));
  MetadataRequest parsed;
  ASSERT_TRUE(ParseMessage(Bytes(table_hex), &parsed).ok());
  ASSERT_EQ(parsed.table_path_size(), 1);
  EXPECT_EQ(parsed.table_path(0).database_name(), "db");
  EXPECT_EQ(parsed.table_path(0).table_name(), "t");

  MetadataRequest by_id;
  by_id.add_partitions_id(5);
  by_id.add_partitions_id(300);
  const std::string packed_hex = "1a 03 05 ac 02";
  EXPECT_EQ(Encode(by_id), Spaced(packed_hex));
  ASSERT_TRUE(ParseMessage(Bytes(packed_hex), &parsed).ok());
  EXPECT_EQ(parsed.table_path_size(), 0);
  ASSERT_EQ(parsed.partitions_id_size(), 2);
  EXPECT_EQ(parsed.partitions_id(0), 5);
  EXPECT_EQ(parsed.partitions_id(1), 300);

  // Readers must also accept the unpacked form of a packed field (one tag per element).
  ASSERT_TRUE(ParseMessage(Bytes("18 05 18 ac 02"), &parsed).ok());
  ASSERT_EQ(parsed.partitions_id_size(), 2);
  EXPECT_EQ(parsed.partitions_id(1), 300);
}

// §15.2 item 7: the Java scanner's FetchLogRequest for table 1 bucket 0 from the start.
TEST(GoldenRpcTest, FetchLogRequestFromLogStart) {
  FetchLogRequest request;
  request.set_follower_server_id(-1);
  request.set_max_bytes(16 * 1024 * 1024);
  PbFetchLogReqForTable* table = request.add_tables_req();
  table->set_table_id(1);
  table->set_projection_pushdown_enabled(false);
  PbFetchLogReqForBucket* bucket = table->add_buckets_req();
  bucket->set_bucket_id(0);
  bucket->set_fetch_offset(-2);
  bucket->set_max_fetch_bytes(1024 * 1024);
  request.set_max_wait_ms(500);
  request.set_min_bytes(1);
  const std::string expected =
      "08 ff ff ff ff ff ff ff ff ff 01 10 80 80 80 08 1a 17 08 01 10 00 22 11 10 00 18 fe ff "
      "ff ff ff ff ff ff ff 01 20 80 80 40 20 f4 03 28 01";
  EXPECT_EQ(Encode(request), Spaced(expected));

  FetchLogRequest parsed;
  ASSERT_TRUE(ParseMessage(Bytes(expected), &parsed).ok());
  EXPECT_EQ(parsed.follower_server_id(), -1);
  EXPECT_EQ(parsed.max_bytes(), 16777216);
  ASSERT_EQ(parsed.tables_req_size(), 1);
  EXPECT_EQ(parsed.tables_req(0).table_id(), 1);
  EXPECT_FALSE(parsed.tables_req(0).projection_pushdown_enabled());
  EXPECT_EQ(parsed.tables_req(0).projected_fields_size(), 0);
  ASSERT_EQ(parsed.tables_req(0).buckets_req_size(), 1);
  const PbFetchLogReqForBucket& b = parsed.tables_req(0).buckets_req(0);
  EXPECT_FALSE(b.has_partition_id());
  EXPECT_TRUE(b.has_bucket_id());
  EXPECT_EQ(b.bucket_id(), 0);
  EXPECT_EQ(b.fetch_offset(), -2);
  EXPECT_EQ(b.max_fetch_bytes(), 1048576);
  EXPECT_EQ(parsed.max_wait_ms(), 500);
  EXPECT_EQ(parsed.min_bytes(), 1);
}

// §15.2 item 8: the fixed part of a PutKvRequest.
TEST(GoldenRpcTest, PutKvRequestHeaderPart) {
  PutKvRequest request;
  request.set_acks(-1);
  request.set_table_id(3);
  request.set_timeout_ms(30000);
  request.add_target_columns(0);
  request.add_target_columns(2);
  request.set_agg_mode(0);
  const std::string expected = "08 ff ff ff ff ff ff ff ff ff 01 10 03 18 b0 ea 01 22 02 00 02 30 00";
  EXPECT_EQ(Encode(request), Spaced(expected));

  PutKvRequest parsed;
  ASSERT_TRUE(ParseMessage(Bytes(expected), &parsed).ok());
  EXPECT_EQ(parsed.acks(), -1);
  EXPECT_EQ(parsed.table_id(), 3);
  EXPECT_EQ(parsed.timeout_ms(), 30000);
  ASSERT_EQ(parsed.target_columns_size(), 2);
  EXPECT_EQ(parsed.target_columns(0), 0);
  EXPECT_EQ(parsed.target_columns(1), 2);
  EXPECT_TRUE(parsed.has_agg_mode());
  EXPECT_EQ(parsed.agg_mode(), 0);
  EXPECT_EQ(parsed.buckets_req_size(), 0);
}

TEST(MessagesTest, MissingRequiredFieldIsDetectedBeforeSending) {
  PbServerNode node;
  node.set_node_id(1);
  node.set_host("localhost");
  EXPECT_FALSE(node.IsInitialized());  // port is required
  node.set_port(9123);
  EXPECT_TRUE(node.IsInitialized());

  // Missing inside a nested message counts too.
  MetadataResponse response;
  *response.add_tablet_servers() = node;
  EXPECT_TRUE(response.IsInitialized());
  response.add_tablet_servers()->set_node_id(2);
  EXPECT_FALSE(response.IsInitialized());

  ByteBuffer out = "keep";
  Status st = AppendMessage(response, &out);
  EXPECT_EQ(st.code(), ErrorCode::kUnknownServerError);
  EXPECT_NE(st.message().find("tablet_servers[1].host"), std::string::npos) << st.message();
  EXPECT_EQ(out, "keep");

  st = AppendSuccessResponseFrame(7, response, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(out, "keep");
  st = AppendRequestFrame({1012, 0, 7}, response, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(out, "keep");

  // Zero values of set fields are still written (proto2 presence).
  PbTableBucket bucket;
  bucket.set_table_id(0);
  bucket.set_bucket_id(0);
  EXPECT_EQ(Encode(bucket), "08001800");
}

TEST(MessagesTest, ParseRejectsMissingRequiredAndGarbage) {
  // GetTableInfoResponse without modified_time (field 5).
  GetTableInfoResponse full;
  full.set_table_id(1);
  full.set_schema_id(1);
  full.set_table_json("{}");
  full.set_created_time(10);
  full.set_modified_time(11);
  ByteBuffer bytes;
  ASSERT_TRUE(AppendMessage(full, &bytes).ok());
  GetTableInfoResponse parsed;
  ASSERT_TRUE(ParseMessage(bytes, &parsed).ok());
  EXPECT_EQ(parsed.modified_time(), 11);

  full.clear_modified_time();
  bytes = full.SerializePartialAsString();
  Status st = ParseMessage(bytes, &parsed);
  EXPECT_EQ(st.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(st.message().find("modified_time"), std::string::npos) << st.message();

  // Truncated length-delimited field, and a group wire type.
  EXPECT_EQ(ParseMessage(Bytes("1a 05 08"), &parsed).code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(ParseMessage(Bytes("0b"), &parsed).code(), ErrorCode::kCorruptMessage);
}

TEST(MessagesTest, UnknownFieldsAreSkipped) {
  // DatabaseExistsResponse{exists=true} followed by fields 9 (varint), 10 (bytes),
  // 11 (fixed32) and 12 (fixed64) that this build does not know.
  ByteBuffer bytes = Bytes("08 01 48 96 01 52 02 61 62 5d 01 02 03 04 61 01 02 03 04 05 06 07 08");
  DatabaseExistsResponse parsed;
  ASSERT_TRUE(ParseMessage(bytes, &parsed).ok());
  EXPECT_TRUE(parsed.exists());
}

TEST(MessagesTest, FactoriesMatchTheApiTable) {
  for (const ApiInfo& info : AllApis()) {
    auto request = NewRequestMessage(info.key);
    auto response = NewResponseMessage(info.key);
    ASSERT_NE(request, nullptr) << info.name;
    ASSERT_NE(response, nullptr) << info.name;
    EXPECT_EQ(request->GetTypeName(), "strom.proto." + std::string(info.request_message));
    EXPECT_EQ(response->GetTypeName(), "strom.proto." + std::string(info.response_message));
  }
  EXPECT_EQ(NewRequestMessage(static_cast<ApiKey>(1062)), nullptr);
  EXPECT_EQ(NewResponseMessage(static_cast<ApiKey>(999)), nullptr);
}

}  // namespace
}  // namespace strom::proto
