#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "record/bucketing.h"
#include "record/datum.h"
#include "record/key_encoder.h"
#include "strom/config.h"
#include "strom/types.h"

namespace strom::client {

/// Chooses the bucket of each appended row (Fluss `BucketAssigner`).
///
/// Implementations are not thread-safe: the record accumulator calls them under its lock.
class BucketAssigner {
 public:
  virtual ~BucketAssigner() = default;

  /// The bucket for `row`. `available` lists the buckets that currently have a leader (may
  /// be empty when metadata is not known yet). Fails only for a row whose bucket key cannot
  /// be encoded (kCorruptRecord, e.g. a null key value).
  virtual Result<BucketId> Assign(const GenericRow& row, std::span<const BucketId> available) = 0;

  /// True when a row that does not fit its bucket's open batch should be re-assigned
  /// after OnNewBatch (sticky: the row goes to the next bucket instead of opening a new
  /// batch in the old one).
  virtual bool AbortIfBatchFull() const { return false; }

  /// Called when the batch of `previous` filled up.
  virtual void OnNewBatch(BucketId previous, std::span<const BucketId> available) {}
};

/// Hash of the bucket-key columns: the table's key encoder over the bucket keys, then its
/// bucketing function (Fluss `HashBucketAssigner`; formats spec §6.1-6.3).
class HashBucketAssigner final : public BucketAssigner {
 public:
  /// kInvalidTable when the bucket keys are not columns of `row_type` or cannot be encoded.
  static Result<std::unique_ptr<HashBucketAssigner>> Create(
      const DataType& row_type, const std::vector<std::string>& bucket_keys,
      record::DataLakeFormat lake_format, int32_t num_buckets);

  Result<BucketId> Assign(const GenericRow& row, std::span<const BucketId> available) override;

 private:
  HashBucketAssigner(std::unique_ptr<record::KeyEncoder> encoder,
                     record::BucketingFunction function, int32_t num_buckets)
      : encoder_(std::move(encoder)), function_(function), num_buckets_(num_buckets) {}

  std::unique_ptr<record::KeyEncoder> encoder_;
  record::BucketingFunction function_;
  int32_t num_buckets_;
  ByteBuffer scratch_;
};

/// Fluss `StickyBucketAssigner`: every row goes to the current bucket until that bucket's
/// batch fills up; then a random available bucket other than the previous one becomes
/// current (random over all buckets when none is known to be available).
class StickyBucketAssigner final : public BucketAssigner {
 public:
  StickyBucketAssigner(int32_t num_buckets, uint64_t seed);

  Result<BucketId> Assign(const GenericRow& row, std::span<const BucketId> available) override;
  bool AbortIfBatchFull() const override { return true; }
  void OnNewBatch(BucketId previous, std::span<const BucketId> available) override;

  /// The current bucket, or -1 before the first row.
  int32_t current() const { return current_; }

 private:
  int32_t Next(int32_t previous, std::span<const BucketId> available);

  int32_t num_buckets_;
  int32_t current_ = -1;
  std::mt19937_64 rng_;
};

/// Fluss `RoundRobinBucketAssigner`: a counter starting at a random value, advanced on every
/// row, indexes the available buckets (all buckets when none is known to be available).
class RoundRobinBucketAssigner final : public BucketAssigner {
 public:
  RoundRobinBucketAssigner(int32_t num_buckets, uint64_t seed);

  Result<BucketId> Assign(const GenericRow& row, std::span<const BucketId> available) override;

 private:
  int32_t num_buckets_;
  uint32_t counter_;
};

/// The assigner Fluss would use for `info`: hash when the table has bucket keys, otherwise
/// the configured no-key assigner.
Result<std::unique_ptr<BucketAssigner>> MakeBucketAssigner(const TableInfo& info,
                                                           NoKeyAssigner no_key_assigner,
                                                           uint64_t seed);

}  // namespace strom::client
