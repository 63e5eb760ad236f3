#include "common/status.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/error_code.h"
#include "common/ids.h"
#include "common/result.h"

namespace strom {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNone);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.message().empty());
}

TEST(StatusTest, CarriesFlussCodeAndMessage) {
  Status s = MakeError(ErrorCode::kTableNotExist, "table {}.{} does not exist", "db", "t");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(static_cast<int>(s.code()), 7);
  EXPECT_EQ(s.ToString(), "TABLE_NOT_EXIST: table db.t does not exist");
  EXPECT_FALSE(s.IsRetriable());
  Status copy = s;
  EXPECT_EQ(copy, s);
  EXPECT_EQ(s.WithContext("create").message(), "create: table db.t does not exist");
}

TEST(ErrorCodeTest, WireNumbersAndFlagsMatchFluss) {
  EXPECT_EQ(static_cast<int>(ErrorCode::kUnknownServerError), -1);
  EXPECT_EQ(static_cast<int>(ErrorCode::kNotLeaderOrFollower), 12);
  EXPECT_EQ(static_cast<int>(ErrorCode::kDeletionDisabled), 57);
  EXPECT_EQ(static_cast<int>(ErrorCode::kInvalidProducerId), 63);
  EXPECT_TRUE(IsRetriable(ErrorCode::kNotLeaderOrFollower));
  EXPECT_TRUE(InvalidatesMetadata(ErrorCode::kNotLeaderOrFollower));
  EXPECT_TRUE(IsRetriable(ErrorCode::kCorruptRecord));
  EXPECT_FALSE(InvalidatesMetadata(ErrorCode::kCorruptRecord));
  EXPECT_TRUE(IsRetriable(ErrorCode::kLeaderNotAvailable));
  EXPECT_FALSE(IsRetriable(ErrorCode::kTableAlreadyExist));
  EXPECT_FALSE(IsRetriable(ErrorCode::kDuplicateSequence));
  EXPECT_EQ(ErrorCodeName(ErrorCode::kSeverTagAlreadyExist), "SEVER_TAG_ALREADY_EXIST_EXCEPTION");
  EXPECT_EQ(ErrorCodeFromWire(29), ErrorCode::kNotEnoughReplicas);
  EXPECT_EQ(ErrorCodeFromWire(999), ErrorCode::kUnknownServerError);
  // Every known number maps back to itself.
  for (int32_t v = -1; v <= kMaxKnownErrorCode; ++v) {
    EXPECT_EQ(static_cast<int32_t>(ErrorCodeFromWire(v)), v);
  }
}

Result<int> Half(int v) {
  if (v % 2 != 0) return MakeError(ErrorCode::kInvalidConfig, "{} is odd", v);
  return v / 2;
}

Result<int> Quarter(int v) {
  STROM_ASSIGN_OR_RETURN(int h, Half(v));
  STROM_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(StrongIdTest, DistinctTypesCompareAndFormat) {
  LogOffset a(10);
  LogOffset b = a + 5;
  EXPECT_LT(a, b);
  EXPECT_EQ(b - a, 5);
  EXPECT_EQ(fmt::format("{}", b), "15");
  static_assert(!std::is_convertible_v<TableId, LogOffset>);
}

TEST(BytesTest, VarintsAndBoundsChecks) {
  ByteBuffer buf;
  ByteWriter w(&buf);
  w.Varint32(0xffffffffu);  // -1 as int32: 5 bytes
  w.Varint64(~0ull);        // -1 as int64: 10 bytes
  w.I32LE(-2);
  w.I64BE(0x0102030405060708);
  EXPECT_EQ(buf.size(), 5u + 10u + 4u + 8u);
  EXPECT_EQ(VarintSize32(127), 1);
  EXPECT_EQ(VarintSize32(128), 2);
  EXPECT_EQ(VarintSize64(~0ull), 10);

  ByteReader r(buf);
  EXPECT_EQ(r.Varint32(), 0xffffffffu);
  EXPECT_EQ(r.Varint64(), ~0ull);
  EXPECT_EQ(r.I32LE(), -2);
  EXPECT_EQ(r.I64BE(), 0x0102030405060708);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.I32LE(), 0);  // past the end: zero, and sticky failure
  EXPECT_FALSE(r.ok());

  ByteBuffer too_long(11, '\x80');
  ByteReader r2(too_long);
  r2.Varint64();
  EXPECT_FALSE(r2.ok());
  ByteBuffer six(6, '\xff');
  ByteReader r3(six);
  r3.Varint32();
  EXPECT_FALSE(r3.ok());
}

TEST(BytesTest, HexRoundTrip) {
  ByteBuffer b;
  ASSERT_TRUE(FromHex("00 ff 10ab", &b));
  EXPECT_EQ(ToHex(b), "00ff10ab");
  EXPECT_FALSE(FromHex("0g", &b));
  EXPECT_FALSE(FromHex("abc", &b));
}

}  // namespace
}  // namespace strom
