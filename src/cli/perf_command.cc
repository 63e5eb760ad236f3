// `strom perf append|scan|e2e`: load generators that measure a Fluss-protocol cluster through
// the public client API only, so the same command measures Strom and Apache Fluss alike.
// Each run creates its own table in the `strom_perf` database and drops it afterwards.

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"

namespace strom::cli {

namespace {

using Clock = std::chrono::steady_clock;
using ordered_json = nlohmann::ordered_json;

double Seconds(Clock::duration d) {
  return std::max(std::chrono::duration<double>(d).count(), 1e-9);
}
int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// CPU seconds (user + system) this process used so far, all threads.
double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

constexpr const char* kPerfDatabase = "strom_perf";
// A scan or an end-to-end reader that sees no new row for this long gives up.
constexpr auto kStallTimeout = std::chrono::seconds(30);
// Slots of the hand-over ring between a paced appender and its acknowledgement waiter.
constexpr size_t kAckRing = size_t{1} << 20;

// ---------------------------------------------------------------------------------------
// Latency histogram: microsecond resolution below 1 ms, then 512 sub-buckets per power of
// two (0.2% relative error), so percentiles of millions of samples need a few KiB.

class LatencyHistogram {
 public:
  void Record(int64_t nanos) {
    const uint64_t micros = static_cast<uint64_t>(std::max<int64_t>(nanos, 0)) / 1000;
    ++counts_[Index(micros)];
    ++count_;
    sum_nanos_ += static_cast<double>(std::max<int64_t>(nanos, 0));
    max_nanos_ = std::max(max_nanos_, nanos);
  }
  int64_t count() const { return count_; }
  double mean_ms() const {
    return count_ == 0 ? 0 : sum_nanos_ / static_cast<double>(count_) / 1e6;
  }
  double max_ms() const { return static_cast<double>(max_nanos_) / 1e6; }
  /// The smallest recorded latency (bucket midpoint) that `quantile` of the samples do not exceed.
  double PercentileMs(double quantile) const {
    if (count_ == 0) return 0;
    const auto rank =
        static_cast<int64_t>(std::ceil(quantile * static_cast<double>(count_)));
    int64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= std::max<int64_t>(rank, 1)) return std::min(Midpoint(i) / 1000.0, max_ms());
    }
    return max_ms();
  }

 private:
  static constexpr uint64_t kLinear = 1024;  // exact microseconds below this
  static constexpr int kSubBits = 9;         // 512 sub-buckets per power of two above
  static constexpr size_t kBuckets = kLinear + (64 - 10) * (size_t{1} << kSubBits);

  static size_t Index(uint64_t micros) {
    if (micros < kLinear) return micros;
    const int exponent = std::bit_width(micros) - 1;  // >= 10
    const uint64_t sub = (micros >> (exponent - kSubBits)) & ((uint64_t{1} << kSubBits) - 1);
    return kLinear + static_cast<size_t>(exponent - 10) * (size_t{1} << kSubBits) + sub;
  }
  static double Midpoint(size_t index) {
    if (index < kLinear) return static_cast<double>(index) + 0.5;
    const size_t offset = index - kLinear;
    const int exponent = static_cast<int>(offset >> kSubBits) + 10;
    const uint64_t sub = offset & ((uint64_t{1} << kSubBits) - 1);
    const double width = std::ldexp(1.0, exponent - kSubBits);
    return std::ldexp(1.0, exponent) + static_cast<double>(sub) * width + width / 2;
  }

  std::vector<int64_t> counts_ = std::vector<int64_t>(kBuckets, 0);
  int64_t count_ = 0;
  double sum_nanos_ = 0;
  int64_t max_nanos_ = 0;
};

void AddLatencies(const LatencyHistogram& h, ordered_json* doc) {
  (*doc)["latency_samples"] = h.count();
  (*doc)["p50_ms"] = h.PercentileMs(0.50);
  (*doc)["p90_ms"] = h.PercentileMs(0.90);
  (*doc)["p99_ms"] = h.PercentileMs(0.99);
  (*doc)["p999_ms"] = h.PercentileMs(0.999);
  (*doc)["max_ms"] = h.max_ms();
  (*doc)["mean_ms"] = h.mean_ms();
}

std::string LatencyLine(const LatencyHistogram& h) {
  return fmt::format("p50 {:.3f} ms, p90 {:.3f} ms, p99 {:.3f} ms, p99.9 {:.3f} ms, max {:.3f} ms",
                     h.PercentileMs(0.50), h.PercentileMs(0.90), h.PercentileMs(0.99),
                     h.PercentileMs(0.999), h.max_ms());
}

// ---------------------------------------------------------------------------------------
// The generated rows.

