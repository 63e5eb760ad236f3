#include "record/schema.h"

#include <gtest/gtest.h>

namespace strom::record {
namespace {

// Expected strings of Fluss's SchemaJsonSerdeTest (fluss-rpc 11.2).
constexpr const char* kSchemaJson0 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false},"comment":"a is first column","id":0},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column","id":1},{"name":"c","data_type":{"type":"CHAR","nullable":false,"length":10},"comment":"c is third column","id":2}],"primary_key":["a","c"],"highest_field_id":2})";
constexpr const char* kSchemaJson1 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false},"id":0},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column","id":1},{"name":"c","data_type":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6},"comment":"c is third column","id":2}],"primary_key":["a"],"highest_field_id":2})";
constexpr const char* kSchemaJson3 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"BIGINT"},"comment":"a is first column","id":0},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column","id":1},{"name":"c","data_type":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6},"comment":"c is third column","id":2}],"highest_field_id":2})";
constexpr const char* kSchemaJson4 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false},"comment":"a is first column","id":0},{"name":"b","data_type":{"type":"INTEGER"},"comment":"b is second column","id":1},{"name":"c","data_type":{"type":"CHAR","nullable":false,"length":10},"comment":"c is third column","id":2}],"primary_key":["a","c"],"auto_increment_column":["b"],"highest_field_id":2})";
constexpr const char* kSchemaJson5 =
    R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER"},"comment":"a is first column","id":0},{"name":"b","data_type":{"type":"ROW","fields":[{"name":"c","field_type":{"type":"INTEGER"},"description":"a is first column","field_id":2},{"name":"d","field_type":{"type":"INTEGER"},"description":"a is first column","field_id":3}]},"comment":"b is second column","id":1}],"highest_field_id":3})";
constexpr const char* kSchemaJsonWithAgg =
    R"({"version":1,"columns":[{"name":"product_id","data_type":{"type":"BIGINT","nullable":false},"id":0},{"name":"total_sales","data_type":{"type":"BIGINT"},"agg_function":{"type":"sum"},"id":1},{"name":"max_price","data_type":{"type":"DECIMAL","precision":10,"scale":2},"agg_function":{"type":"max"},"id":2},{"name":"last_update_time","data_type":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6},"agg_function":{"type":"last_value_ignore_nulls"},"id":3},{"name":"tags","data_type":{"type":"STRING"},"agg_function":{"type":"listagg","parameters":{"delimiter":";"}},"id":4},{"name":"categories","data_type":{"type":"STRING"},"agg_function":{"type":"string_agg","parameters":{"delimiter":"|"}},"id":5},{"name":"labels","data_type":{"type":"STRING"},"agg_function":{"type":"listagg"},"id":6}],"primary_key":["product_id"],"highest_field_id":6})";

Schema Build(Schema::Builder& builder) {
  auto schema = builder.Build();
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return schema.ok() ? std::move(schema).value() : Schema();
}

Schema Schema0() {
  Schema::Builder b;
  b.AddColumn("a", DataType::Int()).WithComment("a is first column");
  b.AddColumn("b", DataType::String()).WithComment("b is second column");
  b.AddColumn("c", DataType::Char(10)).WithComment("c is third column");
  b.PrimaryKey({"a", "c"});
  return Build(b);
}

Schema Schema1() {
  auto schema = Schema::FromColumns(
      {Schema::Column{"a", DataType::Int(), std::nullopt, std::nullopt},
       Schema::Column{"b", DataType::String(), "b is second column", std::nullopt},
       Schema::Column{"c", DataType::Timestamp(), "c is third column", std::nullopt}},
      {"a"});
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return *schema;
}

Schema Schema3() {
  Schema::Builder b;
  b.AddColumn("a", DataType::BigInt()).WithComment("a is first column");
  b.AddColumn("b", DataType::String()).WithComment("b is second column");
  b.AddColumn("c", DataType::Timestamp(6)).WithComment("c is third column");
  return Build(b);
}

Schema Schema4() {
  Schema::Builder b;
  b.AddColumn("a", DataType::Int()).WithComment("a is first column");
  b.AddColumn("b", DataType::Int()).WithComment("b is second column");
  b.AddColumn("c", DataType::Char(10)).WithComment("c is third column");
  b.PrimaryKey({"a", "c"}).EnableAutoIncrement("b");
  return Build(b);
}

Schema Schema5() {
  Schema::Builder b;
  b.AddColumn("a", DataType::Int()).WithComment("a is first column");
  b.AddColumn("b", DataType::Row({DataField{"c", DataType::Int(), "a is first column", 0},
                                  DataField{"d", DataType::Int(), "a is first column", 1}}))
      .WithComment("b is second column");
  return Build(b);
}

