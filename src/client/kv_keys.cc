#include "client/kv_keys.h"

#include <algorithm>

namespace strom::client {

Result<record::DataLakeFormat> TableLakeFormat(const TableInfo& info) {
  const std::string* lake = info.descriptor.Property("table.datalake.format");
  if (lake == nullptr) return record::DataLakeFormat::kNone;
  return record::ParseDataLakeFormat(*lake);
}

Result<DataType> ProjectRowType(const TableInfo& info, const std::vector<std::string>& names) {
  const DataType row_type = info.schema().RowType();
  std::vector<record::DataField> fields;
  for (const std::string& name : names) {
    auto it = std::find_if(row_type.fields().begin(), row_type.fields().end(),
                           [&](const record::DataField& f) { return f.name == name; });
    if (it == row_type.fields().end()) {
      return MakeError(ErrorCode::kInvalidTable, "table {} has no column '{}'",
                       info.path.ToString(), name);
    }
    fields.push_back(*it);
  }
  return DataType::Row(std::move(fields));
}

Result<std::shared_ptr<const KvKeyCodec>> KvKeyCodec::Create(
    const TableInfo& info, const DataType& row_type, const std::vector<std::string>& key_columns) {
  if (!info.HasPrimaryKey()) {
    return MakeError(ErrorCode::kNonPrimaryKeyTable, "table {} has no primary key",
                     info.path.ToString());
  }
  if (info.IsPartitioned()) {
    return MakeError(ErrorCode::kInvalidTable,
                     "table {} is partitioned; this client reads and writes non-partitioned "
                     "primary-key tables",
                     info.path.ToString());
  }
  STROM_ASSIGN_OR_RETURN(record::DataLakeFormat lake, TableLakeFormat(info));
  STROM_ASSIGN_OR_RETURN(int32_t version, info.kv_format_version());
  const bool default_bucket_key = info.IsDefaultBucketKey();
  STROM_ASSIGN_OR_RETURN(record::KeyEncoding encoding,
                         record::PrimaryKeyEncoding(lake, version, default_bucket_key));
  std::shared_ptr<KvKeyCodec> codec(new KvKeyCodec());
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<record::KeyEncoder> key_encoder,
                         record::KeyEncoder::Create(encoding, row_type, key_columns));
  codec->key_encoder_ = std::move(key_encoder);
  const std::vector<std::string> bucket_keys = info.pk_bucket_keys();
  const record::KeyEncoding bucket_encoding = record::BucketKeyEncoding(lake);
  if (bucket_keys != key_columns || bucket_encoding != encoding) {
    STROM_ASSIGN_OR_RETURN(codec->bucket_encoder_,
                           record::KeyEncoder::Create(bucket_encoding, row_type, bucket_keys));
  }
  codec->bucketing_ = record::BucketingFunction(lake);
  codec->num_buckets_ = info.num_buckets();
  return std::shared_ptr<const KvKeyCodec>(std::move(codec));
}

Result<BucketId> KvKeyCodec::Bucket(const GenericRow& row, ByteView key) const {
  if (bucket_encoder_ == nullptr) {
    STROM_ASSIGN_OR_RETURN(int32_t bucket, bucketing_.Bucket(key, num_buckets_));
    return BucketId(bucket);
  }
  ByteBuffer bucket_key;
  STROM_RETURN_IF_ERROR(bucket_encoder_->Encode(row, &bucket_key));
  STROM_ASSIGN_OR_RETURN(int32_t bucket, bucketing_.Bucket(ByteView(bucket_key), num_buckets_));
  return BucketId(bucket);
}

Result<BucketId> KvBucketAssigner::Assign(const GenericRow& row,
                                          std::span<const BucketId> /*available*/) {
  scratch_.clear();
  STROM_RETURN_IF_ERROR(codec_->EncodeKey(row, &scratch_));
  return codec_->Bucket(row, ByteView(scratch_));
}

}  // namespace strom::client
