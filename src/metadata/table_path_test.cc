#include "metadata/table_path.h"

#include <gtest/gtest.h>

#include <string>

#include "metadata/table_bucket.h"

namespace strom::metadata {
namespace {

TEST(TablePathTest, AcceptsFlussNames) {
  EXPECT_TRUE(ValidateDatabaseName("fluss").ok());
  EXPECT_TRUE(ValidateDatabaseName("My_db-01").ok());
  EXPECT_TRUE(ValidateTableName(std::string(kMaxNameLength, 'a')).ok());
  EXPECT_TRUE(ValidateTableName("_single_underscore").ok());
  EXPECT_TRUE(ValidateTablePath({"db", "t"}).ok());
}

TEST(TablePathTest, RejectsBadDatabaseNamesWithInvalidDatabase) {
  for (std::string bad : {std::string(), std::string("."), std::string(".."),
                          std::string(kMaxNameLength + 1, 'a'), std::string("a.b"),
                          std::string("a b"), std::string("__internal"), std::string("ä")}) {
    Status s = ValidateDatabaseName(bad);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidDatabase) << bad;
    EXPECT_NE(s.message().find("is invalid"), std::string::npos) << s.message();
  }
}

TEST(TablePathTest, RejectsBadTableNamesWithInvalidTable) {
  Status s = ValidateTableName("t$1");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidTable);
  EXPECT_EQ(s.message(),
            "Table name t$1 is invalid: 't$1' contains one or more characters other than ASCII "
            "alphanumerics, '_' and '-'");
  EXPECT_EQ(ValidateTableName("__t").code(), ErrorCode::kInvalidTable);
}

TEST(TablePathTest, TablePathChecksDatabaseFirst) {
  EXPECT_EQ(ValidateTablePath({"bad db", "bad table"}).code(), ErrorCode::kInvalidDatabase);
  EXPECT_EQ(ValidateTablePath({"db", "bad table"}).code(), ErrorCode::kInvalidTable);
}

TEST(TablePathTest, FormatsAndOrders) {
  TablePath a{"db", "a"}, b{"db", "b"};
  EXPECT_EQ(a.ToString(), "db.a");
  EXPECT_EQ(fmt::format("{}", b), "db.b");
  EXPECT_LT(a, b);
  EXPECT_NE(std::hash<TablePath>()(a), std::hash<TablePath>()(b));
}

TEST(TableBucketTest, PartitionIdIsPartOfIdentity) {
  TableBucket plain{TableId(1), std::nullopt, BucketId(0)};
  TableBucket partitioned{TableId(1), PartitionId(0), BucketId(0)};
  EXPECT_NE(plain, partitioned);
  EXPECT_NE(std::hash<TableBucket>()(plain), std::hash<TableBucket>()(partitioned));
  EXPECT_EQ(plain.ToString(), "TableBucket{tableId=1, bucket=0}");
  EXPECT_EQ(partitioned.ToString(), "TableBucket{tableId=1, partitionId=0, bucket=0}");
}

}  // namespace
}  // namespace strom::metadata
