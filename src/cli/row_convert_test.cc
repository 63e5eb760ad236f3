#include "cli/row_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "cli/schema_parser.h"

namespace strom::cli {
namespace {

using nlohmann::json;

Datum FromJson(const std::string& text, std::string_view type) {
  Result<Datum> datum = JsonToDatum(json::parse(text), *ParseDataType(type));
  EXPECT_TRUE(datum.ok()) << text << " as " << type << ": " << datum.status().ToString();
  return datum.ok() ? *datum : Datum();
}

std::string ErrorFromJson(const std::string& text, std::string_view type) {
  Result<Datum> datum = JsonToDatum(json::parse(text), *ParseDataType(type));
  EXPECT_FALSE(datum.ok()) << text << " as " << type;
  if (datum.ok()) return "";
  EXPECT_EQ(datum.status().code(), ErrorCode::kCorruptRecord);
  return datum.status().message();
}

__int128 Unscaled(const Datum& d) { return d.as<DecimalValue>().unscaled; }

TEST(RowConvertTest, Integers) {
  EXPECT_EQ(FromJson("5", "TINYINT").as<int8_t>(), 5);
  EXPECT_EQ(FromJson("-32768", "SMALLINT").as<int16_t>(), -32768);
  EXPECT_EQ(FromJson("\"123\"", "INT").as<int32_t>(), 123);
  EXPECT_EQ(FromJson("9223372036854775807", "BIGINT").as<int64_t>(), INT64_MAX);
  EXPECT_EQ(FromJson("2.0", "INT").as<int32_t>(), 2);
  EXPECT_NE(ErrorFromJson("128", "TINYINT").find("out of range"), std::string::npos);
  EXPECT_NE(ErrorFromJson("2.5", "INT").find("not an integer"), std::string::npos);
  EXPECT_NE(ErrorFromJson("\"x\"", "BIGINT").find("not an integer"), std::string::npos);
  EXPECT_NE(ErrorFromJson("18446744073709551615", "BIGINT").find("out of range"),
            std::string::npos);
  EXPECT_NE(ErrorFromJson("true", "INT").find("expected an integer"), std::string::npos);
}

TEST(RowConvertTest, BooleansFloatsStrings) {
  EXPECT_TRUE(FromJson("true", "BOOLEAN").as<bool>());
  EXPECT_FALSE(FromJson("\"false\"", "BOOLEAN").as<bool>());
  EXPECT_FLOAT_EQ(FromJson("1.5", "FLOAT").as<float>(), 1.5f);
  EXPECT_DOUBLE_EQ(FromJson("\"-2.25\"", "DOUBLE").as<double>(), -2.25);
  EXPECT_TRUE(std::isnan(FromJson("\"NaN\"", "DOUBLE").as<double>()));
  EXPECT_TRUE(std::isinf(FromJson("\"-Infinity\"", "DOUBLE").as<double>()));
  EXPECT_EQ(FromJson("\"héllo\"", "STRING").as<std::string>(), "héllo");
  EXPECT_EQ(FromJson("\"héé\"", "CHAR(3)").as<std::string>(), "héé");  // 3 code points
  EXPECT_NE(ErrorFromJson("\"abcd\"", "CHAR(3)").find("4 characters"), std::string::npos);
  EXPECT_NE(ErrorFromJson("12", "STRING").find("expected a string"), std::string::npos);
}

TEST(RowConvertTest, Bytes) {
  EXPECT_EQ(FromJson("\"AAEC/w==\"", "BYTES").as<std::string>(), std::string("\0\1\2\xff", 4));
  // BINARY(n) is zero-padded to its length.
  EXPECT_EQ(FromJson("\"AAE=\"", "BINARY(4)").as<std::string>(), std::string("\0\1\0\0", 4));
  EXPECT_NE(ErrorFromJson("\"AAECAw==\"", "BINARY(2)").find("do not fit"), std::string::npos);
  EXPECT_NE(ErrorFromJson("\"@@\"", "BYTES").find("not base64"), std::string::npos);
  for (std::string raw : {std::string(""), std::string("a"), std::string("ab"),
                          std::string("abc"), std::string("\0\xfe\x7f", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(raw)), raw);
  }
  EXPECT_EQ(Base64Encode("Man"), "TWFu");
  EXPECT_EQ(Base64Encode("Ma"), "TWE=");
}

TEST(RowConvertTest, Decimals) {
  EXPECT_EQ(Unscaled(FromJson("\"12.34\"", "DECIMAL(10, 2)")), 1234);
  EXPECT_EQ(Unscaled(FromJson("7", "DECIMAL(10, 2)")), 700);
  EXPECT_EQ(Unscaled(FromJson("-0.5", "DECIMAL(3, 1)")), -5);
  EXPECT_EQ(Unscaled(FromJson("\"1.005\"", "DECIMAL(10, 2)")), 101);  // half up
  EXPECT_EQ(Unscaled(FromJson("\"-1.004\"", "DECIMAL(10, 2)")), -100);
  EXPECT_EQ(Unscaled(FromJson("\"1.5e2\"", "DECIMAL(5, 0)")), 150);
  EXPECT_EQ(Unscaled(FromJson("\"0.004\"", "DECIMAL(4, 2)")), 0);
  EXPECT_EQ(Unscaled(FromJson("\"0.005\"", "DECIMAL(4, 2)")), 1);
  __int128 big = 1;
  for (int i = 0; i < 38; ++i) big *= 10;
  EXPECT_EQ(Unscaled(FromJson("\"99999999999999999999999999999999999999\"", "DECIMAL(38, 0)")),
            big - 1);
  EXPECT_NE(ErrorFromJson("\"1000\"", "DECIMAL(5, 2)").find("does not fit"), std::string::npos);
  EXPECT_NE(ErrorFromJson("\"99.995\"", "DECIMAL(4, 2)").find("does not fit"), std::string::npos);
  EXPECT_NE(ErrorFromJson("\"1.2.3\"", "DECIMAL(5, 2)").find("not a decimal"), std::string::npos);
  EXPECT_NE(ErrorFromJson("\"\"", "DECIMAL(5, 2)").find("not a decimal"), std::string::npos);
}

TEST(RowConvertTest, DatesTimesTimestamps) {
  EXPECT_EQ(FromJson("\"1970-01-01\"", "DATE").as<int32_t>(), 0);
  EXPECT_EQ(FromJson("\"2024-02-29\"", "DATE").as<int32_t>(), 19782);
  EXPECT_EQ(FromJson("\"1969-12-31\"", "DATE").as<int32_t>(), -1);
  EXPECT_EQ(FromJson("19782", "DATE").as<int32_t>(), 19782);
  EXPECT_NE(ErrorFromJson("\"2023-02-29\"", "DATE").find("not a date"), std::string::npos);
  EXPECT_EQ(FromJson("\"12:34:56.789\"", "TIME(3)").as<int32_t>(), 45296789);
  EXPECT_EQ(FromJson("\"00:01\"", "TIME").as<int32_t>(), 60000);
  EXPECT_EQ(FromJson("1000", "TIME").as<int32_t>(), 1000);
  EXPECT_NE(ErrorFromJson("\"24:00:00\"", "TIME").find("not a time"), std::string::npos);

  auto ts = FromJson("\"2024-05-01 12:00:00.123456789\"", "TIMESTAMP(9)").as<TimestampValue>();
  EXPECT_EQ(ts.millis, 1714564800123);
  EXPECT_EQ(ts.nanos_of_milli, 456789);
  EXPECT_EQ(FromJson("\"2024-05-01T12:00:00\"", "TIMESTAMP(3)").as<TimestampValue>().millis,
            1714564800000);
  EXPECT_EQ(FromJson("\"2024-05-01\"", "TIMESTAMP(3)").as<TimestampValue>().millis,
            1714521600000);
  EXPECT_EQ(FromJson("1714564800000", "TIMESTAMP(3)").as<TimestampValue>().millis,
            1714564800000);
  EXPECT_EQ(FromJson("\"1969-12-31 23:59:59.999\"", "TIMESTAMP(3)").as<TimestampValue>().millis,
            -1);
  // LTZ: offsets shift to UTC; no offset means UTC.
  EXPECT_EQ(FromJson("\"2024-05-01T14:00:00+02:00\"", "TIMESTAMP_LTZ(3)")
                .as<TimestampValue>()
                .millis,
            1714564800000);
  EXPECT_EQ(FromJson("\"2024-05-01 12:00:00Z\"", "TIMESTAMP_LTZ(3)").as<TimestampValue>().millis,
            1714564800000);
  EXPECT_NE(ErrorFromJson("\"2024-05-01 12:00:00Z\"", "TIMESTAMP(3)").find("TIMESTAMP_LTZ"),
            std::string::npos);
  EXPECT_NE(ErrorFromJson("\"yesterday\"", "TIMESTAMP(3)").find("not a timestamp"),
            std::string::npos);
}

TEST(RowConvertTest, NestedValues) {
  Datum array = FromJson("[1, null, 3]", "ARRAY<INT>");
  ASSERT_EQ(array.as<ArrayValue>().elements.size(), 3u);
  EXPECT_TRUE(array.as<ArrayValue>().elements[1].is_null());
  EXPECT_NE(ErrorFromJson("[1, null]", "ARRAY<INT NOT NULL>").find("element 1"), std::string::npos);

  Datum map = FromJson("{\"a\": 1, \"b\": 2}", "MAP<STRING, INT>");
  ASSERT_EQ(map.as<MapValue>().entries.size(), 2u);
  EXPECT_EQ(map.as<MapValue>().entries[0].first.as<std::string>(), "a");
  Datum int_keys = FromJson("{\"7\": \"x\"}", "MAP<INT, STRING>");
  EXPECT_EQ(int_keys.as<MapValue>().entries[0].first.as<int32_t>(), 7);
  Datum pairs = FromJson("[[1, \"x\"], [2, \"y\"]]", "MAP<INT, STRING>");
  EXPECT_EQ(pairs.as<MapValue>().entries[1].second.as<std::string>(), "y");

  Datum row = FromJson("{\"x\": 1.5}", "ROW<x DOUBLE, y STRING>");
  ASSERT_EQ(row.as<RowValue>().fields.size(), 2u);
  EXPECT_TRUE(row.as<RowValue>().fields[1].is_null());
  Datum positional = FromJson("[2.5, \"q\"]", "ROW<x DOUBLE, y STRING>");
  EXPECT_EQ(positional.as<RowValue>().fields[1].as<std::string>(), "q");
  EXPECT_NE(ErrorFromJson("{\"z\": 1}", "ROW<x DOUBLE>").find("no field 'z'"), std::string::npos);
}

TEST(RowConvertTest, ObjectsToRows) {
  std::vector<std::string> names = {"id", "name", "price"};
  std::vector<DataType> types = {DataType::Int().NotNull(), DataType::String(),
                                 DataType::Decimal(10, 2)};
  auto row = JsonObjectToRow(json::parse(R"({"price": "1.10", "id": 4})"), names, types);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ((*row)[0].as<int32_t>(), 4);
  EXPECT_TRUE((*row)[1].is_null());
  EXPECT_EQ(Unscaled((*row)[2]), 110);

  auto missing_key = JsonObjectToRow(json::parse(R"({"name": "x"})"), names, types);
  ASSERT_FALSE(missing_key.ok());
  EXPECT_EQ(missing_key.status().message(), "column 'id' (INT NOT NULL): null for a INT NOT NULL column");
  auto unknown = JsonObjectToRow(json::parse(R"({"id": 1, "nope": 2})"), names, types);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("column 'nope'"), std::string::npos);
  auto bad = JsonObjectToRow(json::parse(R"({"id": 1, "price": "x"})"), names, types);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column 'price' (DECIMAL(10, 2))"), std::string::npos);
  EXPECT_FALSE(JsonObjectToRow(json::parse("[1, 2]"), names, types).ok());
}

TEST(RowConvertTest, TextFields) {
  EXPECT_EQ(TextToDatum("42", DataType::BigInt())->as<int64_t>(), 42);
  EXPECT_TRUE(TextToDatum("TRUE", DataType::Boolean())->as<bool>());
  EXPECT_EQ(TextToDatum("a,b", DataType::String())->as<std::string>(), "a,b");
  EXPECT_EQ(TextToDatum("2024-02-29", DataType::Date())->as<int32_t>(), 19782);
  EXPECT_EQ(TextToDatum("3.14", DataType::Decimal(3, 2))->as<DecimalValue>().unscaled, 314);
  auto array = TextToDatum("[\"a\", \"b\"]", *ParseDataType("ARRAY<STRING>"));
  ASSERT_TRUE(array.ok());
  EXPECT_EQ(array->as<ArrayValue>().elements.size(), 2u);
  EXPECT_FALSE(TextToDatum("[1,", *ParseDataType("ARRAY<INT>")).ok());
  EXPECT_FALSE(TextToDatum("maybe", DataType::Boolean()).ok());
}

TEST(RowConvertTest, DatumToJsonMirrorsTheInputForms) {
  DataType type = *ParseDataType(
      "ROW<i INT, d DECIMAL(5, 2), b BYTES, ts TIMESTAMP_LTZ(3), m MAP<STRING, INT>, "
      "n MAP<INT, INT>, a ARRAY<DOUBLE>, dt DATE>");
  json input = json::parse(R"({"i": 1, "d": "-1.50", "b": "AAE=", "ts": "2024-05-01 12:00:00.5Z",
      "m": {"k": 2}, "n": [[1, 2]], "a": [0.5, null], "dt": "2024-05-01"})");
  Datum value = *JsonToDatum(input, type);
  json output = DatumToJson(value, type);
  EXPECT_EQ(output["i"], 1);
  EXPECT_EQ(output["d"], "-1.50");
  EXPECT_EQ(output["b"], "AAE=");
  EXPECT_EQ(output["ts"], "2024-05-01T12:00:00.500Z");
  EXPECT_EQ(output["m"], json::parse(R"({"k": 2})"));
  EXPECT_EQ(output["n"], json::parse("[[1, 2]]"));
  EXPECT_EQ(output["a"], json::parse("[0.5, null]"));
  EXPECT_EQ(output["dt"], "2024-05-01");
  // What is printed parses back to the same value.
  EXPECT_EQ(*JsonToDatum(output, type), value);
  EXPECT_EQ(DatumToJson(Datum(std::numeric_limits<double>::infinity()), DataType::Double()),
            "Infinity");
}

