// Randomized operation sequences against a LogTablet, checked against a trivial in-memory
// model (STYLE.md §4 habit 9, after Redpanda's storage/opfuzz). The seed is printed on
// failure; replay with STROM_TEST_SEED=<seed>. STROM_TEST_OPS sets the length (default 800).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

#include "log/fs/fault_injection_file_system.h"
#include "log/fs/posix_file_system.h"
#include "log/log_tablet.h"
#include "log/log_test_util.h"
#include "testutil/seed.h"

namespace strom::log {
namespace {

using testing::ParseBatches;
using testing::TempDir;

struct ModelBatch {
  LogOffset base;
  LogOffset last;
  TimestampMs timestamp;
  ByteBuffer bytes;  // exactly as stored
};

struct WriterBatch {
  int32_t sequence;
  LogOffset first;
  LogOffset last;
};

// What the log must hold: its batches in order, the offsets around them, and each
// idempotent writer's appended batches.
struct Model {
  std::vector<ModelBatch> batches;
  LogOffset log_start{0};
  LogOffset log_end{0};
  LogOffset high_watermark{0};
  std::map<int64_t, std::vector<WriterBatch>> writers;

  // Drops every batch at or after `offset` (a batch boundary).
  void TruncateTo(LogOffset offset) {
    while (!batches.empty() && batches.back().base >= offset) batches.pop_back();
    log_end = offset;
    high_watermark = std::min(high_watermark, log_end);
    for (auto& [id, history] : writers) {
      while (!history.empty() && history.back().first >= offset) history.pop_back();
    }
  }
  void DropBefore(LogOffset start) {
    auto keep = std::find_if(batches.begin(), batches.end(),
                             [&](const ModelBatch& b) { return b.base >= start; });
    batches.erase(batches.begin(), keep);
    log_start = start;
  }
  // Index of the batch holding `offset`.
  size_t BatchAt(LogOffset offset) const {
    for (size_t i = 0; i < batches.size(); ++i) {
      if (batches[i].base <= offset && offset <= batches[i].last) return i;
    }
    ADD_FAILURE() << "no model batch holds offset " << offset;
    return 0;
  }
};

class LogTabletRandomTest : public ::testing::Test {
 protected:
  LogTabletRandomTest() : clock_(TimestampMs(1'700'000'000'000)), fs_(PosixFileSystem::Default()) {
    fs_.SetRealSyncs(false);
  }

  void Open() {
    LogTabletOptions options;
    options.dir = dir_.Sub("log");
    options.config = config_;
    options.fs = &fs_;
    options.clock = &clock_;
    auto tablet = LogTablet::Open(options);
    ASSERT_TRUE(tablet.ok()) << tablet.status().ToString();
    tablet_ = std::move(*tablet);
    model_.high_watermark = model_.log_start;  // a reopened tablet starts there
  }

  void CheckOffsets(const char* after) {
    SCOPED_TRACE(after);
    ASSERT_EQ(tablet_->log_start_offset(), model_.log_start);
    ASSERT_EQ(tablet_->log_end_offset(), model_.log_end);
    ASSERT_EQ(tablet_->high_watermark(), model_.high_watermark);
  }

  void CheckAllBytes() {
    ByteBuffer expected;
    for (const ModelBatch& b : model_.batches) expected += b.bytes;
    ByteBuffer actual;
    testing::ReadAllBatches(*tablet_, model_.log_start, FetchIsolation::kLogEnd, &actual);
    ASSERT_EQ(actual.size(), expected.size());
    ASSERT_TRUE(actual == expected);
  }

