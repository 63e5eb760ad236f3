#include "metadata/znode_json.h"

#include <gtest/gtest.h>

namespace strom::metadata {
namespace {

TEST(ZnodeJsonTest, DatabaseRoundTripsInFlussFormat) {
  DatabaseRegistration reg{record::DatabaseDescriptor("my \"db\"", {{"k", "v"}}),
                           TimestampMs(100), TimestampMs(200)};
  std::string json = DatabaseRegistrationToJson(reg);
  EXPECT_EQ(json,
            R"({"version":1,"comment":"my \"db\"","custom_properties":{"k":"v"},)"
            R"("created_time":100,"modified_time":200})");
  auto back = DatabaseRegistrationFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, reg);
}

TEST(ZnodeJsonTest, TableRoundTripsAndOmitsEmptyKeys) {
  TableRegistration reg;
  reg.table_id = TableId(1234);
  reg.bucket_count = 16;
  reg.properties = {{"table.replication.factor", "1"}};
  reg.created_time = TimestampMs(5);
  reg.modified_time = TimestampMs(6);
  std::string json = TableRegistrationToJson(reg);
  EXPECT_EQ(json,
            R"({"version":1,"table_id":1234,"bucket_count":16,)"
            R"("properties":{"table.replication.factor":"1"},"custom_properties":{},)"
            R"("created_time":5,"modified_time":6})");
  reg.comment = "c";
  reg.partition_keys = {"a", "b"};
  reg.bucket_keys = {"b", "c"};
  auto back = TableRegistrationFromJson(TableRegistrationToJson(reg));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, reg);
}

TEST(ZnodeJsonTest, ReadsFlussWrittenTableNode) {
  // The example of fluss-formats §7.3 (keys in Fluss's order).
  auto reg = TableRegistrationFromJson(
      R"({"version":1,"table_id":1234,"comment":"first table","partition_key":["a","b"],)"
      R"("bucket_key":["b","c"],"bucket_count":16,"properties":{},"custom_properties":)"
      R"({"custom3":"\"300\""},"created_time":1735538268,"modified_time":1735538268})");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(reg->table_id, TableId(1234));
  EXPECT_EQ(reg->bucket_keys, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(reg->custom_properties[0].second, "\"300\"");
}

TEST(ZnodeJsonTest, AssignmentMatchesFlussExample) {
  TableAssignment a;
  a.buckets[BucketId(0)] = {ServerId(1), ServerId(4), ServerId(5)};
  a.buckets[BucketId(1)] = {ServerId(2), ServerId(3)};
  EXPECT_EQ(TableAssignmentToJson(a), R"({"version":1,"buckets":{"0":[1,4,5],"1":[2,3]}})");
  auto back = TableAssignmentFromJson(TableAssignmentToJson(a));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, a);
}

TEST(ZnodeJsonTest, MalformedNodesAreCorruptionNotCrashes) {
  for (const char* bad : {"", "[]", "{", R"({"table_id":"x"})", R"({"table_id":1})",
                          R"({"table_id":1,"bucket_count":0,"properties":{},)"
                          R"("custom_properties":{},"created_time":1,"modified_time":1})"}) {
    EXPECT_EQ(TableRegistrationFromJson(bad).status().code(), ErrorCode::kCorruptMessage) << bad;
  }
  EXPECT_FALSE(DatabaseRegistrationFromJson(R"({"version":1})").ok());
  EXPECT_FALSE(TableAssignmentFromJson(R"({"buckets":{"x":[1]}})").ok());
  EXPECT_FALSE(TableAssignmentFromJson(R"({"buckets":{"0":["a"]}})").ok());
}

}  // namespace
}  // namespace strom::metadata
