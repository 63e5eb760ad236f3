#include "record/bucketing.h"

#include <gtest/gtest.h>

#include "testutil/golden.h"

namespace strom::record {
namespace {

using testutil::Hex;

constexpr std::string_view kFox = "The quick brown fox jumps over the lazy dog";
constexpr std::string_view kUuid = "2bb87d68-baf9-4e64-90f9-f80910419fa6";

int32_t Bucket(DataLakeFormat format, ByteView key, int32_t n) {
  auto bucket = BucketingFunction(format).Bucket(key, n);
  EXPECT_TRUE(bucket.ok()) << bucket.status().ToString();
  return bucket.value_or(-1);
}

std::string LittleEndian64(int64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xFF);
  return out;
}

// fluss-formats 8.1 (BucketingFunctionTest and the fluss-rust bucketing tests).
TEST(BucketingTest, BucketingFunctionVectors) {
  struct Case {
    ByteBuffer key;
    int32_t n, fluss, lance, paimon, iceberg;
  };
  const Case cases[] = {
      {Hex("000a"), 7, 1, 1, 1, 3},
      {Hex("000a0a0a"), 12, 0, 0, 11, 4},
      {std::string(kUuid), 16, 6, 6, 12, 12},
      {std::string(kFox), 8, 6, 6, 0, 3},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(ToHex(c.key));
    EXPECT_EQ(Bucket(DataLakeFormat::kNone, c.key, c.n), c.fluss);
    EXPECT_EQ(Bucket(DataLakeFormat::kLance, c.key, c.n), c.lance);
    EXPECT_EQ(Bucket(DataLakeFormat::kPaimon, c.key, c.n), c.paimon);
    EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, c.key, c.n), c.iceberg);
  }
}

// fluss-formats 8.2 (fluss-rust murmur_hash.rs tests).
TEST(BucketingTest, HashFunctionVectors) {
  EXPECT_EQ(static_cast<uint32_t>(FlussHash(kFox)), 0x1BC6F880u);
  EXPECT_EQ(static_cast<uint32_t>(FlussHash(kFox, 0)), 0x5FD20A20u);
  EXPECT_EQ(static_cast<uint32_t>(FlussHash("")), 0x087FCD5Cu);
  EXPECT_EQ(static_cast<uint32_t>(FlussHash("", 0)), 0u);
  EXPECT_EQ(static_cast<uint32_t>(FlussHash("", 0xFFFFFFFFu)), 0x81F16F39u);

  EXPECT_EQ(static_cast<uint32_t>(SecondaryMix(0)), 0x2362F9DEu);
  EXPECT_EQ(static_cast<uint32_t>(SecondaryMix(42)), 0x43A46E1Du);
  EXPECT_EQ(static_cast<uint32_t>(SecondaryMix(-77)), 0x2EEB27DEu);

  EXPECT_EQ(static_cast<uint32_t>(Murmur3X86_32(kFox)), 0x2E4FF723u);
  EXPECT_EQ(static_cast<uint32_t>(Murmur3X86_32(kFox, 0x9747B28Cu)), 0x2FA826CDu);
  EXPECT_EQ(static_cast<uint32_t>(Murmur3X86_32("", 1)), 0x514E28B7u);
  EXPECT_EQ(static_cast<uint32_t>(Murmur3X86_32("", 0xFFFFFFFFu)), 0x81F16F39u);
  EXPECT_EQ(Murmur3X86_32(""), 0);
}

// fluss-formats 8.2, Iceberg spec cross-check and IcebergBucketingFunctionTest inputs.
TEST(BucketingTest, IcebergHashesAndBuckets) {
  EXPECT_EQ(Murmur3X86_32(LittleEndian64(34)), 2017239379);
  EXPECT_EQ(Murmur3X86_32("iceberg"), 1210000089);
  EXPECT_EQ(Murmur3X86_32(Hex("00010203")), -188683207);
  EXPECT_EQ(Murmur3X86_32(Hex("058c")), -500754589);

  EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, LittleEndian64(42), 10), 6);
  EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, LittleEndian64(1234567890123456789LL), 10), 9);
  EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, "Hello Iceberg, Fluss this side!", 10), 1);
  EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, Hex("3039"), 10), 8);
  EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, LittleEndian64(19655), 10), 9);
  EXPECT_EQ(Bucket(DataLakeFormat::kIceberg, LittleEndian64(34200000LL * 1000), 10), 9);
}

