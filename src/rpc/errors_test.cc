#include "rpc/errors.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace strom::rpc {
namespace {

TEST(RpcErrorsTest, KnownCodesGoOnTheWireUnchanged) {
  Status status(ErrorCode::kNotLeaderOrFollower, "bucket 3 moved");
  EXPECT_EQ(ToWireStatus(status), status);
  proto::ErrorResponse response = ToErrorResponse(status);
  EXPECT_EQ(response.error_code(), 12);
  EXPECT_EQ(response.error_message(), "bucket 3 moved");
}

TEST(RpcErrorsTest, OkAndUnknownNumbersBecomeUnknownServerError) {
  // Code 0 in an error frame makes the Java client fail with a null exception.
  EXPECT_EQ(ToWireStatus(Status::OK()).code(), ErrorCode::kUnknownServerError);
  EXPECT_EQ(ToErrorResponse(Status::OK()).error_code(), -1);
  Status odd(static_cast<ErrorCode>(4242), "from a newer build");
  Status wire = ToWireStatus(odd);
  EXPECT_EQ(wire.code(), ErrorCode::kUnknownServerError);
  EXPECT_NE(wire.message().find("4242"), std::string::npos);
  EXPECT_NE(wire.message().find("from a newer build"), std::string::npos);
}

TEST(RpcErrorsTest, EmptyMessageIsLeftOut) {
  proto::ErrorResponse response = ToErrorResponse(Status(ErrorCode::kTableNotExist, ""));
  EXPECT_EQ(response.error_code(), 7);
  EXPECT_FALSE(response.has_error_message());
}

TEST(RpcErrorsTest, FromErrorResponse) {
  proto::ErrorResponse response;
  response.set_error_code(44);
  response.set_error_message("no leader");
  Status status = FromErrorResponse(response);
  EXPECT_EQ(status.code(), ErrorCode::kLeaderNotAvailable);
  EXPECT_EQ(status.message(), "no leader");
  EXPECT_TRUE(status.IsRetriable());
  response.set_error_code(0);  // a broken peer: never success
  EXPECT_EQ(FromErrorResponse(response).code(), ErrorCode::kUnknownServerError);
  response.set_error_code(1000);  // unknown to this build
  EXPECT_EQ(FromErrorResponse(response).code(), ErrorCode::kUnknownServerError);
}

TEST(RpcErrorsTest, StatusFromException) {
  Status status =
      StatusFromException(std::make_exception_ptr(std::runtime_error("oops")), "the handler");
  EXPECT_EQ(status.code(), ErrorCode::kUnknownServerError);
  EXPECT_EQ(status.message(), "the handler threw: oops");
  EXPECT_EQ(StatusFromException(std::make_exception_ptr(42), "x").code(),
            ErrorCode::kUnknownServerError);
}

}  // namespace
}  // namespace strom::rpc
