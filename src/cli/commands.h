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

/// `strom perf append`: a load generator for the append path.
struct PerfOptions {
  int64_t rows = 1000000;
  int32_t payload_bytes = 1000;
  int32_t buckets = 1;
  std::string compression = "NONE";
  int32_t threads = 1;
  bool scan = false;
  bool keep = false;
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
/// Creates `strom_perf.append_<n>` (id BIGINT, ts BIGINT, payload STRING), appends
/// `options.rows` rows of random text from `options.threads` threads through one
/// AppendWriter, flushes, optionally reads everything back, prints rows/s and MB/s (of row
/// payload: 16 + payload bytes per row), and drops the table unless `keep`.
Status PerfAppend(CommandContext& ctx, const PerfOptions& options);

/// Builds the descriptor `table create` sends (exposed for tests).
Result<TableDescriptor> BuildTableDescriptor(const TableCreateOptions& options);

}  // namespace strom::cli
