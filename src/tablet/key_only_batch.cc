#include "tablet/key_only_batch.h"

#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/kv_record_batch.h"

namespace strom::tablet {

Result<ByteBuffer> BuildKeyOnlyBatch(const metadata::TableInfo& table,
                                     const kv::KvTableConfig& config,
                                     std::span<const ByteView> keys) {
  if (config.key_encoding != record::KeyEncoding::kCompacted) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "Lookup with insert_if_not_exists on a table whose keys use a data lake's "
                     "encoding is not supported by this Strom server.");
  }
  const record::Schema& schema = table.schema();
  const std::vector<size_t> key_indexes = schema.PrimaryKeyIndexes();
  std::vector<record::DataType> key_types;
  for (size_t index : key_indexes) key_types.push_back(schema.column(index).type);
  // Rows are encoded with every column nullable: a NOT NULL column left null is then refused
  // by the PutKv target-column check with Fluss's INVALID_TARGET_COLUMN, not here.
  std::vector<record::DataType> field_types;
  for (const record::DataType& type : schema.FieldTypes()) {
    field_types.push_back(type.WithNullable(true));
  }

  ByteBuffer out;
  record::KvBatchParams params;
  params.schema_id = table.schema_id;
  record::KvRecordBatchBuilder builder(&out, params);
  // A compacted key is a CompactedRow of the key columns without its null bitset: decode it
  // as one behind an all-zero bitset.
  const ByteBuffer no_nulls((key_types.size() + 7) / 8, '\0');
  ByteBuffer padded;
  record::GenericRow key_row;
  ByteBuffer value;
  for (ByteView key : keys) {
    padded.assign(no_nulls);
    padded.append(key);
    Status decoded = record::DecodeCompactedRow(key_types, padded, &key_row);
    if (!decoded.ok()) {
      return MakeError(ErrorCode::kCorruptRecord,
                       "Lookup key of {} bytes is not an encoded primary key of table {}: {}",
                       key.size(), table.path, decoded.message());
    }
    record::GenericRow row(field_types.size());
    for (size_t i = 0; i < key_indexes.size(); ++i) row[key_indexes[i]] = std::move(key_row[i]);
    value.clear();
    Status encoded = config.kv_format == kv::KvFormat::kIndexed
                         ? record::IndexedRowCodec(field_types).Encode(row, &value)
                         : record::CompactedRowCodec(field_types).Encode(row, &value);
    STROM_RETURN_IF_ERROR(encoded);
    STROM_RETURN_IF_ERROR(builder.AppendUpsert(key, value));
  }
  builder.Finish();
  return out;
}

}  // namespace strom::tablet
