#include "record/binary_array.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "record/row_test_util.h"
#include "testutil/golden.h"
#include "testutil/seed.h"

namespace strom::record {
namespace {

using rowtest::DebugString;
using testutil::Hex;

Datum I(int32_t v) { return Datum(v); }
Datum S(const char* v) { return Datum(std::string(v)); }
Datum F(float v) { return Datum(v); }

std::string Encode(const DataType& element, const ArrayValue& value,
                   BinaryRowFormat format = BinaryRowFormat::kCompacted) {
  ByteBuffer out;
  Status status = BinaryArray::Append(element, value, format, &out);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return ToHex(out);
}

void ExpectDecodes(const DataType& element, const std::string& hex, const ArrayValue& expected) {
  auto decoded = BinaryArray::Decode(element, Hex(hex), BinaryRowFormat::kCompacted);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, expected) << DebugString(Datum(*decoded));
}

// The three arrays of fluss-formats 8.5 (V-KEY-ALL), which Java's key encoder wrote.
TEST(BinaryArrayTest, IntArrayWithNull) {
  ArrayValue value{{I(1), I(2), I(3), I(4), I(5), I(-11), Datum::Null(), I(444), I(102234)}};
  std::string hex =
      "09000000" "40000000" "01000000" "02000000" "03000000" "04000000" "05000000" "f5ffffff"
      "00000000" "bc010000" "5a8f0100" "00000000";
  EXPECT_EQ(Encode(DataType::Int(), value), hex);
  EXPECT_EQ(Encode(DataType::Int(), value, BinaryRowFormat::kIndexed), hex);
  ExpectDecodes(DataType::Int(), hex, value);
}

TEST(BinaryArrayTest, NotNullFloatArray) {
  ArrayValue value{{F(0.1f), F(1.1f), F(-0.5f), F(6.6f), F(std::numeric_limits<float>::max()),
                    F(std::numeric_limits<float>::denorm_min())}};
  std::string hex = "06000000" "00000000" "cdcccc3d" "cdcc8c3f" "000000bf" "3333d340" "ffff7f7f"
                    "01000000";
  EXPECT_EQ(Encode(DataType::Float().NotNull(), value), hex);
  ExpectDecodes(DataType::Float().NotNull(), hex, value);
}

TEST(BinaryArrayTest, ArrayOfStringArrays) {
  ArrayValue value{{Datum(ArrayValue{{S("a"), Datum::Null(), S("c")}}), Datum::Null(),
                    Datum(ArrayValue{{S("hello"), S("world")}})}};
  std::string hex = "03000000" "02000000" "2000000020000000" "0000000000000000" "1800000040000000"
                    "03000000" "02000000" "6100000000000081" "0000000000000000" "6300000000000081"
                    "02000000" "00000000" "68656c6c6f000085" "776f726c64000085";
  DataType type = DataType::Array(DataType::String());
  EXPECT_EQ(Encode(type, value), hex);
  ExpectDecodes(type, hex, value);
}

TEST(BinaryArrayTest, LongStringsGoToTheAlignedVariablePart) {
  ArrayValue value{{S("12345678"), S("1234567")}};
  // Slot 0 points at offset 24 (8 bytes), slot 1 holds 7 bytes inline.
  std::string hex = "02000000" "00000000" "0800000018000000" "3132333435363787"
                    "3132333435363738";
  EXPECT_EQ(Encode(DataType::Bytes(), value), hex);
  ExpectDecodes(DataType::Bytes(), hex, value);
  ArrayValue nine{{S("123456789")}};
  EXPECT_EQ(Encode(DataType::String(), nine),
            "01000000" "00000000" "0900000010000000" "3132333435363738" "3900000000000000");
}

TEST(BinaryArrayTest, NonCompactDecimalAndTimestamp) {
  ArrayValue decimals{{Datum(DecimalValue{10}), Datum::Null()}};
  std::string decimal_hex = "02000000" "02000000" "0100000018000000" "0000000000000000"
                            "0a000000000000000000000000000000";
  EXPECT_EQ(Encode(DataType::Decimal(20, 0), decimals), decimal_hex);
  ExpectDecodes(DataType::Decimal(20, 0), decimal_hex, decimals);

  ArrayValue timestamps{{Datum(TimestampValue{5, 7})}};
  std::string ts_hex = "01000000" "00000000" "0700000010000000" "0500000000000000";
  EXPECT_EQ(Encode(DataType::TimestampLtz(6), timestamps), ts_hex);
  ExpectDecodes(DataType::TimestampLtz(6), ts_hex, timestamps);

  ArrayValue compact{{Datum(DecimalValue{-2}), Datum(TimestampValue{-1, 0})}};
  EXPECT_EQ(Encode(DataType::Decimal(5, 1), ArrayValue{{compact.elements[0]}}),
            "01000000" "00000000" "feffffffffffffff");
  EXPECT_EQ(Encode(DataType::Timestamp(3), ArrayValue{{compact.elements[1]}}),
            "01000000" "00000000" "ffffffffffffffff");
}

TEST(BinaryArrayTest, NaNIsCanonicalised) {
  uint32_t odd_float_bits = 0x7fc00001;
  float odd_float;
  std::memcpy(&odd_float, &odd_float_bits, 4);
  EXPECT_EQ(Encode(DataType::Float(), ArrayValue{{F(odd_float)}}),
            "01000000" "00000000" "0000c07f" "00000000");
  uint64_t odd_double_bits = 0xfff0000000000001ull;
  double odd_double;
  std::memcpy(&odd_double, &odd_double_bits, 8);
  EXPECT_EQ(Encode(DataType::Double(), ArrayValue{{Datum(odd_double)}}),
            "01000000" "00000000" "000000000000f87f");
}

TEST(BinaryArrayTest, SmallElementWidthsAndEmptyArray) {
  EXPECT_EQ(Encode(DataType::Boolean(), ArrayValue{{Datum(true), Datum::Null(), Datum(false)}}),
            "03000000" "02000000" "0100000000000000");
  EXPECT_EQ(Encode(DataType::SmallInt(), ArrayValue{{Datum(int16_t{-2})}}),
            "01000000" "00000000" "feff000000000000");
  // The 4-byte header alone is still rounded up to 8 bytes.
  EXPECT_EQ(Encode(DataType::Int(), ArrayValue{}), "0000000000000000");
  // 33 elements need two null-bit words.
  ArrayValue many;
  for (int i = 0; i < 33; ++i) many.elements.push_back(Datum(int8_t{1}));
  many.elements[32] = Datum::Null();
  std::string hex = Encode(DataType::TinyInt(), many);
  EXPECT_EQ(hex.substr(0, 24), "21000000" "00000000" "01000000");
  EXPECT_EQ(hex.size(), 2u * 48);
  ExpectDecodes(DataType::TinyInt(), hex, many);
}

TEST(BinaryArrayTest, MapRoundTripAndLayout) {
  MapValue map{{{S("k"), I(1)}, {S("a-long-key"), Datum::Null()}}};
  ByteBuffer out;
  ASSERT_TRUE(BinaryArray::AppendMap(DataType::String(), DataType::Int(), map,
                                     BinaryRowFormat::kIndexed, &out)
                  .ok());
  // Key array: 8 header + 16 slots + 16 for the 10-byte key = 40 bytes.
  EXPECT_EQ(ToHex(out.substr(0, 4)), "28000000");
  EXPECT_EQ(out.size(), 4u + 40 + 16);
  auto decoded =
      BinaryArray::DecodeMap(DataType::String(), DataType::Int(), out, BinaryRowFormat::kIndexed);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, map);
}

