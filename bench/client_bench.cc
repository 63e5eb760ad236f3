// The C++ client's write path without the network: rows through the RecordAccumulator
// (bucket assignment, Arrow or row encoding, batch building at 2 MiB) and sealed as the sender
// seals them before sending (header, writer id, sequence, CRC). Bytes/s counts the row payload
// (8 + 8 + payload bytes per row), as the loopback append benchmark of issue 3 does.

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "client/bucket_assigner.h"
#include "client/record_accumulator.h"

namespace strom::client {
namespace {

record::DataField F(std::string name, DataType type) {
  record::DataField f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

DataType RowType() {
  return DataType::Row({F("id", DataType::BigInt()), F("ts", DataType::BigInt()),
                        F("payload", DataType::String())});
}

// args: payload bytes, log format (0 ARROW, 1 INDEXED, 2 COMPACTED), codec (0 NONE, 1 LZ4, 2 ZSTD)
void BM_AppendAndSeal(benchmark::State& state) {
  const int payload = static_cast<int>(state.range(0));
  AccumulatorOptions options;
  options.table_id = TableId(1);
  options.schema_id = SchemaId(1);
  options.row_type = RowType();
  options.log_format = static_cast<LogFormat>(state.range(1));
  options.compression = state.range(2) == 0   ? record::arrow::ArrowCompression::None()
                        : state.range(2) == 1 ? record::arrow::ArrowCompression::Lz4Frame()
                                              : record::arrow::ArrowCompression::Zstd(3);
  options.batch_timeout = std::chrono::hours(1);
  options.buffer_memory = int64_t{1} << 40;
  RecordAccumulator accumulator(options, std::make_unique<StickyBucketAssigner>(4, 7), [] {});

  // Text-like payloads: random lowercase letters, 4096 distinct rows (more than a batch holds,
  // so compression sees text, not repeats).
  std::mt19937_64 rng(42);
  std::vector<std::string> payloads(4096);
  for (auto& p : payloads) {
    p.resize(static_cast<size_t>(payload));
    for (char& c : p) c = static_cast<char>('a' + rng() % 26);
  }
  GenericRow row(3);
  int64_t i = 0;
  int64_t sealed_bytes = 0;
  for (auto _ : state) {
    row[0] = Datum(i);
    row[1] = Datum(i * 3);
    row[2] = Datum(payloads[static_cast<size_t>(i & 4095)]);
    if (!accumulator.Append(row).ok()) state.SkipWithError("append failed");
    ++i;
    if ((i & 1023) == 0) {
      for (auto& batch : accumulator.TakeReady(BatchClock::now(), nullptr)) {
        if (!batch->Seal(WriterId(1), BatchSequence(0)).ok()) state.SkipWithError("seal failed");
        sealed_bytes += static_cast<int64_t>(batch->bytes().size());
        batch->completion()->Complete(Status::OK());
        accumulator.Release(*batch);
      }
    }
  }
  state.SetBytesProcessed(state.iterations() * (16 + payload));
  state.SetItemsProcessed(state.iterations());
  state.counters["wire_bytes_per_row"] =
      benchmark::Counter(static_cast<double>(sealed_bytes) / static_cast<double>(std::max<int64_t>(i, 1)));
}

BENCHMARK(BM_AppendAndSeal)
    ->ArgNames({"payload", "format", "codec"})
    ->Args({1000, 0, 0})
    ->Args({1000, 0, 1})
    ->Args({1000, 0, 2})
    ->Args({100, 0, 0})
    ->Args({100, 1, 0})
    ->Args({100, 2, 0});

}  // namespace
}  // namespace strom::client
