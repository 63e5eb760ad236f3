// libFuzzer target for the row records section of INDEXED / COMPACTED log batches. The
// first two bytes give the record count, the rest is the section. Nothing may crash or read
// out of bounds, and a section that parses completely must be reproduced byte for byte by
// LogRecordBatchBuilder::AppendRow.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "record/log_record_batch.h"

namespace {

namespace sr = strom::record;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  int32_t count = static_cast<int32_t>(data[0] | (data[1] << 8));
  strom::ByteView section(reinterpret_cast<const char*>(data) + 2, size - 2);

  sr::RowRecordIterator it(section, count);
  std::vector<sr::RowRecord> rows;
  bool complete = false;
  while (true) {
    auto next = it.Next();
    if (!next.ok()) {
      Check(!it.Next().ok());
      break;
    }
    if (!next->has_value()) {
      complete = true;
      break;
    }
    const sr::RowRecord& record = **next;
    Check(sr::IsValidChangeTypeByte(static_cast<uint8_t>(record.change_type)));
    Check(record.row.data() >= section.data() &&
          record.row.data() + record.row.size() <= section.data() + section.size());
    rows.push_back(record);
  }
  if (!complete) return 0;
  Check(static_cast<int32_t>(rows.size()) == count);

  strom::ByteBuffer out;
  sr::LogRecordBatchBuilder builder(&out, sr::LogBatchParams{});
  for (const auto& row : rows) Check(builder.AppendRow(row.change_type, row.row).ok());
  sr::LogRecordBatch batch = builder.Finish();
  Check(batch.records() == section);
  Check(batch.record_count() == count);
  Check(batch.IsValid());
  return 0;
}
