// KvTablet throughput on the local disk (/tmp): PutKv of 10-column rows over 1M keys (each
// batch of 1,000 rows is merged, logged as an ARROW (ZSTD) or COMPACTED changelog, committed
// and flushed to RocksDB, as a single replica does), point lookups in batches of 128 keys
// (the Java client's lookup batch size), and the raw RocksDB puts and gets of the same keys
// and values: the local limit the KV path is measured against.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>

#include "kv/kv_tablet.h"
#include "kv/rocksdb_store.h"
#include "log/log_tablet.h"
#include "record/compacted_row.h"
#include "record/key_encoder.h"
#include "record/kv_record_batch.h"
#include "record/value_record.h"

namespace strom::kv {
namespace {

using record::DataType;
using record::Datum;
using record::GenericRow;

constexpr int64_t kKeys = 1000000;
constexpr int kBatchRows = 1000;
constexpr int kLookupBatch = 128;

class BenchDir {
 public:
  BenchDir() {
    std::string pattern = "/tmp/strom-kv-bench-XXXXXX";
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

record::Schema TenColumns() {
  return *record::Schema::Builder()
              .AddColumn("id", DataType::Int())
              .AddColumn("a", DataType::BigInt())
              .AddColumn("b", DataType::BigInt())
              .AddColumn("c", DataType::BigInt())
              .AddColumn("d", DataType::BigInt())
              .AddColumn("s1", DataType::String())
              .AddColumn("s2", DataType::String())
              .AddColumn("s3", DataType::String())
              .AddColumn("x", DataType::Double())
              .AddColumn("y", DataType::Double())
              .PrimaryKey({"id"})
              .Build();
}

GenericRow MakeRow(int32_t id, uint64_t salt) {
  int64_t v = static_cast<int64_t>(salt);
  return GenericRow{Datum(id),
                    Datum(v),
                    Datum(v * 3),
                    Datum(v ^ 0x5555),
                    Datum(int64_t{id} * 1000),
                    Datum("name-" + std::to_string(id)),
                    Datum("city-" + std::to_string(salt % 977)),
                    Datum("tag-" + std::to_string(salt % 31)),
                    Datum(static_cast<double>(salt) * 0.5),
                    Datum(static_cast<double>(id) / 7)};
}

// Encodes the key and stored-value-free row of `row` the way a client does.
struct Encoders {
  Encoders()
      : schema(TenColumns()),
        codec(schema.FieldTypes()),
        keys(*record::KeyEncoder::Create(record::KeyEncoding::kCompacted, schema.RowType(),
                                         {"id"})) {}
  record::Schema schema;
  record::CompactedRowCodec codec;
  std::unique_ptr<record::KeyEncoder> keys;
};

ByteBuffer MakeKvBatch(Encoders& e, std::mt19937_64& rng, int rows) {
  ByteBuffer out;
  record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{});
  ByteBuffer key;
  ByteBuffer value;
  for (int i = 0; i < rows; ++i) {
    GenericRow row = MakeRow(static_cast<int32_t>(rng() % kKeys), rng());
    key.clear();
    value.clear();
    (void)e.keys->Encode(row, &key);
    (void)e.codec.Encode(row, &value);
    (void)builder.AppendUpsert(key, value);
  }
  builder.Finish();
  return out;
}

// A LogTablet + KvTablet pair in a temporary directory.
struct Tablet {
  explicit Tablet(const std::string& log_format) {
    log::LogTabletOptions log_options;
    log_options.dir = dir.path() + "/log-0";
    log_options.config.segment_file_size = 256LL << 20;
    log_options.is_changelog = true;
    log = *log::LogTablet::Open(log_options);
    KvTabletOptions options;
    options.dir = dir.path() + "/kv-0";
    options.table.table_id = TableId(1);
    options.table.properties = {{"table.log.format", log_format}};
    options.schemas = SchemaSet(SchemaId(0), TenColumns());
    options.log = log.get();
    kv = *KvTablet::Open(options);
  }
  ~Tablet() {
    (void)kv->Close();
    (void)log->Close();
  }
  Status Put(ByteView batch) {
    auto result = kv->PutAsLeader(batch);
    if (!result.ok()) return result.status();
    STROM_RETURN_IF_ERROR(log->UpdateHighWatermark(log->log_end_offset()));
    return kv->FlushUpTo(log->high_watermark());
  }