  // One append of 1-3 batches; some from idempotent writers (next, repeated or skipped
  // sequence).
  void DoAppend() {
    std::uniform_int_distribution<int> coin(0, 9);
    int64_t writer = coin(rng_) < 4 ? 1 + coin(rng_) % 3 : -1;
    enum { kNext, kRepeat, kGap } kind = kNext;
    std::vector<WriterBatch>& history = model_.writers[writer];
    int32_t next_seq = history.empty() ? 0 : history.back().sequence + 1;
    ByteBuffer records;
    int batch_count = writer < 0 ? 1 + coin(rng_) % 3 : 1;
    if (writer >= 0) {
      int k = coin(rng_);
      if (k == 0) kind = kGap;
      if (k == 1 && !history.empty()) kind = kRepeat;
      testing::BatchSpec spec;
      spec.writer_id = WriterId(writer);
      spec.sequence = BatchSequence(kind == kNext  ? next_seq
                                    : kind == kGap ? next_seq + 1 + coin(rng_) % 3
                                                   : history.back().sequence);
      spec.records = coin(rng_) % 4;
      spec.row_bytes = 1 + coin(rng_) * 20;
      spec.seed = static_cast<uint32_t>(rng_());
      testing::AppendBatch(&records, spec);
    } else {
      for (int i = 0; i < batch_count; ++i) {
        testing::BatchSpec spec;
        spec.records = coin(rng_) % 5;  // empty batches too
        spec.row_bytes = 1 + coin(rng_) * coin(rng_) * 3;
        spec.seed = static_cast<uint32_t>(rng_());
        testing::AppendBatch(&records, spec);
      }
    }
    auto info = tablet_->AppendAsLeader(std::span<char>(records.data(), records.size()));
    if (kind == kGap) {
      ASSERT_EQ(info.status().code(), ErrorCode::kOutOfOrderSequence);
      return;
    }
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    if (kind == kRepeat) {
      ASSERT_TRUE(info->duplicate);
      ASSERT_EQ(info->first_offset, history.back().first);
      ASSERT_EQ(info->last_offset, history.back().last);
      return;
    }
    ASSERT_FALSE(info->duplicate);
    ASSERT_EQ(info->first_offset, model_.log_end);
    size_t pos = 0;
    for (const testing::ParsedBatch& b : ParseBatches(records)) {
      ASSERT_EQ(b.base_offset, model_.log_end);
      ASSERT_EQ(b.commit_timestamp, clock_.NowMs());
      model_.batches.push_back(ModelBatch{b.base_offset, b.last_offset, b.commit_timestamp,
                                          records.substr(pos, b.size)});
      pos += b.size;
      model_.log_end = b.last_offset + 1;
    }
    ASSERT_EQ(info->last_offset + 1, model_.log_end);
    if (writer >= 0)
      history.push_back(WriterBatch{next_seq, info->first_offset, info->last_offset});
  }

  void DoRead() {
    if (model_.batches.empty()) return;
    std::uniform_int_distribution<int64_t> pick(model_.log_start.value(), model_.log_end.value());
    LogOffset offset(pick(rng_));
    ReadParams params;
    params.fetch_offset = offset;
    params.max_bytes = std::uniform_int_distribution<int64_t>(0, 3000)(rng_);
    params.min_one_batch = rng_() % 2 == 0;
    params.isolation = rng_() % 2 == 0 ? FetchIsolation::kLogEnd : FetchIsolation::kHighWatermark;
    auto read = tablet_->Read(params);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    LogOffset bound =
        params.isolation == FetchIsolation::kLogEnd ? model_.log_end : model_.high_watermark;
    if (offset >= bound) {
      ASSERT_TRUE(read->records.empty());
      return;
    }
    size_t first = model_.BatchAt(offset);
    ByteBuffer allowed;  // whole batches from the one holding `offset` up to the bound
    for (size_t i = first; i < model_.batches.size() && model_.batches[i].last < bound; ++i) {
      allowed += model_.batches[i].bytes;
    }
    const ByteBuffer& got = read->records;
    ASSERT_LE(got.size(), allowed.size());
    ASSERT_TRUE(allowed.compare(0, got.size(), got) == 0) << "read bytes differ from the model";
    int64_t first_size = static_cast<int64_t>(model_.batches[first].bytes.size());
    int64_t budget =
        params.min_one_batch ? std::max(params.max_bytes, first_size) : params.max_bytes;
    if (budget <= 48) {
      ASSERT_TRUE(got.empty());
      return;
    }
    ASSERT_LE(static_cast<int64_t>(got.size()), budget);
    if (params.min_one_batch) {
      ASSERT_GE(static_cast<int64_t>(got.size()), first_size);
    }
    if (static_cast<int64_t>(got.size()) < budget) {
      bool truncated = false;
      ParseBatches(got, &truncated);
      ASSERT_FALSE(truncated) << "a read that was not cut by its budget ends mid-batch";
    }
  }

  void DoTruncate() {
    if (model_.batches.empty() || rng_() % 2 == 0) return;
    // Replication truncates above the high watermark; pick a batch boundary there.
    std::vector<LogOffset> candidates;
    for (const ModelBatch& b : model_.batches) {
      if (b.base >= model_.high_watermark) candidates.push_back(b.base);
    }
    if (candidates.empty()) return;
    LogOffset target = candidates[rng_() % candidates.size()];
    auto truncated = tablet_->TruncateTo(target);
    ASSERT_TRUE(truncated.ok()) << truncated.status().ToString();
    ASSERT_TRUE(*truncated);
    model_.TruncateTo(target);
  }

  void DoTruncateFully() {
    LogOffset offset = model_.log_end + static_cast<int64_t>(rng_() % 50);
    ASSERT_TRUE(tablet_->TruncateFullyAndStartAt(offset).ok());
    model_.batches.clear();
    model_.writers.clear();
    model_.log_start = model_.log_end = model_.high_watermark = offset;
  }

  void DoHighWatermark() {
    std::vector<LogOffset> candidates{model_.log_end};
    for (const ModelBatch& b : model_.batches) {
      if (b.base > model_.high_watermark) candidates.push_back(b.base);
    }
    LogOffset hw = candidates[rng_() % candidates.size()];
    ASSERT_TRUE(tablet_->UpdateHighWatermark(hw).ok());
    model_.high_watermark = hw;
  }

