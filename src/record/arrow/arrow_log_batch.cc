#include "record/arrow/arrow_log_batch.h"

#include <optional>

namespace strom::record::arrow {

Status AppendArrowLogBody(ArrowBatchWriter* writer, std::span<const ChangeType> change_types,
                          ByteBuffer* out) {
  const int64_t rows = writer->num_rows();
  if (!change_types.empty() && static_cast<int64_t>(change_types.size()) != rows) {
    return MakeError(ErrorCode::kCorruptRecord, "{} change types for {} rows",
                     change_types.size(), rows);
  }
  if (rows == 0) return Status::OK();  // header-only batch: no body at all
  const size_t start = out->size();
  out->reserve(start + change_types.size() +
               static_cast<size_t>(writer->EstimatedUncompressedSize()));
  for (ChangeType t : change_types) out->push_back(static_cast<char>(t));
  Status st = writer->Finish(out);
  if (!st.ok()) out->resize(start);
  return st;
}

Result<ByteBuffer> EncodeArrowLogBody(const DataType& row_type, std::span<const GenericRow> rows,
                                      std::span<const ChangeType> change_types,
                                      ArrowCompression compression) {
  STROM_ASSIGN_OR_RETURN(auto writer, ArrowBatchWriter::Create(row_type, compression));
  STROM_RETURN_IF_ERROR(writer->AppendRows(rows));
  ByteBuffer body;
  STROM_RETURN_IF_ERROR(AppendArrowLogBody(writer.get(), change_types, &body));
  return body;
}

Result<ArrowLogBody> DecodeArrowLogBody(ByteView body, int32_t record_count, bool append_only,
                                        const DataType& row_type, ArrowBatchReader* reader) {
  if (record_count < 0) {
    return MakeError(ErrorCode::kCorruptRecord, "record count {} is negative", record_count);
  }
  ArrowLogBody out;
  if (record_count == 0) {
    if (!body.empty()) {
      return MakeError(ErrorCode::kCorruptRecord, "ARROW batch of 0 records has a {}-byte body",
                       body.size());
    }
    return out;
  }
  size_t vector_size = append_only ? 0 : static_cast<size_t>(record_count);
  if (body.size() < vector_size) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "ARROW body of {} bytes cannot hold {} change types", body.size(),
                     record_count);
  }
  out.change_types.resize(static_cast<size_t>(record_count), ChangeType::kAppendOnly);
  for (size_t i = 0; i < vector_size; ++i) {
    uint8_t b = static_cast<uint8_t>(body[i]);
    if (!IsValidChangeTypeByte(b)) {
      return MakeError(ErrorCode::kCorruptRecord, "unknown change type byte {} for record {}", b,
                       i);
    }
    out.change_types[i] = static_cast<ChangeType>(b);
  }
  std::optional<ArrowBatchReader> own_reader;
  if (reader == nullptr) reader = &own_reader.emplace();
  STROM_ASSIGN_OR_RETURN(out.batch, reader->Read(body.substr(vector_size), row_type));
  if (out.batch.num_rows() != record_count) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "ARROW message holds {} rows, the batch header says {}",
                     out.batch.num_rows(), record_count);
  }
  return out;
}

Result<LogRecordBatch> BuildArrowLogBatch(ByteBuffer* out, const LogBatchParams& params,
                                          ArrowBatchWriter* writer,
                                          std::span<const ChangeType> change_types) {
  if (params.append_only != change_types.empty() && writer->num_rows() > 0) {
    return MakeError(ErrorCode::kCorruptRecord, "{}",
                     params.append_only ? "an append-only batch takes no change types"
                                        : "a batch that is not append-only needs change types");
  }
  const int64_t rows = writer->num_rows();
  if (rows > INT32_MAX) return MakeError(ErrorCode::kRecordTooLarge, "{} rows in one batch", rows);
  ByteBuffer body;
  STROM_RETURN_IF_ERROR(AppendArrowLogBody(writer, change_types, &body));
  const size_t start = out->size();
  LogRecordBatchBuilder builder(out, params);
  Status st = builder.SetBody(body, static_cast<int32_t>(rows));
  if (!st.ok()) {
    out->resize(start);
    return st;
  }
  return builder.Finish();
}

Result<LogRecordBatch> BuildArrowLogBatch(ByteBuffer* out, const LogBatchParams& params,
                                          const DataType& row_type,
                                          std::span<const GenericRow> rows,
                                          std::span<const ChangeType> change_types,
                                          ArrowCompression compression) {
  STROM_ASSIGN_OR_RETURN(auto writer, ArrowBatchWriter::Create(row_type, compression));
  STROM_RETURN_IF_ERROR(writer->AppendRows(rows));
  return BuildArrowLogBatch(out, params, writer.get(), change_types);
}

Result<ArrowLogBody> DecodeArrowLogBatch(const LogRecordBatch& batch, const DataType& row_type,
                                         ArrowBatchReader* reader) {
  return DecodeArrowLogBody(batch.records(), batch.record_count(), batch.is_append_only(),
                            row_type, reader);
}

}  // namespace strom::record::arrow