TEST(CsvReaderTest, QuotesSpansAndNulls) {
  std::istringstream in(
      "a,b,c\r\n"
      "1,\"x, y\",\n"
      "2,\"say \"\"hi\"\"\",\"\"\n"
      "3,\"two\nlines\",z\n");
  CsvReader reader(&in);
  auto header = reader.Next();
  ASSERT_TRUE(header.ok() && header->has_value());
  EXPECT_EQ((**header)[2].text, "c");  // CRLF stripped
  auto r1 = reader.Next();
  ASSERT_TRUE(r1.ok() && r1->has_value());
  EXPECT_EQ((**r1)[1].text, "x, y");
  EXPECT_TRUE((**r1)[1].quoted);
  EXPECT_EQ((**r1)[2].text, "");
  EXPECT_FALSE((**r1)[2].quoted);  // unquoted empty: NULL
  auto r2 = reader.Next();
  EXPECT_EQ((**r2)[1].text, "say \"hi\"");
  EXPECT_TRUE((**r2)[2].quoted);  // "": the empty string
  auto r3 = reader.Next();
  EXPECT_EQ(reader.line(), 4);
  EXPECT_EQ((**r3)[1].text, "two\nlines");
  EXPECT_EQ((**r3)[2].text, "z");
  auto end = reader.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(CsvReaderTest, Errors) {
  std::istringstream unterminated("1,\"abc\n");
  CsvReader a(&unterminated);
  EXPECT_FALSE(a.Next().ok());
  std::istringstream trailing("1,\"abc\"x,2\n");
  CsvReader b(&trailing);
  auto r = b.Next();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 1"), std::string::npos);
}

}  // namespace
}  // namespace strom::cli
