#include "record/partition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "testutil/golden.h"

namespace strom::record {
namespace {

std::string Partition(const DataType& type, const Datum& value) {
  auto s = PartitionValueToString(type, value);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.value_or("<error>");
}

// fluss-formats 8.7 (PartitionUtilsTest, fluss-rust util/partition.rs).
TEST(PartitionTest, ValueStrings) {
  EXPECT_EQ(Partition(DataType::String(), Datum(std::string("Fluss"))), "Fluss");
  EXPECT_EQ(Partition(DataType::Char(1), Datum(std::string("F"))), "F");
  EXPECT_EQ(Partition(DataType::Boolean(), Datum(true)), "true");
  EXPECT_EQ(Partition(DataType::Boolean(), Datum(false)), "false");
  std::string bytes = testutil::Hex("1020304050ff");
  EXPECT_EQ(Partition(DataType::Bytes(), Datum(bytes)), "1020304050ff");
  EXPECT_EQ(Partition(DataType::Binary(6), Datum(bytes)), "1020304050ff");
  EXPECT_EQ(Partition(DataType::TinyInt(), Datum(int8_t{100})), "100");
  EXPECT_EQ(Partition(DataType::SmallInt(), Datum(int16_t{-32760})), "-32760");
  EXPECT_EQ(Partition(DataType::Int(), Datum(int32_t{299000})), "299000");
  EXPECT_EQ(Partition(DataType::BigInt(), Datum(int64_t{1748662955428})), "1748662955428");
  EXPECT_EQ(Partition(DataType::Date(), Datum(int32_t{20235})), "2025-05-27");
  EXPECT_EQ(Partition(DataType::Time(), Datum(int32_t{5402199})), "01-30-02_199");
  EXPECT_EQ(Partition(DataType::Float(), Datum(5.73f)), "5_73");
  EXPECT_EQ(Partition(DataType::Double(), Datum(5.73)), "5_73");
  EXPECT_EQ(Partition(DataType::Double(), Datum(5.73737)), "5_73737");
  EXPECT_EQ(Partition(DataType::Float(), Datum(std::numeric_limits<float>::quiet_NaN())), "NaN");
  EXPECT_EQ(Partition(DataType::Double(), Datum(std::numeric_limits<double>::quiet_NaN())), "NaN");
  EXPECT_EQ(Partition(DataType::Double(), Datum(std::numeric_limits<double>::infinity())), "Inf");
  EXPECT_EQ(Partition(DataType::Float(), Datum(-std::numeric_limits<float>::infinity())), "-Inf");
  for (DataType type : {DataType::Timestamp(9), DataType::TimestampLtz(9)}) {
    EXPECT_EQ(Partition(type, Datum(TimestampValue{1748662955428, 99988})),
              "2025-05-31-03-42-35_428099988");
    EXPECT_EQ(Partition(type, Datum(TimestampValue{1748662955428, 0})),
              "2025-05-31-03-42-35_428");
    EXPECT_EQ(Partition(type, Datum(TimestampValue{1748662955000, 99988})),
              "2025-05-31-03-42-35_000099988");
    EXPECT_EQ(Partition(type, Datum(TimestampValue{1748662955000, 0})), "2025-05-31-03-42-35_");
    EXPECT_EQ(Partition(type, Datum(TimestampValue{-1748662955428, 99988})),
              "1914-08-03-20-17-24_572099988");
  }
}

TEST(PartitionTest, EdgeDatesAndTimes) {
  EXPECT_EQ(Partition(DataType::Date(), Datum(int32_t{0})), "1970-01-01");
  EXPECT_EQ(Partition(DataType::Date(), Datum(int32_t{-1})), "1969-12-31");
  EXPECT_EQ(Partition(DataType::Date(), Datum(int32_t{11016})), "2000-02-29");
  EXPECT_EQ(Partition(DataType::Date(), Datum(int32_t{-719528})), "0000-01-01");
  EXPECT_EQ(Partition(DataType::Date(), Datum(int32_t{-719529})), "-001-12-31"  /* Java %04d */);
  EXPECT_EQ(Partition(DataType::Time(), Datum(int32_t{0})), "00-00-00_000");
  EXPECT_EQ(Partition(DataType::Time(), Datum(int32_t{86399999})), "23-59-59_999");
  EXPECT_EQ(Partition(DataType::Timestamp(3), Datum(TimestampValue{0, 0})),
            "1970-01-01-00-00-00_");
  EXPECT_EQ(Partition(DataType::Timestamp(3), Datum(TimestampValue{-1, 0})),
            "1969-12-31-23-59-59_999");
  // java.time prints year 10000 as +10000 and year 0 (1 BC) as year-of-era 0001.
  EXPECT_EQ(Partition(DataType::Timestamp(3), Datum(TimestampValue{253402300800000, 0})),
            "+10000-01-01-00-00-00_");
  EXPECT_EQ(Partition(DataType::Timestamp(3), Datum(TimestampValue{-62167219200000, 0})),
            "0001-01-01-00-00-00_");
}

TEST(PartitionTest, RefusesNullsWrongKindsAndUnsupportedTypes) {
  EXPECT_EQ(PartitionValueToString(DataType::Int(), Datum::Null()).status().code(),
            ErrorCode::kPartitionSpecInvalid);
  EXPECT_EQ(PartitionValueToString(DataType::Int(), Datum(int64_t{1})).status().code(),
            ErrorCode::kPartitionSpecInvalid);
  EXPECT_EQ(PartitionValueToString(DataType::Decimal(5, 2), Datum(DecimalValue{1})).status().code(),
            ErrorCode::kPartitionSpecInvalid);
  EXPECT_FALSE(PartitionValueToString(DataType::Array(DataType::Int()), Datum(ArrayValue{})).ok());
}

TEST(PartitionTest, JavaFloatingPointToString) {
  EXPECT_EQ(JavaDoubleToString(1.0), "1.0");
  EXPECT_EQ(JavaDoubleToString(-0.0), "-0.0");
  EXPECT_EQ(JavaDoubleToString(0.0), "0.0");
  EXPECT_EQ(JavaDoubleToString(100.0), "100.0");
  EXPECT_EQ(JavaDoubleToString(0.001), "0.001");
  EXPECT_EQ(JavaDoubleToString(0.0001), "1.0E-4");
  EXPECT_EQ(JavaDoubleToString(1e7), "1.0E7");
  EXPECT_EQ(JavaDoubleToString(9999999.0), "9999999.0");
  EXPECT_EQ(JavaDoubleToString(1e10), "1.0E10");
  EXPECT_EQ(JavaDoubleToString(1.234e-5), "1.234E-5");
  EXPECT_EQ(JavaDoubleToString(-12345678.9), "-1.23456789E7");
  EXPECT_EQ(JavaDoubleToString(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(JavaDoubleToString(std::numeric_limits<double>::max()), "1.7976931348623157E308");
  EXPECT_EQ(JavaDoubleToString(std::numeric_limits<double>::denorm_min()), "4.9E-324");
  EXPECT_EQ(JavaDoubleToString(std::numeric_limits<double>::min()), "2.2250738585072014E-308");
  EXPECT_EQ(JavaDoubleToString(2e-3), "0.002");
  EXPECT_EQ(JavaDoubleToString(123456.0), "123456.0");
  EXPECT_EQ(JavaDoubleToString(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(JavaDoubleToString(std::nan("")), "NaN");

  EXPECT_EQ(JavaFloatToString(5.73f), "5.73");
  EXPECT_EQ(JavaFloatToString(1.0e10f), "1.0E10");
  EXPECT_EQ(JavaFloatToString(0.1f), "0.1");
  EXPECT_EQ(JavaFloatToString(std::numeric_limits<float>::max()), "3.4028235E38");
  EXPECT_EQ(JavaFloatToString(std::numeric_limits<float>::denorm_min()), "1.4E-45");
  EXPECT_EQ(JavaFloatToString(-2.5f), "-2.5");
  EXPECT_EQ(JavaFloatToString(16777216.0f), "1.6777216E7");

  EXPECT_EQ(Partition(DataType::Double(), Datum(1e10)), "1_0E10");
  EXPECT_EQ(Partition(DataType::Float(), Datum(-0.5f)), "-0_5");
}

TEST(PartitionTest, NamesJoinAndSplit) {
  EXPECT_EQ(JoinPartitionName({"2024", "beijing"}), "2024$beijing");
  EXPECT_EQ(JoinPartitionName({"x"}), "x");
  EXPECT_EQ(SplitPartitionName("2024$beijing"), (std::vector<std::string>{"2024", "beijing"}));
  EXPECT_EQ(SplitPartitionName("x"), std::vector<std::string>{"x"});
}

TEST(PartitionTest, ValueValidation) {
  EXPECT_TRUE(ValidatePartitionValue("2024-11_a", true).ok());
  EXPECT_TRUE(ValidatePartitionValue(std::string(200, 'a'), true).ok());
  for (std::string bad : {std::string(""), std::string("."), std::string(".."),
                          std::string(201, 'a'), std::string("a b"), std::string("a$b"),
                          std::string("é"), std::string("a.b")}) {
    Status status = ValidatePartitionValue(bad, false);
    EXPECT_EQ(status.code(), ErrorCode::kPartitionSpecInvalid) << bad;
  }
  EXPECT_TRUE(ValidatePartitionValue("__internal", false).ok());
  EXPECT_FALSE(ValidatePartitionValue("__internal", true).ok());
  EXPECT_FALSE(ValidatePartitionValues({"ok", "not ok"}, false).ok());
}

// fluss-formats 8.7: from 2024-11-11 11:11 in UTC-8.
TEST(PartitionTest, AutoPartitionNames) {
  constexpr int64_t kInstant = 1731352260000;  // 2024-11-11T19:11:00Z
  constexpr int32_t kZone = -8 * 3600;
  auto names = [&](AutoPartitionTimeUnit unit, std::vector<int> offsets) {
    std::vector<std::string> out;
    for (int offset : offsets) out.push_back(AutoPartitionName(kInstant, offset, unit, kZone));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(AutoPartitionTimeUnit::kYear, {-1, 0, 1, 2, 3}),
            (V{"2023", "2024", "2025", "2026", "2027"}));
  EXPECT_EQ(names(AutoPartitionTimeUnit::kQuarter, {-1, 0, 1, 2, 3}),
            (V{"20243", "20244", "20251", "20252", "20253"}));
  EXPECT_EQ(names(AutoPartitionTimeUnit::kMonth, {-1, 0, 1, 2, 3}),
            (V{"202410", "202411", "202412", "202501", "202502"}));
  EXPECT_EQ(names(AutoPartitionTimeUnit::kDay, {-1, 0, 1, 2, 3, 20}),
            (V{"20241110", "20241111", "20241112", "20241113", "20241114", "20241201"}));
  EXPECT_EQ(names(AutoPartitionTimeUnit::kHour, {-2, -1, 0, 1, 2, 3, 13}),
            (V{"2024111109", "2024111110", "2024111111", "2024111112", "2024111113",
               "2024111114", "2024111200"}));
  // The same instant seen in UTC is already the evening of the 11th.
  EXPECT_EQ(AutoPartitionName(kInstant, 0, AutoPartitionTimeUnit::kHour, 0), "2024111119");
  // Month arithmetic across a year boundary and from the 31st.
  EXPECT_EQ(AutoPartitionName(1706659200000 /* 2024-01-31Z */, 1, AutoPartitionTimeUnit::kMonth, 0),
            "202402");
  EXPECT_EQ(AutoPartitionName(1706659200000, -13, AutoPartitionTimeUnit::kMonth, 0), "202212");
}

TEST(PartitionTest, TimeUnitNames) {
  EXPECT_EQ(*ParseAutoPartitionTimeUnit("day"), AutoPartitionTimeUnit::kDay);
  EXPECT_EQ(*ParseAutoPartitionTimeUnit("QUARTER"), AutoPartitionTimeUnit::kQuarter);
  EXPECT_EQ(ParseAutoPartitionTimeUnit("week").status().code(), ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace strom::record
