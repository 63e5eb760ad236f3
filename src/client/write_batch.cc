#include "client/write_batch.h"

#include <algorithm>
#include <cstring>

#include "common/crc32c.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/kv_record_batch.h"

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

Status CheckAppend(WriteKind kind) {
  if (kind == WriteKind::kAppend) return Status::OK();
  return MakeError(ErrorCode::kInvalidTable, "a log batch takes appends, not upserts or deletes");
}

class ArrowRecordsBuilder final : public RecordsBuilder {
 public:
  explicit ArrowRecordsBuilder(std::unique_ptr<record::arrow::ArrowBatchWriter> writer)
      : writer_(std::move(writer)) {}

  Status Append(const record::GenericRow& row, WriteKind kind) override {
    STROM_RETURN_IF_ERROR(CheckAppend(kind));
    return writer_->AppendRow(row);
  }
  int32_t record_count() const override { return static_cast<int32_t>(writer_->num_rows()); }
  int64_t EstimatedSize() const override {
    return static_cast<int64_t>(record::kLogHeaderSizeV0) + writer_->EstimatedUncompressedSize();
  }
  Status Build(ByteBuffer* out) override {
    // The IPC message goes straight behind the header gap: no copy of the body later.
    out->clear();
    out->reserve(static_cast<size_t>(EstimatedSize()));
    out->append(record::kLogHeaderSizeV0, '\0');
    return writer_->Finish(out);
  }

 private:
  std::unique_ptr<record::arrow::ArrowBatchWriter> writer_;
};

// INDEXED / COMPACTED: records (int32 length, change type, row) are encoded in place behind the
// header gap, and Build hands that buffer over without copying.
template <typename Codec>
class RowRecordsBuilder final : public RecordsBuilder {
 public:
  explicit RowRecordsBuilder(Codec codec) : codec_(std::move(codec)) { Reset(); }

  Status Append(const record::GenericRow& row, WriteKind kind) override {
    STROM_RETURN_IF_ERROR(CheckAppend(kind));
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
  int64_t EstimatedSize() const override { return static_cast<int64_t>(records_.size()); }
  Status Build(ByteBuffer* out) override {
    out->swap(records_);
    Reset();
    return Status::OK();
  }

 private:
  void Reset() {
    records_.clear();
    records_.append(record::kLogHeaderSizeV0, '\0');
    count_ = 0;
  }

  Codec codec_;
  ByteBuffer records_;
  int32_t count_ = 0;
};

// KV records (int32 length, varint key length, key, value row or nothing for a delete),
// written through record::KvRecordBatchBuilder behind the header gap it reserves.
template <typename Codec>
class KvRecordsBuilder final : public RecordsBuilder {
 public:
  KvRecordsBuilder(Codec codec, std::shared_ptr<const record::KeyEncoder> key_encoder)
      : codec_(std::move(codec)), key_encoder_(std::move(key_encoder)) {
    Reset();
  }

  Status Append(const record::GenericRow& row, WriteKind kind) override {
    if (kind == WriteKind::kAppend) {
      return MakeError(ErrorCode::kInvalidTable, "a kv batch takes upserts and deletes");
    }
    key_.clear();
    STROM_RETURN_IF_ERROR(key_encoder_->Encode(row, &key_));
    if (kind == WriteKind::kDelete) return builder_->AppendDelete(ByteView(key_));
    value_.clear();
    STROM_RETURN_IF_ERROR(codec_.Encode(row, &value_));
    return builder_->AppendUpsert(ByteView(key_), ByteView(value_));
  }
  int32_t record_count() const override { return builder_->record_count(); }
  int64_t EstimatedSize() const override { return static_cast<int64_t>(records_.size()); }
  Status Build(ByteBuffer* out) override {
    // Header fields are written by SealKvBatch when the batch is sent.
    out->swap(records_);
    Reset();
    return Status::OK();
  }

