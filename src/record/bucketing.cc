#include "record/bucketing.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <string>

namespace strom::record {
namespace {

constexpr uint32_t kC1 = 0xCC9E2D51u;
constexpr uint32_t kC2 = 0x1B873593u;

inline uint32_t Rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

inline uint32_t MixK(uint32_t k) {
  k *= kC1;
  k = Rotl(k, 15);
  return k * kC2;
}

inline uint32_t MixH(uint32_t h, uint32_t k) {
  h ^= k;
  h = Rotl(h, 13);
  return h * 5 + 0xE6546B64u;
}

inline uint32_t Avalanche(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

inline uint32_t LoadBlock(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // Little-endian hosts only, like the Java code on x86/ARM.
  return v;
}

}  // namespace

Result<DataLakeFormat> ParseDataLakeFormat(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty()) return DataLakeFormat::kNone;
  if (lower == "paimon") return DataLakeFormat::kPaimon;
  if (lower == "iceberg") return DataLakeFormat::kIceberg;
  if (lower == "lance") return DataLakeFormat::kLance;
  return Status(ErrorCode::kInvalidConfig,
                "unsupported table.datalake.format \"" + std::string(name) + "\"");
}

std::string_view DataLakeFormatName(DataLakeFormat format) {
  switch (format) {
    case DataLakeFormat::kNone: return "";
    case DataLakeFormat::kPaimon: return "paimon";
    case DataLakeFormat::kIceberg: return "iceberg";
    case DataLakeFormat::kLance: return "lance";
  }
  return "";
}

int32_t FlussHash(ByteView bytes, uint32_t seed) {
  uint32_t h = seed;
  size_t aligned = bytes.size() & ~size_t{3};
  for (size_t i = 0; i < aligned; i += 4) h = MixH(h, MixK(LoadBlock(bytes.data() + i)));
  for (size_t i = aligned; i < bytes.size(); ++i) {
    // Java reads the tail as signed bytes widened to int.
    auto k = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(bytes[i])));
    h = MixH(h, MixK(k));
  }
  h ^= static_cast<uint32_t>(bytes.size());
  return static_cast<int32_t>(Avalanche(h));
}

int32_t SecondaryMix(int32_t code) {
  uint32_t h = MixK(static_cast<uint32_t>(code));
  h = Rotl(h, 13);
  h = h * 5 + 0xE6546B64u;
  h ^= 4;
  auto mixed = static_cast<int32_t>(Avalanche(h));
  if (mixed >= 0) return mixed;
  if (mixed != std::numeric_limits<int32_t>::min()) return -mixed;
  return 0;
}

int32_t Murmur3X86_32(ByteView bytes, uint32_t seed) {
  uint32_t h = seed;
  size_t aligned = bytes.size() & ~size_t{3};
  for (size_t i = 0; i < aligned; i += 4) h = MixH(h, MixK(LoadBlock(bytes.data() + i)));
  size_t tail = bytes.size() - aligned;
  if (tail > 0) {
    uint32_t k = 0;
    for (size_t i = 0; i < tail; ++i) {
      k |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[aligned + i])) << (8 * i);
    }
    h ^= MixK(k);
  }
  h ^= static_cast<uint32_t>(bytes.size());
  return static_cast<int32_t>(Avalanche(h));
}

Result<int32_t> BucketingFunction::Bucket(ByteView key, int32_t num_buckets) const {
  if (num_buckets <= 0) {
    return Status(ErrorCode::kInvalidTable,
                  "bucket count must be positive, got " + std::to_string(num_buckets));
  }
  switch (format_) {
    case DataLakeFormat::kNone:
    case DataLakeFormat::kLance:
      if (key.empty()) return Status(ErrorCode::kCorruptRecord, "bucket key must not be empty");
      return SecondaryMix(FlussHash(key)) % num_buckets;
    case DataLakeFormat::kPaimon: {
      int32_t r = FlussHash(key) % num_buckets;
      return r < 0 ? -r : r;
    }
    case DataLakeFormat::kIceberg:
      if (key.empty()) return Status(ErrorCode::kCorruptRecord, "bucket key must not be empty");
      return (Murmur3X86_32(key) & 0x7FFFFFFF) % num_buckets;
  }
  return Status(ErrorCode::kInvalidConfig, "unknown data lake format");
}

}  // namespace strom::record
