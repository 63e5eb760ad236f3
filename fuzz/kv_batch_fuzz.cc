// libFuzzer target for the KV side: arbitrary bytes are parsed as a KvRecordBatch (PutKv
// payload), as a value record batch (LimitScan payload) and as a stored value. Nothing may
// crash or read out of bounds; a KV batch or value batch that parses completely must be
// rebuilt byte for byte by its builder.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "record/kv_record_batch.h"
#include "record/value_record.h"

namespace {

namespace sr = strom::record;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void FuzzKvBatch(strom::ByteView data) {
  auto batch = sr::KvRecordBatch::Parse(data);
  if (!batch.ok()) return;
  Check(batch->size_in_bytes() <= data.size());
  bool valid = batch->IsValid();
  Check(valid == batch->ValidateCrc().ok());
  sr::KvRecordIterator it(*batch);
  std::vector<sr::KvRecord> records;
  while (true) {
    auto next = it.Next();
    if (!next.ok()) {
      Check(!it.Next().ok());
      return;
    }
    if (!next->has_value()) break;
    const sr::KvRecord& r = **next;
    Check(r.is_delete() || !r.value->empty());
    records.push_back(r);
  }
  if (!valid || batch->attributes() != 0) return;
  sr::KvBatchParams params;
  params.schema_id = batch->schema_id();
  params.writer_id = batch->writer_id();
  params.batch_sequence = batch->batch_sequence();
  strom::ByteBuffer out;
  sr::KvRecordBatchBuilder builder(&out, params);
  for (const auto& r : records) {
    Check(
        (r.is_delete() ? builder.AppendDelete(r.key) : builder.AppendUpsert(r.key, *r.value)).ok());
  }
  builder.Finish();
  // Varints may be written in a longer (non-minimal) form by a hostile writer; only a
  // minimal encoding is reproduced exactly.
  if (out.size() == batch->size_in_bytes()) Check(out == batch->data());
}

void FuzzValueBatch(strom::ByteView data) {
  auto batch = sr::ValueRecordBatch::Parse(data);
  if (!batch.ok()) return;
  sr::ValueRecordIterator it(*batch);
  std::vector<sr::ValueView> values;
  while (true) {
    auto next = it.Next();
    if (!next.ok()) {
      Check(!it.Next().ok());
      return;
    }
    if (!next->has_value()) break;
    values.push_back(**next);
  }
  strom::ByteBuffer out;
  sr::ValueRecordBatchBuilder builder(&out);
  for (const auto& v : values) Check(builder.Append(v.schema_id, v.row).ok());
  builder.Finish();
  Check(out == batch->data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strom::ByteView bytes(reinterpret_cast<const char*>(data), size);
  FuzzKvBatch(bytes);
  FuzzValueBatch(bytes);
  auto value = sr::DecodeValue(bytes);
  if (value.ok()) {
    Check(sr::EncodeValue(value->schema_id, value->row) == bytes);
  }
  return 0;
}