// The columns of a perf table and a pool of pre-built rows (only id and ts change per row),
// so that the measurement is the client and the cluster, not the row generator.
struct RowShape {
  Schema schema;
  int32_t width = 0;
  int32_t string_columns = 0;
  int64_t raw_row_bytes = 0;  // bytes of the values of one row (strings: their length)
  std::vector<int64_t> raw_column_bytes;
  std::vector<GenericRow> pool;
};

// "wide": id BIGINT, ts BIGINT, then c2.. cycling INT, BIGINT, DOUBLE, STRING; `payload`
// bytes of random text are spread over the STRING columns. "payload": id, ts, payload STRING.
Result<RowShape> MakeRowShape(const std::string& kind, int32_t width, int32_t payload) {
  RowShape shape;
  Schema::Builder builder;
  std::vector<TypeRoot> roots;
  auto add = [&](std::string name, DataType type) {
    roots.push_back(type.root());
    builder.AddColumn(std::move(name), std::move(type));
  };
  add("id", DataType::BigInt());
  add("ts", DataType::BigInt());
  if (kind == "payload") {
    add("payload", DataType::String());
  } else if (kind == "wide") {
    if (width < 2) return MakeError(ErrorCode::kInvalidConfig, "--width must be at least 2");
    for (int32_t i = 2; i < width; ++i) {
      switch ((i - 2) % 4) {
        case 0: add(fmt::format("c{}", i), DataType::Int()); break;
        case 1: add(fmt::format("c{}", i), DataType::BigInt()); break;
        case 2: add(fmt::format("c{}", i), DataType::Double()); break;
        default: add(fmt::format("c{}", i), DataType::String()); break;
      }
    }
  } else {
    return MakeError(ErrorCode::kInvalidConfig, "--schema must be wide or payload, not '{}'", kind);
  }
  STROM_ASSIGN_OR_RETURN(shape.schema, builder.Build());
  shape.width = static_cast<int32_t>(roots.size());
  for (TypeRoot root : roots) shape.string_columns += root == TypeRoot::kString ? 1 : 0;
  const int32_t per_string =
      shape.string_columns == 0 ? 0 : std::max(0, payload) / shape.string_columns;

  std::mt19937_64 rng(42);
  constexpr size_t kPoolRows = 4096;  // more distinct rows than one batch holds
  shape.pool.resize(kPoolRows);
  for (GenericRow& row : shape.pool) {
    row.resize(roots.size());
    for (size_t c = 0; c < roots.size(); ++c) {
      switch (roots[c]) {
        case TypeRoot::kInt: row[c] = Datum(static_cast<int32_t>(rng() % 1000000)); break;
        case TypeRoot::kBigInt: row[c] = Datum(static_cast<int64_t>(rng() >> 4)); break;
        case TypeRoot::kDouble: row[c] = Datum(static_cast<double>(rng() % 100000) / 7.0); break;
        default: {
          std::string text(static_cast<size_t>(per_string), ' ');
          for (char& ch : text) ch = static_cast<char>('a' + rng() % 26);
          row[c] = Datum(std::move(text));
        }
      }
    }
  }
  for (TypeRoot root : roots) {
    int64_t bytes = root == TypeRoot::kInt ? 4 : root == TypeRoot::kString ? per_string : 8;
    shape.raw_column_bytes.push_back(bytes);
    shape.raw_row_bytes += bytes;
  }
  return shape;
}

// ---------------------------------------------------------------------------------------
// A table that lives as long as the run.

class PerfTable {
 public:
  static Result<std::unique_ptr<PerfTable>> Create(Connection* conn, const std::string& workload,
                                                   const Schema& schema,
                                                   const PerfOptions& options) {
    auto admin = conn->GetAdmin();
    STROM_RETURN_IF_ERROR(admin->CreateDatabase(kPerfDatabase, DatabaseDescriptor(), true));
    TableDescriptor::Parts parts;
    parts.schema = schema;
    parts.distribution = TableDistribution{options.buckets, {}};
    parts.properties.emplace_back("table.log.arrow.compression.type", options.compression);
    STROM_ASSIGN_OR_RETURN(TableDescriptor descriptor, TableDescriptor::Make(std::move(parts)));
    TablePath path(kPerfDatabase,
                   fmt::format("{}_{}_{}", workload, ::getpid(),
                               std::chrono::system_clock::now().time_since_epoch().count() %
                                   1000000000));
    STROM_RETURN_IF_ERROR(admin->CreateTable(path, descriptor));
    auto table = std::unique_ptr<PerfTable>(new PerfTable(std::move(admin), path, options.keep));
    STROM_ASSIGN_OR_RETURN(table->table_, conn->GetTable(path));
    return table;
  }
  ~PerfTable() {
    table_.reset();
    if (!keep_) admin_->DropTable(path_, true).IgnoreError();
  }
  Table& table() { return *table_; }
  const TablePath& path() const { return path_; }

