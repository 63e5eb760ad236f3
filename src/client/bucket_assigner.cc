#include "client/bucket_assigner.h"

#include <algorithm>

#include "common/status.h"

namespace strom::client {

namespace {
// Java's MathUtils.toPositive: clears the sign bit.
int32_t ToPositive(uint32_t value) { return static_cast<int32_t>(value & 0x7fffffffu); }
}  // namespace

Result<std::unique_ptr<HashBucketAssigner>> HashBucketAssigner::Create(
    const DataType& row_type, const std::vector<std::string>& bucket_keys,
    record::DataLakeFormat lake_format, int32_t num_buckets) {
  if (num_buckets <= 0) {
    return MakeError(ErrorCode::kInvalidTable, "bucket count {} is not positive", num_buckets);
  }
  STROM_ASSIGN_OR_RETURN(
      auto encoder,
      record::KeyEncoder::Create(record::BucketKeyEncoding(lake_format), row_type, bucket_keys));
  return std::unique_ptr<HashBucketAssigner>(new HashBucketAssigner(
      std::move(encoder), record::BucketingFunction(lake_format), num_buckets));
}

Result<BucketId> HashBucketAssigner::Assign(const GenericRow& row,
                                            std::span<const BucketId> /*available*/) {
  scratch_.clear();
  STROM_RETURN_IF_ERROR(encoder_->Encode(row, &scratch_));
  STROM_ASSIGN_OR_RETURN(int32_t bucket, function_.Bucket(scratch_, num_buckets_));
  return BucketId(bucket);
}

StickyBucketAssigner::StickyBucketAssigner(int32_t num_buckets, uint64_t seed)
    : num_buckets_(std::max(num_buckets, 1)), rng_(seed) {}

Result<BucketId> StickyBucketAssigner::Assign(const GenericRow& /*row*/,
                                              std::span<const BucketId> available) {
  if (current_ < 0) current_ = Next(-1, available);
  return BucketId(current_);
}

void StickyBucketAssigner::OnNewBatch(BucketId previous, std::span<const BucketId> available) {
  // Only the bucket that filled up moves the sticky bucket (another thread may already have
  // moved it, as in Java's compare-and-set).
  if (current_ < 0 || current_ == previous.value()) current_ = Next(current_, available);
}

int32_t StickyBucketAssigner::Next(int32_t previous, std::span<const BucketId> available) {
  if (available.empty()) return ToPositive(static_cast<uint32_t>(rng_())) % num_buckets_;
  if (available.size() == 1) return available[0].value();
  int32_t next = previous;
  while (next < 0 || next == previous) {
    size_t index = static_cast<size_t>(ToPositive(static_cast<uint32_t>(rng_()))) %
                   available.size();
    next = available[index].value();
  }
  return next;
}

RoundRobinBucketAssigner::RoundRobinBucketAssigner(int32_t num_buckets, uint64_t seed)
    : num_buckets_(std::max(num_buckets, 1)),
      counter_(static_cast<uint32_t>(std::mt19937_64(seed)())) {}

Result<BucketId> RoundRobinBucketAssigner::Assign(const GenericRow& /*row*/,
                                                  std::span<const BucketId> available) {
  int32_t index = ToPositive(counter_++);
  if (available.empty()) return BucketId(index % num_buckets_);
  return available[static_cast<size_t>(index) % available.size()];
}

Result<std::unique_ptr<BucketAssigner>> MakeBucketAssigner(const TableInfo& info,
                                                           NoKeyAssigner no_key_assigner,
                                                           uint64_t seed) {
  int32_t num_buckets = info.num_buckets();
  if (!info.bucket_keys().empty()) {
    const std::string* lake = info.descriptor.Property("table.datalake.format");
    record::DataLakeFormat lake_format = record::DataLakeFormat::kNone;
    if (lake != nullptr) {
      STROM_ASSIGN_OR_RETURN(lake_format, record::ParseDataLakeFormat(*lake));
    }
    STROM_ASSIGN_OR_RETURN(auto assigner,
                           HashBucketAssigner::Create(info.schema().RowType(), info.bucket_keys(),
                                                      lake_format, num_buckets));
    return std::unique_ptr<BucketAssigner>(std::move(assigner));
  }
  if (no_key_assigner == NoKeyAssigner::kRoundRobin) {
    return std::unique_ptr<BucketAssigner>(
        std::make_unique<RoundRobinBucketAssigner>(num_buckets, seed));
  }
  return std::unique_ptr<BucketAssigner>(std::make_unique<StickyBucketAssigner>(num_buckets, seed));
}

}  // namespace strom::client
