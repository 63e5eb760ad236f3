#include "cli/schema_parser.h"

#include <gtest/gtest.h>

namespace strom::cli {
namespace {

DataType Parse(std::string_view text) {
  Result<DataType> type = ParseDataType(text);
  EXPECT_TRUE(type.ok()) << text << ": " << type.status().ToString();
  return type.ok() ? *type : DataType();
}

std::string ErrorOf(std::string_view text) {
  Result<DataType> type = ParseDataType(text);
  EXPECT_FALSE(type.ok()) << text << " parsed as " << type->ToString();
  if (!type.ok()) {
    EXPECT_EQ(type.status().code(), ErrorCode::kInvalidTable);
    return type.status().message();
  }
  return "";
}

TEST(SchemaParserTest, ScalarTypesAndDefaults) {
  EXPECT_EQ(Parse("BOOLEAN"), DataType::Boolean());
  EXPECT_EQ(Parse("bool"), DataType::Boolean());
  EXPECT_EQ(Parse("TINYINT"), DataType::TinyInt());
  EXPECT_EQ(Parse("smallint"), DataType::SmallInt());
  EXPECT_EQ(Parse("INT"), DataType::Int());
  EXPECT_EQ(Parse("Integer"), DataType::Int());
  EXPECT_EQ(Parse("BIGINT"), DataType::BigInt());
  EXPECT_EQ(Parse("FLOAT"), DataType::Float());
  EXPECT_EQ(Parse("DOUBLE"), DataType::Double());
  EXPECT_EQ(Parse("DOUBLE PRECISION"), DataType::Double());
  EXPECT_EQ(Parse("STRING"), DataType::String());
  EXPECT_EQ(Parse("BYTES"), DataType::Bytes());
  EXPECT_EQ(Parse("DATE"), DataType::Date());
  EXPECT_EQ(Parse("CHAR"), DataType::Char(1));
  EXPECT_EQ(Parse("CHAR(12)"), DataType::Char(12));
  EXPECT_EQ(Parse("BINARY"), DataType::Binary(1));
  EXPECT_EQ(Parse("BINARY( 16 )"), DataType::Binary(16));
  EXPECT_EQ(Parse("DECIMAL"), DataType::Decimal(10, 0));
  EXPECT_EQ(Parse("DECIMAL(5)"), DataType::Decimal(5, 0));
  EXPECT_EQ(Parse("DECIMAL(20,3)"), DataType::Decimal(20, 3));
  EXPECT_EQ(Parse("NUMERIC(38, 38)"), DataType::Decimal(38, 38));
  EXPECT_EQ(Parse("TIME"), DataType::Time(0));
  EXPECT_EQ(Parse("TIME(3)"), DataType::Time(3));
  EXPECT_EQ(Parse("TIME(3) WITHOUT TIME ZONE"), DataType::Time(3));
  EXPECT_EQ(Parse("TIMESTAMP"), DataType::Timestamp(6));
  EXPECT_EQ(Parse("TIMESTAMP(3)"), DataType::Timestamp(3));
  EXPECT_EQ(Parse("TIMESTAMP(9) WITHOUT TIME ZONE"), DataType::Timestamp(9));
  EXPECT_EQ(Parse("TIMESTAMP(3) WITH LOCAL TIME ZONE"), DataType::TimestampLtz(3));
  EXPECT_EQ(Parse("TIMESTAMP_LTZ"), DataType::TimestampLtz(6));
  EXPECT_EQ(Parse("timestamp_ltz(0)"), DataType::TimestampLtz(0));
}

TEST(SchemaParserTest, Nullability) {
  EXPECT_EQ(Parse("INT NOT NULL"), DataType::Int().NotNull());
  EXPECT_EQ(Parse("int not null"), DataType::Int().NotNull());
  EXPECT_EQ(Parse("INT NULL"), DataType::Int());
  EXPECT_EQ(Parse("ARRAY<INT NOT NULL> NOT NULL"), DataType::Array(DataType::Int().NotNull()).NotNull());
}

TEST(SchemaParserTest, NestedTypes) {
  EXPECT_EQ(Parse("ARRAY<STRING>"), DataType::Array(DataType::String()));
  EXPECT_EQ(Parse("ARRAY<ARRAY<DECIMAL(5, 2)>>"),
            DataType::Array(DataType::Array(DataType::Decimal(5, 2))));
  EXPECT_EQ(Parse("MAP<STRING, BIGINT NOT NULL>"),
            DataType::Map(DataType::String(), DataType::BigInt().NotNull()));
  DataType row = Parse("ROW<a INT, `b c` STRING NOT NULL, d: ARRAY<DOUBLE>>");
  ASSERT_EQ(row.root(), TypeRoot::kRow);
  ASSERT_EQ(row.fields().size(), 3u);
  EXPECT_EQ(row.fields()[0].name, "a");
  EXPECT_EQ(row.fields()[0].type, DataType::Int());
  EXPECT_EQ(row.fields()[1].name, "b c");
  EXPECT_EQ(row.fields()[1].type, DataType::String().NotNull());
  EXPECT_EQ(row.fields()[2].name, "d");
  EXPECT_EQ(row.fields()[2].type, DataType::Array(DataType::Double()));
  EXPECT_EQ(Parse("ROW(a INT, b STRING)"), Parse("ROW<a INT, b STRING>"));
  DataType commented = Parse("ROW<a INT COMMENT 'the a'>");
  EXPECT_EQ(commented.fields()[0].description, std::optional<std::string>("the a"));
}

// DataType::ToString is what `table describe` prints; parsing it back gives the same type.
TEST(SchemaParserTest, RoundTripsToString) {
  std::vector<DataType> types = {
      DataType::Decimal(12, 4).NotNull(),
      DataType::Timestamp(3),
      DataType::TimestampLtz(9).NotNull(),
      DataType::Time(6),
      DataType::Char(7),
      DataType::Binary(20),
      DataType::Map(DataType::String().NotNull(), DataType::Array(DataType::Float())),
      *ParseDataType("ROW<x DOUBLE, y ROW<z INT NOT NULL>>"),
  };
  for (const DataType& type : types) EXPECT_EQ(Parse(type.ToString()), type) << type.ToString();
}

TEST(SchemaParserTest, ErrorsNameThePosition) {
  EXPECT_NE(ErrorOf("VARCHAR(3)").find("use STRING"), std::string::npos);
  EXPECT_NE(ErrorOf("VARBINARY").find("use BYTES"), std::string::npos);
  EXPECT_NE(ErrorOf("INTEGR").find("at column 1: expected a type"), std::string::npos);
  EXPECT_NE(ErrorOf("DECIMAL(39, 2)").find("precision must be between 1 and 38"),
            std::string::npos);
  EXPECT_NE(ErrorOf("DECIMAL(5, 6)").find("scale"), std::string::npos);
  EXPECT_NE(ErrorOf("TIMESTAMP(10)").find("between 0 and 9"), std::string::npos);
  EXPECT_NE(ErrorOf("CHAR(0)").find("CHAR length"), std::string::npos);
  EXPECT_NE(ErrorOf("ARRAY<INT").find("expected '>'"), std::string::npos);
  EXPECT_NE(ErrorOf("MAP<INT>").find("expected ','"), std::string::npos);
  EXPECT_NE(ErrorOf("INT NOT").find("expected NULL"), std::string::npos);
  EXPECT_NE(ErrorOf("ROW<a INT, a STRING>").find("defined twice"), std::string::npos);
  EXPECT_NE(ErrorOf("INT garbage").find("at column 5"), std::string::npos);
  EXPECT_FALSE(ParseDataType("").ok());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "ARRAY<";
  deep += "INT";
  for (int i = 0; i < 100; ++i) deep += ">";
  EXPECT_NE(ErrorOf(deep).find("nested too deeply"), std::string::npos);
}

TEST(SchemaParserTest, ColumnLists) {
  auto columns = ParseColumns(
      "id INT NOT NULL, name STRING COMMENT 'who''s there', `order` BIGINT,\n"
      "  price DECIMAL(10, 2), tags ARRAY<STRING>");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->size(), 5u);
  EXPECT_EQ((*columns)[0].name, "id");
  EXPECT_EQ((*columns)[0].type, DataType::Int().NotNull());
  EXPECT_EQ((*columns)[1].comment, std::optional<std::string>("who's there"));
  EXPECT_EQ((*columns)[2].name, "order");
  EXPECT_EQ((*columns)[3].type, DataType::Decimal(10, 2));
  EXPECT_EQ((*columns)[4].type, DataType::Array(DataType::String()));

  EXPECT_FALSE(ParseColumns("").ok());
  EXPECT_FALSE(ParseColumns("id").ok());
  EXPECT_FALSE(ParseColumns("id INT,").ok());
  EXPECT_FALSE(ParseColumns("id INT name STRING").ok());
  auto duplicate = ParseColumns("id INT, id STRING");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.status().message().find("column 'id' is defined twice"), std::string::npos);
}

TEST(SchemaParserTest, NameLists) {
  auto names = ParseNameList("a, b ,`c d`");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c d"}));
  EXPECT_FALSE(ParseNameList("a,,b").ok());
  EXPECT_FALSE(ParseNameList("").ok());
}

}  // namespace
}  // namespace strom::cli
