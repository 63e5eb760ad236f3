#include "record/key_encoder.h"

#include <gtest/gtest.h>

#include "record/row_test_util.h"
#include "testutil/golden.h"

namespace strom::record {
namespace {

using rowtest::FieldTypesOf;
using rowtest::GoldenRow;
using rowtest::GoldenRowType;
using testutil::Hex;

DataType RowOf(std::vector<std::pair<std::string, DataType>> columns) {
  std::vector<DataField> fields;
  for (auto& [name, type] : columns) {
    fields.push_back(DataField{name, type, std::nullopt, static_cast<int32_t>(fields.size())});
  }
  return DataType::Row(std::move(fields));
}

std::unique_ptr<KeyEncoder> MakeEncoder(KeyEncoding encoding, const DataType& row_type,
                                        const std::vector<std::string>& keys) {
  auto encoder = KeyEncoder::Create(encoding, row_type, keys);
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  return encoder.ok() ? std::move(encoder).value() : nullptr;
}

std::string EncodeHex(const KeyEncoder& encoder, const GenericRow& row) {
  auto bytes = encoder.Encode(row);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? ToHex(*bytes) : "";
}

TEST(KeyEncoderTest, GoldenCompactedKeys) {
  auto doc = testutil::LoadGolden("keys_and_buckets.json");
  ASSERT_FALSE(doc.is_null());
  ASSERT_EQ(doc["entries"].size(), 21u);
  for (const auto& entry : doc["entries"]) {
    SCOPED_TRACE(entry["id"].get<std::string>());
    DataType row_type = GoldenRowType(entry["row_schema"]);
    GenericRow row = GoldenRow(FieldTypesOf(row_type), entry["row_values"]);
    auto keys = entry["key_fields"].get<std::vector<std::string>>();
    auto encoder = MakeEncoder(KeyEncoding::kCompacted, row_type, keys);
    ASSERT_NE(encoder, nullptr);
    EXPECT_EQ(EncodeHex(*encoder, row), entry["key_hex"].get<std::string>());
    // The same bytes through the bucket-key selection for no lake and for Lance.
    for (DataLakeFormat lake : {DataLakeFormat::kNone, DataLakeFormat::kLance}) {
      auto selected = MakeEncoder(BucketKeyEncoding(lake), row_type, keys);
      EXPECT_EQ(EncodeHex(*selected, row), entry["key_hex"].get<std::string>());
    }
  }
}

TEST(KeyEncoderTest, GoldenLakeKeys) {
  auto doc = testutil::LoadGolden("keys_and_buckets.json");
  ASSERT_EQ(doc["lake_key_encoders"].size(), 5u);
  for (const auto& entry : doc["lake_key_encoders"]) {
    SCOPED_TRACE(entry["id"].get<std::string>());
    DataType row_type = GoldenRowType(entry["row_schema"]);
    GenericRow row = GoldenRow(FieldTypesOf(row_type), entry["row_values"]);
    auto keys = entry["key_fields"].get<std::vector<std::string>>();

    auto paimon = MakeEncoder(KeyEncoding::kPaimon, row_type, keys);
    ASSERT_NE(paimon, nullptr);
    std::string paimon_hex = EncodeHex(*paimon, row);
    EXPECT_EQ(paimon_hex, entry["paimon_key_hex"].get<std::string>());
    for (const auto& [count, bucket] : entry["paimon_buckets"].items()) {
      EXPECT_EQ(*BucketingFunction(DataLakeFormat::kPaimon).Bucket(Hex(paimon_hex), std::stoi(count)),
                bucket.get<int32_t>());
    }

    if (entry.contains("iceberg_key_hex")) {
      auto iceberg = MakeEncoder(KeyEncoding::kIceberg, row_type, keys);
      ASSERT_NE(iceberg, nullptr);
      std::string iceberg_hex = EncodeHex(*iceberg, row);
      EXPECT_EQ(iceberg_hex, entry["iceberg_key_hex"].get<std::string>());
      for (const auto& [count, bucket] : entry["iceberg_buckets"].items()) {
        EXPECT_EQ(*BucketingFunction(DataLakeFormat::kIceberg)
                       .Bucket(Hex(iceberg_hex), std::stoi(count)),
                  bucket.get<int32_t>());
      }
    } else {
      EXPECT_EQ(KeyEncoder::Create(KeyEncoding::kIceberg, row_type, keys).status().code(),
                ErrorCode::kInvalidTable)
          << "Iceberg keys have exactly one column";
    }
  }
}

// fluss-rpc 15.1 item 1 (CompactedKeyEncoderTest).
TEST(KeyEncoderTest, CompactedKeyEncoderSimple) {
  DataType row_type = RowOf({{"a", DataType::Int()}, {"b", DataType::BigInt()},
                             {"c", DataType::Int()}, {"d", DataType::String()}});
  auto encoder = MakeEncoder(KeyEncoding::kCompacted, row_type, {"a", "b", "c"});
  EXPECT_EQ(EncodeHex(*encoder, {Datum(int32_t{1}), Datum(int64_t{3}), Datum(int32_t{2}),
                                 Datum(std::string("a1"))}),
            "010302");
  EXPECT_EQ(EncodeHex(*encoder, {Datum(int32_t{2}), Datum(int64_t{5}), Datum(int32_t{6}),
                                 Datum::Null()}),
            "020506");

  ByteBuffer out = "x";
  Status null_key = encoder->Encode({Datum(int32_t{1}), Datum::Null(), Datum(int32_t{2}),
                                     Datum::Null()},
                                    &out);
  EXPECT_EQ(null_key.code(), ErrorCode::kCorruptRecord);
  EXPECT_NE(null_key.message().find("position 1"), std::string::npos) << null_key.ToString();
  EXPECT_NE(null_key.message().find("BIGINT"), std::string::npos) << null_key.ToString();
  EXPECT_EQ(out, "x");
}

// fluss-formats 8.5 / fluss-rpc 15.1 item 2 (fluss-rust compacted_key_encoder.rs).
TEST(KeyEncoderTest, CompactedKeyEncoderRustVectors) {
  DataType single = RowOf({{"k", DataType::String()}});
  EXPECT_EQ(EncodeHex(*MakeEncoder(KeyEncoding::kCompacted, single, {"k"}),
                      {Datum(std::string("a2"))}),
            "026132");
  DataType pair = RowOf({{"id", DataType::Int()}, {"name", DataType::String()}});
  EXPECT_EQ(EncodeHex(*MakeEncoder(KeyEncoding::kCompacted, pair, {"id", "name"}),
                      {Datum(int32_t{1}), Datum(std::string("a2"))}),
            "01026132");
}

// V-KEY-ALL of fluss-formats 8.5, typed out from the spec (the golden file holds the same
// row as `all_types_with_arrays`).
TEST(KeyEncoderTest, AllTypesJavaCompatibleKey) {
  DataType row_type = RowOf({
      {"bool", DataType::Boolean()}, {"tiny", DataType::TinyInt()},
      {"small", DataType::SmallInt()}, {"int", DataType::Int()}, {"big", DataType::BigInt()},
      {"f", DataType::Float()}, {"d", DataType::Double()}, {"date", DataType::Date()},
      {"time", DataType::Time()}, {"bin", DataType::Binary(20)}, {"bytes", DataType::Bytes()},
      {"char", DataType::Char(2)}, {"str", DataType::String()},
      {"dec", DataType::Decimal(5, 2)}, {"bigdec", DataType::Decimal(20, 0)},
      {"ts1", DataType::Timestamp(1)}, {"ts5", DataType::Timestamp(5)},
      {"ltz1", DataType::TimestampLtz(1)}, {"ltz5", DataType::TimestampLtz(5)},
      {"arr", DataType::Array(DataType::Int())}});
  TimestampValue ts{1698235273182, 0};
  GenericRow row = {Datum(true), Datum(int8_t{2}), Datum(int16_t{10}), Datum(int32_t{100}),
                    Datum(int64_t{-6101065172474983726LL}), Datum(13.2f), Datum(15.21),
                    Datum(int32_t{19655}), Datum(int32_t{34200000}),
                    Datum(std::string("1234567890")), Datum(std::string("20")),
                    Datum(std::string("1")), Datum(std::string("hello")),
                    Datum(DecimalValue{9}), Datum(DecimalValue{10}), Datum(ts), Datum(ts),
                    Datum(ts), Datum(ts),
                    Datum(ArrayValue{{Datum(int32_t{1}), Datum(int32_t{2}), Datum(int32_t{3}),
                                      Datum(int32_t{4}), Datum(int32_t{5}), Datum(int32_t{-11}),
                                      Datum::Null(), Datum(int32_t{444}),
                                      Datum(int32_t{102234})}})};
  std::vector<std::string> keys;
  for (const auto& field : row_type.fields()) keys.push_back(field.name);
  std::string expected =
      "01" "02" "0a00" "64" "d295fcd8ceb1aaaaab01" "33335341" "ec51b81e856b2e40" "c79901"
      "c0b3a710" "0a31323334353637383930" "023230" "0131" "0568656c6c6f" "09" "010a"
      "de9fd7b5b631" "de9fd7b5b63100" "de9fd7b5b631" "de9fd7b5b63100"
      "30" "09000000400000000100000002000000030000000400000005000000f5ffffff00000000"
      "bc0100005a8f010000000000";
  EXPECT_EQ(EncodeHex(*MakeEncoder(KeyEncoding::kCompacted, row_type, keys), row), expected);
}

// fluss-formats 8.5 (fluss-rust paimon_key_encoder.rs and iceberg_binary_row_writer.rs).
TEST(KeyEncoderTest, PaimonAndIcebergVectors) {
  DataType one = RowOf({{"k", DataType::Int()}});
  std::string paimon = EncodeHex(*MakeEncoder(KeyEncoding::kPaimon, one, {"k"}),
                                 {Datum(int32_t{42})});
  EXPECT_EQ(paimon, "0000000000000000" "2a00000000000000");
  DataType two = RowOf({{"id", DataType::Int()}, {"name", DataType::String()}});
  paimon = EncodeHex(*MakeEncoder(KeyEncoding::kPaimon, two, {"id", "name"}),
                     {Datum(int32_t{7}), Datum(std::string("hi"))});
  EXPECT_EQ(paimon, "0000000000000000" "0700000000000000" "6869000000000082");

  EXPECT_EQ(EncodeHex(*MakeEncoder(KeyEncoding::kIceberg, one, {"k"}), {Datum(int32_t{42})}),
            "2a00000000000000");
  DataType text = RowOf({{"s", DataType::String()}});
  EXPECT_EQ(EncodeHex(*MakeEncoder(KeyEncoding::kIceberg, text, {"s"}),
                      {Datum(std::string("hello"))}),
            "68656c6c6f");
}

TEST(KeyEncoderTest, PaimonNullsDecimalsAndTimestamps) {
  DataType row_type = RowOf({{"a", DataType::String()}, {"b", DataType::Decimal(20, 2)},
                             {"c", DataType::Timestamp(6)}, {"d", DataType::Double()}});
  auto encoder = MakeEncoder(KeyEncoding::kPaimon, row_type, {"a", "b", "c", "d"});
  // Null string: bit 8 set, slot zero. Decimal 10 (1 byte) in a 16-byte variable item at
  // 40, timestamp millis at 56 with nanos 7 in the slot.
  std::string hex = EncodeHex(*encoder, {Datum::Null(), Datum(DecimalValue{10}),
                                         Datum(TimestampValue{5, 7}), Datum(1.5)});
  EXPECT_EQ(hex, "0001000000000000" "0000000000000000" "0100000028000000" "0700000038000000"
                 "000000000000f83f" "0a000000000000000000000000000000" "0500000000000000");
}

TEST(KeyEncoderTest, IcebergTypeMapping) {
  auto encode = [](const DataType& type, const Datum& value) {
    DataType row_type = RowOf({{"k", type}});
    return EncodeHex(*MakeEncoder(KeyEncoding::kIceberg, row_type, {"k"}), {value});
  };
  EXPECT_EQ(encode(DataType::Date(), Datum(int32_t{-1})), "ffffffffffffffff");
  EXPECT_EQ(encode(DataType::Time(), Datum(int32_t{1})), "e803000000000000");
  EXPECT_EQ(encode(DataType::Timestamp(6), Datum(TimestampValue{1, 2500})),
            "ea03000000000000");
  EXPECT_EQ(encode(DataType::Decimal(5, 2), Datum(DecimalValue{12345})), "3039");
  EXPECT_EQ(encode(DataType::Decimal(30, 2), Datum(DecimalValue{-1})), "ff");
  EXPECT_EQ(encode(DataType::Binary(4), Datum(std::string("\x01\x02", 2))), "0102");
  EXPECT_EQ(encode(DataType::Float(), Datum(1.0f)), "0000803f");

  for (DataType unsupported : {DataType::Boolean(), DataType::TinyInt(), DataType::SmallInt(),
                               DataType::TimestampLtz(3), DataType::Array(DataType::Int())}) {
    EXPECT_EQ(KeyEncoder::Create(KeyEncoding::kIceberg, RowOf({{"k", unsupported}}), {"k"})
                  .status()
                  .code(),
              ErrorCode::kInvalidTable)
        << unsupported.ToString();
  }
  auto encoder = MakeEncoder(KeyEncoding::kIceberg, RowOf({{"k", DataType::Int()}}), {"k"});
  EXPECT_EQ(encoder->Encode(GenericRow{Datum::Null()}).status().code(), ErrorCode::kCorruptRecord);
}

TEST(KeyEncoderTest, CreateChecksColumns) {
  DataType row_type = RowOf({{"a", DataType::Int()}, {"m", DataType::Map(DataType::Int(), DataType::Int())}});
  EXPECT_EQ(KeyEncoder::Create(KeyEncoding::kCompacted, row_type, {"zz"}).status().code(),
            ErrorCode::kInvalidTable);
  EXPECT_EQ(KeyEncoder::Create(KeyEncoding::kPaimon, row_type, {"m"}).status().code(),
            ErrorCode::kInvalidTable);
  EXPECT_FALSE(KeyEncoder::Create(KeyEncoding::kCompacted, DataType::Int(), {"a"}).ok());
  auto encoder = MakeEncoder(KeyEncoding::kCompacted, row_type, {"a"});
  EXPECT_EQ(encoder->key_indexes(), std::vector<size_t>{0});
  EXPECT_FALSE(encoder->Encode(GenericRow{}).ok()) << "row shorter than the key position";
}

// fluss-formats 6.1.
TEST(KeyEncoderTest, EncoderSelection) {
  EXPECT_EQ(BucketKeyEncoding(DataLakeFormat::kNone), KeyEncoding::kCompacted);
  EXPECT_EQ(BucketKeyEncoding(DataLakeFormat::kLance), KeyEncoding::kCompacted);
  EXPECT_EQ(BucketKeyEncoding(DataLakeFormat::kPaimon), KeyEncoding::kPaimon);
  EXPECT_EQ(BucketKeyEncoding(DataLakeFormat::kIceberg), KeyEncoding::kIceberg);

  for (bool default_key : {true, false}) {
    EXPECT_EQ(*PrimaryKeyEncoding(DataLakeFormat::kPaimon, 1, default_key), KeyEncoding::kPaimon);
    EXPECT_EQ(*PrimaryKeyEncoding(DataLakeFormat::kNone, 2, default_key), KeyEncoding::kCompacted);
  }
  EXPECT_EQ(*PrimaryKeyEncoding(DataLakeFormat::kPaimon, 2, true), KeyEncoding::kPaimon);
  EXPECT_EQ(*PrimaryKeyEncoding(DataLakeFormat::kPaimon, 2, false), KeyEncoding::kCompacted);
  EXPECT_EQ(*PrimaryKeyEncoding(DataLakeFormat::kIceberg, 2, true), KeyEncoding::kIceberg);
  EXPECT_EQ(*PrimaryKeyEncoding(DataLakeFormat::kIceberg, 2, false), KeyEncoding::kCompacted);
  EXPECT_EQ(PrimaryKeyEncoding(DataLakeFormat::kNone, 3, true).status().code(),
            ErrorCode::kInvalidConfig);
}

TEST(KeyEncoderTest, BucketKeyIsAPrefixOfThePrimaryKey) {
  DataType row_type = RowOf({{"a", DataType::String()}, {"b", DataType::BigInt()},
                             {"v", DataType::Double()}});
  GenericRow row = {Datum(std::string("tenant-7")), Datum(int64_t{-3}), Datum(0.5)};
  auto bucket = MakeEncoder(KeyEncoding::kCompacted, row_type, {"a"});
  auto primary = MakeEncoder(KeyEncoding::kCompacted, row_type, {"a", "b"});
  std::string bucket_hex = EncodeHex(*bucket, row);
  std::string primary_hex = EncodeHex(*primary, row);
  EXPECT_EQ(primary_hex.substr(0, bucket_hex.size()), bucket_hex);
}

}  // namespace
}  // namespace strom::record
