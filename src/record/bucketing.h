#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace strom::record {

/// The data lake a table is tiered to (`table.datalake.format`); it decides how keys are
/// encoded for bucketing and which bucket function is used.
enum class DataLakeFormat : uint8_t {
  kNone,
  kPaimon,
  kIceberg,
  kLance,
};

/// Reads `table.datalake.format` (case-insensitive "paimon", "iceberg", "lance"; an empty
/// string is kNone). Unknown names are kInvalidConfig.
Result<DataLakeFormat> ParseDataLakeFormat(std::string_view name);
std::string_view DataLakeFormatName(DataLakeFormat format);

/// Fluss's Murmur-style hash (`MurmurHashUtils.hashBytes`): 4-byte little-endian blocks
/// mixed as in Murmur3_x86_32, but each of the 0-3 tail bytes is sign-extended and mixed
/// on its own like a block, then the length and the final avalanche. Seed 42 by default.
int32_t FlussHash(ByteView bytes, uint32_t seed = 42);

/// Second mixing round Fluss applies to a hash before taking it modulo the bucket count
/// (`MathUtils.murmurHash`); the result is never negative (INT32_MIN maps to 0).
int32_t SecondaryMix(int32_t code);

/// Standard Murmur3_x86_32 (Guava `murmur3_32_fixed`, what Iceberg buckets by).
int32_t Murmur3X86_32(ByteView bytes, uint32_t seed = 0);

/// Maps encoded bucket-key bytes to a bucket (`BucketingFunction.of(lakeFormat)`):
///   none, lance: SecondaryMix(FlussHash(key)) % n; an empty key is refused;
///   paimon:      |FlussHash(key) % n| with C/Java remainder semantics;
///   iceberg:     (Murmur3X86_32(key) & 0x7FFFFFFF) % n; an empty key is refused.
/// Stateless value type; safe to share between threads.
class BucketingFunction {
 public:
  explicit BucketingFunction(DataLakeFormat format) : format_(format) {}

  DataLakeFormat format() const { return format_; }

  /// Bucket of `key` among `num_buckets` (which must be positive: kInvalidTable otherwise);
  /// an empty key where the function refuses one is kCorruptRecord.
  Result<int32_t> Bucket(ByteView key, int32_t num_buckets) const;

 private:
  DataLakeFormat format_;
};

}  // namespace strom::record
