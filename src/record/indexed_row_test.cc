#include "record/indexed_row.h"

#include <gtest/gtest.h>

#include "record/row_test_util.h"
#include "testutil/golden.h"
#include "testutil/seed.h"

namespace strom::record {
namespace {

using rowtest::DebugString;
using rowtest::ExpectedRow;
using rowtest::FieldTypesOf;
using rowtest::GoldenRow;
using rowtest::GoldenRowType;
using rowtest::Layout;
using rowtest::RandomRows;
using testutil::Hex;

void ExpectPrefixesRejected(const IndexedRowCodec& codec, const ByteBuffer& bytes) {
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto decoded = codec.Decode(ByteView(bytes.data(), len));
    ASSERT_FALSE(decoded.ok()) << "prefix of " << len << " of " << ToHex(bytes) << " decoded";
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptRecord);
  }
  EXPECT_FALSE(codec.Decode(bytes + std::string(1, '\0')).ok());
}

TEST(IndexedRowTest, GoldenRowsEncodeAndDecode) {
  auto doc = testutil::LoadGolden("indexed_rows.json");
  ASSERT_FALSE(doc.is_null());
  ASSERT_EQ(doc["entries"].size(), 13u);
  for (const auto& entry : doc["entries"]) {
    SCOPED_TRACE(entry["id"].get<std::string>());
    std::vector<DataType> types =
        FieldTypesOf(GoldenRowType(doc["schemas"][entry["schema"].get<std::string>()]));
    GenericRow row = GoldenRow(types, entry["values"]);
    IndexedRowCodec codec(types);

    auto encoded = codec.Encode(row);
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    EXPECT_EQ(ToHex(*encoded), entry["hex"].get<std::string>());
    EXPECT_EQ(encoded->size(), entry["size"].get<size_t>());

    ByteBuffer golden = Hex(entry["hex"].get<std::string>());
    auto decoded = codec.Decode(golden);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    // BINARY(n) comes back zero-padded to n, CHAR(n) without padding.
    GenericRow expected = ExpectedRow(types, row, Layout::kIndexed);
    EXPECT_EQ(*decoded, expected) << DebugString(*decoded) << " vs " << DebugString(expected);

    ExpectPrefixesRejected(codec, golden);
  }
}

TEST(IndexedRowTest, HeaderSizes) {
  // IndexedRowTest in Fluss: (INT) -> 1, (INT, STRING) -> 5.
  std::vector<DataType> one = {DataType::Int()};
  std::vector<DataType> two = {DataType::Int(), DataType::String()};
  EXPECT_EQ(IndexedRowCodec::HeaderSize(one), 1u);
  EXPECT_EQ(IndexedRowCodec::HeaderSize(two), 5u);
  std::vector<DataType> nine(9, DataType::Decimal(20, 2));
  EXPECT_EQ(IndexedRowCodec::HeaderSize(nine), 2u + 9 * 4);
}

TEST(IndexedRowTest, WorkedExampleAndSlotsFilledByNonNullValuesOnly) {
  IndexedRowCodec codec({DataType::Int(), DataType::String()});
  // fluss-formats 8.6.
  EXPECT_EQ(ToHex(*codec.Encode({Datum(int32_t{10}), Datum(std::string("abc"))})),
            "00030000000a000000616263");

  IndexedRowCodec three({DataType::String(), DataType::Bytes(), DataType::String()});
  // The null middle column takes no slot: the third value's length goes in slot 2 and
  // the last slot stays zero.
  auto bytes = three.Encode({Datum(std::string("ab")), Datum::Null(), Datum(std::string("c"))});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ToHex(*bytes), "02" "02000000" "01000000" "00000000" "616263");
  auto decoded = three.Decode(*bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)[2], Datum(std::string("c")));
}

TEST(IndexedRowTest, FixedWidthCharAndBinary) {
  IndexedRowCodec codec({DataType::Char(4), DataType::Binary(3)});
  auto bytes = codec.Encode({Datum(std::string("ab")), Datum(std::string("\x01", 1))});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ToHex(*bytes), "00" "61620000" "010000");
  auto decoded = codec.Decode(*bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)[0], Datum(std::string("ab")));
  EXPECT_EQ((*decoded)[1], Datum(std::string("\x01\0\0", 3)));

  ByteBuffer out;
  EXPECT_EQ(codec.Encode({Datum(std::string("abcde")), Datum::Null()}, &out).code(),
            ErrorCode::kCorruptRecord);
  EXPECT_EQ(codec.Encode({Datum::Null(), Datum(std::string("1234"))}, &out).code(),
            ErrorCode::kCorruptRecord);
  EXPECT_TRUE(out.empty());
}

TEST(IndexedRowTest, NestedTypesUseIndexedLayoutInside) {
  DataType row_type = DataType::Row({DataField{"a", DataType::Char(2), std::nullopt, 0}});
  IndexedRowCodec codec({DataType::Array(row_type), row_type});
  GenericRow row{Datum(ArrayValue{{Datum(RowValue{{Datum(std::string("x"))}})}}),
                 Datum(RowValue{{Datum(std::string("yz"))}})};
  auto bytes = codec.Encode(row);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  // Header: bitset, two slots (array 24 bytes, row 3 bytes). The array holds one ROW element
  // in the variable part: an IndexedRow with CHAR(2) "x" padded to 2 bytes.
  EXPECT_EQ(ToHex(*bytes), "00" "18000000" "03000000"
                           "0100000000000000" "0300000010000000" "0078000000000000"
                           "00797a");
  auto decoded = codec.Decode(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, row);
}

TEST(IndexedRowTest, RejectsMalformedLengths) {
  IndexedRowCodec codec({DataType::String()});
  EXPECT_FALSE(codec.Decode(Hex("00ffffffff61")).ok()) << "negative length";
  EXPECT_FALSE(codec.Decode(Hex("000200000061")).ok()) << "length past the end";
  EXPECT_FALSE(codec.Decode(Hex("00010000006100")).ok()) << "byte after the last field";
  IndexedRowCodec ts({DataType::Timestamp(9)});
  EXPECT_FALSE(ts.Decode(Hex("000000000000000000ffffffff")).ok()) << "negative nanos";
}

TEST(IndexedRowTest, RandomNestedRowsRoundTrip) {
  RandomRows random(testutil::TestSeed());
  ByteBuffer buffer;
  GenericRow decoded;
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::vector<DataType> types;
    int columns = random.Uniform(1, 12);
    for (int i = 0; i < columns; ++i) types.push_back(random.Type(3));
    IndexedRowCodec codec(types);
    for (int r = 0; r < 5; ++r) {
      GenericRow row;
      for (const auto& type : types) row.push_back(random.Value(type));
      buffer.clear();
      Status status = codec.Encode(row, &buffer);
      ASSERT_TRUE(status.ok()) << status.ToString();
      status = codec.DecodeInto(buffer, &decoded);
      ASSERT_TRUE(status.ok()) << status.ToString() << " for " << DebugString(row);
      GenericRow expected = ExpectedRow(types, row, Layout::kIndexed);
      ASSERT_EQ(decoded, expected) << DebugString(decoded) << " vs " << DebugString(expected);
      if (r == 0) ExpectPrefixesRejected(codec, buffer);
      ByteBuffer garbled = buffer;
      garbled[static_cast<size_t>(random.Uniform(0, static_cast<int>(garbled.size()) - 1))] ^=
          static_cast<char>(random.Uniform(1, 255));
      (void)codec.Decode(garbled).ok();
    }
  }
}

}  // namespace
}  // namespace strom::record
