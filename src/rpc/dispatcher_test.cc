#include "rpc/dispatcher.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <string>

#include "proto/messages.h"
#include "testutil/run_task.h"

namespace strom::rpc {
namespace {

using proto::ApiKey;
using testutil::RunTask;

RequestContext ContextFor(ApiKey key, int16_t version) {
  RequestContext context;
  context.api_key = key;
  context.api_version = version;
  context.request_id = 1;
  context.peer_address = "127.0.0.1:1";
  context.listener_name = "FLUSS";
  context.connection_id = 1;
  return context;
}

Task<Result<proto::DatabaseExistsResponse>> Exists(int* calls, RequestContext,
                                                   proto::DatabaseExistsRequest request) {
  ++*calls;
  proto::DatabaseExistsResponse response;
  response.set_exists(request.database_name() == "fluss");
  co_return response;
}

Task<Result<proto::GetDatabaseInfoResponse>> Incomplete(RequestContext,
                                                        proto::GetDatabaseInfoRequest) {
  proto::GetDatabaseInfoResponse response;
  response.set_database_json("{}");  // created_time and modified_time left unset
  co_return response;
}

Task<Result<ByteBuffer>> Raw(RequestContext context, ByteBuffer payload) {
  co_return std::to_string(context.api_version) + ":" + payload;
}

class RpcDispatcherTest : public ::testing::Test {
 protected:
  RpcDispatcherTest() {
    dispatcher_.Handle<ApiKey::kDatabaseExists>(
        [this](RequestContext context, proto::DatabaseExistsRequest request) {
          return Exists(&calls_, std::move(context), std::move(request));
        });
    dispatcher_.Handle<ApiKey::kGetDatabaseInfo>(Incomplete);
    dispatcher_.RegisterRaw(ApiKey::kLookup, 0, 1, Raw);
  }

  Result<ByteBuffer> Dispatch(ApiKey key, int16_t version, ByteBuffer payload) {
    Result<ResponseBody> body =
        RunTask(io_, dispatcher_.Dispatch(ContextFor(key, version), std::move(payload)));
    if (!body.ok()) return std::move(body).status();
    EXPECT_FALSE(body->has_file_regions());
    return body->ToBytes();
  }

  asio::io_context io_;
  Dispatcher dispatcher_;
  int calls_ = 0;
};

TEST_F(RpcDispatcherTest, TypedHandlerParsesCallsAndSerializes) {
  proto::DatabaseExistsRequest request;
  request.set_database_name("fluss");
  ByteBuffer payload;
  ASSERT_TRUE(proto::AppendMessage(request, &payload).ok());
  Result<ByteBuffer> out = Dispatch(ApiKey::kDatabaseExists, 0, payload);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(ToHex(*out), "0801");  // exists = true
  EXPECT_EQ(calls_, 1);
}

TEST_F(RpcDispatcherTest, UnparsablePayloadIsCorruptMessageAndSkipsTheHandler) {
  EXPECT_EQ(Dispatch(ApiKey::kDatabaseExists, 0, ByteBuffer("\x0a\x05zz", 4)).status().code(),
            ErrorCode::kCorruptMessage);
  EXPECT_EQ(Dispatch(ApiKey::kDatabaseExists, 0, ByteBuffer()).status().code(),
            ErrorCode::kCorruptMessage);  // required database_name missing
  EXPECT_EQ(calls_, 0);
}

TEST_F(RpcDispatcherTest, ResponseWithMissingRequiredFieldsIsAServerError) {
  proto::GetDatabaseInfoRequest request;
  request.set_database_name("fluss");
  ByteBuffer payload;
  ASSERT_TRUE(proto::AppendMessage(request, &payload).ok());
  Result<ByteBuffer> out = Dispatch(ApiKey::kGetDatabaseInfo, 0, payload);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kUnknownServerError);
  EXPECT_NE(out.status().message().find("created_time"), std::string::npos);
}

TEST_F(RpcDispatcherTest, VersionRangesAndUnknownKeys) {
  EXPECT_EQ(*Dispatch(ApiKey::kLookup, 0, "k"), "0:k");
  EXPECT_EQ(*Dispatch(ApiKey::kLookup, 1, "k"), "1:k");
  EXPECT_EQ(Dispatch(ApiKey::kLookup, 2, "k").status().code(), ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(Dispatch(ApiKey::kLookup, -1, "k").status().code(), ErrorCode::kUnsupportedVersion);
  // Known to Fluss but not registered here; unknown to Fluss altogether.
  EXPECT_EQ(Dispatch(ApiKey::kProduceLog, 0, "").status().code(), ErrorCode::kUnsupportedVersion);
  Result<ByteBuffer> unknown = Dispatch(static_cast<ApiKey>(1999), 0, "");
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnsupportedVersion);
  EXPECT_NE(unknown.status().message().find("1999"), std::string::npos);
}

TEST_F(RpcDispatcherTest, SupportedApisAreOrderedWithTheirRanges) {
  std::vector<ApiVersionRange> apis = dispatcher_.SupportedApis();
  ASSERT_EQ(apis.size(), 3u);
  EXPECT_EQ(apis[0].key, ApiKey::kDatabaseExists);
  EXPECT_EQ(apis[1].key, ApiKey::kLookup);
  EXPECT_EQ(apis[1].max_version, 1);
  EXPECT_EQ(apis[2].key, ApiKey::kGetDatabaseInfo);
  EXPECT_TRUE(dispatcher_.Contains(ApiKey::kLookup));
  EXPECT_FALSE(dispatcher_.Contains(ApiKey::kPutKv));
}

TEST_F(RpcDispatcherTest, RegisteringAKeyTwiceIsAWiringBug) {
  EXPECT_DEATH(dispatcher_.RegisterRaw(ApiKey::kLookup, Raw), "already registered");
}

}  // namespace
}  // namespace strom::rpc
