#include "record/kv_record_batch.h"

#include <climits>
#include <cstring>

#include "common/check.h"
#include "common/crc32c.h"

namespace strom::record {
namespace {

template <typename... Args>
Status CorruptRecord(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kCorruptRecord, fmt::format(format, std::forward<Args>(args)...));
}

// Largest batch whose Length field (size - 4) still fits an int32.
constexpr size_t kMaxKvBatchSize = static_cast<size_t>(INT32_MAX) + kKvBatchOverhead;

// Writes an unsigned LEB128 into `p` and returns the bytes used (at most 5).
size_t PutVarint32(char* p, uint32_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<char>(v);
  return n;
}

}  // namespace

// ---- KvRecordBatch ----

Result<KvRecordBatch> KvRecordBatch::Parse(ByteView data) {
  if (data.size() < kKvMagicOffset + 1) {
    return CorruptRecord("kv batch of {} bytes is too short for its length and magic", data.size());
  }
  int32_t length = LoadI32LE(data.data() + kKvLengthOffset);
  if (length < 0 || static_cast<size_t>(length) + kKvBatchOverhead < kKvHeaderSize) {
    return CorruptRecord("kv batch length {} is smaller than the {}-byte header", length,
                         kKvHeaderSize);
  }
  size_t size = static_cast<size_t>(length) + kKvBatchOverhead;
  if (size > data.size()) {
    return CorruptRecord("kv batch of {} bytes is truncated to {}", size, data.size());
  }
  int8_t magic = static_cast<int8_t>(data[kKvMagicOffset]);
  if (magic != kKvMagicV0) return CorruptRecord("unsupported kv batch magic {}", magic);
  int32_t record_count = LoadI32LE(data.data() + kKvRecordCountOffset);
  if (record_count < 0) return CorruptRecord("kv batch record count {} is negative", record_count);
  return KvRecordBatch(data.data(), size);
}

SchemaId KvRecordBatch::schema_id() const {
  int16_t v;
  std::memcpy(&v, data_ + kKvSchemaIdOffset, 2);
  return SchemaId(v);
}

uint32_t KvRecordBatch::ComputeChecksum() const {
  return crc32c::Value(data_ + kKvSchemaIdOffset, size_ - kKvSchemaIdOffset);
}

Status KvRecordBatch::ValidateCrc() const {
  uint32_t computed = ComputeChecksum();
  if (computed != checksum()) {
    return CorruptRecord("kv batch is corrupt (stored crc = {}, computed crc = {})", checksum(),
                         computed);
  }
  return Status::OK();
}

// ---- KvRecordIterator ----

Result<std::optional<KvRecord>> KvRecordIterator::Next() {
  if (!error_.ok()) return error_;
  size_t remaining = records_.size() - position_;
  if (remaining_count_ == 0) {
    if (remaining != 0) {
      error_ = CorruptRecord("{} bytes left after the last of {} kv records", remaining, index_);
      return error_;
    }
    return std::optional<KvRecord>();
  }
  if (remaining < 5) {  // Length plus at least the key-length byte.
    error_ = CorruptRecord("kv record {} is truncated ({} bytes left)", index_, remaining);
    return error_;
  }
  const char* p = records_.data() + position_;
  int32_t length = LoadI32LE(p);
  if (length < 1 || static_cast<size_t>(length) > remaining - 4) {
    error_ = CorruptRecord("kv record {} has invalid length {} ({} bytes left)", index_, length,
                           remaining - 4);
    return error_;
  }
  ByteReader reader(ByteView(p + 4, static_cast<size_t>(length)));
  uint32_t key_length = reader.Varint32();
  if (!reader.ok() || key_length > reader.remaining()) {
    error_ =
        CorruptRecord("kv record {} has an invalid key length in a {}-byte record", index_, length);
    return error_;
  }
  KvRecord record;
  record.key = reader.Bytes(key_length);
  if (!reader.AtEnd()) record.value = reader.Bytes(reader.remaining());
  position_ += 4 + static_cast<size_t>(length);
  --remaining_count_;
  ++index_;
  return std::optional<KvRecord>(record);
}

// ---- KvRecordBatchBuilder ----

KvRecordBatchBuilder::KvRecordBatchBuilder(ByteBuffer* out, const KvBatchParams& params)
    : out_(out), start_(out->size()) {
  out_->resize(start_ + kKvHeaderSize, '\0');
  char* h = out_->data() + start_;
  h[kKvMagicOffset] = static_cast<char>(kCurrentKvMagic);
  int16_t schema_id = params.schema_id.value();
  std::memcpy(h + kKvSchemaIdOffset, &schema_id, 2);
  h[kKvAttributesOffset] = 0;
  StoreI64LE(h + kKvWriterIdOffset, params.writer_id.value());
  StoreI32LE(h + kKvBatchSequenceOffset, params.batch_sequence.value());
}

size_t KvRecordBatchBuilder::RecordSize(size_t key_size, size_t value_size) {
  return 4 + static_cast<size_t>(VarintSize64(key_size)) + key_size + value_size;
}

Status KvRecordBatchBuilder::AppendUpsert(ByteView key, ByteView value) {
  if (value.empty()) {
    return CorruptRecord("a kv upsert needs a non-empty value (an empty one means delete)");
  }
  return Append(key, value);
}

Status KvRecordBatchBuilder::AppendDelete(ByteView key) { return Append(key, ByteView()); }

Status KvRecordBatchBuilder::Append(ByteView key, ByteView value) {
  STROM_CHECK(!finished_, "append to a finished kv batch");
  size_t record_size = RecordSize(key.size(), value.size());
  if (key.size() > UINT32_MAX || record_size - 4 > static_cast<size_t>(INT32_MAX) ||
      record_size > kMaxKvBatchSize - size_in_bytes() || record_count_ == INT32_MAX) {
    return MakeError(ErrorCode::kRecordTooLarge,
                     "kv batch of {} bytes cannot take a record of {} bytes", size_in_bytes(),
                     record_size);
  }
  size_t pos = out_->size();
  out_->resize(pos + record_size);
  char* p = out_->data() + pos;
  StoreI32LE(p, static_cast<int32_t>(record_size - 4));
  size_t n = 4 + PutVarint32(p + 4, static_cast<uint32_t>(key.size()));
  if (!key.empty()) std::memcpy(p + n, key.data(), key.size());
  if (!value.empty()) std::memcpy(p + n + key.size(), value.data(), value.size());
  ++record_count_;
  return Status::OK();
}

KvRecordBatch KvRecordBatchBuilder::Finish() {
  STROM_CHECK(!finished_, "Finish called twice");
  finished_ = true;
  size_t size = size_in_bytes();
  char* h = out_->data() + start_;
  StoreI32LE(h + kKvLengthOffset, static_cast<int32_t>(size - kKvBatchOverhead));
  StoreI32LE(h + kKvRecordCountOffset, record_count_);
  uint32_t crc = crc32c::Value(h + kKvSchemaIdOffset, size - kKvSchemaIdOffset);
  StoreI32LE(h + kKvCrcOffset, static_cast<int32_t>(crc));
  Result<KvRecordBatch> batch = KvRecordBatch::Parse(ByteView(h, size));
  STROM_CHECK(batch.ok(), "builder produced a malformed kv batch: {}", batch.status().ToString());
  return *batch;
}

}  // namespace strom::record
