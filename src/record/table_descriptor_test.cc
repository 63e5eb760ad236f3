#include "record/table_descriptor.h"

#include <gtest/gtest.h>

namespace strom::record {
namespace {

constexpr const char* kSchemaJson0 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false},"comment":"a is first column","id":0},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column","id":1},{"name":"c","data_type":{"type":"CHAR","nullable":false,"length":10},"comment":"c is third column","id":2}],"primary_key":["a","c"],"highest_field_id":2})";
constexpr const char* kSchemaJson1 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false},"id":0},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column","id":1},{"name":"c","data_type":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6},"comment":"c is third column","id":2}],"primary_key":["a"],"highest_field_id":2})";

Schema ParseSchema(const char* json) {
  auto schema = Schema::FromJson(json);
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return schema.ok() ? *schema : Schema();
}

Schema LogSchema() {
  Schema::Builder b;
  b.AddColumn("a", DataType::Int());
  b.AddColumn("b", DataType::String());
  b.AddColumn("dt", DataType::String());
  return *b.Build();
}

TableDescriptor::Parts P(Schema schema, std::vector<std::string> partition_keys = {},
                         std::optional<TableDistribution> distribution = std::nullopt,
                         Properties properties = {}) {
  TableDescriptor::Parts parts;
  parts.schema = std::move(schema);
  parts.partition_keys = std::move(partition_keys);
  parts.distribution = std::move(distribution);
  parts.properties = std::move(properties);
  return parts;
}

TableDescriptor Make(TableDescriptor::Parts parts) {
  auto table = TableDescriptor::Make(std::move(parts));
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return *table;
}

// The two cases of Fluss's TableDescriptorJsonSerdeTest (fluss-rpc 11.1). Java keeps the
// properties in a hash map; ours keep the given order, so they are given in the order the
// expected strings show.
TEST(TableDescriptorTest, FlussTableDescriptorJsonSerdeStrings) {
  TableDescriptor::Parts first_parts = P(ParseSchema(kSchemaJson0), {"c"},
                                         TableDistribution{16, {"a"}},
                                         {{"option-2", "200"}, {"option-1", "100"}});
  first_parts.comment = "first table";
  first_parts.custom_properties = {{"custom-1", "\"value-1\""}};
  TableDescriptor first = Make(std::move(first_parts));
  std::string first_json = std::string(R"({"version":1,"schema":)") + kSchemaJson0 +
                           R"(,"comment":"first table","partition_key":["c"],"bucket_key":["a"],"bucket_count":16,"properties":{"option-2":"200","option-1":"100"},"custom_properties":{"custom-1":"\"value-1\""}})";
  EXPECT_EQ(first.ToJson(), first_json);

  // distributedBy(32) with no bucket key: the key defaults to the primary key.
  TableDescriptor second = Make(P(ParseSchema(kSchemaJson1), {}, TableDistribution{32, {}},
                                  {{"option-3", "300"},
                                   {"option-4", "400"},
                                   {"table.log.format", "INDEXED"},
                                   {"table.kv.format", "INDEXED"}}));
  std::string second_json = std::string(R"({"version":1,"schema":)") + kSchemaJson1 +
                            R"(,"partition_key":[],"bucket_key":["a"],"bucket_count":32,"properties":{"option-3":"300","option-4":"400","table.log.format":"INDEXED","table.kv.format":"INDEXED"},"custom_properties":{}})";
  EXPECT_EQ(second.ToJson(), second_json);

  for (const auto& [table, json] : {std::pair{first, first_json}, std::pair{second, second_json}}) {
    auto parsed = TableDescriptor::FromJson(json);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, table);
    EXPECT_EQ(parsed->ToJson(), json);
  }
  EXPECT_EQ(*second.Property("table.kv.format"), "INDEXED");
  EXPECT_EQ(second.Property("missing"), nullptr);
}

TEST(TableDescriptorTest, NormalisesPrimaryKeyTables) {
  // No distribution: bucket key = primary key minus partition keys, count unknown.
  TableDescriptor t = Make(P(ParseSchema(kSchemaJson0), {"c"}));
  EXPECT_EQ(t.bucket_keys(), std::vector<std::string>{"a"});
  EXPECT_EQ(t.bucket_count(), std::nullopt);
  EXPECT_TRUE(t.IsDefaultBucketKey());
  EXPECT_EQ(t.PhysicalPrimaryKey(), std::vector<std::string>{"a"});
  EXPECT_TRUE(t.IsPartitioned());
  EXPECT_TRUE(t.HasPrimaryKey());
  EXPECT_EQ(t.ToJson().find("bucket_count"), std::string::npos);
  EXPECT_NE(t.ToJson().find(R"("bucket_key":["a"])"), std::string::npos);

  TableDescriptor counted = t.WithBucketCount(4).WithProperty("table.kv.format-version", "2");
  EXPECT_EQ(counted.bucket_count(), 4);
  EXPECT_EQ(*counted.Property("table.kv.format-version"), "2");
  EXPECT_EQ(counted.bucket_keys(), std::vector<std::string>{"a"});

  // An explicit bucket key that is a strict subset of the primary key.
  TableDescriptor prefix =
      Make(P(ParseSchema(kSchemaJson0), {}, TableDistribution{8, {"a"}}));
  EXPECT_FALSE(prefix.IsDefaultBucketKey());
  EXPECT_EQ(prefix.PhysicalPrimaryKey(), (std::vector<std::string>{"a", "c"}));
}

