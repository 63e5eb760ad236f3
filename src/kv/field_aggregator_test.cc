#include "kv/field_aggregator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kv/roaring64_bitmap.h"
#include "kv/roaring_bitmap.h"

namespace strom::kv {
namespace {

using record::AggFunction;
using record::AggFunctionType;
using record::DataType;
using record::Datum;
using record::DecimalValue;

Datum Agg(AggFunctionType type, const DataType& dt, const Datum& acc, const Datum& in,
          std::vector<std::pair<std::string, std::string>> params = {}) {
  auto agg = FieldAggregator::Create(AggFunction{type, std::move(params)}, dt);
  EXPECT_TRUE(agg.ok()) << agg.status().ToString();
  auto out = (*agg)->Agg(acc, in);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return *out;
}

TEST(FieldAggregatorTest, SumAndProductWrapLikeJava) {
  EXPECT_EQ(Agg(AggFunctionType::kSum, DataType::Int(), Datum(3), Datum(4)), Datum(7));
  EXPECT_EQ(Agg(AggFunctionType::kSum, DataType::Int(), Datum(INT32_MAX), Datum(1)),
            Datum(INT32_MIN));
  EXPECT_EQ(Agg(AggFunctionType::kSum, DataType::TinyInt(), Datum(int8_t{127}), Datum(int8_t{1})),
            Datum(int8_t{-128}));
  EXPECT_EQ(Agg(AggFunctionType::kProduct, DataType::SmallInt(), Datum(int16_t{300}),
                Datum(int16_t{300})),
            Datum(static_cast<int16_t>(90000)));
  EXPECT_EQ(
      Agg(AggFunctionType::kProduct, DataType::BigInt(), Datum(int64_t{-3}), Datum(int64_t{5})),
      Datum(int64_t{-15}));
  EXPECT_EQ(Agg(AggFunctionType::kSum, DataType::Double(), Datum(1.5), Datum(2.25)), Datum(3.75));
  // Null on either side keeps the other side.
  EXPECT_EQ(Agg(AggFunctionType::kSum, DataType::Int(), Datum(), Datum(4)), Datum(4));
  EXPECT_EQ(Agg(AggFunctionType::kProduct, DataType::Int(), Datum(4), Datum()), Datum(4));
  EXPECT_EQ(FieldAggregator::Create(AggFunction{AggFunctionType::kSum, {}}, DataType::String())
                .status()
                .code(),
            ErrorCode::kInvalidConfig);
}

TEST(FieldAggregatorTest, DecimalsOverflowToNullAndRoundHalfUp) {
  DataType d52 = DataType::Decimal(5, 2);
  EXPECT_EQ(Agg(AggFunctionType::kSum, d52, DecimalValue{12345}, DecimalValue{-345}),
            Datum(DecimalValue{12000}));
  EXPECT_EQ(Agg(AggFunctionType::kSum, d52, DecimalValue{99999}, DecimalValue{1}), Datum());
  // 1.25 * 1.25 = 1.5625 -> 1.56; 1.5 * 1.03 = 1.545 -> 1.55 (half up); negative rounds away.
  EXPECT_EQ(Agg(AggFunctionType::kProduct, d52, DecimalValue{125}, DecimalValue{125}),
            Datum(DecimalValue{156}));
  EXPECT_EQ(Agg(AggFunctionType::kProduct, d52, DecimalValue{150}, DecimalValue{103}),
            Datum(DecimalValue{155}));
  EXPECT_EQ(Agg(AggFunctionType::kProduct, d52, DecimalValue{-150}, DecimalValue{103}),
            Datum(DecimalValue{-155}));
  EXPECT_EQ(Agg(AggFunctionType::kProduct, d52, DecimalValue{99900}, DecimalValue{200}), Datum());
  // 38-digit operands: the intermediate product needs more than 128 bits.
  DataType d38 = DataType::Decimal(38, 18);
  __int128 big = 1;
  for (int i = 0; i < 37; ++i) big *= 10;  // 10^37 unscaled = 10^19
  EXPECT_EQ(Agg(AggFunctionType::kProduct, d38, DecimalValue{big}, DecimalValue{big}), Datum());
  __int128 one = 1;
  for (int i = 0; i < 18; ++i) one *= 10;  // 1.0
  EXPECT_EQ(Agg(AggFunctionType::kProduct, d38, DecimalValue{big}, DecimalValue{one}),
            Datum(DecimalValue{big}));
}

TEST(FieldAggregatorTest, MaxMinCompareLikeJava) {
  EXPECT_EQ(Agg(AggFunctionType::kMax, DataType::Int(), Datum(3), Datum(9)), Datum(9));
  EXPECT_EQ(Agg(AggFunctionType::kMin, DataType::Int(), Datum(3), Datum(9)), Datum(3));
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(
      Agg(AggFunctionType::kMax, DataType::Double(), Datum(1.0), Datum(nan)).as<double>()));
  EXPECT_EQ(Agg(AggFunctionType::kMin, DataType::Double(), Datum(0.0), Datum(-0.0)), Datum(-0.0));
  // Unsigned byte order: "\xc3\xa9" (é) sorts after "z".
  EXPECT_EQ(Agg(AggFunctionType::kMax, DataType::String(), Datum("z"), Datum("\xc3\xa9")),
            Datum("\xc3\xa9"));
  EXPECT_EQ(Agg(AggFunctionType::kMax, DataType::Timestamp(6), record::TimestampValue{5, 10},
                record::TimestampValue{5, 9}),
            Datum(record::TimestampValue{5, 10}));
  EXPECT_EQ(Agg(AggFunctionType::kMin, DataType::Int(), Datum(), Datum(2)), Datum(2));
  EXPECT_EQ(FieldAggregator::Create(AggFunction{AggFunctionType::kMax, {}}, DataType::Boolean())
                .status()
                .code(),
            ErrorCode::kInvalidConfig);
}

TEST(FieldAggregatorTest, LastFirstValuesListaggAndBooleans) {
  DataType s = DataType::String();
  EXPECT_EQ(Agg(AggFunctionType::kLastValue, s, Datum("a"), Datum()), Datum());
  EXPECT_EQ(Agg(AggFunctionType::kLastValueIgnoreNulls, s, Datum("a"), Datum()), Datum("a"));
  EXPECT_EQ(Agg(AggFunctionType::kLastValueIgnoreNulls, s, Datum("a"), Datum("b")), Datum("b"));
  EXPECT_EQ(Agg(AggFunctionType::kFirstValue, s, Datum("a"), Datum("b")), Datum("a"));
  // 0.9.1's first_value takes the input while the stored value is null.
  EXPECT_EQ(Agg(AggFunctionType::kFirstValue, s, Datum(), Datum("b")), Datum("b"));
  EXPECT_EQ(Agg(AggFunctionType::kFirstValueIgnoreNulls, s, Datum(), Datum("b")), Datum("b"));
  EXPECT_EQ(Agg(AggFunctionType::kListAgg, s, Datum("a"), Datum("b")), Datum("a,b"));
  EXPECT_EQ(Agg(AggFunctionType::kStringAgg, s, Datum("a"), Datum("b"), {{"delimiter", " / "}}),
            Datum("a / b"));
  EXPECT_EQ(Agg(AggFunctionType::kListAgg, s, Datum(), Datum("b")), Datum("b"));
  EXPECT_EQ(Agg(AggFunctionType::kBoolAnd, DataType::Boolean(), Datum(true), Datum(false)),
            Datum(false));
  EXPECT_EQ(Agg(AggFunctionType::kBoolOr, DataType::Boolean(), Datum(false), Datum(true)),
            Datum(true));
  EXPECT_EQ(Agg(AggFunctionType::kBoolOr, DataType::Boolean(), Datum(), Datum(false)),
            Datum(false));
}

TEST(FieldAggregatorTest, Rbm32UnionsPortableBitmaps) {
  std::vector<uint32_t> a = {1, 2, 3, 70000, 4000000000u};
  std::vector<uint32_t> b;
  for (uint32_t i = 100; i < 5100; ++i) b.push_back(i);  // becomes a run container
  Datum out = Agg(AggFunctionType::kRbm32, DataType::Bytes(), Datum(RoaringBitmap32Serialize(a)),
                  Datum(RoaringBitmap32Serialize(b)));
  auto values = RoaringBitmap32Values(out.as<std::string>());
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->size(), a.size() + b.size());
  EXPECT_EQ(values->front(), 1u);
  EXPECT_EQ(values->back(), 4000000000u);
  // The portable format Java writes: cookie 12347 (with runs) or 12346.
  const std::string& bytes = out.as<std::string>();
  uint16_t cookie = static_cast<uint8_t>(bytes[0]) | (static_cast<uint8_t>(bytes[1]) << 8);
  EXPECT_EQ(cookie, 12347);
  // Java's serialization of {1, 2, 3}: cookie 12346, 1 container, key 0, card-1 2, 3 shorts.
  std::vector<uint32_t> small = {1, 2, 3};
  ByteBuffer java_123 = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0x10, 0, 0, 0, 1, 0, 2, 0, 3, 0};
  EXPECT_EQ(RoaringBitmap32Serialize(small), java_123);
  // A run container of {5, 6, 7} (runs and array both take 6 bytes) stays a run after a
  // union, as Java's RunContainer.or keeps runs on a tie; arrays on the same tie stay arrays.
  ByteBuffer java_run_567 = {0x3b, 0x30, 0, 0, 1, 0, 0, 2, 0, 1, 0, 5, 0, 2, 0};
  ByteBuffer run_union = *RoaringBitmap32Union(java_run_567, RoaringBitmap32Serialize(small));
  EXPECT_EQ(static_cast<uint8_t>(run_union[0]), 0x3b);
  EXPECT_EQ(*RoaringBitmap32Values(run_union), (std::vector<uint32_t>{1, 2, 3, 5, 6, 7}));
  ByteBuffer array_union = *RoaringBitmap32Union(
      RoaringBitmap32Serialize(small), RoaringBitmap32Serialize(std::vector<uint32_t>{3}));
  EXPECT_EQ(static_cast<uint8_t>(array_union[0]), 0x3a);
  auto agg = FieldAggregator::Create(AggFunction{AggFunctionType::kRbm32, {}}, DataType::Bytes());
  // Fluss's aggregator throws a RuntimeException: UNKNOWN_SERVER_ERROR (not retried).
  EXPECT_EQ((*agg)->Agg(Datum("garbage"), Datum(RoaringBitmap32Serialize(a))).status().code(),
            ErrorCode::kUnknownServerError);
}