 private:
  PerfTable(std::unique_ptr<Admin> admin, TablePath path, bool keep)
      : admin_(std::move(admin)), path_(std::move(path)), keep_(keep) {}
  std::unique_ptr<Admin> admin_;
  TablePath path_;
  bool keep_;
  std::unique_ptr<Table> table_;
};

struct FirstError {
  std::mutex mu;
  Status status;
  std::atomic<bool> set{false};
  void Note(const Status& s) {
    if (s.ok()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (status.ok()) status = s;
    set = true;
  }
};

// The row count and time limit of a run: --rows wins; --duration alone runs that long (paced:
// rate x duration rows); neither: `default_rows`, or 10 s at a fixed rate.
struct RunLimits {
  int64_t rows = 0;  // INT64_MAX: until the deadline
  std::optional<Clock::duration> duration;
};

RunLimits ResolveLimits(const PerfOptions& options, int64_t default_rows) {
  RunLimits limits;
  if (options.duration_seconds > 0) {
    limits.duration = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.duration_seconds));
  }
  if (options.rows) {
    limits.rows = *options.rows;
  } else if (options.rate > 0) {
    const double seconds = options.duration_seconds > 0 ? options.duration_seconds : 10.0;
    limits.rows = std::max<int64_t>(1, static_cast<int64_t>(options.rate * seconds));
  } else {
    limits.rows = limits.duration ? INT64_MAX : default_rows;
  }
  return limits;
}

Status CheckCommon(const PerfOptions& options) {
  if ((options.rows && *options.rows <= 0) || options.payload_bytes < 0 || options.buckets <= 0 ||
      options.threads <= 0 || options.rate < 0 || options.duration_seconds < 0) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--rows, --buckets and --threads must be positive, --payload, --rate and "
                     "--duration not negative");
  }
  return Status::OK();
}

// Appends as fast as the writers go, `options.threads` threads per writer, until the limits;
// then flushes every writer. The threads take chunks of row ids from one shared counter, so
// the row count is exact and a faster writer takes more of it. Returns the seconds from the
// first append to the end of the last flush.
Result<double> AppendMaxRate(CommandContext& ctx, const std::vector<AppendWriter*>& writers,
                             const RowShape& shape, const PerfOptions& options,
                             const RunLimits& limits) {
  std::atomic<int64_t> next{0};
  FirstError error;
  const Clock::time_point start = Clock::now();
  const std::optional<Clock::time_point> deadline =
      limits.duration ? std::optional(start + *limits.duration) : std::nullopt;
  auto work = [&](AppendWriter* writer) {
    std::vector<GenericRow> pool = shape.pool;
    constexpr int64_t kChunk = 256;  // rows claimed at once; the deadline is checked per chunk
    for (;;) {
      const int64_t first = next.fetch_add(kChunk, std::memory_order_relaxed);
      if (first >= limits.rows || error.set.load(std::memory_order_relaxed) || ctx.interrupted())
        break;
      if (deadline && Clock::now() >= *deadline) break;
      const int64_t end = std::min(limits.rows, first + kChunk);
      // One clock read per chunk: `ts` is when the chunk was claimed (reading the clock per
      // row cost the driver about 5% of its CPU, time no real producer spends per row).
      const int64_t ts = Nanos(Clock::now());
      for (int64_t i = first; i < end; ++i) {
        GenericRow& row = pool[static_cast<size_t>(i) & (pool.size() - 1)];
        row[0] = Datum(i);
        row[1] = Datum(ts);
        Status st = writer->Append(row);
        if (!st.ok()) {
          error.Note(st);
          return;
        }
      }
    }
  };
  const size_t total = writers.size() * static_cast<size_t>(options.threads);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < total; ++t) threads.emplace_back(work, writers[t % writers.size()]);
  work(writers[0]);
  for (auto& t : threads) t.join();
  // Flush the writers side by side: each Flush waits for its own acknowledgements only.
  threads.clear();
  for (size_t w = 1; w < writers.size(); ++w) {
    threads.emplace_back([&, w] { error.Note(writers[w]->Flush()); });
  }
  error.Note(writers[0]->Flush());
  for (auto& t : threads) t.join();
  const double seconds = Seconds(Clock::now() - start);
  if (!error.status.ok()) return error.status;
  return seconds;
}

Result<double> AppendMaxRate(CommandContext& ctx, AppendWriter& writer, const RowShape& shape,
                             const PerfOptions& options, const RunLimits& limits) {
  return AppendMaxRate(ctx, std::vector<AppendWriter*>{&writer}, shape, options, limits);
}