 private:
  void Reset() {
    records_.clear();
    builder_ = std::make_unique<record::KvRecordBatchBuilder>(&records_, record::KvBatchParams{});
  }

  Codec codec_;
  std::shared_ptr<const record::KeyEncoder> key_encoder_;
  ByteBuffer records_;
  std::unique_ptr<record::KvRecordBatchBuilder> builder_;
  ByteBuffer key_;
  ByteBuffer value_;
};

}  // namespace

Result<std::unique_ptr<RecordsBuilder>> MakeKvRecordsBuilder(
    KvFormat kv_format, const record::DataType& row_type,
    std::shared_ptr<const record::KeyEncoder> key_encoder) {
  std::vector<record::DataType> field_types;
  for (const auto& field : row_type.fields()) field_types.push_back(field.type);
  if (kv_format == KvFormat::kIndexed) {
    return std::unique_ptr<RecordsBuilder>(
        std::make_unique<KvRecordsBuilder<record::IndexedRowCodec>>(
            record::IndexedRowCodec(std::move(field_types)), std::move(key_encoder)));
  }
  return std::unique_ptr<RecordsBuilder>(
      std::make_unique<KvRecordsBuilder<record::CompactedRowCodec>>(
          record::CompactedRowCodec(std::move(field_types)), std::move(key_encoder)));
}

Status SealKvBatch(std::span<char> batch, SchemaId schema_id, WriterId writer_id,
                   BatchSequence sequence, int32_t record_count) {
  if (batch.size() < record::kKvHeaderSize) {
    return MakeError(ErrorCode::kCorruptRecord, "{} bytes cannot hold a kv batch header",
                     batch.size());
  }
  if (batch.size() - record::kKvBatchOverhead > static_cast<size_t>(INT32_MAX)) {
    return MakeError(ErrorCode::kRecordTooLarge, "kv batch of {} bytes is too large", batch.size());
  }
  if (record_count < 0) {
    return MakeError(ErrorCode::kCorruptRecord, "record count {} is negative", record_count);
  }
  char* h = batch.data();
  StoreI32LE(h + record::kKvLengthOffset,
             static_cast<int32_t>(batch.size() - record::kKvBatchOverhead));
  h[record::kKvMagicOffset] = static_cast<char>(record::kCurrentKvMagic);
  int16_t schema = schema_id.value();
  std::memcpy(h + record::kKvSchemaIdOffset, &schema, 2);
  h[record::kKvAttributesOffset] = 0;
  StoreI64LE(h + record::kKvWriterIdOffset, writer_id.value());
  StoreI32LE(h + record::kKvBatchSequenceOffset, sequence.value());
  StoreI32LE(h + record::kKvRecordCountOffset, record_count);
  uint32_t crc =
      crc32c::Value(h + record::kKvSchemaIdOffset, batch.size() - record::kKvSchemaIdOffset);
  StoreI32LE(h + record::kKvCrcOffset, static_cast<int32_t>(crc));
  return Status::OK();
}

Result<std::unique_ptr<RecordsBuilder>> MakeRecordsBuilder(
    LogFormat format, const record::DataType& row_type,
    record::arrow::ArrowCompression compression) {
  std::vector<record::DataType> field_types;
  for (const auto& field : row_type.fields()) field_types.push_back(field.type);
  switch (format) {
    case LogFormat::kArrow: {
      STROM_ASSIGN_OR_RETURN(auto writer,
                             record::arrow::ArrowBatchWriter::Create(row_type, compression));
      return std::unique_ptr<RecordsBuilder>(
          std::make_unique<ArrowRecordsBuilder>(std::move(writer)));
    }
    case LogFormat::kIndexed:
      return std::unique_ptr<RecordsBuilder>(
          std::make_unique<RowRecordsBuilder<record::IndexedRowCodec>>(
              record::IndexedRowCodec(std::move(field_types))));
    case LogFormat::kCompacted:
      return std::unique_ptr<RecordsBuilder>(
          std::make_unique<RowRecordsBuilder<record::CompactedRowCodec>>(
              record::CompactedRowCodec(std::move(field_types))));
  }
  return MakeError(ErrorCode::kInvalidConfig, "unknown log format");
}