// fluss-formats 8.3: Java sign-extends tail bytes >= 0x80 (fluss-rust does not); we match Java.
TEST(BucketingTest, TailBytesAreSignExtendedLikeJava) {
  struct Case {
    const char* hex;
    uint32_t hash;
    int32_t bucket16;
  };
  const Case cases[] = {
      {"ff", 0x535B391Cu, 9},
      {"80", 0x2E3E8F7Bu, 14},
      {"c3a9", 0x7E4F00F6u, 6},
      {"01020304c3", 0x8D7B5A68u, 13},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.hex);
    EXPECT_EQ(static_cast<uint32_t>(FlussHash(Hex(c.hex))), c.hash);
    EXPECT_EQ(Bucket(DataLakeFormat::kNone, Hex(c.hex), 16), c.bucket16);
  }
  EXPECT_EQ(static_cast<uint32_t>(FlussHash(Hex("010302"))), 0xFD92890Du);
  EXPECT_EQ(Bucket(DataLakeFormat::kNone, Hex("010302"), 16), 5);
  EXPECT_EQ(Bucket(DataLakeFormat::kPaimon, Hex("010302"), 16), 3);
  EXPECT_EQ(static_cast<uint32_t>(FlussHash(Hex("026132"))), 0x8BE0C34Bu);
  EXPECT_EQ(Bucket(DataLakeFormat::kNone, Hex("026132"), 16), 14);
  EXPECT_EQ(Bucket(DataLakeFormat::kPaimon, Hex("026132"), 16), 5);
  EXPECT_EQ(static_cast<uint32_t>(FlussHash(Hex("000a"))), 0x5B353918u);
  EXPECT_EQ(Bucket(DataLakeFormat::kNone, Hex("000a"), 16), 4);
}

TEST(BucketingTest, GoldenKeyHashesAndBuckets) {
  auto doc = testutil::LoadGolden("keys_and_buckets.json");
  ASSERT_FALSE(doc.is_null());
  ASSERT_EQ(doc["entries"].size(), 21u);
  for (const auto& entry : doc["entries"]) {
    SCOPED_TRACE(entry["id"].get<std::string>());
    ByteBuffer key = Hex(entry["key_hex"].get<std::string>());
    int32_t hash = FlussHash(key);
    EXPECT_EQ(hash, entry["fluss_hash"].get<int32_t>());
    EXPECT_EQ(ToHex(std::string{static_cast<char>(static_cast<uint32_t>(hash) >> 24),
                                static_cast<char>(static_cast<uint32_t>(hash) >> 16),
                                static_cast<char>(static_cast<uint32_t>(hash) >> 8),
                                static_cast<char>(hash)}),
              entry["fluss_hash_hex"].get<std::string>());
    EXPECT_EQ(SecondaryMix(hash), entry["secondary_mix"].get<int32_t>());
    ASSERT_EQ(entry["buckets"].size(), doc["bucket_counts"].size());
    for (const auto& [count, bucket] : entry["buckets"].items()) {
      EXPECT_EQ(Bucket(DataLakeFormat::kNone, key, std::stoi(count)), bucket.get<int32_t>())
          << "buckets " << count;
      EXPECT_EQ(Bucket(DataLakeFormat::kLance, key, std::stoi(count)), bucket.get<int32_t>());
    }
  }
}

TEST(BucketingTest, GoldenRawKeyBuckets) {
  auto doc = testutil::LoadGolden("keys_and_buckets.json");
  ASSERT_EQ(doc["raw_key_buckets"].size(), 10u);
  for (const auto& entry : doc["raw_key_buckets"]) {
    SCOPED_TRACE(entry["description"].get<std::string>());
    ByteBuffer key = Hex(entry["key_hex"].get<std::string>());
    EXPECT_EQ(FlussHash(key), entry["fluss_hash"].get<int32_t>());
    const std::pair<const char*, DataLakeFormat> functions[] = {
        {"fluss_buckets", DataLakeFormat::kNone},
        {"paimon_buckets", DataLakeFormat::kPaimon},
        {"iceberg_buckets", DataLakeFormat::kIceberg}};
    for (const auto& [name, format] : functions) {
      ASSERT_TRUE(entry.contains(name)) << name;
      for (const auto& [count, bucket] : entry[name].items()) {
        EXPECT_EQ(Bucket(format, key, std::stoi(count)), bucket.get<int32_t>())
            << name << " " << count;
      }
    }
  }
}

TEST(BucketingTest, RefusesEmptyKeysAndNonPositiveCounts) {
  EXPECT_EQ(BucketingFunction(DataLakeFormat::kNone).Bucket("", 4).status().code(),
            ErrorCode::kCorruptRecord);
  EXPECT_EQ(BucketingFunction(DataLakeFormat::kIceberg).Bucket("", 4).status().code(),
            ErrorCode::kCorruptRecord);
  // Paimon hashes an empty key like any other.
  EXPECT_TRUE(BucketingFunction(DataLakeFormat::kPaimon).Bucket("", 4).ok());
  EXPECT_EQ(BucketingFunction(DataLakeFormat::kNone).Bucket("a", 0).status().code(),
            ErrorCode::kInvalidTable);
  EXPECT_FALSE(BucketingFunction(DataLakeFormat::kPaimon).Bucket("a", -3).ok());
}

TEST(BucketingTest, DataLakeFormatNames) {
  EXPECT_EQ(*ParseDataLakeFormat("PAIMON"), DataLakeFormat::kPaimon);
  EXPECT_EQ(*ParseDataLakeFormat("iceberg"), DataLakeFormat::kIceberg);
  EXPECT_EQ(*ParseDataLakeFormat("Lance"), DataLakeFormat::kLance);
  EXPECT_EQ(*ParseDataLakeFormat(""), DataLakeFormat::kNone);
  EXPECT_EQ(ParseDataLakeFormat("hudi").status().code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(DataLakeFormatName(DataLakeFormat::kIceberg), "iceberg");
}

}  // namespace
}  // namespace strom::record
