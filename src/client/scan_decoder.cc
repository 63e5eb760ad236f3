#include "client/scan_decoder.h"

#include <algorithm>
#include <set>

#include "common/check.h"
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

Result<int64_t> ScanDecoder::Decode(BucketId bucket, std::shared_ptr<const void> owner,
                                    ByteView records, int64_t start_offset,
                                    const SchemaFetcher& fetch_schema,
                                    std::deque<ScanBatch>* out) {
  record::LogRecordBatchIterator it(records);
  int64_t next_offset = start_offset;
  const size_t columns = projection_.size();
  std::vector<ScanBatch> decoded_batches;
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
    const int32_t count = batch.record_count();
    auto data = std::make_shared<DecodedLogBatch>();
    data->records = owner;

    ScanBatch out_batch;
    out_batch.bucket_ = bucket;
    out_batch.timestamp_ = batch.commit_timestamp();
    out_batch.columns_.resize(columns);
    if (format_ == LogFormat::kArrow) {
      ByteView body = batch.records();
      if (!batch.is_append_only()) {
        if (body.size() < static_cast<size_t>(count)) {
          return MakeError(ErrorCode::kCorruptRecord,
                           "batch at offset {} is shorter than its change-type vector", base);
        }
        data->change_types.assign(body.begin(), body.begin() + count);
        body.remove_prefix(static_cast<size_t>(count));
      }
      STROM_ASSIGN_OR_RETURN(data->arrow, arrow_reader_.Read(body, plan->decode_type));
      if (data->arrow.num_rows() != count) {
        return MakeError(ErrorCode::kCorruptRecord,
                         "batch at offset {} declares {} records but its Arrow body holds {}",
                         base, count, data->arrow.num_rows());
      }
      for (size_t j = 0; j < columns; ++j) {
        ScanBatch::Column& column = out_batch.columns_[j];
        const int32_t source = plan->output_map[j];
        if (source >= 0) {
          column.arrow = &data->arrow.column(static_cast<size_t>(source));
          column.root = column.arrow->type().root();
        } else {
          column.root = types_[j].root();
        }
      }
    } else {
      data->rows.reserve(static_cast<size_t>(count));
      data->change_types.reserve(static_cast<size_t>(count));
      record::RowRecordIterator rows(batch);
      for (;;) {
        STROM_ASSIGN_OR_RETURN(auto row_record, rows.Next());
        if (!row_record) break;
        Status decoded = format_ == LogFormat::kIndexed
                             ? record::DecodeIndexedRow(plan->field_types, row_record->row, &scratch_)
                             : record::DecodeCompactedRow(plan->field_types, row_record->row,
                                                          &scratch_);
        STROM_RETURN_IF_ERROR(decoded);
        GenericRow& row = data->rows.emplace_back(columns);
        for (size_t j = 0; j < columns; ++j) {
          int32_t source = plan->output_map[j];
          if (source >= 0) row[j] = std::move(scratch_[static_cast<size_t>(source)]);
        }
        data->change_types.push_back(static_cast<uint8_t>(row_record->change_type));
      }
      if (data->rows.size() != static_cast<size_t>(count)) {
        return MakeError(ErrorCode::kCorruptRecord,
                         "batch at offset {} declares {} records but holds {}", base, count,
                         data->rows.size());
      }
      for (size_t j = 0; j < columns; ++j) {
        ScanBatch::Column& column = out_batch.columns_[j];
        const int32_t source = plan->output_map[j];
        column.rows = data->rows.data();
        column.index = j;
        column.root = source >= 0 ? plan->field_types[static_cast<size_t>(source)].root()
                                  : types_[j].root();
      }
    }
    for (uint8_t byte : data->change_types) {
      if (!record::IsValidChangeTypeByte(byte)) {
        return MakeError(ErrorCode::kCorruptRecord,
                         "batch at offset {} holds an unknown change type {}", base, byte);
      }
    }
    // Records before the requested offset (the fetch started inside this batch) are skipped.
    const int64_t skip = std::clamp<int64_t>(start_offset - base, 0, count);
    out_batch.first_ = static_cast<size_t>(skip);
    out_batch.count_ = static_cast<size_t>(count - skip);
    out_batch.base_offset_ = base + skip;
    if (!data->change_types.empty()) out_batch.change_types_ = data->change_types.data();
    if (out_batch.count_ == 0) continue;
    out_batch.data_ = std::move(data);
    decoded_batches.push_back(std::move(out_batch));
  }
  for (ScanBatch& b : decoded_batches) out->push_back(std::move(b));
  return next_offset;
}

}  // namespace strom::client

namespace strom {

void ScanBatch::TypeMismatch(size_t column, TypeRoot wanted) const {
  STROM_CHECK(false, "ScanBatch: column {} has type root {}, not readable as type root {}",
              column, static_cast<int>(columns_[column].root), static_cast<int>(wanted));
  __builtin_unreachable();
}

Datum ScanBatch::GetDatum(size_t row, size_t column) const {
  const Column& c = columns_[column];
  if (c.arrow != nullptr) return c.arrow->GetDatum(static_cast<int64_t>(first_ + row));
  if (c.rows == nullptr) return Datum();
  return Cell(c, row);
}

GenericRow ScanBatch::GetRow(size_t row) const {
  GenericRow out;
  out.reserve(columns_.size());
  for (size_t j = 0; j < columns_.size(); ++j) out.push_back(GetDatum(row, j));
  return out;
}

ScanRecord ScanBatch::GetRecord(size_t row) const {
  ScanRecord record;
  record.bucket = bucket_;
  record.offset = offset(row);
  record.timestamp = timestamp_;
  record.change_type = change_type(row);
  record.row = GetRow(row);
  return record;
}

ScanBatch ScanBatch::Slice(size_t from, size_t count) const {
  ScanBatch out = *this;
  from = std::min(from, count_);
  out.first_ = first_ + from;
  out.base_offset_ = base_offset_ + static_cast<int64_t>(from);
  out.count_ = std::min(count, count_ - from);
  return out;
}

}  // namespace strom