Schema SchemaWithAgg() {
  Schema::Builder b;
  b.AddColumn("product_id", DataType::BigInt().NotNull());
  b.AddColumn("total_sales", DataType::BigInt(), AggFunction{AggFunctionType::kSum, {}});
  b.AddColumn("max_price", DataType::Decimal(10, 2), AggFunction{AggFunctionType::kMax, {}});
  b.AddColumn("last_update_time", DataType::Timestamp(),
              AggFunction{AggFunctionType::kLastValueIgnoreNulls, {}});
  b.AddColumn("tags", DataType::String(),
              AggFunction{AggFunctionType::kListAgg, {{"delimiter", ";"}}});
  b.AddColumn("categories", DataType::String(),
              AggFunction{AggFunctionType::kStringAgg, {{"delimiter", "|"}}});
  b.AddColumn("labels", DataType::String(), AggFunction{AggFunctionType::kListAgg, {}});
  b.PrimaryKey({"product_id"});
  return Build(b);
}

TEST(SchemaTest, FlussSchemaJsonSerdeStrings) {
  const std::pair<Schema, const char*> cases[] = {
      {Schema0(), kSchemaJson0}, {Schema1(), kSchemaJson1}, {Schema3(), kSchemaJson3},
      {Schema4(), kSchemaJson4}, {Schema5(), kSchemaJson5}, {SchemaWithAgg(), kSchemaJsonWithAgg},
  };
  for (const auto& [schema, json] : cases) {
    SCOPED_TRACE(json);
    EXPECT_EQ(schema.ToJson(), json);
    auto parsed = Schema::FromJson(json);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, schema);
    EXPECT_EQ(parsed->ToJson(), json);
  }
}

TEST(SchemaTest, OldJsonWithoutColumnIds) {
  // SchemaJsonSerdeTest.testCompatibilityFromJsonLackOfColumnId.
  const char* old0 =
      R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false},"comment":"a is first column"},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column"},{"name":"c","data_type":{"type":"CHAR","nullable":false,"length":10},"comment":"c is third column"}],"primary_key":["a","c"]})";
  const char* old1 =
      R"({"version":1,"columns":[{"name":"a","data_type":{"type":"INTEGER","nullable":false}},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column"},{"name":"c","data_type":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6},"comment":"c is third column"}],"primary_key":["a"]})";
  const char* old3 =
      R"({"version":1,"columns":[{"name":"a","data_type":{"type":"BIGINT"},"comment":"a is first column"},{"name":"b","data_type":{"type":"STRING"},"comment":"b is second column"},{"name":"c","data_type":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6},"comment":"c is third column"}]})";
  EXPECT_EQ(*Schema::FromJson(old0), Schema0());
  EXPECT_EQ(*Schema::FromJson(old1), Schema1());
  EXPECT_EQ(*Schema::FromJson(old3), Schema3());
}

