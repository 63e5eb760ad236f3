#include "record/compacted_row.h"

#include <gtest/gtest.h>

#include "record/row_test_util.h"
#include "testutil/golden.h"
#include "testutil/seed.h"

namespace strom::record {
namespace {

using rowtest::DebugString;
using rowtest::FieldTypesOf;
using rowtest::GoldenRow;
using rowtest::GoldenRowType;
using rowtest::RandomRows;
using testutil::Hex;

/// Every strict prefix of a valid row must fail to decode (the decoder reads the same bytes
/// as for the whole row until it runs out), and so must the row with one byte appended.
void ExpectPrefixesRejected(const CompactedRowCodec& codec, const ByteBuffer& bytes) {
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto decoded = codec.Decode(ByteView(bytes.data(), len));
    ASSERT_FALSE(decoded.ok()) << "prefix of " << len << " of " << ToHex(bytes) << " decoded";
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptRecord);
  }
  auto longer = codec.Decode(bytes + std::string(1, '\x01'));
  EXPECT_FALSE(longer.ok()) << "trailing byte accepted after " << ToHex(bytes);
}

TEST(CompactedRowTest, GoldenRowsEncodeAndDecode) {
  auto doc = testutil::LoadGolden("compacted_rows.json");
  ASSERT_FALSE(doc.is_null());
  ASSERT_EQ(doc["entries"].size(), 13u);
  for (const auto& entry : doc["entries"]) {
    SCOPED_TRACE(entry["id"].get<std::string>());
    std::vector<DataType> types =
        FieldTypesOf(GoldenRowType(doc["schemas"][entry["schema"].get<std::string>()]));
    GenericRow row = GoldenRow(types, entry["values"]);
    CompactedRowCodec codec(types);

    auto encoded = codec.Encode(row);
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    EXPECT_EQ(ToHex(*encoded), entry["hex"].get<std::string>());
    EXPECT_EQ(encoded->size(), entry["size"].get<size_t>());

    ByteBuffer golden = Hex(entry["hex"].get<std::string>());
    auto decoded = codec.Decode(golden);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, row) << DebugString(*decoded) << " vs " << DebugString(row);

    ExpectPrefixesRejected(codec, golden);
  }
}

TEST(CompactedRowTest, WorkedExamplesFromTheSpecs) {
  CompactedRowCodec codec({DataType::Int(), DataType::String()});
  // fluss-formats 8.6 and fluss-rpc 15.1 item 4.
  EXPECT_EQ(ToHex(*codec.Encode({Datum(int32_t{10}), Datum(std::string("abc"))})),
            "000a03616263");
  // fluss-rpc 15.2 item 9.
  EXPECT_EQ(ToHex(*codec.Encode({Datum(int32_t{1}), Datum(std::string("a"))})), "00010161");
  EXPECT_EQ(ToHex(*codec.Encode({Datum::Null(), Datum(std::string(""))})), "0100");
}

TEST(CompactedRowTest, NestedRowMapAndArray) {
  DataType row_type = DataType::Row({DataField{"a", DataType::Int(), std::nullopt, 0},
                                     DataField{"b", DataType::String(), std::nullopt, 1}});
  DataType map_type = DataType::Map(DataType::Int().NotNull(), DataType::String());
  CompactedRowCodec codec({row_type, map_type, DataType::Array(DataType::BigInt())});
  GenericRow row{Datum(RowValue{{Datum(int32_t{1}), Datum(std::string("x"))}}),
                 Datum(MapValue{{{Datum(int32_t{1}), Datum(std::string("a"))}}}),
                 Datum(ArrayValue{{Datum(int64_t{-1}), Datum::Null()}})};
  auto bytes = codec.Encode(row);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  // ROW: length 4 + nested CompactedRow (own bitset, varint 1, "x").
  std::string expected = "00" "04" "00010178";
  // MAP: length 36 + key array size 16 + key array [1] + value array ["a" inline].
  expected += "24" "10000000" "0100000000000000" "0100000000000000"
              "0100000000000000" "6100000000000081";
  // ARRAY<BIGINT>[-1, null]: count, null bits (bit 1), two 8-byte slots.
  expected += "18" "0200000002000000" "ffffffffffffffff" "0000000000000000";
  EXPECT_EQ(ToHex(*bytes), expected);
  auto decoded = codec.Decode(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, row);
  ExpectPrefixesRejected(codec, *bytes);
}