// ---- WriteBatch ----

WriteBatch::WriteBatch(TableBucket bucket, SchemaId schema_id, int64_t creation_index,
                       BatchClock::time_point created, std::unique_ptr<RecordsBuilder> builder,
                       BatchFormat format)
    : bucket_(bucket),
      format_(format),
      schema_id_(schema_id),
      creation_index_(creation_index),
      created_(created),
      builder_(std::move(builder)),
      completion_(std::make_shared<BatchCompletion>()) {}

Result<WriteBatch::AppendOutcome> WriteBatch::TryAppend(const record::GenericRow& row,
                                                        int64_t batch_size, WriteKind kind) {
  if (record_count_ > 0 && full_) return AppendOutcome::kFull;
  STROM_RETURN_IF_ERROR(builder_->Append(row, kind));
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
  built_count_ = builder_->record_count();
  STROM_RETURN_IF_ERROR(builder_->Build(&bytes_));
  last_estimate_ = static_cast<int64_t>(bytes_.size());
  return std::move(builder_);
}

Status SealLogBatch(std::span<char> batch, SchemaId schema_id, WriterId writer_id,
                    BatchSequence sequence, int32_t record_count) {
  // Clients write magic 0 (what every Fluss 0.9 reader and pyfluss understand).
  const record::LogBatchLayout& layout = record::kLogLayoutV0;
  if (batch.size() < layout.header_size) {
    return MakeError(ErrorCode::kCorruptRecord, "{} bytes cannot hold a log batch header",
                     batch.size());
  }
  if (batch.size() - record::kLogOverhead > static_cast<size_t>(INT32_MAX)) {
    return MakeError(ErrorCode::kRecordTooLarge, "log batch of {} bytes is too large",
                     batch.size());
  }
  if (record_count < 0) {
    return MakeError(ErrorCode::kCorruptRecord, "record count {} is negative", record_count);
  }
  char* h = batch.data();
  StoreI64LE(h + record::kLogBaseOffsetOffset, 0);
  StoreI32LE(h + record::kLogLengthOffset,
             static_cast<int32_t>(batch.size() - record::kLogOverhead));
  h[record::kLogMagicOffset] = static_cast<char>(layout.magic);
  StoreI64LE(h + record::kLogCommitTimestampOffset, 0);
  int16_t schema = schema_id.value();
  std::memcpy(h + layout.schema_id, &schema, 2);
  h[layout.attributes] = static_cast<char>(record::kAppendOnlyFlagMask);
  StoreI32LE(h + layout.last_offset_delta, record_count == 0 ? 0 : record_count - 1);
  StoreI64LE(h + layout.writer_id, writer_id.value());
  StoreI32LE(h + layout.batch_sequence, sequence.value());
  StoreI32LE(h + layout.record_count, record_count);
  uint32_t crc = crc32c::Value(h + layout.schema_id, batch.size() - layout.schema_id);
  StoreI32LE(h + layout.crc, static_cast<int32_t>(crc));
  return Status::OK();
}

Status WriteBatch::Seal(WriterId writer_id, BatchSequence sequence) {
  std::span<char> bytes(bytes_.data(), bytes_.size());
  STROM_RETURN_IF_ERROR(format_ == BatchFormat::kKv
                            ? SealKvBatch(bytes, schema_id_, writer_id, sequence, built_count_)
                            : SealLogBatch(bytes, schema_id_, writer_id, sequence, built_count_));
  sealed_ = true;
  writer_id_ = writer_id;
  sequence_ = sequence;
  return Status::OK();
}

}  // namespace strom::client
