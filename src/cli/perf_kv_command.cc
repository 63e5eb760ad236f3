// `strom perf upsert|lookup`: load generators for primary-key tables. Like `strom perf
// append` they go through the public client API only, so the same command measures Strom and
// Apache Fluss alike; each run creates its own table in `strom_perf` and drops it afterwards.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "cli/kv_commands.h"
#include "cli/output.h"
#include "cli/perf_kv.h"

namespace strom::cli {

namespace {

using Clock = std::chrono::steady_clock;
using ordered_json = nlohmann::ordered_json;

constexpr const char* kPerfDatabase = "strom_perf";
constexpr int kValueColumns = 9;

double Seconds(Clock::duration d) {
  return std::max(std::chrono::duration<double>(d).count(), 1e-9);
}

// The 10-column row of key `id`: id BIGINT (the primary key), then INT, BIGINT, DOUBLE and
// STRING columns whose values derive from the key, so a lookup can check what it read.
Result<Schema> PerfSchema() {
  Schema::Builder builder;
  builder.AddColumn("id", DataType::BigInt().NotNull());
  for (int i = 1; i <= kValueColumns; ++i) {
    DataType type = i % 4 == 1   ? DataType::Int()
                    : i % 4 == 2 ? DataType::BigInt()
                    : i % 4 == 3 ? DataType::Double()
                                 : DataType::String();
    builder.AddColumn(fmt::format("c{}", i), type);
  }
  builder.PrimaryKey({"id"});
  return builder.Build();
}

GenericRow PerfRow(int64_t id, int64_t version) {
  GenericRow row(1 + kValueColumns);
  row[0] = Datum(id);
  for (int i = 1; i <= kValueColumns; ++i) {
    const int64_t v = id * 31 + i + version;
    switch (i % 4) {
      case 1:
        row[static_cast<size_t>(i)] = Datum(static_cast<int32_t>(v));
        break;
      case 2:
        row[static_cast<size_t>(i)] = Datum(v);
        break;
      case 3:
        row[static_cast<size_t>(i)] = Datum(static_cast<double>(v) / 7);
        break;
      default:
        row[static_cast<size_t>(i)] = Datum(fmt::format("value-{:012d}", v));
        break;
    }
  }
  return row;
}

// A fresh primary-key table for one run, dropped at the end unless kept.
class KvPerfTable {
 public:
  static Result<std::unique_ptr<KvPerfTable>> Create(Connection* conn, int32_t buckets, bool keep,
                                                     const std::string& workload) {
    std::unique_ptr<Admin> admin = conn->GetAdmin();
    STROM_RETURN_IF_ERROR(admin->CreateDatabase(kPerfDatabase, DatabaseDescriptor(), true));
    TablePath path(kPerfDatabase,
                   fmt::format("{}_{}_{}", workload, static_cast<int64_t>(::getpid()),
                               Clock::now().time_since_epoch().count() % 1000000));
    TableDescriptor::Parts parts;
    STROM_ASSIGN_OR_RETURN(parts.schema, PerfSchema());
    parts.distribution = TableDistribution{buckets, std::vector<std::string>{"id"}};
    STROM_ASSIGN_OR_RETURN(TableDescriptor descriptor, TableDescriptor::Make(std::move(parts)));
    STROM_RETURN_IF_ERROR(admin->CreateTable(path, descriptor));
    std::unique_ptr<KvPerfTable> table(new KvPerfTable(std::move(admin), path, keep));
    STROM_ASSIGN_OR_RETURN(table->table_, conn->GetTable(path));
    return table;
  }
  ~KvPerfTable() {
    table_.reset();
    if (!keep_) admin_->DropTable(path_, true).IgnoreError();
  }
  Table& table() { return *table_; }
  const TablePath& path() const { return path_; }

 private:
  KvPerfTable(std::unique_ptr<Admin> admin, TablePath path, bool keep)
      : admin_(std::move(admin)), path_(std::move(path)), keep_(keep) {}