// The writers of an append run and what they write through. Writer i uses connection
// i mod `connections`; connection 0 is the command's own, the others are opened with its
// configuration, so each has its own network thread and TCP connections.
struct AppendWriters {
  std::vector<std::unique_ptr<Connection>> extra_connections;
  std::vector<std::unique_ptr<Table>> tables;
  std::vector<std::unique_ptr<AppendWriter>> writers;
  int32_t connections = 1;

  static Result<AppendWriters> Open(Connection* conn, const TablePath& path, int32_t writers,
                                    int32_t connections) {
    AppendWriters out;
    out.connections = std::clamp(connections > 0 ? connections : writers, 1, writers);
    std::vector<Connection*> conns{conn};
    for (int32_t c = 1; c < out.connections; ++c) {
      STROM_ASSIGN_OR_RETURN(std::unique_ptr<Connection> extra,
                             Connection::Create(conn->config()));
      conns.push_back(extra.get());
      out.extra_connections.push_back(std::move(extra));
    }
    for (int32_t w = 0; w < writers; ++w) {
      STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table,
                             conns[static_cast<size_t>(w % out.connections)]->GetTable(path));
      STROM_ASSIGN_OR_RETURN(std::unique_ptr<AppendWriter> writer,
                             table->NewAppend().CreateWriter());
      out.tables.push_back(std::move(table));
      out.writers.push_back(std::move(writer));
    }
    return out;
  }

  std::vector<AppendWriter*> raw() const {
    std::vector<AppendWriter*> out;
    for (const auto& w : writers) out.push_back(w.get());
    return out;
  }

  AppendWriterStats SumStats() const {
    AppendWriterStats sum;
    for (const auto& w : writers) {
      const AppendWriterStats s = w->stats();
      sum.records_appended += s.records_appended;
      sum.records_acked += s.records_acked;
      sum.records_failed += s.records_failed;
      sum.batches_sent += s.batches_sent;
      sum.bytes_sent += s.bytes_sent;
      sum.requests_sent += s.requests_sent;
      sum.retries += s.retries;
    }
    return sum;
  }

  void CloseAll() {
    for (auto& w : writers) w->Close().IgnoreError();
  }
};

// Appends at `options.rate` rows/s on a fixed schedule; a second thread waits for each row's
// acknowledgement in append order and records the time from the row's scheduled send time
// (so a stalled appender counts against latency, no coordinated omission). Returns seconds.
Result<double> AppendPaced(CommandContext& ctx, AppendWriter& writer, const RowShape& shape,
                           const PerfOptions& options, const RunLimits& limits,
                           LatencyHistogram* latencies) {
  struct Slot {
    int64_t scheduled_nanos = 0;
    WriteResult result;
  };
  std::vector<Slot> ring(kAckRing);
  std::atomic<int64_t> produced{0};
  std::atomic<int64_t> consumed{0};
  std::atomic<bool> done{false};
  FirstError error;

  std::thread waiter([&] {
    int64_t next = 0;
    for (;;) {
      if (next == produced.load(std::memory_order_acquire)) {
        if (done.load(std::memory_order_acquire) &&
            next == produced.load(std::memory_order_acquire)) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        continue;
      }
      Slot& slot = ring[static_cast<size_t>(next) % kAckRing];
      Status st = slot.result.Wait();
      latencies->Record(Nanos(Clock::now()) - slot.scheduled_nanos);
      error.Note(st);
      slot.result = WriteResult();
      consumed.store(++next, std::memory_order_release);
    }
  });

  std::vector<GenericRow> pool = shape.pool;
  const double interval_nanos = 1e9 / options.rate;
  const Clock::time_point start = Clock::now();
  const int64_t start_nanos = Nanos(start);
  const int64_t end_nanos = limits.duration
                                ? start_nanos + std::chrono::nanoseconds(*limits.duration).count()
                                : INT64_MAX;
  for (int64_t i = 0; i < limits.rows; ++i) {
    if (error.set.load(std::memory_order_relaxed) || ctx.interrupted()) break;
    const int64_t scheduled =
        start_nanos + static_cast<int64_t>(static_cast<double>(i) * interval_nanos);
    if (scheduled >= end_nanos) break;
    const int64_t ahead = scheduled - Nanos(Clock::now());
    if (ahead > 20000) std::this_thread::sleep_for(std::chrono::nanoseconds(ahead));
    while (i - consumed.load(std::memory_order_acquire) >= static_cast<int64_t>(kAckRing)) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    GenericRow& row = pool[static_cast<size_t>(i) & (pool.size() - 1)];
    row[0] = Datum(i);
    row[1] = Datum(scheduled);
    Slot& slot = ring[static_cast<size_t>(i) % kAckRing];
    slot.scheduled_nanos = scheduled;
    Status st = writer.Append(row, &slot.result);
    if (!st.ok()) {
      error.Note(st);
      break;
    }
    produced.store(i + 1, std::memory_order_release);
  }
  done.store(true, std::memory_order_release);
  error.Note(writer.Flush());
  waiter.join();
  const double seconds = Seconds(Clock::now() - start);
  if (!error.status.ok()) return error.status;
  return seconds;
}