TEST(TableDescriptorTest, LogTables) {
  TableDescriptor no_key = Make(P(LogSchema(), {"dt"}));
  EXPECT_FALSE(no_key.distribution().has_value());
  EXPECT_TRUE(no_key.IsDefaultBucketKey());
  EXPECT_EQ(no_key.ToJson().find("bucket_key"), std::string::npos);

  TableDescriptor keyed =
      Make(P(LogSchema(), {}, TableDistribution{std::nullopt, {"b"}}));
  EXPECT_FALSE(keyed.IsDefaultBucketKey());
  EXPECT_NE(keyed.ToJson().find(R"("partition_key":[],"bucket_key":["b"],"properties")"),
            std::string::npos);
  EXPECT_EQ(*TableDescriptor::FromJson(keyed.ToJson()), keyed);
}

TEST(TableDescriptorTest, ValidationErrors) {
  auto code = [](TableDescriptor::Parts parts) {
    return TableDescriptor::Make(std::move(parts)).status().code();
  };
  Schema pk = ParseSchema(kSchemaJson0);
  // Bucket key includes a partition key.
  EXPECT_EQ(code(P(pk, {"c"}, TableDistribution{1, {"c"}})),
            ErrorCode::kInvalidTable);
  // Bucket key outside the primary key.
  EXPECT_EQ(code(P(pk, {}, TableDistribution{1, {"b"}})),
            ErrorCode::kInvalidTable);
  // Partition key outside the primary key.
  EXPECT_EQ(code(P(pk, {"b"})), ErrorCode::kInvalidTable);
  // Primary key equal to the partition keys leaves no bucket key.
  EXPECT_EQ(code(P(pk, {"a", "c"})), ErrorCode::kInvalidTable);
  // Unknown columns in a log table.
  EXPECT_EQ(code(P(LogSchema(), {"zz"})), ErrorCode::kInvalidTable);
  EXPECT_EQ(code(P(LogSchema(), {}, TableDistribution{1, {"zz"}})),
            ErrorCode::kInvalidTable);

  std::string schema = kSchemaJson1;
  const std::string bad[] = {
      "{",
      "[]",
      R"({"partition_key":[],"properties":{},"custom_properties":{}})",
      R"({"schema":)" + schema + R"(,"properties":{},"custom_properties":{}})",
      R"({"schema":)" + schema + R"(,"partition_key":[],"custom_properties":{}})",
      R"({"schema":)" + schema + R"(,"partition_key":[],"properties":{}})",
      R"({"schema":)" + schema +
          R"(,"partition_key":[],"bucket_count":3,"properties":{},"custom_properties":{}})",
      R"({"schema":)" + schema +
          R"(,"partition_key":[],"bucket_key":"a","properties":{},"custom_properties":{}})",
      R"({"schema":)" + schema +
          R"(,"partition_key":[],"properties":{"k":{"x":1}},"custom_properties":{}})",
      R"({"schema":)" + schema +
          R"(,"partition_key":[1],"properties":{},"custom_properties":{}})",
      R"({"schema":{"columns":[]},"partition_key":["x"],"properties":{},"custom_properties":{}})",
  };
  for (const auto& json : bad) {
    auto parsed = TableDescriptor::FromJson(json);
    EXPECT_FALSE(parsed.ok()) << json;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTable) << json;
    }
  }
}

TEST(TableDescriptorTest, ParsingIsTolerant) {
  // Any key order, no version, numeric and boolean property values read as their text.
  std::string json = std::string(R"({"custom_properties":{"x":"1"},"properties":{"n":3,"b":true},)") +
                     R"("bucket_count":2,"bucket_key":[],"partition_key":[],"schema":)" +
                     kSchemaJson1 + "}";
  auto parsed = TableDescriptor::FromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->bucket_keys(), std::vector<std::string>{"a"});
  EXPECT_EQ(parsed->bucket_count(), 2);
  EXPECT_EQ(*parsed->Property("n"), "3");
  EXPECT_EQ(*parsed->Property("b"), "true");
  EXPECT_EQ(*FindProperty(parsed->custom_properties(), "x"), "1");
}

// fluss-rpc 11.5.
TEST(TableDescriptorTest, DatabaseDescriptor) {
  EXPECT_EQ(DatabaseDescriptor().ToJson(), R"({"version":1,"custom_properties":{}})");
  DatabaseDescriptor described("my db", {{"owner", "ops"}, {"tier", "gold"}});
  std::string json = R"({"version":1,"comment":"my db","custom_properties":{"owner":"ops","tier":"gold"}})";
  EXPECT_EQ(described.ToJson(), json);
  EXPECT_EQ(*DatabaseDescriptor::FromJson(json), described);
  EXPECT_EQ(*DatabaseDescriptor::FromJson(R"({"version":1,"custom_properties":{}})"),
            DatabaseDescriptor());
  for (const char* bad : {"", "{}", R"({"comment":"x"})", R"({"custom_properties":[]})",
                          R"({"comment":5,"custom_properties":{}})"}) {
    auto parsed = DatabaseDescriptor::FromJson(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidDatabase) << bad;
    }
  }
}

TEST(TableDescriptorTest, PropertyHelpers) {
  Properties properties;
  SetProperty(&properties, "a", "1");
  SetProperty(&properties, "b", "2");
  SetProperty(&properties, "a", "3");
  EXPECT_EQ(properties, (Properties{{"a", "3"}, {"b", "2"}}));
  EXPECT_EQ(*FindProperty(properties, "b"), "2");
  EXPECT_EQ(FindProperty(properties, "c"), nullptr);
}

}  // namespace
}  // namespace strom::record
