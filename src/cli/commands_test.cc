#include "cli/commands.h"

#include <gtest/gtest.h>

#include "cli/exit_codes.h"

namespace strom::cli {
namespace {

TEST(BuildTableDescriptorTest, ColumnsKeysBucketsAndProperties) {
  TableCreateOptions options;
  options.table = "db.t";
  options.schema = "id INT, name STRING COMMENT 'n', ts TIMESTAMP(3)";
  options.primary_key = "id";
  options.buckets = 4;
  options.properties = {"table.log.format=INDEXED", "k=v=w"};
  options.comment = "events";
  auto descriptor = BuildTableDescriptor(options);
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  EXPECT_EQ(descriptor->schema().primary_key(), std::vector<std::string>{"id"});
  // Primary-key columns become NOT NULL, as Fluss makes them.
  EXPECT_FALSE(descriptor->schema().column(0).type.nullable());
  EXPECT_EQ(descriptor->schema().column(1).comment, std::optional<std::string>("n"));
  EXPECT_EQ(descriptor->bucket_count(), std::optional<int32_t>(4));
  EXPECT_EQ(descriptor->bucket_keys(), std::vector<std::string>{"id"});  // defaults to the key
  ASSERT_NE(descriptor->Property("table.log.format"), nullptr);
  EXPECT_EQ(*descriptor->Property("table.log.format"), "INDEXED");
  EXPECT_EQ(*descriptor->Property("k"), "v=w");
  EXPECT_EQ(descriptor->comment(), std::optional<std::string>("events"));
}

TEST(BuildTableDescriptorTest, LogTableWithBucketKeyAndNoCount) {
  TableCreateOptions options;
  options.schema = "a INT, b STRING";
  options.bucket_key = "b";
  auto descriptor = BuildTableDescriptor(options);
  ASSERT_TRUE(descriptor.ok());
  EXPECT_FALSE(descriptor->bucket_count().has_value());  // the server's default
  EXPECT_EQ(descriptor->bucket_keys(), std::vector<std::string>{"b"});
  EXPECT_FALSE(descriptor->HasPrimaryKey());
}

TEST(BuildTableDescriptorTest, Errors) {
  TableCreateOptions options;
  options.schema = "a INT";
  options.bucket_key = "nope";
  EXPECT_EQ(BuildTableDescriptor(options).status().code(), ErrorCode::kInvalidTable);
  options.bucket_key.clear();
  options.primary_key = "nope";
  EXPECT_EQ(BuildTableDescriptor(options).status().code(), ErrorCode::kInvalidTable);
  options.primary_key.clear();
  options.buckets = 0;
  EXPECT_EQ(BuildTableDescriptor(options).status().code(), ErrorCode::kInvalidTable);
  options.buckets.reset();
  options.properties = {"novalue"};
  EXPECT_EQ(BuildTableDescriptor(options).status().code(), ErrorCode::kInvalidConfig);
  options.properties.clear();
  options.schema = "a VARCHAR";
  EXPECT_EQ(BuildTableDescriptor(options).status().code(), ErrorCode::kInvalidTable);
}

TEST(ExitCodeTest, Mapping) {
  auto code = [](ErrorCode c) { return ExitCodeFor(Status(c, "x")); };
  EXPECT_EQ(ExitCodeFor(Status::OK()), ExitCode::kOk);
  EXPECT_EQ(code(ErrorCode::kTableNotExist), ExitCode::kNotFound);
  EXPECT_EQ(code(ErrorCode::kDatabaseNotExist), ExitCode::kNotFound);
  EXPECT_EQ(code(ErrorCode::kTableAlreadyExist), ExitCode::kAlreadyExists);
  EXPECT_EQ(code(ErrorCode::kDatabaseAlreadyExist), ExitCode::kAlreadyExists);
  EXPECT_EQ(code(ErrorCode::kInvalidTable), ExitCode::kUsage);
  EXPECT_EQ(code(ErrorCode::kInvalidConfig), ExitCode::kUsage);
  EXPECT_EQ(code(ErrorCode::kCorruptRecord), ExitCode::kBadData);
  EXPECT_EQ(code(ErrorCode::kNetwork), ExitCode::kUnavailable);
  EXPECT_EQ(code(ErrorCode::kRequestTimeOut), ExitCode::kUnavailable);
  EXPECT_EQ(code(ErrorCode::kAuthorization), ExitCode::kDenied);
  EXPECT_EQ(code(ErrorCode::kDatabaseNotEmpty), ExitCode::kError);
  EXPECT_EQ(code(ErrorCode::kUnknownServerError), ExitCode::kError);
}

}  // namespace
}  // namespace strom::cli