  std::unique_ptr<Admin> admin_;
  TablePath path_;
  bool keep_;
  std::unique_ptr<Table> table_;
};

// The run's table as seen through `connections` Connections: the command's own first, the
// others opened with its configuration (each has its own network thread and TCP connections).
struct KvConnections {
  std::vector<std::unique_ptr<Connection>> extra;
  std::vector<std::unique_ptr<Table>> extra_tables;
  std::vector<Table*> tables;

  static Result<KvConnections> Open(Connection* conn, Table* own, int32_t connections) {
    KvConnections out;
    out.tables.push_back(own);
    for (int32_t c = 1; c < connections; ++c) {
      STROM_ASSIGN_OR_RETURN(std::unique_ptr<Connection> extra,
                             Connection::Create(conn->config()));
      STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, extra->GetTable(own->path()));
      out.tables.push_back(table.get());
      out.extra.push_back(std::move(extra));
      out.extra_tables.push_back(std::move(table));
    }
    return out;
  }
};

// Upserts keys [0, keys) from `threads` threads, thread t through the writer of table
// t mod tables.size() (one UpsertWriter per table handle); returns the seconds from the first
// upsert until everything was acknowledged, and the writers' summed stats.
Result<double> LoadKeys(const std::vector<Table*>& tables, int64_t keys, int32_t threads,
                        int64_t version, UpsertWriterStats* stats) {
  std::vector<std::unique_ptr<UpsertWriter>> writers;
  for (Table* table : tables) {
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<UpsertWriter> writer,
                           table->NewUpsert().CreateWriter());
    writers.push_back(std::move(writer));
  }
  std::mutex error_mu;
  Status first_error;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> workers;
  for (int32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      UpsertWriter& writer = *writers[static_cast<size_t>(t) % writers.size()];
      for (int64_t id = t; id < keys; id += threads) {
        Status status = writer.Upsert(PerfRow(id, version));
        if (!status.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.ok()) first_error = status;
          return;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  STROM_RETURN_IF_ERROR(first_error);
  // Close the writers side by side: each waits for its own acknowledgements only.
  std::vector<Status> closed(writers.size());
  workers.clear();
  for (size_t w = 0; w < writers.size(); ++w) {
    workers.emplace_back([&, w] { closed[w] = writers[w]->Close(); });
  }
  for (auto& worker : workers) worker.join();
  for (const Status& status : closed) STROM_RETURN_IF_ERROR(status);
  const double seconds = Seconds(Clock::now() - start);
  *stats = UpsertWriterStats();
  for (const auto& writer : writers) {
    const UpsertWriterStats s = writer->stats();
    stats->records_appended += s.records_appended;
    stats->records_acked += s.records_acked;
    stats->records_failed += s.records_failed;
    stats->batches_sent += s.batches_sent;
    stats->bytes_sent += s.bytes_sent;
    stats->requests_sent += s.requests_sent;
    stats->retries += s.retries;
  }
  return seconds;
}

double Percentile(const std::vector<int64_t>& sorted_nanos, double quantile) {
  if (sorted_nanos.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(quantile * static_cast<double>(sorted_nanos.size())));
  rank = std::clamp<size_t>(rank, 1, sorted_nanos.size());
  return static_cast<double>(sorted_nanos[rank - 1]) / 1e6;
}

Status CheckOptions(const KvPerfOptions& options) {
  if (options.keys <= 0) return MakeError(ErrorCode::kInvalidConfig, "--keys must be positive");
  if (options.buckets <= 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--buckets must be positive");
  }
  if (options.threads <= 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--threads must be positive");
  }
  if (options.lookups < 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--lookups must not be negative");
  }
  if (options.concurrency <= 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--concurrency must be positive");
  }
  if (options.connections <= 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--connections must be positive");
  }
  return Status::OK();
}

}  // namespace

Status PerfUpsert(CommandContext& ctx, const KvPerfOptions& options) {
  STROM_RETURN_IF_ERROR(CheckOptions(options));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(auto table,
                         KvPerfTable::Create(conn, options.buckets, options.keep, "upsert"));
  const int32_t connections = std::min(options.connections, options.threads);
  STROM_ASSIGN_OR_RETURN(KvConnections conns,
                         KvConnections::Open(conn, &table->table(), connections));
  UpsertWriterStats stats;
  STROM_ASSIGN_OR_RETURN(double seconds,
                         LoadKeys(conns.tables, options.keys, options.threads, 0, &stats));
  const double rate = static_cast<double>(stats.records_acked) / seconds;
  if (ctx.json()) {
    ctx.out() << ordered_json{{"workload", "upsert"},
                              {"table", table->path().ToString()},
                              {"columns", 1 + kValueColumns},
                              {"buckets", options.buckets},
                              {"threads", options.threads},
                              {"connections", connections},
                              {"rows", stats.records_acked},
                              {"seconds", seconds},
                              {"rows_per_s", rate},
                              {"bytes_sent", stats.bytes_sent},
                              {"mb_per_s", static_cast<double>(stats.bytes_sent) / seconds / 1e6},
                              {"batches", stats.batches_sent},
                              {"requests", stats.requests_sent},
                              {"retries", stats.retries}}
                     .dump()
              << '\n';
  } else {
    ctx.out() << fmt::format(
        "Upserted {} keys (10 columns) into {} ({} bucket(s), {} thread(s) on {} "
        "connection(s)) in {:.2f} s: {} rows/s, {}/s of KV batches, {} requests\n",
        FormatCount(stats.records_acked), table->path().ToString(), options.buckets,
        options.threads, connections, seconds, FormatCount(static_cast<int64_t>(rate)),
        FormatBytes(static_cast<double>(stats.bytes_sent) / seconds),
        FormatCount(stats.requests_sent));
  }
  return Status::OK();
}

Status PerfLookup(CommandContext& ctx, const KvPerfOptions& options) {
  STROM_RETURN_IF_ERROR(CheckOptions(options));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(auto table,
                         KvPerfTable::Create(conn, options.buckets, options.keep, "lookup"));
  const int32_t connections = std::min(options.connections, options.threads);
  STROM_ASSIGN_OR_RETURN(KvConnections conns,
                         KvConnections::Open(conn, &table->table(), connections));
  UpsertWriterStats load_stats;
  STROM_ASSIGN_OR_RETURN(double load_seconds,
                         LoadKeys(conns.tables, options.keys, options.threads, 0, &load_stats));
  // One Lookuper per connection; thread t looks up through lookuper t mod connections.
  std::vector<std::unique_ptr<Lookuper>> lookupers;
  for (Table* t : conns.tables) {
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<Lookuper> lookuper, t->NewLookup().CreateLookuper());
    lookupers.push_back(std::move(lookuper));
  }