// Folds every value of `batch` into a checksum, column by column, through the typed
// getters a consumer of ScanBatch uses: fixed-width values as their bits, strings and bytes
// word by word (every byte is read), nulls as a constant.
uint64_t ChecksumBatch(const ScanBatch& batch) {
  constexpr uint64_t kNull = 0x9e3779b97f4a7c15ull;
  uint64_t sum = 0;
  const size_t rows = batch.size();
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    uint64_t acc = 0;
    auto fold = [&](auto get) {
      for (size_t r = 0; r < rows; ++r) acc += batch.IsNull(r, c) ? kNull : get(r);
    };
    auto u64 = [](auto v) { return static_cast<uint64_t>(v); };
    switch (batch.type_root(c)) {
      case TypeRoot::kBoolean:
        fold([&](size_t r) { return u64(batch.GetBoolean(r, c)); });
        break;
      case TypeRoot::kTinyInt:
        fold([&](size_t r) { return u64(batch.GetTinyInt(r, c)); });
        break;
      case TypeRoot::kSmallInt:
        fold([&](size_t r) { return u64(batch.GetSmallInt(r, c)); });
        break;
      case TypeRoot::kInt:
      case TypeRoot::kDate:
      case TypeRoot::kTime:
        fold([&](size_t r) { return u64(batch.GetInt(r, c)); });
        break;
      case TypeRoot::kBigInt:
        fold([&](size_t r) { return u64(batch.GetBigInt(r, c)); });
        break;
      case TypeRoot::kFloat:
        fold([&](size_t r) { return u64(std::bit_cast<uint32_t>(batch.GetFloat(r, c))); });
        break;
      case TypeRoot::kDouble:
        fold([&](size_t r) { return std::bit_cast<uint64_t>(batch.GetDouble(r, c)); });
        break;
      case TypeRoot::kChar:
      case TypeRoot::kString:
      case TypeRoot::kBinary:
      case TypeRoot::kBytes:
        fold([&](size_t r) {
          std::string_view bytes = batch.GetBytes(r, c);
          uint64_t h = bytes.size();
          size_t k = 0;
          for (; k + 8 <= bytes.size(); k += 8) {
            uint64_t word;
            std::memcpy(&word, bytes.data() + k, 8);
            h = std::rotl(h, 5) ^ word;
          }
          for (; k < bytes.size(); ++k) h = std::rotl(h, 5) ^ u64(static_cast<uint8_t>(bytes[k]));
          return h;
        });
        break;
      case TypeRoot::kDecimal:
        fold([&](size_t r) { return u64(batch.GetDecimal(r, c).unscaled); });
        break;
      case TypeRoot::kTimestamp:
      case TypeRoot::kTimestampLtz:
        fold([&](size_t r) {
          TimestampValue t = batch.GetTimestamp(r, c);
          return u64(t.millis) * 1000003u + u64(t.nanos_of_milli);
        });
        break;
      default:  // nested types, decoded through Datum (only their shape is summed)
        fold([&](size_t r) { return u64(batch.GetDatum(r, c).v.index()); });
    }
    sum = std::rotl(sum, 7) ^ acc;
  }
  return sum;
}

// Reads every bucket from the start until `expected` rows arrived, reading every value of
// every row (ChecksumBatch; `checksum` gets the sum over batches, optional). Returns seconds.
Result<double> ScanAll(CommandContext& ctx, LogScanner& scanner, int64_t expected,
                       int64_t* scanned, uint64_t* checksum = nullptr) {
  const Clock::time_point start = Clock::now();
  STROM_RETURN_IF_ERROR(scanner.SubscribeAll(OffsetSpec::Earliest()));
  Clock::time_point last_progress = Clock::now();
  uint64_t sum = 0;
  while (*scanned < expected && !ctx.interrupted()) {
    STROM_ASSIGN_OR_RETURN(ScanBatches batches,
                           scanner.PollBatches(std::chrono::milliseconds(500)));
    if (batches.empty()) {
      if (Clock::now() - last_progress > kStallTimeout) {
        return MakeError(ErrorCode::kRequestTimeOut, "scan stalled at {} of {} rows", *scanned,
                         expected);
      }
      continue;
    }
    last_progress = Clock::now();
    for (const ScanBatch& batch : batches) sum += ChecksumBatch(batch);
    *scanned += static_cast<int64_t>(batches.record_count);
  }
  if (checksum != nullptr) *checksum = sum;
  return Seconds(Clock::now() - start);
}

