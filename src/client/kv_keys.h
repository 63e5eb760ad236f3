#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/bucket_assigner.h"
#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "record/bucketing.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "record/key_encoder.h"
#include "strom/types.h"

namespace strom::client {

/// `table.datalake.format` of `info` (kNone when unset). kInvalidConfig for an unknown name.
Result<record::DataLakeFormat> TableLakeFormat(const TableInfo& info);

/// The ROW type of the columns `names` of `info`'s schema, in that order. kInvalidTable
/// naming the first column the table does not have.
Result<DataType> ProjectRowType(const TableInfo& info, const std::vector<std::string>& names);

/// Turns rows into the key bytes and bucket a primary-key table expects, exactly as the Fluss
/// Java client does (`KeyEncoder.ofPrimaryKeyEncoder` / `ofBucketKeyEncoder`, formats spec
/// §6): the stored key is `key_columns` encoded with the table's primary-key encoding (which
/// depends on the data lake format, `table.kv.format-version` and whether the bucket key is
/// the whole primary key); the bucket is the bucketing function of the lake format over the
/// bucket key encoded with the lake's bucket-key encoding.
///
/// The input rows have the ROW type given at creation: full table rows for writers, the key
/// columns only for lookups, the bucket-key columns for prefix lookups.
///
/// Immutable after Create(); Encode* are const but use no shared scratch, so one KvKeyCodec
/// may be used from several threads.
class KvKeyCodec {
 public:
  /// `key_columns`: the primary key for writers and point lookups, the bucket key for prefix
  /// lookups. kNonPrimaryKeyTable for a log table, kInvalidTable for a partitioned table or
  /// columns `row_type` lacks, kInvalidConfig for unknown table options.
  static Result<std::shared_ptr<const KvKeyCodec>> Create(
      const TableInfo& info, const DataType& row_type, const std::vector<std::string>& key_columns);

  /// Appends the key bytes of `row` to `key`. kCorruptRecord for a null key column.
  Status EncodeKey(const GenericRow& row, ByteBuffer* key) const {
    return key_encoder_->Encode(row, key);
  }
  /// The bucket of `row`; `key` must be what EncodeKey gave for it (reused when the bucket
  /// key bytes equal the key bytes).
  Result<BucketId> Bucket(const GenericRow& row, ByteView key) const;

  /// The encoder of the stored key, over rows of the creation row type.
  const std::shared_ptr<const record::KeyEncoder>& key_encoder() const { return key_encoder_; }

 private:
  KvKeyCodec() : bucketing_(record::DataLakeFormat::kNone) {}

  std::shared_ptr<const record::KeyEncoder> key_encoder_;
  // Null when the bucket-key bytes are the key bytes.
  std::unique_ptr<record::KeyEncoder> bucket_encoder_;
  record::BucketingFunction bucketing_;
  int32_t num_buckets_ = 1;
};

/// The bucket of a full row written to a primary-key table (what the Java client's upsert
/// writer computes per record). Not thread-safe (a scratch buffer); the accumulator calls it
/// under its lock.
class KvBucketAssigner final : public BucketAssigner {
 public:
  explicit KvBucketAssigner(std::shared_ptr<const KvKeyCodec> codec) : codec_(std::move(codec)) {}

  Result<BucketId> Assign(const GenericRow& row, std::span<const BucketId> available) override;

 private:
  std::shared_ptr<const KvKeyCodec> codec_;
  ByteBuffer scratch_;
};

}  // namespace strom::client