  void DoRetention() {
    clock_.AdvanceMs(static_cast<int64_t>(rng_() % 3000));
    auto deleted = tablet_->DeleteExpiredSegments();
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    LogOffset start = tablet_->log_start_offset();
    ASSERT_GE(start, model_.log_start);
    ASSERT_LE(start, model_.high_watermark);
    ASSERT_EQ(start, tablet_->segment_base_offsets().front());
    if (*deleted > 0) {
      ASSERT_GT(start, model_.log_start);
    }
    model_.DropBefore(start);
  }

  void DoListOffsets() {
    if (model_.batches.empty()) return;
    const ModelBatch& pick = model_.batches[rng_() % model_.batches.size()];
    TimestampMs ts = pick.timestamp - static_cast<int64_t>(rng_() % 3);
    LogOffset expected = model_.log_start;
    for (const ModelBatch& b : model_.batches) {
      if (b.timestamp >= ts) {
        expected = b.base;
        break;
      }
    }
    auto found = tablet_->ListOffset(OffsetSpec::kTimestamp, ts);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(*found, expected);
    ASSERT_EQ(*tablet_->ListOffset(OffsetSpec::kEarliest), model_.log_start);
    ASSERT_EQ(*tablet_->ListOffset(OffsetSpec::kLatest), model_.high_watermark);
  }

  void DoCleanRestart() {
    ASSERT_TRUE(tablet_->Close().ok());
    tablet_.reset();
    Open();
    ASSERT_TRUE(tablet_->opened_after_clean_shutdown());
  }

  void DoCrash() {
    LogOffset durable = tablet_->recovery_point();
    tablet_.reset();
    ASSERT_TRUE(fs_.SimulateCrash().ok());
    Open();
    // The simulated crash keeps exactly what was fsynced.
    model_.TruncateTo(durable);
    model_.high_watermark = model_.log_start;
  }

  TempDir dir_;
  ManualClock clock_;
  FaultInjectionFileSystem fs_;
  LogConfig config_;
  std::unique_ptr<LogTablet> tablet_;
  std::mt19937_64 rng_;
  Model model_;
};

TEST_F(LogTabletRandomTest, OperationSequencesMatchTheModel) {
  uint64_t seed = testutil::TestSeed();
  rng_.seed(seed);
  int ops = 800;
  if (const char* env = std::getenv("STROM_TEST_OPS")) ops = std::atoi(env);

  config_ = testing::SmallConfig();
  config_.segment_file_size = 400 + static_cast<int64_t>(rng_() % 4000);
  config_.index_file_size = std::vector<int64_t>{24, 60, 1024}[rng_() % 3];
  config_.index_interval_size = std::vector<int64_t>{0, 64, 512, 4096}[rng_() % 4];
  config_.file_preallocate = rng_() % 4 == 0;
  config_.flush_interval_messages = std::vector<int64_t>{1, 7, INT64_MAX}[rng_() % 3];
  config_.ttl = std::chrono::milliseconds(rng_() % 2 == 0 ? 2000 : 0);
  config_.retention_bytes = rng_() % 2 == 0 ? static_cast<int64_t>(rng_() % 8000) : -1;
  config_.segment_roll_time = std::chrono::milliseconds(rng_() % 2 == 0 ? 500 : 0);
  SCOPED_TRACE(::testing::Message()
               << "segment " << config_.segment_file_size << " index " << config_.index_file_size
               << " interval " << config_.index_interval_size << " prealloc "
               << config_.file_preallocate << " flush " << config_.flush_interval_messages);
  Open();

  for (int i = 0; i < ops; ++i) {
    SCOPED_TRACE(::testing::Message() << "op " << i);
    clock_.AdvanceMs(static_cast<int64_t>(rng_() % 4));
    int op = static_cast<int>(rng_() % 100);
    if (op < 40) {
      DoAppend();
    } else if (op < 60) {
      DoRead();
    } else if (op < 68) {
      DoHighWatermark();
    } else if (op < 72) {
      ASSERT_TRUE(tablet_->Roll().ok());
    } else if (op < 77) {
      DoTruncate();
    } else if (op < 78) {
      DoTruncateFully();
    } else if (op < 83) {
      DoRetention();
    } else if (op < 90) {
      DoListOffsets();
    } else if (op < 93) {
      DoCleanRestart();
    } else if (op < 96) {
      DoCrash();
    } else {
      ASSERT_TRUE(tablet_->Flush().ok());
    }
    if (HasFatalFailure()) return;
    CheckOffsets("invariants");
    if (HasFatalFailure()) return;
    if (i % 50 == 49) {
      CheckAllBytes();
      if (HasFatalFailure()) return;
    }
  }
  CheckAllBytes();
  ASSERT_TRUE(tablet_->Close().ok());
}

}  // namespace
}  // namespace strom::log