std::vector<std::string> SplitColumns(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

ordered_json BaseDoc(const char* workload, const PerfTable& table, const RowShape& shape,
                     const PerfOptions& options) {
  return ordered_json{{"workload", workload},
                      {"table", table.path().ToString()},
                      {"columns", shape.width},
                      {"buckets", options.buckets},
                      {"compression", options.compression},
                      {"raw_row_bytes", shape.raw_row_bytes}};
}

int32_t WidthOr(const PerfOptions& options, int32_t fallback) {
  return options.width > 0 ? options.width : fallback;
}

}  // namespace

Status PerfAppend(CommandContext& ctx, const PerfOptions& options) {
  STROM_RETURN_IF_ERROR(CheckCommon(options));
  if (options.writers <= 0 || options.connections < 0) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--writers must be positive and --connections not negative");
  }
  if (options.rate > 0 && (options.writers > 1 || options.connections > 1)) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--writers and --connections are for full-speed appends; --rate uses one "
                     "writer");
  }
  STROM_ASSIGN_OR_RETURN(RowShape shape,
                         MakeRowShape(options.schema, WidthOr(options, 10), options.payload_bytes));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(auto table, PerfTable::Create(conn, "append", shape.schema, options));
  STROM_ASSIGN_OR_RETURN(AppendWriters writers, AppendWriters::Open(conn, table->path(),
                                                                     options.writers,
                                                                     options.connections));
  const RunLimits limits = ResolveLimits(options, 1000000);
  LatencyHistogram latencies;
  const double cpu_start = ProcessCpuSeconds();
  Result<double> seconds =
      options.rate > 0
          ? AppendPaced(ctx, *writers.writers[0], shape, options, limits, &latencies)
          : AppendMaxRate(ctx, writers.raw(), shape, options, limits);
  const double client_cpu = ProcessCpuSeconds() - cpu_start;
  const AppendWriterStats stats = writers.SumStats();
  std::vector<int64_t> writer_rows;
  for (const auto& w : writers.writers) writer_rows.push_back(w->stats().records_acked);
  writers.CloseAll();
  STROM_RETURN_IF_ERROR(seconds.status());
  const int64_t rows = stats.records_acked;
  const double log_bytes = static_cast<double>(stats.bytes_sent);
  const double raw_bytes = static_cast<double>(rows) * static_cast<double>(shape.raw_row_bytes);

  int64_t scanned = 0;
  double scan_seconds = 0;
  if (options.scan) {
    STROM_ASSIGN_OR_RETURN(auto scanner, table->table().NewScan().CreateLogScanner());
    STROM_ASSIGN_OR_RETURN(scan_seconds, ScanAll(ctx, *scanner, rows, &scanned));
  }

  if (ctx.json()) {
    ordered_json doc = BaseDoc("append", *table, shape, options);
    doc["rows"] = rows;
    doc["bytes"] = stats.bytes_sent;
    doc["seconds"] = *seconds;
    doc["mb_per_s"] = log_bytes / 1e6 / *seconds;
    doc["rows_per_s"] = static_cast<double>(rows) / *seconds;
    doc["raw_mb_per_s"] = raw_bytes / 1e6 / *seconds;
    doc["client_cpu_seconds"] = client_cpu;
    doc["threads"] = options.rate > 0 ? 1 : options.threads;
    doc["writers"] = static_cast<int32_t>(writers.writers.size());
    doc["connections"] = writers.connections;
    doc["writer_rows"] = writer_rows;
    doc["batches"] = stats.batches_sent;
    doc["requests"] = stats.requests_sent;
    doc["retries"] = stats.retries;
    if (options.rate > 0) {
      doc["target_rate"] = options.rate;
      AddLatencies(latencies, &doc);
    }
    if (options.scan) {
      doc["scan_rows"] = scanned;
      doc["scan_seconds"] = scan_seconds;
      doc["scan_mb_per_s"] = log_bytes * static_cast<double>(scanned) /
                             static_cast<double>(std::max<int64_t>(rows, 1)) / 1e6 / scan_seconds;
      doc["scan_rows_per_s"] = static_cast<double>(scanned) / scan_seconds;
    }
    ctx.out() << doc.dump() << '\n';
  } else {
    ctx.out() << fmt::format(
        "Appended {} rows of {} columns ({} of batches) in {:.2f} s: {:.1f} MB/s, {} rows/s "
        "({:.1f} MB/s of values; {} writer(s) on {} connection(s); {} batches, {} requests, {} "
        "retries)\n",
        FormatCount(rows), shape.width, FormatBytes(log_bytes), *seconds,
        log_bytes / 1e6 / *seconds, FormatCount(static_cast<int64_t>(rows / *seconds)),
        raw_bytes / 1e6 / *seconds, writers.writers.size(), writers.connections,
        stats.batches_sent, stats.requests_sent, stats.retries);
    if (options.rate > 0) {
      ctx.out() << fmt::format("Produce latency at {} rows/s: {}\n",
                               FormatCount(static_cast<int64_t>(options.rate)),
                               LatencyLine(latencies));
    }
    if (options.scan) {
      ctx.out() << fmt::format("Scanned {} rows in {:.2f} s: {:.1f} MB/s\n", FormatCount(scanned),
                               scan_seconds,
                               log_bytes * static_cast<double>(scanned) /
                                   static_cast<double>(std::max<int64_t>(rows, 1)) / 1e6 /
                                   scan_seconds);
    }
  }
  return Status::OK();
}