TEST(FieldAggregatorTest, Rbm64UnionsJavaRoaring64Bitmaps) {
  std::vector<uint64_t> a = {1, 2, 3, uint64_t{1} << 40, ~uint64_t{0}};
  std::vector<uint64_t> b = {3, 70000, uint64_t{1} << 63};
  Datum out = Agg(AggFunctionType::kRbm64, DataType::Bytes(),
                  Datum(RoaringBitmap64Serialize(a)), Datum(RoaringBitmap64Serialize(b)));
  EXPECT_EQ(*RoaringBitmap64Values(out.as<std::string>()),
            (std::vector<uint64_t>{1, 2, 3, 70000, uint64_t{1} << 40, uint64_t{1} << 63,
                                   ~uint64_t{0}}));
  // A null side keeps the other as it came (no parsing), as Fluss's aggregator does.
  EXPECT_EQ(Agg(AggFunctionType::kRbm64, DataType::Bytes(), Datum(), Datum("raw")),
            Datum("raw"));
  auto agg = FieldAggregator::Create(AggFunction{AggFunctionType::kRbm64, {}}, DataType::Bytes());
  ASSERT_TRUE(agg.ok());
  auto bad = (*agg)->Agg(Datum("garbage"), Datum(RoaringBitmap64Serialize(a)));
  EXPECT_EQ(bad.status().code(), ErrorCode::kUnknownServerError);
  EXPECT_NE(bad.status().message().find("roaring bitmap"), std::string::npos);
  EXPECT_EQ(FieldAggregator::Create(AggFunction{AggFunctionType::kRbm64, {}}, DataType::BigInt())
                .status()
                .code(),
            ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace strom::kv