  BenchDir dir;
  std::unique_ptr<log::LogTablet> log;
  std::unique_ptr<KvTablet> kv;
};

void BM_KvUpsert(benchmark::State& state, const std::string& log_format) {
  Encoders e;
  Tablet t(log_format);
  std::mt19937_64 rng(42);
  // Pre-built batches (the request decoding a server does is not what is measured here).
  std::vector<ByteBuffer> batches;
  for (int i = 0; i < 64; ++i) batches.push_back(MakeKvBatch(e, rng, kBatchRows));
  size_t next = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const ByteBuffer& batch = batches[next++ % batches.size()];
    Status st = t.Put(batch);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    bytes += static_cast<int64_t>(batch.size());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
  state.SetBytesProcessed(bytes);
}
BENCHMARK_CAPTURE(BM_KvUpsert, arrow_zstd, std::string("ARROW"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_KvUpsert, compacted, std::string("COMPACTED"))->Unit(benchmark::kMillisecond);

// `strom perf upsert` as one bucket of its 3 sees it: the CLI's 10-column rows (id BIGINT key,
// then INT, BIGINT, DOUBLE, STRING columns), every key new, about 11,000 rows per PutKv (what
// the writer's 2 MiB-per-request batches carry per bucket), ARROW changelog with the table
// default compression (ZSTD). 30 batches: the bucket's third of 1M keys, from an empty tablet.
constexpr int kFreshBatchRows = 11111;
constexpr int kFreshBatches = 30;

record::Schema PerfUpsertSchema() {
  record::Schema::Builder builder;
  builder.AddColumn("id", DataType::BigInt().NotNull());
  for (int i = 1; i <= 9; ++i) {
    builder.AddColumn("c" + std::to_string(i), i % 4 == 1   ? DataType::Int()
                                               : i % 4 == 2 ? DataType::BigInt()
                                               : i % 4 == 3 ? DataType::Double()
                                                            : DataType::String());
  }
  return *builder.PrimaryKey({"id"}).Build();
}

GenericRow PerfUpsertRow(int64_t id) {
  GenericRow row(10);
  row[0] = Datum(id);
  for (int i = 1; i <= 9; ++i) {
    const int64_t v = id * 31 + i;
    switch (i % 4) {
      case 1: row[static_cast<size_t>(i)] = Datum(static_cast<int32_t>(v)); break;
      case 2: row[static_cast<size_t>(i)] = Datum(v); break;
      case 3: row[static_cast<size_t>(i)] = Datum(static_cast<double>(v) / 7); break;
      default: {
        std::string s = std::to_string(v);
        row[static_cast<size_t>(i)] = Datum("value-" + std::string(12 - s.size(), '0') + s);
      }
    }
  }
  return row;
}

void BM_KvUpsertFreshKeys(benchmark::State& state) {
  const record::Schema schema = PerfUpsertSchema();
  record::CompactedRowCodec codec(schema.FieldTypes());
  auto keys = *record::KeyEncoder::Create(record::KeyEncoding::kCompacted, schema.RowType(), {"id"});
  BenchDir dir;
  log::LogTabletOptions log_options;
  log_options.dir = dir.path() + "/log-0";
  log_options.config.segment_file_size = 256LL << 20;
  log_options.is_changelog = true;
  auto log = *log::LogTablet::Open(log_options);
  KvTabletOptions options;
  options.dir = dir.path() + "/kv-0";
  options.table.table_id = TableId(1);
  options.schemas = SchemaSet(SchemaId(0), schema);
  options.log = log.get();
  auto kv = *KvTablet::Open(options);
  // Keys of the bucket as the CLI's two threads send them (ids t, t + 2, ...), batched in order.
  std::vector<ByteBuffer> batches;
  int64_t id = 0;
  for (int b = 0; b < kFreshBatches; ++b) {
    ByteBuffer out;
    record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{});
    ByteBuffer key;
    ByteBuffer value;
    for (int i = 0; i < kFreshBatchRows; ++i, id += 3) {
      GenericRow row = PerfUpsertRow(id);
      key.clear();
      value.clear();
      (void)keys->Encode(row, &key);
      (void)codec.Encode(row, &value);
      (void)builder.AppendUpsert(key, value);
    }
    builder.Finish();
    batches.push_back(std::move(out));
  }
  size_t next = 0;
  for (auto _ : state) {
    auto put = kv->PutAsLeader(batches[next++ % batches.size()]);
    Status st = put.ok() ? log->UpdateHighWatermark(log->log_end_offset()) : put.status();
    if (st.ok()) st = kv->FlushUpTo(log->high_watermark());
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kFreshBatchRows);
  (void)kv->Close();
  (void)log->Close();
}
BENCHMARK(BM_KvUpsertFreshKeys)->Unit(benchmark::kMillisecond)->Iterations(kFreshBatches);

// One KvTablet loaded with all 1M keys, shared by the lookup benchmark.
Tablet& LoadedTablet() {
  static Tablet* t = [] {
    auto* tablet = new Tablet("COMPACTED");
    Encoders e;
    for (int64_t first = 0; first < kKeys; first += 10000) {
      ByteBuffer out;
      record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{});
      ByteBuffer key;
      ByteBuffer value;
      for (int64_t id = first; id < first + 10000; ++id) {
        GenericRow row = MakeRow(static_cast<int32_t>(id), static_cast<uint64_t>(id));
        key.clear();
        value.clear();
        (void)e.keys->Encode(row, &key);
        (void)e.codec.Encode(row, &value);
        (void)builder.AppendUpsert(key, value);
      }
      builder.Finish();
      (void)tablet->Put(out);
    }
    (void)tablet->kv->TakeCheckpoint();  // flushes the memtables, as a running server would
    return tablet;
  }();
  return *t;
}

std::vector<ByteBuffer> RandomKeys(Encoders& e, std::mt19937_64& rng, int n) {
  std::vector<ByteBuffer> keys;
  for (int i = 0; i < n; ++i) {
    GenericRow row(10);
    row[0] = Datum(static_cast<int32_t>(rng() % kKeys));
    keys.push_back(*e.keys->Encode(row));
  }
  return keys;
}

void BM_KvLookup(benchmark::State& state) {
  Tablet& t = LoadedTablet();
  Encoders e;
  std::mt19937_64 rng(7);
  std::vector<std::vector<ByteBuffer>> batches;
  for (int i = 0; i < 256; ++i) batches.push_back(RandomKeys(e, rng, kLookupBatch));
  size_t next = 0;
  for (auto _ : state) {
    const auto& keys = batches[next++ % batches.size()];
    std::vector<ByteView> views(keys.begin(), keys.end());
    auto values = t.kv->Lookup(views);
    if (!values.ok() || !(*values)[0]) {
      state.SkipWithError("lookup failed or missed");
      break;
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kLookupBatch);
}
BENCHMARK(BM_KvLookup);

// Recovery after a crash (kill -9): 1M keys in the newest local checkpoint plus a 100,000-change
// changelog tail written after it, nothing closed cleanly. Each iteration opens the bucket's
// LogTablet (which scans its unclean tail) and its KvTablet (which restores the checkpoint
// and replays the tail), as a restarting server does, then drops both again (another crash).
constexpr int64_t kRecoveryTail = 100000;

void BM_KvRecoverCheckpointPlusTail(benchmark::State& state) {
  BenchDir dir;
  auto log_options = [&] {
    log::LogTabletOptions options;
    options.dir = dir.path() + "/log-0";
    options.config.segment_file_size = 256LL << 20;
    options.is_changelog = true;
    return options;
  };
  auto kv_options = [&](log::LogTablet* log) {
    KvTabletOptions options;
    options.dir = dir.path() + "/kv-0";
    options.table.table_id = TableId(1);
    options.table.properties = {{"table.log.format", "COMPACTED"}};
    options.schemas = SchemaSet(SchemaId(0), TenColumns());
    options.log = log;
    return options;
  };
  {
    auto log = *log::LogTablet::Open(log_options());
    auto kv = *KvTablet::Open(kv_options(log.get()));
    Encoders e;
    auto put = [&](ByteView batch) {
      if (!kv->PutAsLeader(batch).ok()) return false;
      if (!log->UpdateHighWatermark(log->log_end_offset()).ok()) return false;
      return kv->FlushUpTo(log->high_watermark()).ok();
    };
    for (int64_t first = 0; first < kKeys; first += 10000) {
      ByteBuffer out;
      record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{});
      ByteBuffer key;
      ByteBuffer value;
      for (int64_t id = first; id < first + 10000; ++id) {
        GenericRow row = MakeRow(static_cast<int32_t>(id), static_cast<uint64_t>(id));
        key.clear();
        value.clear();
        (void)e.keys->Encode(row, &key);
        (void)e.codec.Encode(row, &value);
        (void)builder.AppendUpsert(key, value);
      }
      builder.Finish();
      if (!put(out)) {
        state.SkipWithError("loading failed");
        return;
      }
    }
    if (!kv->TakeCheckpoint().ok()) {
      state.SkipWithError("checkpoint failed");
      return;
    }
    std::mt19937_64 rng(11);
    for (int64_t n = 0; n < kRecoveryTail; n += kBatchRows) {
      if (!put(MakeKvBatch(e, rng, kBatchRows))) {
        state.SkipWithError("tail failed");
        return;
      }
    }
    // Crash: neither tablet is closed, so no new checkpoint and no clean-shutdown marker.
  }
  int64_t replayed = 0;
  for (auto _ : state) {
    auto log = log::LogTablet::Open(log_options());
    if (!log.ok() || !(*log)->UpdateHighWatermark((*log)->log_end_offset()).ok()) {
      state.SkipWithError("log recovery failed");
      break;
    }
    auto kv = KvTablet::Open(kv_options(log->get()));
    if (!kv.ok()) {
      state.SkipWithError(kv.status().ToString().c_str());
      break;
    }
    state.PauseTiming();
    replayed = (*kv)->recovered_record_count();
    kv->reset();
    log->reset();
    state.ResumeTiming();
  }
  state.counters["replayed_changes"] = static_cast<double>(replayed);
}
BENCHMARK(BM_KvRecoverCheckpointPlusTail)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

// The same keys and stored values written and read straight through RocksDB.
void BM_RocksDbPut(benchmark::State& state) {
  BenchDir dir;
  auto store = *RocksDbStore::Open(dir.path() + "/db", RocksDbOptions{});
  Encoders e;
  std::mt19937_64 rng(42);
  RocksDbWriteBatch batch;
  ByteBuffer key;
  ByteBuffer value;
  for (auto _ : state) {
    for (int i = 0; i < kBatchRows; ++i) {
      GenericRow row = MakeRow(static_cast<int32_t>(rng() % kKeys), rng());
      key.clear();
      value.clear();
      (void)e.keys->Encode(row, &key);
      record::AppendEncodedValue(SchemaId(0), ByteView(), &value);
      (void)e.codec.Encode(row, &value);
      batch.Put(key, value);
    }
    Status st = store->Write(&batch);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
}
BENCHMARK(BM_RocksDbPut)->Unit(benchmark::kMillisecond);

void BM_RocksDbMultiGet(benchmark::State& state) {
  // Reads the RocksDB instance the loaded tablet wrote (same keys, values and options).
  Tablet& t = LoadedTablet();
  (void)t.kv->Close();
  Encoders e;
  std::mt19937_64 rng(7);
  auto store = *RocksDbStore::Open(t.dir.path() + "/kv-0/db", RocksDbOptions{});
  std::vector<std::vector<ByteBuffer>> batches;
  for (int i = 0; i < 256; ++i) batches.push_back(RandomKeys(e, rng, kLookupBatch));
  size_t next = 0;
  for (auto _ : state) {
    const auto& keys = batches[next++ % batches.size()];
    std::vector<ByteView> views(keys.begin(), keys.end());
    auto values = store->MultiGet(views);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kLookupBatch);
}
BENCHMARK(BM_RocksDbMultiGet);

}  // namespace
}  // namespace strom::kv