Status PerfScan(CommandContext& ctx, const PerfOptions& options) {
  STROM_RETURN_IF_ERROR(CheckCommon(options));
  STROM_ASSIGN_OR_RETURN(RowShape shape,
                         MakeRowShape(options.schema, WidthOr(options, 20), options.payload_bytes));
  const std::vector<std::string> projection = SplitColumns(options.columns);
  int64_t projected_raw_bytes = shape.raw_row_bytes;
  if (!projection.empty()) {
    projected_raw_bytes = 0;
    for (const std::string& name : projection) {
      std::optional<size_t> index;
      for (size_t c = 0; c < shape.schema.columns().size(); ++c) {
        if (shape.schema.columns()[c].name == name) index = c;
      }
      if (!index) {
        return MakeError(ErrorCode::kInvalidConfig,
                         "--columns: no column '{}' (the table has id, ts, c2 .. c{})", name,
                         shape.width - 1);
      }
      projected_raw_bytes += shape.raw_column_bytes[*index];
    }
  }
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(auto table, PerfTable::Create(conn, "scan", shape.schema, options));

  // Fill the table first, as fast as possible (--rate is ignored here).
  PerfOptions fill = options;
  fill.rate = 0;
  STROM_ASSIGN_OR_RETURN(auto writer, table->table().NewAppend().CreateWriter());
  Result<double> fill_seconds =
      AppendMaxRate(ctx, *writer, shape, fill, ResolveLimits(fill, 1000000));
  const AppendWriterStats stats = writer->stats();
  writer->Close().IgnoreError();
  STROM_RETURN_IF_ERROR(fill_seconds.status());
  const int64_t rows = stats.records_acked;
  const double log_bytes = static_cast<double>(stats.bytes_sent);

  TableScan scan = table->table().NewScan();
  if (!projection.empty()) scan.ProjectByName(projection);
  STROM_ASSIGN_OR_RETURN(auto scanner, scan.CreateLogScanner());
  int64_t scanned = 0;
  uint64_t checksum = 0;
  const double cpu_start = ProcessCpuSeconds();
  STROM_ASSIGN_OR_RETURN(double seconds, ScanAll(ctx, *scanner, rows, &scanned, &checksum));
  const double client_cpu = ProcessCpuSeconds() - cpu_start;
  // MB/s counts the table's stored batches the scan went through (with a projection the
  // server reads them all but sends only the chosen columns).
  const double covered = log_bytes * static_cast<double>(scanned) /
                         static_cast<double>(std::max<int64_t>(rows, 1));
  const double raw = static_cast<double>(scanned) * static_cast<double>(projected_raw_bytes);

  if (ctx.json()) {
    ordered_json doc = BaseDoc("scan", *table, shape, options);
    doc["projection"] = projection;
    doc["rows"] = scanned;
    doc["bytes"] = static_cast<int64_t>(covered);
    doc["seconds"] = seconds;
    doc["mb_per_s"] = covered / 1e6 / seconds;
    doc["rows_per_s"] = static_cast<double>(scanned) / seconds;
    doc["raw_mb_per_s"] = raw / 1e6 / seconds;
    const size_t columns_read = projection.empty() ? static_cast<size_t>(shape.width)
                                                   : projection.size();
    doc["values_per_s"] =
        static_cast<double>(scanned) * static_cast<double>(columns_read) / seconds;
    doc["client_cpu_seconds"] = client_cpu;
    doc["checksum"] = fmt::format("{:016x}", checksum);
    doc["fill_seconds"] = *fill_seconds;
    doc["fill_mb_per_s"] = log_bytes / 1e6 / *fill_seconds;
    doc["fill_rows_per_s"] = static_cast<double>(rows) / *fill_seconds;
    ctx.out() << doc.dump() << '\n';
  } else {
    ctx.out() << fmt::format(
        "Filled {} rows of {} columns ({}) in {:.2f} s; scanned {} ({}) in {:.2f} s: {:.1f} MB/s "
        "of table, {} rows/s, {:.1f} MB/s of values\n",
        FormatCount(rows), shape.width, FormatBytes(log_bytes), *fill_seconds,
        FormatCount(scanned), projection.empty() ? "all columns" : options.columns, seconds,
        covered / 1e6 / seconds, FormatCount(static_cast<int64_t>(scanned / seconds)),
        raw / 1e6 / seconds);
  }
  return Status::OK();
}

