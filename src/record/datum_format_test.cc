#include "record/datum_format.h"

#include <gtest/gtest.h>

namespace strom::record {
namespace {

TEST(DatumFormatTest, ScalarsAndTemporalTypes) {
  EXPECT_EQ(FormatDatum(DataType::Int(), Datum()), "null");
  EXPECT_EQ(FormatDatum(DataType::Boolean(), Datum(true)), "true");
  EXPECT_EQ(FormatDatum(DataType::BigInt(), Datum(int64_t{-5})), "-5");
  EXPECT_EQ(FormatDatum(DataType::Double(), Datum(0.5)), "0.5");
  EXPECT_EQ(FormatDatum(DataType::String(), Datum(std::string("héllo"))), "héllo");
  EXPECT_EQ(FormatDatum(DataType::Bytes(), Datum(std::string("\x01\xff", 2))), "0x01ff");
  EXPECT_EQ(FormatDatum(DataType::Date(), Datum(int32_t{20235})), "2025-05-27");
  EXPECT_EQ(FormatDatum(DataType::Date(), Datum(int32_t{-1})), "1969-12-31");
  EXPECT_EQ(FormatDatum(DataType::Time(3), Datum(int32_t{5402199})), "01:30:02.199");
  EXPECT_EQ(FormatDatum(DataType::Time(0), Datum(int32_t{34200000})), "09:30:00");
  EXPECT_EQ(FormatDatum(DataType::Timestamp(9), Datum(TimestampValue{1748662955428, 99988})),
            "2025-05-31T03:42:35.428099988");
  EXPECT_EQ(FormatDatum(DataType::TimestampLtz(3), Datum(TimestampValue{-1, 0})),
            "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatDatum(DataType::Timestamp(0), Datum(TimestampValue{1000, 0})),
            "1970-01-01T00:00:01");
}

TEST(DatumFormatTest, Decimals) {
  EXPECT_EQ(FormatDecimal(1250, 2), "12.50");
  EXPECT_EQ(FormatDecimal(-5, 2), "-0.05");
  EXPECT_EQ(FormatDecimal(0, 3), "0.000");
  EXPECT_EQ(FormatDecimal(42, 0), "42");
  __int128 big = static_cast<__int128>(1) << 100;
  EXPECT_EQ(FormatDecimal(big, 0), "1267650600228229401496703205376");
  EXPECT_EQ(FormatDecimal(-big, 30), "-1.267650600228229401496703205376");
  EXPECT_EQ(FormatDatum(DataType::Decimal(10, 2), Datum(DecimalValue{1999})), "19.99");
}

TEST(DatumFormatTest, NestedValues) {
  DataType type = DataType::Map(DataType::String(), DataType::Array(DataType::Int()));
  MapValue map;
  map.entries.emplace_back(Datum(std::string("a")),
                           Datum(ArrayValue{{Datum(int32_t{1}), Datum()}}));
  EXPECT_EQ(FormatDatum(type, Datum(map)), "{a: [1, null]}");
  DataType row_type = DataType::Row({DataField{"x", DataType::Int(), std::nullopt, 0},
                                     DataField{"d", DataType::Date(), std::nullopt, 1}});
  EXPECT_EQ(FormatRow(row_type, GenericRow{Datum(int32_t{7}), Datum(int32_t{0})}),
            "(7, 1970-01-01)");
}

}  // namespace
}  // namespace strom::record
