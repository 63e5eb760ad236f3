#include "record/value_record.h"

#include <climits>
#include <cstring>

#include "common/check.h"

namespace strom::record {
namespace {

template <typename... Args>
Status CorruptRecord(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kCorruptRecord, fmt::format(format, std::forward<Args>(args)...));
}

constexpr size_t kMaxValueBatchSize = static_cast<size_t>(INT32_MAX) + kValueBatchOverhead;

SchemaId LoadSchemaId(const char* p) {
  int16_t v;
  std::memcpy(&v, p, 2);
  return SchemaId(v);
}

}  // namespace

void AppendEncodedValue(SchemaId schema_id, ByteView row, ByteBuffer* out) {
  size_t pos = out->size();
  out->resize(pos + kValueSchemaIdSize + row.size());
  int16_t id = schema_id.value();
  std::memcpy(out->data() + pos, &id, kValueSchemaIdSize);
  if (!row.empty()) std::memcpy(out->data() + pos + kValueSchemaIdSize, row.data(), row.size());
}

ByteBuffer EncodeValue(SchemaId schema_id, ByteView row) {
  ByteBuffer out;
  AppendEncodedValue(schema_id, row, &out);
  return out;
}

Result<ValueView> DecodeValue(ByteView value) {
  if (value.size() < kValueSchemaIdSize) {
    return CorruptRecord("stored value of {} bytes has no room for its schema id", value.size());
  }
  return ValueView{LoadSchemaId(value.data()), value.substr(kValueSchemaIdSize)};
}

// ---- ValueRecordBatch ----

Result<ValueRecordBatch> ValueRecordBatch::Parse(ByteView data) {
  if (data.size() < kValueBatchHeaderSize) {
    return CorruptRecord("value batch of {} bytes is shorter than its {}-byte header", data.size(),
                         kValueBatchHeaderSize);
  }
  int32_t length = LoadI32LE(data.data() + kValueBatchLengthOffset);
  if (length < 0 || static_cast<size_t>(length) + kValueBatchOverhead < kValueBatchHeaderSize) {
    return CorruptRecord("value batch length {} is smaller than its header", length);
  }
  size_t size = static_cast<size_t>(length) + kValueBatchOverhead;
  if (size > data.size()) {
    return CorruptRecord("value batch of {} bytes is truncated to {}", size, data.size());
  }
  int8_t magic = static_cast<int8_t>(data[kValueBatchMagicOffset]);
  if (magic != kValueBatchMagicV0) return CorruptRecord("unsupported value batch magic {}", magic);
  int32_t count = LoadI32LE(data.data() + kValueBatchRecordCountOffset);
  if (count < 0) return CorruptRecord("value batch record count {} is negative", count);
  return ValueRecordBatch(data.data(), size);
}

// ---- ValueRecordIterator ----

Result<std::optional<ValueView>> ValueRecordIterator::Next() {
  if (!error_.ok()) return error_;
  size_t remaining = records_.size() - position_;
  if (remaining_count_ == 0) {
    if (remaining != 0) {
      error_ = CorruptRecord("{} bytes left after the last of {} value records", remaining, index_);
      return error_;
    }
    return std::optional<ValueView>();
  }
  if (remaining < 4 + kValueSchemaIdSize) {
    error_ = CorruptRecord("value record {} is truncated ({} bytes left)", index_, remaining);
    return error_;
  }
  const char* p = records_.data() + position_;
  int32_t length = LoadI32LE(p);
  if (length < static_cast<int32_t>(kValueSchemaIdSize) ||
      static_cast<size_t>(length) > remaining - 4) {
    error_ = CorruptRecord("value record {} has invalid length {} ({} bytes left)", index_, length,
                           remaining - 4);
    return error_;
  }
  ValueView value{LoadSchemaId(p + 4), ByteView(p + 4 + kValueSchemaIdSize,
                                                static_cast<size_t>(length) - kValueSchemaIdSize)};
  position_ += 4 + static_cast<size_t>(length);
  --remaining_count_;
  ++index_;
  return std::optional<ValueView>(value);
}

// ---- ValueRecordBatchBuilder ----

ValueRecordBatchBuilder::ValueRecordBatchBuilder(ByteBuffer* out) : out_(out), start_(out->size()) {
  out_->resize(start_ + kValueBatchHeaderSize, '\0');
  (*out_)[start_ + kValueBatchMagicOffset] = static_cast<char>(kValueBatchMagicV0);
}

Status ValueRecordBatchBuilder::StartRecord(size_t value_size) {
  STROM_CHECK(!finished_, "append to a finished value batch");
  size_t record_size = 4 + value_size;
  if (value_size > static_cast<size_t>(INT32_MAX) ||
      record_size > kMaxValueBatchSize - size_in_bytes() || record_count_ == INT32_MAX) {
    return MakeError(ErrorCode::kRecordTooLarge,
                     "value batch of {} bytes cannot take a record of {} bytes", size_in_bytes(),
                     record_size);
  }
  ByteWriter(out_).I32LE(static_cast<int32_t>(value_size));
  ++record_count_;
  return Status::OK();
}

Status ValueRecordBatchBuilder::Append(SchemaId schema_id, ByteView row) {
  STROM_RETURN_IF_ERROR(StartRecord(kValueSchemaIdSize + row.size()));
  AppendEncodedValue(schema_id, row, out_);
  return Status::OK();
}

Status ValueRecordBatchBuilder::AppendEncoded(ByteView value) {
  if (value.size() < kValueSchemaIdSize) {
    return CorruptRecord("stored value of {} bytes has no room for its schema id", value.size());
  }
  STROM_RETURN_IF_ERROR(StartRecord(value.size()));
  out_->append(value.data(), value.size());
  return Status::OK();
}

ValueRecordBatch ValueRecordBatchBuilder::Finish() {
  STROM_CHECK(!finished_, "Finish called twice");
  finished_ = true;
  size_t size = size_in_bytes();
  char* h = out_->data() + start_;
  StoreI32LE(h + kValueBatchLengthOffset, static_cast<int32_t>(size - kValueBatchOverhead));
  StoreI32LE(h + kValueBatchRecordCountOffset, record_count_);
  Result<ValueRecordBatch> batch = ValueRecordBatch::Parse(ByteView(h, size));
  STROM_CHECK(batch.ok(), "builder produced a malformed value batch: {}",
              batch.status().ToString());
  return *batch;
}

}  // namespace strom::record