Status PerfE2e(CommandContext& ctx, const PerfOptions& options) {
  STROM_RETURN_IF_ERROR(CheckCommon(options));
  PerfOptions paced = options;
  if (paced.rate <= 0) paced.rate = 10000;
  STROM_ASSIGN_OR_RETURN(RowShape shape,
                         MakeRowShape(options.schema, WidthOr(options, 10), options.payload_bytes));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(auto table, PerfTable::Create(conn, "e2e", shape.schema, options));
  STROM_ASSIGN_OR_RETURN(auto writer, table->table().NewAppend().CreateWriter());
  // The reader fetches only `ts` (the row's scheduled send time), so decoding stays cheap.
  STROM_ASSIGN_OR_RETURN(auto scanner,
                         table->table().NewScan().ProjectByName({"ts"}).CreateLogScanner());
  STROM_RETURN_IF_ERROR(scanner->SubscribeAll(OffsetSpec::Earliest()));

  const RunLimits limits = ResolveLimits(paced, 0);
  std::atomic<bool> appending_done{false};
  std::atomic<int64_t> expected{INT64_MAX};
  LatencyHistogram e2e;
  FirstError read_error;
  int64_t seen = 0;
  std::thread reader([&] {
    Clock::time_point last_progress = Clock::now();
    while (seen < expected.load(std::memory_order_acquire) && !ctx.interrupted()) {
      Result<ScanRecords> records = scanner->Poll(std::chrono::milliseconds(100));
      if (!records.ok()) {
        read_error.Note(records.status());
        return;
      }
      const int64_t now = Nanos(Clock::now());
      for (const ScanRecord& record : *records) e2e.Record(now - record.row[0].as<int64_t>());
      seen += static_cast<int64_t>(records->size());
      if (!records->empty()) {
        last_progress = Clock::now();
      } else if (appending_done.load(std::memory_order_acquire) &&
                 Clock::now() - last_progress > kStallTimeout) {
        read_error.Note(MakeError(ErrorCode::kRequestTimeOut,
                                  "end-to-end reader stalled at {} of {} rows", seen,
                                  expected.load()));
        return;
      }
    }
  });

  LatencyHistogram produce;
  Result<double> seconds = AppendPaced(ctx, *writer, shape, paced, limits, &produce);
  const AppendWriterStats stats = writer->stats();
  expected.store(stats.records_acked, std::memory_order_release);
  appending_done.store(true, std::memory_order_release);
  reader.join();
  writer->Close().IgnoreError();
  STROM_RETURN_IF_ERROR(seconds.status());
  STROM_RETURN_IF_ERROR(read_error.status);

  if (ctx.json()) {
    ordered_json doc = BaseDoc("e2e", *table, shape, options);
    doc["rows"] = seen;
    doc["target_rate"] = paced.rate;
    doc["seconds"] = *seconds;
    doc["rows_per_s"] = static_cast<double>(stats.records_acked) / *seconds;
    doc["mb_per_s"] = static_cast<double>(stats.bytes_sent) / 1e6 / *seconds;
    AddLatencies(e2e, &doc);
    doc["produce_p50_ms"] = produce.PercentileMs(0.50);
    doc["produce_p99_ms"] = produce.PercentileMs(0.99);
    doc["produce_p999_ms"] = produce.PercentileMs(0.999);
    ctx.out() << doc.dump() << '\n';
  } else {
    ctx.out() << fmt::format("Appended and read {} rows at {} rows/s in {:.2f} s\n",
                             FormatCount(seen), FormatCount(static_cast<int64_t>(paced.rate)),
                             *seconds);
    ctx.out() << fmt::format("End-to-end latency (append to poll): {}\n", LatencyLine(e2e));
    ctx.out() << fmt::format("Produce latency (append to acknowledgement): {}\n",
                             LatencyLine(produce));
  }
  return Status::OK();
}

}  // namespace strom::cli