TEST(CompactedRowTest, RefusesValuesThatDoNotFitTheType) {
  CompactedRowCodec codec({DataType::Int().NotNull(), DataType::String()});
  ByteBuffer out = "keep";
  Status wrong_kind = codec.Encode({Datum(int64_t{1}), Datum::Null()}, &out);
  EXPECT_EQ(wrong_kind.code(), ErrorCode::kCorruptRecord);
  Status null_in_not_null = codec.Encode({Datum::Null(), Datum::Null()}, &out);
  EXPECT_EQ(null_in_not_null.code(), ErrorCode::kCorruptRecord);
  Status arity = codec.Encode({Datum(int32_t{1})}, &out);
  EXPECT_EQ(arity.code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(out, "keep") << "a failed encode must leave the buffer as it was";

  CompactedRowCodec decimal({DataType::Decimal(18, 0)});
  __int128 too_big = static_cast<__int128>(1) << 70;
  EXPECT_FALSE(decimal.Encode({Datum(DecimalValue{too_big})}).ok());
  CompactedRowCodec ts({DataType::Timestamp(6)});
  EXPECT_FALSE(ts.Encode({Datum(TimestampValue{0, 1'000'000})}).ok());
}

TEST(CompactedRowTest, RejectsMalformedBytes) {
  CompactedRowCodec ints({DataType::Int(), DataType::BigInt()});
  // A 32-bit varint may not ask for a sixth byte, a 64-bit one not for an eleventh.
  EXPECT_FALSE(ints.Decode(Hex("00ffffffffff0f01")).ok());
  EXPECT_FALSE(ints.Decode(Hex("0001ffffffffffffffffffff01")).ok());
  EXPECT_TRUE(ints.Decode(Hex("00ffffffff0fffffffffffffffffff01")).ok());

  CompactedRowCodec strings({DataType::String()});
  // Length larger than what follows, and a negative length.
  EXPECT_FALSE(strings.Decode(Hex("000561")).ok());
  EXPECT_FALSE(strings.Decode(Hex("00ffffffff0f")).ok());

  CompactedRowCodec decimals({DataType::Decimal(20, 0)});
  EXPECT_FALSE(decimals.Decode(Hex("0000")).ok()) << "zero-length unscaled bytes";
  EXPECT_FALSE(decimals.Decode(Hex("0011" + std::string(34, '1'))).ok()) << "17 bytes";

  CompactedRowCodec timestamps({DataType::TimestampLtz(9)});
  EXPECT_FALSE(timestamps.Decode(Hex("0001c0843d")).ok()) << "nanos of milli 1000000";
  EXPECT_TRUE(timestamps.Decode(Hex("0001bf843d")).ok());

  CompactedRowCodec arrays({DataType::Array(DataType::Int())});
  EXPECT_FALSE(arrays.Decode(Hex("0004ffffffff")).ok()) << "negative element count";
}

TEST(CompactedRowTest, NullBitIsHonouredEvenForNotNullColumns) {
  CompactedRowCodec codec({DataType::Int().NotNull()});
  auto decoded = codec.Decode(Hex("01"));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE((*decoded)[0].is_null());
}

TEST(CompactedRowTest, RandomNestedRowsRoundTrip) {
  RandomRows random(testutil::TestSeed());
  ByteBuffer buffer;
  GenericRow decoded;
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::vector<DataType> types;
    int columns = random.Uniform(1, 12);
    for (int i = 0; i < columns; ++i) types.push_back(random.Type(3));
    CompactedRowCodec codec(types);
    for (int r = 0; r < 5; ++r) {
      GenericRow row;
      for (const auto& type : types) row.push_back(random.Value(type));
      buffer.clear();
      Status status = codec.Encode(row, &buffer);
      ASSERT_TRUE(status.ok()) << status.ToString();
      status = codec.DecodeInto(buffer, &decoded);
      ASSERT_TRUE(status.ok()) << status.ToString() << " for " << DebugString(row);
      GenericRow expected = rowtest::ExpectedRow(types, row, rowtest::Layout::kCompacted);
      ASSERT_EQ(decoded, expected) << DebugString(decoded) << " vs " << DebugString(expected);
      if (r == 0) ExpectPrefixesRejected(codec, buffer);
      // Flipped bytes may decode or not, but must never read out of bounds.
      ByteBuffer garbled = buffer;
      garbled[static_cast<size_t>(random.Uniform(0, static_cast<int>(garbled.size()) - 1))] ^=
          static_cast<char>(random.Uniform(1, 255));
      (void)codec.Decode(garbled).ok();
    }
  }
}

}  // namespace
}  // namespace strom::record
