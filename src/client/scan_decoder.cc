#include "client/scan_decoder.h"

#include <algorithm>
#include <set>

#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/log_record_batch.h"

namespace strom::client {

Result<int64_t> NextFetchOffset(ByteView records, int64_t fallback) {
  record::LogRecordBatchIterator it(records);
  int64_t next = fallback;
  for (;;) {
    STROM_ASSIGN_OR_RETURN(auto batch, it.Next());
    if (!batch) break;
    next = std::max(next, batch->next_offset().value());
  }
  return next;
}

Result<std::unique_ptr<ScanDecoder>> ScanDecoder::Create(
    const TableInfo& info, std::optional<std::vector<size_t>> projection, bool check_crc) {
  std::unique_ptr<ScanDecoder> decoder(new ScanDecoder());
  decoder->schema_ = info.schema();
  decoder->schema_id_ = info.schema_id;
  decoder->table_name_ = info.path.ToString();
  STROM_ASSIGN_OR_RETURN(decoder->format_, info.log_format());
  decoder->check_crc_ = check_crc;
  const Schema& schema = info.schema();
  if (projection) {
    if (projection->empty()) {
      return MakeError(ErrorCode::kInvalidColumnProjection, "the projection has no column");
    }
    std::set<size_t> seen;
    for (size_t index : *projection) {
      if (index >= schema.column_count()) {
        return MakeError(ErrorCode::kInvalidColumnProjection,
                         "column index {} is out of range: table {} has {} columns", index,
                         info.path.ToString(), schema.column_count());
      }
      if (!seen.insert(index).second) {
        return MakeError(ErrorCode::kInvalidColumnProjection,
                         "column {} appears twice in the projection",
                         schema.column(index).name);
      }
    }
    decoder->projection_ = *projection;
    for (size_t index : seen) decoder->projected_fields_.push_back(static_cast<int32_t>(index));
    decoder->server_side_projection_ = decoder->format_ == LogFormat::kArrow;
  } else {
    for (size_t i = 0; i < schema.column_count(); ++i) decoder->projection_.push_back(i);
  }
  for (size_t index : decoder->projection_) {
    decoder->names_.push_back(schema.column(index).name);
    decoder->types_.push_back(schema.column(index).type);
  }
  return decoder;
}

Result<const ScanDecoder::Plan*> ScanDecoder::PlanFor(SchemaId schema_id,
                                                      const SchemaFetcher& fetch_schema) {
  auto it = plans_.find(schema_id.value());
  if (it != plans_.end()) return &it->second;
  Plan plan;
  if (schema_id == schema_id_) {
    const DataType row_type = schema_.RowType();
    if (server_side_projection_) {
      std::vector<record::DataField> fields;
      for (int32_t index : projected_fields_) {
        fields.push_back(row_type.fields()[static_cast<size_t>(index)]);
      }
      plan.decode_type = DataType::Row(std::move(fields));
      for (size_t index : projection_) {
        auto pos = std::lower_bound(projected_fields_.begin(), projected_fields_.end(),
                                    static_cast<int32_t>(index));
        plan.output_map.push_back(static_cast<int32_t>(pos - projected_fields_.begin()));
      }
    } else {
      plan.decode_type = row_type;
      for (size_t index : projection_) plan.output_map.push_back(static_cast<int32_t>(index));
    }
  } else {
    if (server_side_projection_) {
      return MakeError(ErrorCode::kSchemaNotExist,
                       "table {} holds batches of schema {} (its schema is {}); projected scans "
                       "of older schemas are not supported, scan without a projection",
                       table_name_, schema_id, schema_id_);
    }
    if (!fetch_schema) {
      return MakeError(ErrorCode::kSchemaNotExist, "schema {} of table {} is unknown", schema_id,
                       table_name_);
    }
    STROM_ASSIGN_OR_RETURN(Schema batch_schema, fetch_schema(schema_id));
    plan.decode_type = batch_schema.RowType();
    for (const std::string& name : names_) {
      std::optional<size_t> index = batch_schema.ColumnIndex(name);
      plan.output_map.push_back(index ? static_cast<int32_t>(*index) : -1);
    }
  }
  for (const auto& field : plan.decode_type.fields()) plan.field_types.push_back(field.type);
  return &plans_.emplace(schema_id.value(), std::move(plan)).first->second;
}

Result<int64_t> ScanDecoder::Decode(BucketId bucket, ByteView records, int64_t start_offset,
                                    const SchemaFetcher& fetch_schema,
                                    std::deque<ScanRecord>* out) {
  record::LogRecordBatchIterator it(records);
  int64_t next_offset = start_offset;
  const size_t columns = projection_.size();
  for (;;) {
    STROM_ASSIGN_OR_RETURN(auto maybe_batch, it.Next());
    if (!maybe_batch) break;
    const record::LogRecordBatch& batch = *maybe_batch;
    int64_t base = batch.base_offset().value();
    int64_t batch_next = batch.next_offset().value();
    next_offset = std::max(next_offset, batch_next);
    if (batch_next <= start_offset) continue;  // wholly before the requested offset
    if (batch.record_count() == 0) continue;
    if (check_crc_ && !server_side_projection_) STROM_RETURN_IF_ERROR(batch.ValidateCrc());
    STROM_ASSIGN_OR_RETURN(const Plan* plan, PlanFor(batch.schema_id(), fetch_schema));
    const TimestampMs timestamp = batch.commit_timestamp();
    const int32_t count = batch.record_count();

    if (format_ == LogFormat::kArrow) {
      ByteView body = batch.records();
      ByteView change_types;
      if (!batch.is_append_only()) {
        if (body.size() < static_cast<size_t>(count)) {
          return MakeError(ErrorCode::kCorruptRecord,
                           "batch at offset {} is shorter than its change-type vector", base);
        }
        change_types = body.substr(0, static_cast<size_t>(count));
        body.remove_prefix(static_cast<size_t>(count));
      }
      STROM_ASSIGN_OR_RETURN(record::arrow::DecodedArrowBatch decoded,
                             arrow_reader_.Read(body, plan->decode_type));
      if (decoded.num_rows() != count) {
        return MakeError(ErrorCode::kCorruptRecord,
                         "batch at offset {} declares {} records but its Arrow body holds {}",
                         base, count, decoded.num_rows());
      }
      for (int32_t i = 0; i < count; ++i) {
        int64_t offset = base + i;
        if (offset < start_offset) continue;
        ScanRecord record;
        record.bucket = bucket;
        record.offset = LogOffset(offset);
        record.timestamp = timestamp;
        if (!change_types.empty()) {
          STROM_ASSIGN_OR_RETURN(record.change_type,
                                 record::ChangeTypeFromByte(static_cast<uint8_t>(change_types[i])));
        }
        record.row.resize(columns);
        for (size_t j = 0; j < columns; ++j) {
          int32_t source = plan->output_map[j];
          if (source >= 0) record.row[j] = decoded.column(static_cast<size_t>(source)).GetDatum(i);
        }
        out->push_back(std::move(record));
      }
    } else {
      record::RowRecordIterator rows(batch);
      for (int32_t i = 0;; ++i) {
        STROM_ASSIGN_OR_RETURN(auto row_record, rows.Next());
        if (!row_record) break;
        int64_t offset = base + i;
        if (offset < start_offset) continue;
        Status decoded = format_ == LogFormat::kIndexed
                             ? record::DecodeIndexedRow(plan->field_types, row_record->row, &scratch_)
                             : record::DecodeCompactedRow(plan->field_types, row_record->row,
                                                          &scratch_);
        STROM_RETURN_IF_ERROR(decoded);
        ScanRecord record;
        record.bucket = bucket;
        record.offset = LogOffset(offset);
        record.timestamp = timestamp;
        record.change_type = row_record->change_type;
        record.row.resize(columns);
        for (size_t j = 0; j < columns; ++j) {
          int32_t source = plan->output_map[j];
          if (source >= 0) record.row[j] = std::move(scratch_[static_cast<size_t>(source)]);
        }
        out->push_back(std::move(record));
      }
    }
  }
  return next_offset;
}

}  // namespace strom::client
