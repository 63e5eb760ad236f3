#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <functional>
#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/kv_commands.h"
#include "common/logging.h"

namespace strom::cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void OnSigint(int) {
  if (g_interrupted.exchange(true)) std::_Exit(static_cast<int>(ExitCode::kInterrupted));
}

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 other error, 2 usage or invalid request, 3 not found, 4 already "
    "exists, 5 bad input data, 6 cluster unavailable, 7 access denied, 130 interrupted.";

// The first line of a message, plus any "Caused by:" lines of a server stack trace.
std::string Summarize(const std::string& message) {
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    std::string_view line(message.data() + start,
                          (end == std::string::npos ? message.size() : end) - start);
    if (first || line.rfind("Caused by:", 0) == 0) {
      if (!first) out += "\n  ";
      out += line;
      first = false;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

int Report(const Status& status) {
  if (status.ok()) return 0;
  std::cerr << "strom: " << ErrorCodeName(status.code()) << " ("
            << static_cast<int>(status.code()) << "): " << Summarize(status.message()) << '\n';
  return static_cast<int>(ExitCodeFor(status));
}

}  // namespace

int RunCli(int argc, char** argv) {
  GlobalOptions global;
  std::string format = "human";
  std::string log_level = "error";

  CLI::App app{"strom: the command line client of Strom and Apache Fluss clusters", "strom"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  app.add_option("--bootstrap-server,-b", global.bootstrap_servers,
                 "Cluster to talk to: host:port[,host:port...]")
      ->envname("STROM_BOOTSTRAP")
      ->capture_default_str();
  app.add_option("--format,-f", format, "Output format")
      ->check(CLI::IsMember({"human", "json"}))
      ->capture_default_str();
  app.add_option("--client-option,-c", global.client_options,
                 "Fluss client option KEY=VALUE (e.g. client.writer.batch-size=4mb); repeatable");
  app.add_option("--log-level", log_level, "Client log level (trace, debug, info, warn, error, off)")
      ->capture_default_str();

  std::function<Status(CommandContext&)> action;

  // ---- db ----
  CLI::App* db = app.add_subcommand("db", "Create, drop, list and describe databases");
  db->require_subcommand(1);
  {
    auto* create = db->add_subcommand("create", "Create a database");
    auto name = std::make_shared<std::string>();
    auto comment = std::make_shared<std::string>();
    auto if_not_exists = std::make_shared<bool>(false);
    create->add_option("name", *name, "Database name")->required();
    create->add_option("--comment", *comment, "Database comment");
    create->add_flag("--if-not-exists", *if_not_exists, "Succeed when it already exists");
    create->callback([&action, name, comment, if_not_exists, create] {
      std::optional<std::string> c;
      if (create->count("--comment") > 0) c = *comment;
      action = [=](CommandContext& ctx) { return DbCreate(ctx, *name, c, *if_not_exists); };
    });

    auto* drop = db->add_subcommand("drop", "Drop a database");
    auto drop_name = std::make_shared<std::string>();
    auto if_exists = std::make_shared<bool>(false);
    auto cascade = std::make_shared<bool>(false);
    drop->add_option("name", *drop_name, "Database name")->required();
    drop->add_flag("--if-exists", *if_exists, "Succeed when it does not exist");
    drop->add_flag("--cascade", *cascade, "Drop its tables too");
    drop->callback([&action, drop_name, if_exists, cascade] {
      action = [=](CommandContext& ctx) { return DbDrop(ctx, *drop_name, *if_exists, *cascade); };
    });

    auto* list = db->add_subcommand("list", "List databases");
    list->callback([&action] { action = [](CommandContext& ctx) { return DbList(ctx); }; });

    auto* describe = db->add_subcommand("describe", "Show a database and its tables");
    auto describe_name = std::make_shared<std::string>();
    describe->add_option("name", *describe_name, "Database name")->required();
    describe->callback([&action, describe_name] {
      action = [=](CommandContext& ctx) { return DbDescribe(ctx, *describe_name); };
    });
  }

  // ---- table ----
  CLI::App* table = app.add_subcommand("table", "Create, drop, list and describe tables");
  table->require_subcommand(1);
  {
    auto* create = table->add_subcommand("create", "Create a table");
    auto options = std::make_shared<TableCreateOptions>();
    auto buckets = std::make_shared<int32_t>(0);
    auto comment = std::make_shared<std::string>();
    create->add_option("table", options->table, "DATABASE.TABLE")->required();
    create->add_option("--schema,-s", options->schema,
                       "Columns, e.g. \"id INT NOT NULL, name STRING, price DECIMAL(10, 2)\"")
        ->required();
    create->add_option("--primary-key", options->primary_key, "Primary key columns (a,b)");
    create->add_option("--bucket-key", options->bucket_key, "Bucket key columns (a,b)");
    create->add_option("--buckets", *buckets, "Number of buckets (server default when unset)");
    create->add_option("--property,-p", options->properties,
                       "Table property KEY=VALUE (e.g. table.log.format=INDEXED); repeatable");
    create->add_option("--comment", *comment, "Table comment");
    create->add_flag("--if-not-exists", options->if_not_exists, "Succeed when it already exists");
    create->callback([&action, options, buckets, comment, create] {
      if (create->count("--buckets") > 0) options->buckets = *buckets;
      if (create->count("--comment") > 0) options->comment = *comment;
      action = [=](CommandContext& ctx) { return TableCreate(ctx, *options); };
    });

    auto* drop = table->add_subcommand("drop", "Drop a table");
    auto drop_name = std::make_shared<std::string>();
    auto if_exists = std::make_shared<bool>(false);
    drop->add_option("table", *drop_name, "DATABASE.TABLE")->required();
    drop->add_flag("--if-exists", *if_exists, "Succeed when it does not exist");
    drop->callback([&action, drop_name, if_exists] {
      action = [=](CommandContext& ctx) { return TableDrop(ctx, *drop_name, *if_exists); };
    });

    auto* list = table->add_subcommand("list", "List the tables of a database");
    auto database = std::make_shared<std::string>();
    list->add_option("database", *database, "Database name")->required();
    list->callback([&action, database] {
      action = [=](CommandContext& ctx) { return TableList(ctx, *database); };
    });

    auto* describe = table->add_subcommand("describe", "Show a table's schema and settings");
    auto describe_name = std::make_shared<std::string>();
    describe->add_option("table", *describe_name, "DATABASE.TABLE")->required();
    describe->callback([&action, describe_name] {
      action = [=](CommandContext& ctx) { return TableDescribe(ctx, *describe_name); };
    });
  }

  // ---- produce ----
  {
    auto* produce = app.add_subcommand(
        "produce", "Append rows to a log table from JSON lines (one object per row) or CSV");
    auto options = std::make_shared<ProduceOptions>();
    auto no_header = std::make_shared<bool>(false);
    produce->add_option("table", options->table, "DATABASE.TABLE")->required();
    produce->add_option("--input,-i", options->input, "Input file (default: stdin)");
    produce->add_option("--input-format", options->input_format, "json or csv")
        ->check(CLI::IsMember({"json", "csv"}))
        ->capture_default_str();
    produce->add_flag("--no-header", *no_header,
                      "CSV without a header line: fields in table column order");
    produce->callback([&action, options, no_header] {
      options->csv_header = !*no_header;
      action = [=](CommandContext& ctx) { return Produce(ctx, *options); };
    });
  }

  // ---- scan ----
  {
    auto* scan = app.add_subcommand("scan", "Read rows of a table's log");
    auto options = std::make_shared<ScanOptions>();
    auto limit = std::make_shared<int64_t>(0);
    scan->add_option("table", options->table, "DATABASE.TABLE")->required();
    scan->add_option("--from", options->from,
                     "earliest, latest, an OFFSET, @EPOCH_MILLIS, or a timestamp "
                     "\"YYYY-MM-DD HH:MM:SS[.fff][Z|+HH:MM]\"")
        ->capture_default_str();
    scan->add_option("--columns", options->columns, "Columns to read, in order (a,b)");
    scan->add_option("--limit,-n", *limit, "Stop after N rows");
    scan->add_option("--bucket", options->buckets, "Only these buckets; repeatable");
    scan->add_flag("--follow,-F", options->follow, "Keep reading new rows until Ctrl-C");
    auto snapshot = std::make_shared<bool>(false);
    scan->add_flag("--snapshot", *snapshot,
                   "Primary-key table: its current rows instead of its changelog");
    scan->callback([&action, options, limit, scan, snapshot] {
      if (scan->count("--limit") > 0) options->limit = *limit;
      action = [=](CommandContext& ctx) {
        return *snapshot ? ScanSnapshot(ctx, *options) : Scan(ctx, *options);
      };
    });
  }

  // ---- perf ----
  {
    auto* perf = app.add_subcommand("perf", "Load generators (append, scan, end-to-end)");
    perf->require_subcommand(1);
    // Global options (--format, --bootstrap-server, -c) may also follow the workload.
    perf->fallthrough();
    auto add_common = [](CLI::App* cmd, const std::shared_ptr<PerfOptions>& options) {
      cmd->fallthrough();
      cmd->add_option("--rows", options->rows,
                      "Rows to write (default 1,000,000; paced: rate x duration)");
      cmd->add_option("--duration", options->duration_seconds, "Seconds to run (0: until --rows)")
          ->capture_default_str();
      cmd->add_option("--buckets", options->buckets, "Buckets of the table")->capture_default_str();
      cmd->add_option("--schema", options->schema,
                      "wide: id, ts, then INT/BIGINT/DOUBLE/STRING columns c2..; payload: id, "
                      "ts, payload")
          ->check(CLI::IsMember({"wide", "payload"}))
          ->capture_default_str();
      cmd->add_option("--width", options->width,
                      "Columns of the wide schema (default 10; 20 for scan)");
      cmd->add_option("--payload", options->payload_bytes,
                      "Bytes of random text per row, spread over the STRING columns")
          ->capture_default_str();
      cmd->add_option("--compression", options->compression, "Arrow codec of the table")
          ->check(CLI::IsMember({"NONE", "LZ4_FRAME", "ZSTD"}))
          ->capture_default_str();
      cmd->add_option("--threads", options->threads,
                      "Appending threads sharing one writer (full-speed appends)")
          ->capture_default_str();
      cmd->add_flag("--keep", options->keep, "Keep the table");
    };
    auto append_options = std::make_shared<PerfOptions>();
    auto* append = perf->add_subcommand(
        "append", "Append rows to a fresh table in strom_perf (full speed, or --rate with "
                  "latency percentiles); the table is dropped afterwards");
    add_common(append, append_options);
    append->add_option("--rate", append_options->rate,
                       "Rows per second on a fixed schedule, with produce latency percentiles");
    append->add_flag("--scan", append_options->scan,
                     "Read everything back and report that rate too");
    append->add_option("--writers", append_options->writers,
                       "Independent writers, each fed by --threads threads (full-speed appends)")
        ->capture_default_str();
    append->add_option("--connections", append_options->connections,
                       "Connections the writers are spread over (default: one per writer)");
    append->callback([&action, append_options] {
      action = [=](CommandContext& ctx) { return PerfAppend(ctx, *append_options); };
    });

    auto scan_options = std::make_shared<PerfOptions>();
    auto* scan = perf->add_subcommand(
        "scan", "Fill a fresh 20-column table, then scan it (all columns or --columns)");
    add_common(scan, scan_options);
    scan->add_option("--columns", scan_options->columns,
                     "Projected columns, e.g. id,c5 (names: id, ts, c2, c3, ...)");
    scan->callback([&action, scan_options] {
      action = [=](CommandContext& ctx) { return PerfScan(ctx, *scan_options); };
    });

    auto e2e_options = std::make_shared<PerfOptions>();
    auto* e2e = perf->add_subcommand(
        "e2e", "Append at a fixed rate while a scanner reads; latency from append to poll");
    add_common(e2e, e2e_options);
    e2e->add_option("--rate", e2e_options->rate, "Rows per second (default 10,000)");
    e2e->callback([&action, e2e_options] {
      action = [=](CommandContext& ctx) { return PerfE2e(ctx, *e2e_options); };
    });
  }

  // ---- offsets, cluster ----
  {
    auto* offsets = app.add_subcommand("offsets", "Earliest and latest offset of every bucket");
    auto name = std::make_shared<std::string>();
    offsets->add_option("table", *name, "DATABASE.TABLE")->required();
    offsets->callback([&action, name] {
      action = [=](CommandContext& ctx) { return Offsets(ctx, *name); };
    });
    auto* cluster = app.add_subcommand("cluster", "The coordinator and tablet servers");
    auto* rebalance = cluster->add_subcommand(
        "rebalance",
        "Even out replicas and leaders over the live tablet servers (after servers were added "
        "or removed) and report the moves; --status shows, --cancel stops the current one");
    auto options = std::make_shared<RebalanceOptions>();
    auto status = std::make_shared<bool>(false);
    auto cancel = std::make_shared<bool>(false);
    auto timeout = std::make_shared<int64_t>(3600);
    rebalance->add_flag("--status", *status, "Show the current (or last) rebalance");
    rebalance->add_flag("--cancel", *cancel,
                        "Stop the rebalance in progress (moves not done yet are dropped)");
    rebalance->add_option("--goal", options->goals,
                          "replica, leader or rack, in priority order; repeatable (default: all)")
        ->check(CLI::IsMember({"replica", "leader", "rack"}));
    rebalance->add_flag("--wait,-w", options->wait, "Follow the rebalance until it ends");
    rebalance->add_option("--timeout", *timeout, "Seconds --wait follows it at most")
        ->capture_default_str();
    rebalance->callback([&action, options, status, cancel, timeout] {
      if (*status && *cancel) throw CLI::ValidationError("--status and --cancel exclude each other");
      if ((*status || *cancel) && !options->goals.empty()) {
        throw CLI::ValidationError("--goal only applies when starting a rebalance");
      }
      options->action = *status   ? RebalanceOptions::Action::kStatus
                        : *cancel ? RebalanceOptions::Action::kCancel
                                  : RebalanceOptions::Action::kStart;
      options->timeout = std::chrono::seconds(*timeout);
      action = [=](CommandContext& ctx) { return ClusterRebalance(ctx, *options); };
    });
    auto* tag = cluster->add_subcommand(
        "tag", "Tag tablet servers to take them out with the next rebalance (decommission), or "
               "remove the tag");
    tag->require_subcommand(1);
    for (bool add : {true, false}) {
      auto* cmd = tag->add_subcommand(add ? "add" : "remove",
                                      add ? "Tag tablet servers" : "Remove the tag");
      auto servers = std::make_shared<std::vector<int32_t>>();
      auto tag_name = std::make_shared<std::string>("permanent-offline");
      cmd->add_option("server-ids", *servers, "Tablet server ids")->required();
      cmd->add_option("--tag", *tag_name, "The tag")
          ->check(CLI::IsMember({"permanent-offline", "temporary-offline"}))
          ->capture_default_str();
      cmd->callback([&action, add, servers, tag_name] {
        action = [=](CommandContext& ctx) { return ClusterTag(ctx, add, *servers, *tag_name); };
      });
    }
    cluster->callback([&action, cluster] {
      if (cluster->got_subcommand("rebalance") || cluster->got_subcommand("tag")) return;
      action = [](CommandContext& ctx) { return ClusterInfo(ctx); };
    });
  }

  AddKvCommands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }

  SetLogLevel(log_level);
  global.format = format == "json" ? OutputFormat::kJson : OutputFormat::kHuman;
  std::signal(SIGINT, OnSigint);
  CommandContext ctx(global, &std::cout, &std::cerr, &g_interrupted);
  int code = Report(action(ctx));
  std::cout.flush();
  if (code == 0 && g_interrupted.load()) {
    // `scan --follow` ends with Ctrl-C by design; anything else was cut short.
    bool follow_scan = app.got_subcommand("scan") && app.get_subcommand("scan")->count("--follow") > 0;
    if (!follow_scan) return static_cast<int>(ExitCode::kInterrupted);
  }
  return code;
}

}  // namespace strom::cli