TEST(BinaryArrayTest, RejectsCorruptArraysAndMaps) {
  auto decode = [](const DataType& t, const std::string& hex) {
    return BinaryArray::Decode(t, Hex(hex), BinaryRowFormat::kCompacted);
  };
  EXPECT_FALSE(decode(DataType::Int(), "").ok());
  EXPECT_FALSE(decode(DataType::Int(), "ffffffff").ok()) << "negative count";
  EXPECT_FALSE(decode(DataType::Int(), "02000000" "00000000" "01000000").ok()) << "short slots";
  EXPECT_FALSE(decode(DataType::Int(), "ffffff7f" "00000000").ok()) << "huge count";
  EXPECT_FALSE(decode(DataType::String(), "01000000" "00000000" "0100000040000000").ok())
      << "offset past the end";
  EXPECT_FALSE(decode(DataType::String(), "01000000" "00000000" "ffffffff10000000").ok())
      << "length past the end";
  EXPECT_FALSE(decode(DataType::String(), "01000000" "00000000" "6100000000000088").ok())
      << "inline length 8";
  EXPECT_FALSE(decode(DataType::Decimal(20, 0), "01000000" "00000000" "0000000010000000").ok())
      << "zero-length decimal";
  EXPECT_FALSE(decode(DataType::Timestamp(9), "01000000" "00000000" "ffffffff10000000"
                                               "0000000000000000")
                   .ok())
      << "negative nanos";
  EXPECT_FALSE(decode(DataType::Timestamp(9), "01000000" "00000000" "0000000010000000").ok())
      << "millis past the end";

  auto decode_map = [](const std::string& hex) {
    return BinaryArray::DecodeMap(DataType::Int(), DataType::Int(), Hex(hex),
                                  BinaryRowFormat::kCompacted);
  };
  EXPECT_FALSE(decode_map("0100").ok());
  EXPECT_FALSE(decode_map("ffffffff").ok()) << "negative key size";
  EXPECT_FALSE(decode_map("20000000" "00000000").ok()) << "key size past the end";
  // One key, two values.
  EXPECT_FALSE(decode_map("10000000" "0100000000000000" "0100000000000000"
                          "0200000000000000" "0100000002000000")
                   .ok());
  EXPECT_TRUE(decode_map("10000000" "0100000000000000" "0100000000000000"
                         "0100000000000000" "0200000000000000")
                  .ok());
}

TEST(BinaryArrayTest, RandomBytesNeverCrash) {
  rowtest::RandomRows random(testutil::TestSeed());
  std::vector<DataType> types = {
      DataType::Array(DataType::String()),
      DataType::Map(DataType::Int(), DataType::Array(DataType::Decimal(30, 2))),
      DataType::Row({DataField{"t", DataType::Timestamp(9), std::nullopt, 0},
                     DataField{"b", DataType::Binary(3), std::nullopt, 1}})};
  for (int i = 0; i < 3000; ++i) {
    const DataType& element = types[static_cast<size_t>(i) % types.size()];
    ByteBuffer bytes = random.Bytes(64);
    if (bytes.size() >= 4 && random.Chance(0.7)) {
      // A small element count, so that slots get read rather than the size check failing.
      bytes[0] = static_cast<char>(random.Uniform(0, 4));
      bytes[1] = bytes[2] = bytes[3] = 0;
    }
    auto format = random.Chance(0.5) ? BinaryRowFormat::kCompacted : BinaryRowFormat::kIndexed;
    (void)BinaryArray::Decode(element, bytes, format).ok();
    (void)BinaryArray::DecodeMap(element, element, bytes, format).ok();
  }
}

}  // namespace
}  // namespace strom::record