TEST(SchemaTest, PrimaryKeyColumnsBecomeNotNull) {
  // A client that sends a nullable key column gets it back NOT NULL.
  auto parsed = Schema::FromJson(
      R"({"columns":[{"name":"k","data_type":{"type":"STRING"},"id":0},{"name":"v","data_type":{"type":"INTEGER"},"id":1}],"primary_key":["k"],"highest_field_id":1})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(parsed->column(0).type.nullable());
  EXPECT_TRUE(parsed->column(1).type.nullable());
  EXPECT_EQ(parsed->column(0).type, DataType::String().NotNull());
}

TEST(SchemaTest, Helpers) {
  Schema schema = Schema4();
  EXPECT_EQ(schema.ColumnIndex("c"), 2u);
  EXPECT_EQ(schema.ColumnIndex("zz"), std::nullopt);
  EXPECT_EQ(schema.PrimaryKeyIndexes(), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(*schema.ColumnIndexes({"c", "b"}), (std::vector<size_t>{2, 1}));
  EXPECT_EQ(schema.ColumnIndexes({"b", "nope"}).status().code(), ErrorCode::kInvalidTable);
  EXPECT_EQ(schema.ColumnNames(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(schema.FieldTypes(), (std::vector<DataType>{DataType::Int().NotNull(), DataType::Int(),
                                                        DataType::Char(10).NotNull()}));
  DataType row = schema.RowType();
  ASSERT_EQ(row.root(), TypeRoot::kRow);
  ASSERT_EQ(row.fields().size(), 3u);
  EXPECT_EQ(row.fields()[2].name, "c");
  EXPECT_EQ(row.fields()[2].field_id, 2);
  EXPECT_TRUE(schema.HasPrimaryKey());
  EXPECT_FALSE(Schema3().HasPrimaryKey());
  EXPECT_EQ(Schema().ToJson(), R"({"version":1,"columns":[],"highest_field_id":-1})");
}

TEST(SchemaTest, BuilderRenumbersNestedFieldsDepthFirst) {
  Schema::Builder b;
  b.AddColumn("id", DataType::Int());
  b.AddColumn("m", DataType::Map(DataType::Int(),
                                 DataType::Row({DataField{"x", DataType::Row({DataField{
                                                                   "y", DataType::Int(),
                                                                   std::nullopt, 70}}),
                                                          std::nullopt, 50},
                                                DataField{"z", DataType::Int(), std::nullopt, 60}})));
  b.AddColumn("last", DataType::Int());
  Schema schema = Build(b);
  // id 0; m 1, then its nested fields x 2, y 3, z 4; last 5.
  const DataType& value = schema.column(1).type.value();
  EXPECT_EQ(value.fields()[0].field_id, 2);
  EXPECT_EQ(value.fields()[0].type.fields()[0].field_id, 3);
  EXPECT_EQ(value.fields()[1].field_id, 4);
  EXPECT_EQ(schema.column(2).id, 5);
  EXPECT_EQ(schema.highest_field_id(), 5);
  EXPECT_EQ(*Schema::FromJson(schema.ToJson()), schema);
}

TEST(SchemaTest, AggFunctionNames) {
  EXPECT_EQ(ParseAggFunctionType(" Last-Value-Ignore-Nulls "), AggFunctionType::kLastValueIgnoreNulls);
  EXPECT_EQ(ParseAggFunctionType("RBM64"), AggFunctionType::kRbm64);
  EXPECT_EQ(ParseAggFunctionType("median"), std::nullopt);
  EXPECT_EQ(ParseAggFunctionType(""), std::nullopt);
  EXPECT_EQ(AggFunctionTypeName(AggFunctionType::kBoolAnd), "bool_and");
  // A function this version does not know is dropped, as Java does.
  auto parsed = Schema::FromJson(
      R"({"columns":[{"name":"k","data_type":{"type":"INTEGER"}},{"name":"v","data_type":{"type":"INTEGER"},"agg_function":{"type":"median"}},{"name":"w","data_type":{"type":"STRING"},"agg_function":{"type":"LISTAGG","parameters":{"delimiter":","}}}],"primary_key":["k"]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(parsed->column(1).agg_function.has_value());
  EXPECT_EQ(parsed->column(2).agg_function,
            (AggFunction{AggFunctionType::kListAgg, {{"delimiter", ","}}}));
}

TEST(SchemaTest, ValidationErrors) {
  const char* bad[] = {
      "not json",
      "[]",
      R"({"version":1})",
      R"({"columns":{}})",
      R"({"columns":[{"data_type":{"type":"INTEGER"}}]})",
      R"({"columns":[{"name":"a"}]})",
      R"({"columns":[{"name":"a","data_type":{"type":"NOPE"}}]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}},{"name":"a","data_type":{"type":"INTEGER"}}]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"},"id":0},{"name":"b","data_type":{"type":"INTEGER"}}]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"},"id":0},{"name":"b","data_type":{"type":"INTEGER"},"id":0}]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"},"id":3}],"highest_field_id":2})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}}],"primary_key":[]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}}],"primary_key":["b"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}}],"primary_key":["a","a"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}}],"auto_increment_column":["a"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}},{"name":"b","data_type":{"type":"STRING"}}],"primary_key":["a"],"auto_increment_column":["b"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}},{"name":"b","data_type":{"type":"INTEGER"}}],"primary_key":["a"],"auto_increment_column":["a"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}},{"name":"b","data_type":{"type":"BIGINT"}},{"name":"c","data_type":{"type":"BIGINT"}}],"primary_key":["a"],"auto_increment_column":["b","c"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"},"agg_function":{"type":"sum"}}],"primary_key":["a"]})",
      R"({"columns":[{"name":"a","data_type":{"type":"ROW","fields":[{"name":"x","field_type":{"type":"INTEGER"}},{"name":"y","field_type":{"type":"INTEGER"}}]}}]})",
      R"({"columns":[{"name":"a","data_type":{"type":"INTEGER"}}],"highest_field_id":"7"})",
  };
  for (const char* json : bad) {
    auto parsed = Schema::FromJson(json);
    EXPECT_FALSE(parsed.ok()) << json;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTable) << json;
    }
  }

  Schema::Builder misuse;
  misuse.WithComment("nothing to comment on").AddColumn("a", DataType::Int());
  EXPECT_FALSE(misuse.Build().ok());
  Schema::Builder two_keys;
  two_keys.AddColumn("a", DataType::Int()).PrimaryKey({"a"}).PrimaryKey({"a"});
  EXPECT_FALSE(two_keys.Build().ok());
}

}  // namespace
}  // namespace strom::record
