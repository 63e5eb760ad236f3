#pragma once

// Helpers shared by the log component's tests (header-only, test code only).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "log/log_config.h"
#include "log/log_tablet.h"
#include "record/log_record_batch.h"

namespace strom::log::testing {

/// A fresh directory under /tmp, deleted with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/strom-log-test-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// What a test wants in a batch.
struct BatchSpec {
  int records = 1;
  /// Bytes of each row (filled with a pattern derived from `seed`).
  int row_bytes = 16;
  WriterId writer_id = kNoWriterId;
  BatchSequence sequence = kNoBatchSequence;
  int8_t magic = record::kLogMagicV0;
  uint32_t seed = 0;
};

/// Appends one finished batch (base offset 0, commit timestamp 0, as a client sends it).
inline void AppendBatch(ByteBuffer* out, const BatchSpec& spec) {
  record::LogBatchParams params;
  params.magic = spec.magic;
  params.writer_id = spec.writer_id;
  params.batch_sequence = spec.sequence;
  record::LogRecordBatchBuilder builder(out, params);
  for (int i = 0; i < spec.records; ++i) {
    ByteBuffer row(static_cast<size_t>(spec.row_bytes), '\0');
    for (size_t k = 0; k < row.size(); ++k) {
      row[k] = static_cast<char>((spec.seed * 31 + static_cast<uint32_t>(i) * 7 + k) & 0xff);
    }
    Status st = builder.AppendRow(record::ChangeType::kAppendOnly, row);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  builder.Finish();
}

inline ByteBuffer MakeBatch(const BatchSpec& spec) {
  ByteBuffer out;
  AppendBatch(&out, spec);
  return out;
}

/// A plain batch of `records` records of `row_bytes` each.
inline ByteBuffer MakeBatch(int records, int row_bytes = 16, uint32_t seed = 0) {
  BatchSpec spec;
  spec.records = records;
  spec.row_bytes = row_bytes;
  spec.seed = seed;
  return MakeBatch(spec);
}

/// An idempotent writer's batch.
inline ByteBuffer MakeWriterBatch(int64_t writer_id, int32_t sequence, int records = 1) {
  BatchSpec spec;
  spec.records = records;
  spec.writer_id = WriterId(writer_id);
  spec.sequence = BatchSequence(sequence);
  return MakeBatch(spec);
}

/// The header fields of each complete batch in a blob.
struct ParsedBatch {
  LogOffset base_offset;
  LogOffset last_offset;
  TimestampMs commit_timestamp;
  size_t size = 0;
  int32_t record_count = 0;
  bool crc_ok = false;
};

inline std::vector<ParsedBatch> ParseBatches(ByteView blob, bool* truncated = nullptr) {
  std::vector<ParsedBatch> out;
  record::LogRecordBatchIterator it(blob);
  while (true) {
    auto next = it.Next();
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || !next->has_value()) break;
    const record::LogRecordBatch& b = **next;
    out.push_back(ParsedBatch{b.base_offset(), b.last_offset(), b.commit_timestamp(),
                              b.size_in_bytes(), b.record_count(), b.IsValid()});
  }
  if (truncated) *truncated = it.truncated();
  return out;
}

/// Reads every batch from `from` up to the isolation bound, following segment boundaries;
/// appends the raw bytes of the whole batches to `raw` when given.
inline std::vector<ParsedBatch> ReadAllBatches(LogTablet& tablet, LogOffset from,
                                               FetchIsolation isolation = FetchIsolation::kLogEnd,
                                               ByteBuffer* raw = nullptr) {
  std::vector<ParsedBatch> out;
  LogOffset bound =
      isolation == FetchIsolation::kLogEnd ? tablet.log_end_offset() : tablet.high_watermark();
  LogOffset offset = from;
  while (offset < bound) {
    ReadParams params;
    params.fetch_offset = offset;
    params.max_bytes = 64 * 1024;
    params.isolation = isolation;
    auto read = tablet.Read(params);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    if (!read.ok()) break;
    std::vector<ParsedBatch> batches = ParseBatches(read->records);
    EXPECT_FALSE(batches.empty()) << "no batch at offset " << offset;
    if (batches.empty()) break;
    size_t pos = 0;
    for (const ParsedBatch& b : batches) {
      if (raw) raw->append(read->records.data() + pos, b.size);
      pos += b.size;
      out.push_back(b);
    }
    offset = batches.back().last_offset + 1;
  }
  return out;
}

/// A configuration with small segments and indexes, for tests.
inline LogConfig SmallConfig() {
  LogConfig c;
  c.segment_file_size = 4096;
  c.index_file_size = 1024;
  c.index_interval_size = 256;
  c.segment_roll_time = std::chrono::milliseconds(0);
  c.ttl = std::chrono::milliseconds(0);
  return c;
}

}  // namespace strom::log::testing
