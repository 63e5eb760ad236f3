#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"

namespace strom::cli {

namespace {
using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

Status PerfAppend(CommandContext& ctx, const PerfOptions& options) {
  if (options.rows <= 0 || options.payload_bytes < 0 || options.buckets <= 0 ||
      options.threads <= 0) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--rows, --buckets and --threads must be positive, --payload not negative");
  }
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  auto admin = conn->GetAdmin();
  STROM_RETURN_IF_ERROR(admin->CreateDatabase("strom_perf", DatabaseDescriptor(), true));
  STROM_ASSIGN_OR_RETURN(Schema schema, Schema::Builder()
                                            .AddColumn("id", DataType::BigInt())
                                            .AddColumn("ts", DataType::BigInt())
                                            .AddColumn("payload", DataType::String())
                                            .Build());
  TableDescriptor::Parts parts;
  parts.schema = std::move(schema);
  parts.distribution = TableDistribution{options.buckets, {}};
  parts.properties.emplace_back("table.log.arrow.compression.type", options.compression);
  STROM_ASSIGN_OR_RETURN(TableDescriptor descriptor, TableDescriptor::Make(std::move(parts)));
  TablePath path("strom_perf",
                 fmt::format("append_{}_{}", ::getpid(),
                             std::chrono::system_clock::now().time_since_epoch().count() % 1000000));
  STROM_RETURN_IF_ERROR(admin->CreateTable(path, descriptor));
  auto drop = [&] {
    if (!options.keep) admin->DropTable(path, true).IgnoreError();
  };
  Result<std::unique_ptr<Table>> table = conn->GetTable(path);
  if (!table.ok()) {
    drop();
    return table.status();
  }
  Result<std::unique_ptr<AppendWriter>> writer = (*table)->NewAppend().CreateWriter();
  if (!writer.ok()) {
    drop();
    return writer.status();
  }

  // Random lowercase text, 4,096 distinct payloads (more than a batch holds).
  std::mt19937_64 rng(42);
  std::vector<std::string> payloads(4096);
  for (auto& p : payloads) {
    p.resize(static_cast<size_t>(options.payload_bytes));
    for (char& c : p) c = static_cast<char>('a' + rng() % 26);
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  const Clock::time_point start = Clock::now();
  auto work = [&] {
    GenericRow row(3);
    for (;;) {
      int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= options.rows || failed.load(std::memory_order_relaxed) || ctx.interrupted()) break;
      row[0] = Datum(i);
      row[1] = Datum(i * 3);
      row[2] = Datum(payloads[static_cast<size_t>(i & 4095)]);
      Status st = (*writer)->Append(row);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = st;
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int32_t t = 1; t < options.threads; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  Status flushed = (*writer)->Flush();
  const double append_seconds = std::max(Seconds(Clock::now() - start), 1e-9);
  if (first_error.ok()) first_error = flushed;
  AppendWriterStats stats = (*writer)->stats();
  const int64_t rows = stats.records_acked;
  const double bytes = static_cast<double>(rows) * (16.0 + options.payload_bytes);

  double scan_seconds = 0;
  int64_t scanned = 0;
  if (options.scan && first_error.ok()) {
    Result<std::unique_ptr<LogScanner>> scanner = (*table)->NewScan().CreateLogScanner();
    if (scanner.ok()) {
      const Clock::time_point scan_start = Clock::now();
      Status subscribed = (*scanner)->SubscribeAll(OffsetSpec::Earliest());
      while (subscribed.ok() && scanned < rows && !ctx.interrupted()) {
        Result<ScanRecords> records = (*scanner)->Poll(std::chrono::seconds(5));
        if (!records.ok()) {
          first_error = records.status();
          break;
        }
        if (records->empty()) break;
        scanned += static_cast<int64_t>(records->size());
      }
      scan_seconds = std::max(Seconds(Clock::now() - scan_start), 1e-9);
      if (!subscribed.ok()) first_error = subscribed;
    } else {
      first_error = scanner.status();
    }
  }
  (*writer)->Close().IgnoreError();
  drop();

  if (ctx.json()) {
    nlohmann::ordered_json doc{{"table", path.ToString()},
                               {"rows", rows},
                               {"payload_bytes", options.payload_bytes},
                               {"compression", options.compression},
                               {"threads", options.threads},
                               {"append_seconds", append_seconds},
                               {"append_mb_per_second", bytes / 1e6 / append_seconds},
                               {"append_rows_per_second", rows / append_seconds},
                               {"bytes_sent", stats.bytes_sent},
                               {"batches", stats.batches_sent},
                               {"requests", stats.requests_sent},
                               {"retries", stats.retries}};
    if (options.scan) {
      doc["scanned_rows"] = scanned;
      doc["scan_mb_per_second"] = bytes * scanned / std::max<int64_t>(rows, 1) / 1e6 / scan_seconds;
    }
    ctx.out() << doc.dump() << '\n';
  } else {
    ctx.out() << fmt::format(
        "Appended {} rows ({:.1f} MB) in {:.2f} s: {:.1f} MB/s, {} rows/s ({} batches, {} "
        "requests, {} sent, {} retries)\n",
        FormatCount(rows), bytes / 1e6, append_seconds, bytes / 1e6 / append_seconds,
        FormatCount(static_cast<int64_t>(rows / append_seconds)), stats.batches_sent,
        stats.requests_sent, FormatBytes(static_cast<double>(stats.bytes_sent)), stats.retries);
    if (options.scan) {
      ctx.out() << fmt::format("Scanned {} rows in {:.2f} s: {:.1f} MB/s\n", FormatCount(scanned),
                               scan_seconds,
                               bytes * scanned / std::max<int64_t>(rows, 1) / 1e6 / scan_seconds);
    }
  }
  return first_error;
}

}  // namespace strom::cli
