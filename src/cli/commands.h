#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/client.h"

namespace strom::cli {

/// Output format of every command.
enum class OutputFormat { kHuman, kJson };

/// Options every command shares.
struct GlobalOptions {
  std::string bootstrap_servers = "127.0.0.1:9123";
  OutputFormat format = OutputFormat::kHuman;
  /// `key=value` Fluss client options (client.writer.batch-size=4mb, ...).
  std::vector<std::string> client_options;
};

/// What the commands run against: a lazily created Connection, stdout/stderr, and the
/// interrupt flag set by SIGINT.
///
/// Single-threaded (the CLI's main thread); owns the Connection.
class CommandContext {
 public:
  CommandContext(GlobalOptions options, std::ostream* out, std::ostream* err,
                 const std::atomic<bool>* interrupted);

  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.format == OutputFormat::kJson; }
  std::ostream& out() { return *out_; }
  std::ostream& err() { return *err_; }
  bool interrupted() const { return interrupted_ != nullptr && interrupted_->load(); }
  /// True when stdout is a terminal (progress bars).
  bool out_is_terminal() const;

  /// The connection, created on first use from the global options.
  Result<Connection*> connection();

 private:
  GlobalOptions options_;
  std::ostream* out_;
  std::ostream* err_;
  const std::atomic<bool>* interrupted_;
  std::unique_ptr<Connection> connection_;
};

struct TableCreateOptions {
  std::string table;
  std::string schema;
  std::string primary_key;
  std::string bucket_key;
  std::optional<int32_t> buckets;
  std::vector<std::string> properties;
  std::optional<std::string> comment;
  bool if_not_exists = false;
};

struct ProduceOptions {
  std::string table;
  std::string input;  // empty or "-": stdin
  std::string input_format = "json";
  bool csv_header = true;
};

struct ScanOptions {
  std::string table;
  std::string from = "earliest";
  std::string columns;
  std::optional<int64_t> limit;
  bool follow = false;
  std::vector<int32_t> buckets;
  std::chrono::milliseconds poll_timeout{1000};
};

/// `strom perf append|scan|e2e`: load generators (see perf_command.cc and README.md).
struct PerfOptions {
  /// Rows to write; unset: 1,000,000 at full speed, rate x duration when paced.
  std::optional<int64_t> rows;
  /// Bytes of random text per row, spread over the STRING columns.
  int32_t payload_bytes = 200;
  int32_t buckets = 3;
  std::string compression = "NONE";
  /// Appending threads sharing one writer (full-speed appends only).
  int32_t threads = 1;
  /// append at full speed: independent AppendWriters, each with `threads` threads of its own.
  int32_t writers = 1;
  /// append: Connections the writers are spread over (writer i uses connection i mod this);
  /// 0: one per writer.
  int32_t connections = 0;
  /// "wide" (id, ts, then INT/BIGINT/DOUBLE/STRING columns) or "payload" (id, ts, payload).
  std::string schema = "wide";
  /// Columns of the wide schema; 0: 10 for append and e2e, 20 for scan.
  int32_t width = 0;
  /// Rows per second on a fixed schedule (append: with latency percentiles; e2e: default
  /// 10,000); 0: as fast as possible.
  double rate = 0;
  /// Seconds to run; 0: until `rows` (or 10 s when paced without --rows).
  double duration_seconds = 0;
  /// scan: the projected columns, "a,b"; empty: all.
  std::string columns;
  /// append: read everything back and report that rate too.
  bool scan = false;
  bool keep = false;
};

/// `strom cluster rebalance`: what to do and how to report it.
struct RebalanceOptions {
  enum class Action { kStart, kStatus, kCancel };
  Action action = Action::kStart;
  /// "replica", "leader", "rack" (Fluss's goals, in priority order); empty: all.
  std::vector<std::string> goals;
  /// Follow the rebalance until it ends.
  bool wait = false;
  /// Bound on --wait.
  std::chrono::seconds timeout{3600};
  std::chrono::milliseconds poll_interval{500};
};

Status DbCreate(CommandContext& ctx, const std::string& name,
                const std::optional<std::string>& comment, bool if_not_exists);
Status DbDrop(CommandContext& ctx, const std::string& name, bool if_exists, bool cascade);
Status DbList(CommandContext& ctx);
Status DbDescribe(CommandContext& ctx, const std::string& name);

Status TableCreate(CommandContext& ctx, const TableCreateOptions& options);
Status TableDrop(CommandContext& ctx, const std::string& table, bool if_exists);
Status TableList(CommandContext& ctx, const std::string& database);
Status TableDescribe(CommandContext& ctx, const std::string& table);

Status Produce(CommandContext& ctx, const ProduceOptions& options);
Status Scan(CommandContext& ctx, const ScanOptions& options);
Status Offsets(CommandContext& ctx, const std::string& table);
Status ClusterInfo(CommandContext& ctx);
/// Starts a rebalance (or shows / cancels the current one) and reports its progress per
/// bucket; with `wait`, follows it until it ends. An ended rebalance that did not complete
/// (FAILED, CANCELED) is a kRebalanceFailure error after the report.
Status ClusterRebalance(CommandContext& ctx, const RebalanceOptions& options);
/// `cluster tag add|remove`: Fluss's server tags ("permanent-offline", "temporary-offline").
Status ClusterTag(CommandContext& ctx, bool add, const std::vector<int32_t>& servers,
                  const std::string& tag);
/// Appends rows of `options.schema` to a fresh table in `strom_perf`: at full speed through
/// `writers` AppendWriters (each on its own or a shared Connection, each fed by `threads`
/// threads; MB/s, rows/s), or through one AppendWriter at `rate` rows/s
/// with produce-latency percentiles (scheduled send to acknowledgement); optionally reads
/// everything back; drops the table unless `keep`.
Status PerfAppend(CommandContext& ctx, const PerfOptions& options);
/// Fills a fresh table (20 columns by default) at full speed, then scans it from the start,
/// all columns or the `columns` projection, and reports the scan rate.
Status PerfScan(CommandContext& ctx, const PerfOptions& options);
/// Appends at a fixed rate while a LogScanner reads the table; reports the latency from
/// each row's scheduled send time to the Poll() that returned it.
Status PerfE2e(CommandContext& ctx, const PerfOptions& options);

/// Builds the descriptor `table create` sends (exposed for tests).
Result<TableDescriptor> BuildTableDescriptor(const TableCreateOptions& options);

}  // namespace strom::cli
