#include "record/type_json.h"

#include <gtest/gtest.h>

namespace strom::record {
namespace {

DataField Field(std::string name, DataType type, int32_t id) {
  return DataField{std::move(name), std::move(type), std::nullopt, id};
}

// Every expected string of Fluss's DataTypeJsonSerdeTest (fluss-rpc 11.4), nullable and NOT
// NULL, written and read back.
TEST(TypeJsonTest, FlussDataTypeJsonSerdeStrings) {
  DataType row = DataType::Row({Field("f0", DataType::BigInt(), -1),
                                Field("f1", DataType::Int().NotNull(), 1),
                                Field("f2", DataType::String(), 2)});
  struct Case {
    DataType type;
    const char* json;
    const char* not_null_json;
  };
  const Case cases[] = {
      {DataType::Boolean(), R"({"type":"BOOLEAN"})", R"({"type":"BOOLEAN","nullable":false})"},
      {DataType::TinyInt(), R"({"type":"TINYINT"})", R"({"type":"TINYINT","nullable":false})"},
      {DataType::SmallInt(), R"({"type":"SMALLINT"})", R"({"type":"SMALLINT","nullable":false})"},
      {DataType::Int(), R"({"type":"INTEGER"})", R"({"type":"INTEGER","nullable":false})"},
      {DataType::BigInt(), R"({"type":"BIGINT"})", R"({"type":"BIGINT","nullable":false})"},
      {DataType::Float(), R"({"type":"FLOAT"})", R"({"type":"FLOAT","nullable":false})"},
      {DataType::Double(), R"({"type":"DOUBLE"})", R"({"type":"DOUBLE","nullable":false})"},
      {DataType::Decimal(10, 0), R"({"type":"DECIMAL","precision":10,"scale":0})",
       R"({"type":"DECIMAL","nullable":false,"precision":10,"scale":0})"},
      {DataType::Decimal(15, 5), R"({"type":"DECIMAL","precision":15,"scale":5})",
       R"({"type":"DECIMAL","nullable":false,"precision":15,"scale":5})"},
      {DataType::Char(1), R"({"type":"CHAR","length":1})",
       R"({"type":"CHAR","nullable":false,"length":1})"},
      {DataType::Char(5), R"({"type":"CHAR","length":5})",
       R"({"type":"CHAR","nullable":false,"length":5})"},
      {DataType::String(), R"({"type":"STRING"})", R"({"type":"STRING","nullable":false})"},
      {DataType::Binary(1), R"({"type":"BINARY","length":1})",
       R"({"type":"BINARY","nullable":false,"length":1})"},
      {DataType::Binary(100), R"({"type":"BINARY","length":100})",
       R"({"type":"BINARY","nullable":false,"length":100})"},
      {DataType::Bytes(), R"({"type":"BYTES"})", R"({"type":"BYTES","nullable":false})"},
      {DataType::Date(), R"({"type":"DATE"})", R"({"type":"DATE","nullable":false})"},
      {DataType::Time(0), R"({"type":"TIME_WITHOUT_TIME_ZONE","precision":0})",
       R"({"type":"TIME_WITHOUT_TIME_ZONE","nullable":false,"precision":0})"},
      {DataType::Time(3), R"({"type":"TIME_WITHOUT_TIME_ZONE","precision":3})",
       R"({"type":"TIME_WITHOUT_TIME_ZONE","nullable":false,"precision":3})"},
      {DataType::Timestamp(6), R"({"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":6})",
       R"({"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":6})"},
      {DataType::Timestamp(3), R"({"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":3})",
       R"({"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":3})"},
      {DataType::TimestampLtz(6), R"({"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","precision":6})",
       R"({"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":false,"precision":6})"},
      {DataType::TimestampLtz(3), R"({"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","precision":3})",
       R"({"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":false,"precision":3})"},
      {DataType::Array(DataType::Int().NotNull()),
       R"({"type":"ARRAY","element_type":{"type":"INTEGER","nullable":false}})",
       R"({"type":"ARRAY","nullable":false,"element_type":{"type":"INTEGER","nullable":false}})"},
      {DataType::Map(DataType::BigInt().NotNull(), DataType::Int().NotNull()),
       R"({"type":"MAP","key_type":{"type":"BIGINT","nullable":false},"value_type":{"type":"INTEGER","nullable":false}})",
       R"({"type":"MAP","nullable":false,"key_type":{"type":"BIGINT","nullable":false},"value_type":{"type":"INTEGER","nullable":false}})"},
      {row,
       R"({"type":"ROW","fields":[{"name":"f0","field_type":{"type":"BIGINT"},"field_id":-1},{"name":"f1","field_type":{"type":"INTEGER","nullable":false},"field_id":1},{"name":"f2","field_type":{"type":"STRING"},"field_id":2}]})",
       R"({"type":"ROW","nullable":false,"fields":[{"name":"f0","field_type":{"type":"BIGINT"},"field_id":-1},{"name":"f1","field_type":{"type":"INTEGER","nullable":false},"field_id":1},{"name":"f2","field_type":{"type":"STRING"},"field_id":2}]})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_EQ(TypeToJson(c.type), c.json);
    EXPECT_EQ(TypeToJson(c.type.NotNull()), c.not_null_json);
    auto parsed = TypeFromJson(c.json);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, c.type);
    auto parsed_not_null = TypeFromJson(c.not_null_json);
    ASSERT_TRUE(parsed_not_null.ok()) << parsed_not_null.status().ToString();
    EXPECT_EQ(*parsed_not_null, c.type.NotNull());
  }
}

TEST(TypeJsonTest, RowFieldsWithoutIdsAndWithDescriptions) {
  // DataTypeJsonSerdeTest.testJsonLackOfFieldId: a missing field_id reads as -1.
  auto parsed = TypeFromJson(
      R"({"type":"ROW","nullable":false,"fields":[{"name":"f0","field_type":{"type":"BIGINT"}},{"name":"f1","field_type":{"type":"INTEGER","nullable":false},"field_id":1},{"name":"f2","field_type":{"type":"STRING"},"field_id":2}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  DataType expected = DataType::Row({Field("f0", DataType::BigInt(), -1),
                                     Field("f1", DataType::Int().NotNull(), 1),
                                     Field("f2", DataType::String(), 2)})
                          .NotNull();
  EXPECT_EQ(*parsed, expected);

