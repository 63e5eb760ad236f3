// libFuzzer target for log record batches: arbitrary bytes are read as a records blob (a
// produce payload, fetch response or segment slice). Every batch the iterator yields has its
// header read, its CRC computed and its row records walked. Nothing may crash or read out of
// bounds, and two properties must hold:
//   * the leader's in-place setters never change whether a batch's CRC is valid;
//   * a valid batch whose records parse is rebuilt byte for byte by LogRecordBatchBuilder.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "record/log_record_batch.h"

namespace {

namespace sr = strom::record;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// Walks the row records; returns them when the whole section parses.
bool ReadRows(const sr::LogRecordBatch& batch, std::vector<sr::RowRecord>* rows) {
  sr::RowRecordIterator it(batch);
  while (true) {
    auto next = it.Next();
    if (!next.ok()) return false;
    if (!next->has_value()) return true;
    rows->push_back(**next);
  }
}

void CheckRebuild(const sr::LogRecordBatch& batch, const std::vector<sr::RowRecord>& rows) {
  if (batch.attributes() > 1) return;  // The builder only writes the append-only bit.
  if (batch.last_offset_delta() != (rows.empty() ? 0 : batch.record_count() - 1)) return;
  sr::LogBatchParams params;
  params.magic = batch.magic();
  params.schema_id = batch.schema_id();
  params.append_only = batch.is_append_only();
  params.writer_id = batch.writer_id();
  params.batch_sequence = batch.batch_sequence();
  params.base_offset = batch.base_offset();
  params.commit_timestamp = batch.commit_timestamp();
  params.leader_epoch = batch.leader_epoch();
  strom::ByteBuffer out;
  sr::LogRecordBatchBuilder builder(&out, params);
  for (const auto& row : rows) Check(builder.AppendRow(row.change_type, row.row).ok());
  builder.Finish();
  Check(out == batch.data());
}

void Visit(const sr::LogRecordBatch& batch) {
  Check(batch.size_in_bytes() >= batch.header_size());
  Check(batch.records().size() == batch.size_in_bytes() - batch.header_size());
  Check(batch.record_count() >= 0);
  // Read every field (XOR, so hostile values cannot overflow).
  volatile uint64_t sink = static_cast<uint64_t>(batch.base_offset().value()) ^
                           static_cast<uint64_t>(batch.commit_timestamp().value()) ^
                           static_cast<uint64_t>(batch.leader_epoch().value()) ^
                           static_cast<uint64_t>(batch.schema_id().value()) ^
                           static_cast<uint64_t>(batch.writer_id().value()) ^
                           static_cast<uint64_t>(batch.batch_sequence().value()) ^
                           static_cast<uint64_t>(batch.next_offset().value());
  (void)sink;
  bool valid = batch.IsValid();
  Check(valid == batch.ValidateCrc().ok());

  // The setters touch only bytes outside the CRC.
  strom::ByteBuffer copy(batch.data());
  auto mutable_batch = sr::MutableLogRecordBatch::Parse(std::span<char>(copy.data(), copy.size()));
  Check(mutable_batch.ok());
  mutable_batch->SetBaseOffset(strom::LogOffset(batch.base_offset().value() ^ 0x5555));
  mutable_batch->SetCommitTimestamp(strom::TimestampMs(1234567));
  mutable_batch->SetLeaderEpoch(strom::LeaderEpoch(7)).IgnoreError();
  Check(mutable_batch->view().IsValid() == valid);

  std::vector<sr::RowRecord> rows;
  if (ReadRows(batch, &rows) && valid) CheckRebuild(batch, rows);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strom::ByteView blob(reinterpret_cast<const char*>(data), size);
  sr::LogRecordBatchIterator it(blob);
  while (true) {
    auto next = it.Next();
    if (!next.ok()) {
      Check(!it.Next().ok());  // Errors are sticky.
      break;
    }
    if (!next->has_value()) break;
    Visit(**next);
  }
  Check(it.position() <= size);
  // A single-batch parse of the same bytes agrees with the iterator on the first batch.
  auto single = sr::LogRecordBatch::Parse(blob);
  if (single.ok()) Visit(*single);
  return 0;
}
