#include "client/write_batch.h"

#include <algorithm>
#include <cstring>

#include "common/crc32c.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"

namespace strom::client {

// ---- BatchCompletion ----

bool BatchCompletion::Complete(Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return false;
    done_ = true;
    status_ = std::move(status);
  }
  cv_.notify_all();
  return true;
}

Status BatchCompletion::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return done_; });
  return status_;
}

bool BatchCompletion::IsReady() {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

// ---- records builders ----

namespace {

record::LogBatchParams BatchParams(SchemaId schema_id) {
  record::LogBatchParams params;
  params.schema_id = schema_id;
  params.append_only = true;
  return params;
}

class ArrowRecordsBuilder final : public RecordsBuilder {
 public:
  ArrowRecordsBuilder(std::unique_ptr<record::arrow::ArrowBatchWriter> writer, SchemaId schema_id)
      : writer_(std::move(writer)), schema_id_(schema_id) {}

  Status Append(const record::GenericRow& row) override { return writer_->AppendRow(row); }
  int32_t record_count() const override { return static_cast<int32_t>(writer_->num_rows()); }
  int64_t EstimatedSize() const override {
    return static_cast<int64_t>(record::kLogHeaderSizeV0) + writer_->EstimatedUncompressedSize();
  }
  Status Build(ByteBuffer* out) override {
    int32_t count = record_count();
    body_.clear();
    STROM_RETURN_IF_ERROR(writer_->Finish(&body_));
    out->reserve(out->size() + record::kLogHeaderSizeV0 + body_.size());
    record::LogRecordBatchBuilder builder(out, BatchParams(schema_id_));
    STROM_RETURN_IF_ERROR(builder.SetBody(body_, count));
    builder.Finish();
    return Status::OK();
  }

 private:
  std::unique_ptr<record::arrow::ArrowBatchWriter> writer_;
  SchemaId schema_id_;
  ByteBuffer body_;
};

// INDEXED / COMPACTED: the records section is built in place (int32 length, change type,
// row), so Build only prepends the header.
template <typename Codec>
class RowRecordsBuilder final : public RecordsBuilder {
 public:
  RowRecordsBuilder(Codec codec, SchemaId schema_id)
      : codec_(std::move(codec)), schema_id_(schema_id) {}

  Status Append(const record::GenericRow& row) override {
    size_t start = records_.size();
    records_.append(5, '\0');
    Status status = codec_.Encode(row, &records_);
    if (!status.ok()) {
      records_.resize(start);
      return status;
    }
    size_t row_size = records_.size() - start - 5;
    if (row_size + 1 > static_cast<size_t>(INT32_MAX)) {
      records_.resize(start);
      return MakeError(ErrorCode::kRecordTooLarge, "row of {} bytes is too large", row_size);
    }
    StoreI32LE(records_.data() + start, static_cast<int32_t>(row_size + 1));
    records_[start + 4] = static_cast<char>(record::ChangeType::kAppendOnly);
    ++count_;
    return Status::OK();
  }
  int32_t record_count() const override { return count_; }
  int64_t EstimatedSize() const override {
    return static_cast<int64_t>(record::kLogHeaderSizeV0 + records_.size());
  }
  Status Build(ByteBuffer* out) override {
    out->reserve(out->size() + record::kLogHeaderSizeV0 + records_.size());
    record::LogRecordBatchBuilder builder(out, BatchParams(schema_id_));
    STROM_RETURN_IF_ERROR(builder.SetBody(records_, count_));
    builder.Finish();
    records_.clear();
    count_ = 0;
    return Status::OK();
  }

 private:
  Codec codec_;
  SchemaId schema_id_;
  ByteBuffer records_;
  int32_t count_ = 0;
};

}  // namespace

Result<std::unique_ptr<RecordsBuilder>> MakeRecordsBuilder(
    LogFormat format, const record::DataType& row_type, SchemaId schema_id,
    record::arrow::ArrowCompression compression) {
  std::vector<record::DataType> field_types;
  for (const auto& field : row_type.fields()) field_types.push_back(field.type);
  switch (format) {
    case LogFormat::kArrow: {
      STROM_ASSIGN_OR_RETURN(auto writer,
                             record::arrow::ArrowBatchWriter::Create(row_type, compression));
      return std::unique_ptr<RecordsBuilder>(
          std::make_unique<ArrowRecordsBuilder>(std::move(writer), schema_id));
    }
    case LogFormat::kIndexed:
      return std::unique_ptr<RecordsBuilder>(
          std::make_unique<RowRecordsBuilder<record::IndexedRowCodec>>(
              record::IndexedRowCodec(std::move(field_types)), schema_id));
    case LogFormat::kCompacted:
      return std::unique_ptr<RecordsBuilder>(
          std::make_unique<RowRecordsBuilder<record::CompactedRowCodec>>(
              record::CompactedRowCodec(std::move(field_types)), schema_id));
  }
  return MakeError(ErrorCode::kInvalidConfig, "unknown log format");
}

Status StampBatch(std::span<char> batch, WriterId writer_id, BatchSequence sequence) {
  STROM_ASSIGN_OR_RETURN(record::LogRecordBatch view,
                         record::LogRecordBatch::Parse(ByteView(batch.data(), batch.size())));
  const record::LogBatchLayout& layout = view.layout();
  char* data = batch.data();
  StoreI64LE(data + layout.writer_id, writer_id.value());
  StoreI32LE(data + layout.batch_sequence, sequence.value());
  size_t size = view.size_in_bytes();
  uint32_t crc = crc32c::Value(data + layout.schema_id, size - layout.schema_id);
  StoreI32LE(data + layout.crc, static_cast<int32_t>(crc));
  return Status::OK();
}

// ---- WriteBatch ----

WriteBatch::WriteBatch(TableBucket bucket, int64_t creation_index, BatchClock::time_point created,
                       std::unique_ptr<RecordsBuilder> builder)
    : bucket_(bucket),
      creation_index_(creation_index),
      created_(created),
      builder_(std::move(builder)),
      completion_(std::make_shared<BatchCompletion>()) {}

Result<WriteBatch::AppendOutcome> WriteBatch::TryAppend(const record::GenericRow& row,
                                                        int64_t batch_size) {
  if (record_count_ > 0 && full_) return AppendOutcome::kFull;
  STROM_RETURN_IF_ERROR(builder_->Append(row));
  ++record_count_;
  if (record_count_ < next_size_check_) return AppendOutcome::kAppended;
  last_estimate_ = builder_->EstimatedSize();
  if (last_estimate_ >= batch_size) {
    full_ = true;
    return AppendOutcome::kAppendedFull;
  }
  // Plan the next check for when, at the average row size so far, half of the remaining
  // room is used: few checks, and the batch overshoots by less than a row's worth.
  int64_t average = std::max<int64_t>(1, last_estimate_ / record_count_);
  int64_t rows = std::max<int64_t>(1, (batch_size - last_estimate_) / average / 2);
  next_size_check_ = static_cast<int32_t>(std::min<int64_t>(record_count_ + rows, INT32_MAX));
  return AppendOutcome::kAppended;
}

Result<std::unique_ptr<RecordsBuilder>> WriteBatch::Build() {
  bytes_.clear();
  STROM_RETURN_IF_ERROR(builder_->Build(&bytes_));
  last_estimate_ = static_cast<int64_t>(bytes_.size());
  return std::move(builder_);
}

Status WriteBatch::Stamp(WriterId writer_id, BatchSequence sequence) {
  STROM_RETURN_IF_ERROR(StampBatch(std::span<char>(bytes_.data(), bytes_.size()), writer_id,
                                   sequence));
  writer_id_ = writer_id;
  sequence_ = sequence;
  return Status::OK();
}

}  // namespace strom::client
