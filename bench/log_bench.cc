// LogTablet throughput on the local disk (/tmp): appends of 1 MiB and 16 KiB batches, and
// sequential reads of 1 MiB per call (the consumer's header walk to find the next offset
// included). Rates are per wall-clock second. Appends go to the page cache as in production (no
// fsync per append; segments are fsynced when they roll), so the figures include roll fsyncs but
// are bounded by memory bandwidth and the write path rather than by the device. Retention keeps the
// log at a few segments so a long run does not fill the disk.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "log/log_tablet.h"
#include "record/log_record_batch.h"

namespace strom::log {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

// A directory under /tmp removed when the benchmark ends.
class BenchDir {
 public:
  BenchDir() {
    std::string pattern = "/tmp/strom-log-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One batch of about `size` bytes: 1 KiB rows (or one row for small sizes).
ByteBuffer MakeBatch(int64_t size) {
  int64_t row_size = std::min<int64_t>(1024, size / 2);
  int64_t rows = std::max<int64_t>(1, (size - 48) / (row_size + 5));
  ByteBuffer out;
  record::LogRecordBatchBuilder builder(&out, record::LogBatchParams{});
  builder.Reserve(static_cast<size_t>(48 + rows * (row_size + 5)));
  ByteBuffer row(static_cast<size_t>(row_size), 'x');
  for (int64_t i = 0; i < rows; ++i) {
    row[0] = static_cast<char>(i);
    if (!builder.AppendRow(record::ChangeType::kAppendOnly, row).ok()) break;
  }
  builder.Finish();
  return out;
}

std::unique_ptr<LogTablet> OpenTablet(const std::string& dir) {
  LogTabletOptions options;
  options.dir = dir + "/log-0";
  options.config.segment_file_size = 256 * kMiB;
  options.config.retention_bytes = 512 * kMiB;
  options.config.ttl = std::chrono::milliseconds(0);
  auto tablet = LogTablet::Open(options);
  return tablet.ok() ? std::move(*tablet) : nullptr;
}

void BM_LogAppend(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<LogTablet> tablet = OpenTablet(dir.path());
  if (tablet == nullptr) {
    state.SkipWithError("cannot open a log tablet under /tmp");
    return;
  }
  ByteBuffer batch = MakeBatch(state.range(0));
  int64_t appended = 0;
  for (auto _ : state) {
    // The same bytes are appended again and again: the leader rewrites only the base offset
    // and timestamp, and the CRC stays valid.
    auto info = tablet->AppendAsLeader(std::span<char>(batch.data(), batch.size()));
    if (!info.ok()) {
      state.SkipWithError(info.status().ToString().c_str());
      break;
    }
    appended += static_cast<int64_t>(batch.size());
    if (appended >= 256 * kMiB) {
      state.PauseTiming();
      (void)tablet->UpdateHighWatermark(tablet->log_end_offset());
      (void)tablet->DeleteExpiredSegments();
      appended = 0;
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
  (void)tablet->Close();
}
BENCHMARK(BM_LogAppend)
    ->Arg(1 * kMiB)
    ->Arg(16 * 1024)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_LogSequentialRead(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<LogTablet> tablet = OpenTablet(dir.path());
  if (tablet == nullptr) {
    state.SkipWithError("cannot open a log tablet under /tmp");
    return;
  }
  // 256 MiB of batches, spread over two segments.
  ByteBuffer batch = MakeBatch(state.range(0));
  for (int64_t written = 0; written < 256 * kMiB; written += static_cast<int64_t>(batch.size())) {
    if (!tablet->AppendAsLeader(std::span<char>(batch.data(), batch.size())).ok()) {
      state.SkipWithError("append failed");
      return;
    }
  }
  (void)tablet->UpdateHighWatermark(tablet->log_end_offset());
  ReadParams params;
  params.fetch_offset = LogOffset(0);
  params.max_bytes = kMiB;
  int64_t bytes = 0;
  for (auto _ : state) {
    auto read = tablet->Read(params);
    if (!read.ok()) {
      state.SkipWithError(read.status().ToString().c_str());
      break;
    }
    bytes += static_cast<int64_t>(read->records.size());
    // Continue after the last whole batch; wrap around at the end.
    record::LogRecordBatchIterator it(read->records);
    LogOffset next = params.fetch_offset;
    while (true) {
      auto b = it.Next();
      if (!b.ok() || !b->has_value()) break;
      next = (*b)->next_offset();
    }
    params.fetch_offset = next >= tablet->log_end_offset() ? LogOffset(0) : next;
  }
  state.SetBytesProcessed(bytes);
  (void)tablet->Close();
}
BENCHMARK(BM_LogSequentialRead)
    ->Arg(1 * kMiB)
    ->Arg(16 * 1024)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace strom::log