  // Each thread keeps `concurrency / threads` lookups in flight and waits for them in the
  // order it issued them; a lookup's latency runs from LookupAsync to the end of its Wait.
  const int32_t threads = options.threads;
  const int64_t window = std::max<int64_t>(1, options.concurrency / threads);
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(threads));
  std::atomic<int64_t> found{0};
  std::atomic<int64_t> missing{0};
  std::atomic<int64_t> wrong{0};
  std::mutex error_mu;
  Status first_error;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> workers;
  for (int32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Lookuper* lookuper = lookupers[static_cast<size_t>(t) % lookupers.size()].get();
      std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919 + 17);
      std::uniform_int_distribution<int64_t> pick(0, options.keys - 1);
      const int64_t count = options.lookups / threads + (t < options.lookups % threads ? 1 : 0);
      std::vector<int64_t>& mine = latencies[static_cast<size_t>(t)];
      mine.reserve(static_cast<size_t>(count));
      struct Pending {
        int64_t id;
        Clock::time_point started;
        LookupFuture future;
      };
      std::deque<Pending> pending;
      auto finish_one = [&]() -> bool {
        Pending& head = pending.front();
        Result<LookupResult> result = head.future.Wait();
        mine.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - head.started)
                .count());
        if (!result.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.ok()) first_error = result.status();
          return false;
        }
        std::optional<GenericRow> row = result->row();
        if (!row) {
          missing.fetch_add(1, std::memory_order_relaxed);
        } else if (*row != PerfRow(head.id, 0)) {
          wrong.fetch_add(1, std::memory_order_relaxed);
        } else {
          found.fetch_add(1, std::memory_order_relaxed);
        }
        pending.pop_front();
        return true;
      };
      for (int64_t i = 0; i < count; ++i) {
        if (static_cast<int64_t>(pending.size()) >= window && !finish_one()) return;
        const int64_t id = pick(rng);
        Clock::time_point started = Clock::now();
        pending.push_back(Pending{id, started, lookuper->LookupAsync(GenericRow{Datum(id)})});
      }
      while (!pending.empty() && finish_one()) {
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const double seconds = Seconds(Clock::now() - start);
  STROM_RETURN_IF_ERROR(first_error);

  std::vector<int64_t> all;
  for (auto& part : latencies) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  const auto done = static_cast<int64_t>(all.size());
  const double rate = static_cast<double>(done) / seconds;
  double mean = 0;
  for (int64_t nanos : all) mean += static_cast<double>(nanos);
  mean = all.empty() ? 0 : mean / static_cast<double>(all.size()) / 1e6;
  if (ctx.json()) {
    ctx.out() << ordered_json{{"workload", "lookup"},
                              {"table", table->path().ToString()},
                              {"columns", 1 + kValueColumns},
                              {"buckets", options.buckets},
                              {"keys", options.keys},
                              {"load_seconds", load_seconds},
                              {"load_rows_per_s", static_cast<double>(options.keys) / load_seconds},
                              {"threads", threads},
                              {"connections", connections},
                              {"concurrency", window * threads},
                              {"lookups", done},
                              {"found", found.load()},
                              {"missing", missing.load()},
                              {"mismatched", wrong.load()},
                              {"seconds", seconds},
                              {"rows_per_s", rate},
                              {"latency_samples", done},
                              {"p50_ms", Percentile(all, 0.50)},
                              {"p90_ms", Percentile(all, 0.90)},
                              {"p99_ms", Percentile(all, 0.99)},
                              {"p999_ms", Percentile(all, 0.999)},
                              {"max_ms", all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6},
                              {"mean_ms", mean}}
                     .dump()
              << '\n';
  } else {
    ctx.out() << fmt::format(
        "Looked up {} random keys of {} in {} ({} thread(s) on {} connection(s), {} in flight) "
        "in {:.2f} s: {} lookups/s; latency p50 {:.3f} ms, p99 {:.3f} ms, p99.9 {:.3f} ms, max "
        "{:.3f} ms\n",
        FormatCount(done), FormatCount(options.keys), table->path().ToString(), threads,
        connections, window * threads, seconds, FormatCount(static_cast<int64_t>(rate)), Percentile(all, 0.50),
        Percentile(all, 0.99), Percentile(all, 0.999),
        all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6);
    if (missing.load() > 0 || wrong.load() > 0) {
      ctx.out() << fmt::format("  {} keys missing, {} rows with unexpected values\n",
                               FormatCount(missing.load()), FormatCount(wrong.load()));
    }
  }
  if (missing.load() > 0 || wrong.load() > 0) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "{} looked-up keys were missing and {} rows differed from what was written",
                     missing.load(), wrong.load());
  }
  return Status::OK();
}

}  // namespace strom::cli
