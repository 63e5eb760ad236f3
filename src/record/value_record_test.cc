#include "record/value_record.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "testutil/golden.h"
#include "testutil/seed.h"

namespace strom::record {
namespace {

using testutil::Hex;

Status FirstError(ByteView records, int32_t count) {
  ValueRecordIterator it(records, count);
  for (int i = 0; i < 1000; ++i) {
    auto next = it.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return Status::OK();
  }
  return Status::OK();
}

TEST(StoredValueTest, RpcLookupExample) {
  // rpc §15.2 item 10: the Lookup value for CompactedRow(INT 1, STRING "a") under schema 1.
  ByteBuffer value = EncodeValue(SchemaId(1), Hex("00010161"));
  EXPECT_EQ(ToHex(value),
            "0100"
            "00010161");
  auto decoded = DecodeValue(value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->schema_id, SchemaId(1));
  EXPECT_EQ(ToHex(decoded->row), "00010161");
}

TEST(StoredValueTest, SchemaIdIsLittleEndianInt16) {
  ByteBuffer out = "pre";
  AppendEncodedValue(SchemaId(0x1234), "row", &out);
  EXPECT_EQ(ToHex(out), ToHex("pre") + "3412" + ToHex("row"));
  ByteBuffer negative = EncodeValue(SchemaId(-2), "");
  EXPECT_EQ(ToHex(negative), "feff");
  auto decoded = DecodeValue(negative);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->schema_id, SchemaId(-2));
  EXPECT_TRUE(decoded->row.empty());
  EXPECT_EQ(DecodeValue("").status().code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(DecodeValue("x").status().code(), ErrorCode::kCorruptRecord);
}

TEST(ValueRecordBatchTest, LayoutByHand) {
  ByteBuffer out;
  ValueRecordBatchBuilder builder(&out);
  ASSERT_TRUE(builder.Append(SchemaId(1), Hex("00010161")).ok());
  ByteBuffer stored = Hex("0200000203626f62");  // schema id 2, then the row
  ASSERT_TRUE(builder.AppendEncoded(stored).ok());
  ValueRecordBatch b = builder.Finish();
  // Length = size - 4, magic 0, count 2; each record = int32 (2 + row size), schema id, row.
  EXPECT_EQ(ToHex(out),
            "1b000000"
            "00"
            "02000000"
            "06000000"
            "0100"
            "00010161"
            "08000000"
            "0200"
            "000203626f62");
  EXPECT_EQ(b.size_in_bytes(), 31u);
  EXPECT_EQ(b.length(), 27);
  EXPECT_EQ(b.magic(), 0);
  EXPECT_EQ(b.record_count(), 2);
  ValueRecordIterator it(b);
  auto first = it.Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->schema_id, SchemaId(1));
  EXPECT_EQ(ToHex((*first)->row), "00010161");
  auto second = it.Next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->schema_id, SchemaId(2));
  EXPECT_EQ(ToHex((*second)->row), "000203626f62");
  auto end = it.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(ValueRecordBatchTest, EmptyBatch) {
  ByteBuffer out;
  ValueRecordBatchBuilder builder(&out);
  ValueRecordBatch b = builder.Finish();
  EXPECT_EQ(ToHex(out),
            "05000000"
            "00"
            "00000000");
  EXPECT_EQ(b.record_count(), 0);
  EXPECT_TRUE(FirstError(b.records(), 0).ok());
}

TEST(ValueRecordBatchTest, AppendEncodedRejectsShortValues) {
  ByteBuffer out;
  ValueRecordBatchBuilder builder(&out);
  EXPECT_EQ(builder.AppendEncoded("x").code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(builder.record_count(), 0);
  EXPECT_EQ(builder.size_in_bytes(), kValueBatchHeaderSize);
}

TEST(ValueRecordBatchTest, ParseRejectsMalformedHeaders) {
  ByteBuffer good;
  ValueRecordBatchBuilder builder(&good);
  ASSERT_TRUE(builder.Append(SchemaId(3), "abcdef").ok());
  builder.Finish();
  auto expect_corrupt = [](ByteView data, const char* what) {
    auto r = ValueRecordBatch::Parse(data);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << what;
  };
  for (size_t cut = 0; cut < good.size(); ++cut) {
    expect_corrupt(ByteView(good).substr(0, cut), "truncated");
  }
  ByteBuffer b = good;
  b[kValueBatchMagicOffset] = 1;
  expect_corrupt(b, "magic");
  b = good;
  StoreI32LE(b.data(), 4);
  expect_corrupt(b, "length below header");
  b = good;
  StoreI32LE(b.data(), -1);
  expect_corrupt(b, "negative length");
  b = good;
  StoreI32LE(b.data() + kValueBatchRecordCountOffset, -1);
  expect_corrupt(b, "negative count");
  ASSERT_TRUE(ValueRecordBatch::Parse(good).ok());
}

TEST(ValueRecordIteratorTest, RejectsBadRecords) {
  using namespace std::string_literals;
  auto rec = [](int32_t length, std::string rest) {
    ByteBuffer b(4, '\0');
    StoreI32LE(b.data(), length);
    return b + rest;
  };
  EXPECT_TRUE(FirstError(rec(2, std::string(2, '\0')), 1).ok());
  EXPECT_TRUE(FirstError(rec(4, "\x01\x00xy"s), 1).ok());
  EXPECT_EQ(FirstError(rec(1, "x"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(-1, "xx"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(5, "xxxx"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(2, "xx"), 2).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(2, "xx") + "y", 1).code(), ErrorCode::kCorruptRecord);
  ByteBuffer two = rec(3, "ab1") + rec(2, "cd");
  EXPECT_TRUE(FirstError(two, 2).ok());
  for (size_t cut = 0; cut < two.size(); ++cut) {
    EXPECT_EQ(FirstError(ByteView(two).substr(0, cut), 2).code(), ErrorCode::kCorruptRecord) << cut;
  }
}

TEST(ValueRecordBatchTest, RandomRoundTrips) {
  std::mt19937_64 rng(testutil::TestSeed());
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<std::pair<int16_t, std::string>> values(rng() % 25);
    for (auto& [schema, row] : values) {
      schema = static_cast<int16_t>(rng());
      row.resize(rng() % 50);
      for (auto& c : row) c = static_cast<char>(rng());
    }
    ByteBuffer out = "earlier bytes";
    ValueRecordBatchBuilder builder(&out);
    for (size_t i = 0; i < values.size(); ++i) {
      if (i % 2 == 0) {
        ASSERT_TRUE(builder.Append(SchemaId(values[i].first), values[i].second).ok());
      } else {
        ASSERT_TRUE(
            builder.AppendEncoded(EncodeValue(SchemaId(values[i].first), values[i].second)).ok());
      }
    }
    builder.Finish();
    auto parsed = ValueRecordBatch::Parse(ByteView(out).substr(13));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->size_in_bytes(), out.size() - 13);
    EXPECT_EQ(parsed->record_count(), static_cast<int32_t>(values.size()));
    ValueRecordIterator it(*parsed);
    for (const auto& [schema, row] : values) {
      auto next = it.Next();
      ASSERT_TRUE(next.ok() && next->has_value());
      EXPECT_EQ((*next)->schema_id, SchemaId(schema));
      EXPECT_EQ((*next)->row, row);
    }
    auto end = it.Next();
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end->has_value());
  }
}

}  // namespace
}  // namespace strom::record