  DataType described = DataType::Row({DataField{"c", DataType::Int(), "a \"quoted\"\n", 2}});
  std::string json = TypeToJson(described);
  EXPECT_EQ(json,
            R"({"type":"ROW","fields":[{"name":"c","field_type":{"type":"INTEGER"},"description":"a \"quoted\"\n","field_id":2}]})");
  EXPECT_EQ(*TypeFromJson(json), described);
}

TEST(TypeJsonTest, ParsingIgnoresKeyOrderAndWhitespace) {
  auto parsed = TypeFromJson(R"( { "scale" : 2, "nullable": false, "precision": 12, "type": "DECIMAL" } )");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, DataType::Decimal(12, 2).NotNull());
  EXPECT_EQ(*TypeFromJson(R"({"nullable":true,"type":"STRING"})"), DataType::String());
}

TEST(TypeJsonTest, RejectsBadDocuments) {
  const char* bad[] = {
      "",
      "[]",
      "{",
      R"({"type":"INTEGER",})",
      R"({"nullable":false})",
      R"({"type":"VARCHAR"})",
      R"({"type":42})",
      R"({"type":"CHAR"})",
      R"({"type":"CHAR","length":0})",
      R"({"type":"BINARY","length":"5"})",
      R"({"type":"DECIMAL","precision":10})",
      R"({"type":"DECIMAL","precision":39,"scale":0})",
      R"({"type":"DECIMAL","precision":5,"scale":6})",
      R"({"type":"TIME_WITHOUT_TIME_ZONE"})",
      R"({"type":"TIMESTAMP_WITHOUT_TIME_ZONE","precision":10})",
      R"({"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","precision":-1})",
      R"({"type":"ARRAY"})",
      R"({"type":"ARRAY","element_type":"INTEGER"})",
      R"({"type":"MAP","key_type":{"type":"INTEGER"}})",
      R"({"type":"ROW"})",
      R"({"type":"ROW","fields":[{"field_type":{"type":"INTEGER"}}]})",
      R"({"type":"ROW","fields":[{"name":"a"}]})",
      R"({"type":"ROW","fields":[{"name":" ","field_type":{"type":"INTEGER"}}]})",
      R"({"type":"ROW","fields":[{"name":"a","field_type":{"type":"INTEGER"}},{"name":"a","field_type":{"type":"INTEGER"}}]})",
      R"({"type":"INTEGER","nullable":"no"})",
      R"({"type":"CHAR","length":4294967296})",
  };
  for (const char* json : bad) {
    auto parsed = TypeFromJson(json);
    EXPECT_FALSE(parsed.ok()) << json;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTable) << json;
    }
  }
}

TEST(TypeJsonTest, RejectsExcessiveNesting) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"type":"ARRAY","element_type":)";
  deep += R"({"type":"INTEGER"})";
  deep += std::string(200, '}');
  EXPECT_EQ(TypeFromJson(deep).status().code(), ErrorCode::kInvalidTable);

  std::string ok;
  for (int i = 0; i < 10; ++i) ok += R"({"type":"ARRAY","element_type":)";
  ok += R"({"type":"INTEGER"})" + std::string(10, '}');
  EXPECT_TRUE(TypeFromJson(ok).ok());
}

TEST(TypeJsonTest, StringEscapingFollowsJackson) {
  std::string out;
  AppendJsonString("a\"b\\c\x01\x1f\t\b\f\r/é", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u0001\\u001F\\t\\b\\f\\r/é\"");
}

}  // namespace
}  // namespace strom::record
