#include "coordinator/table_validation.h"

#include <gtest/gtest.h>

namespace strom::coordinator {
namespace {

record::TableDescriptor Table(const std::string& properties, bool pk = false,
                              const std::string& distribution = "") {
  std::string json =
      R"({"version":1,"schema":{"version":1,"columns":[)"
      R"({"name":"id","data_type":{"type":"INTEGER"},"id":0},)"
      R"({"name":"v","data_type":{"type":"BIGINT"},"id":1},)"
      R"({"name":"arr","data_type":{"type":"ARRAY","element_type":{"type":"INTEGER"}},"id":2}],)" +
      std::string(pk ? R"("primary_key":["id"],)" : "") +
      R"("highest_field_id":2},"partition_key":[],)" + distribution + R"("properties":{)" +
      properties + R"(},"custom_properties":{}})";
  auto t = record::TableDescriptor::FromJson(json);
  EXPECT_TRUE(t.ok()) << t.status().ToString() << json;
  return *t;
}

Status Check(const std::string& properties, bool pk = false, const std::string& dist = "") {
  TableDefaults defaults;
  auto applied = ApplySystemDefaults(Table(properties, pk, dist), defaults);
  if (!applied.ok()) return applied.status();
  return ValidateTableDescriptor(*applied, defaults);
}

TEST(TableValidationTest, DefaultsAreFilledIn) {
  TableDefaults defaults;
  defaults.default_bucket_number = 4;
  defaults.default_replication_factor = 1;
  auto log = ApplySystemDefaults(Table(""), defaults);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->bucket_count(), 4);
  ASSERT_NE(log->Property("table.replication.factor"), nullptr);
  EXPECT_EQ(*log->Property("table.replication.factor"), "1");
  EXPECT_EQ(log->Property("table.kv.format-version"), nullptr);

  auto pk = ApplySystemDefaults(Table(R"("table.merge-engine":"first_row")", true), defaults);
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(*pk->Property("table.kv.format-version"), "2");
  EXPECT_EQ(*pk->Property("table.delete.behavior"), "IGNORE");
  EXPECT_EQ(pk->bucket_keys(), std::vector<std::string>{"id"});

  auto kept = ApplySystemDefaults(
      Table(R"("table.replication.factor":"1")", false, R"("bucket_key":[],"bucket_count":7,)"),
      defaults);
  EXPECT_EQ(kept->bucket_count(), 7);
}

TEST(TableValidationTest, FlussErrorCodes) {
  EXPECT_TRUE(Check("").ok());
  EXPECT_TRUE(Check(R"("table.log.ttl":"2 d","table.log.format":"indexed")").ok());
  EXPECT_EQ(Check(R"("table.unknown":"x")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("k":"x")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.log.ttl":"soon")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.datalake.freshness":"x")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.replication.factor":"-1")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.log.arrow.compression.zstd.level":"23")").code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.merge-engine":"first_row")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.delete.behavior":"IGNORE")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.auto-partition.enabled":"true")").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.datalake.enabled":"true")").code(), ErrorCode::kInvalidTable);
  EXPECT_EQ(Check(R"("table.kv.format-version":"3")", true).code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.log.format":"INDEXED")", true).code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check(R"("table.merge-engine":"versioned")", true).code(), ErrorCode::kInvalidConfig);
  EXPECT_TRUE(Check(R"("table.merge-engine":"versioned",)"
                    R"("table.merge-engine.versioned.ver-column":"v")",
                    true)
                  .ok());
  EXPECT_EQ(Check(R"("table.merge-engine":"first_row","table.delete.behavior":"allow")", true)
                .code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(Check("", false, R"("bucket_key":["arr"],"bucket_count":2,)").code(),
            ErrorCode::kInvalidTable);
  EXPECT_EQ(Check("", false, R"("bucket_key":[],"bucket_count":200000,)").code(),
            ErrorCode::kBucketMaxNum);
  EXPECT_EQ(Check("", false, R"("bucket_key":[],"bucket_count":0,)").code(),
            ErrorCode::kInvalidTable);
}

TEST(TableValidationTest, DisallowedKindsAndReservedColumns) {
  TableDefaults defaults;
  defaults.allow_log_tables = false;
  EXPECT_EQ(ApplySystemDefaults(Table(""), defaults).status().code(), ErrorCode::kInvalidTable);
  auto reserved = record::TableDescriptor::FromJson(
      R"({"version":1,"schema":{"version":1,"columns":[{"name":"__offset","data_type":)"
      R"({"type":"INTEGER"},"id":0}],"highest_field_id":0},"partition_key":[],)"
      R"("properties":{"table.replication.factor":"1"},"custom_properties":{}})");
  ASSERT_TRUE(reserved.ok());
  Status s = ValidateTableDescriptor(reserved->WithBucketCount(1), TableDefaults());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidTable);
  EXPECT_NE(s.message().find("reserved system columns"), std::string::npos);
}

}  // namespace
}  // namespace strom::coordinator
