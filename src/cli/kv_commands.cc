#include "cli/kv_commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/input_rows.h"
#include "cli/output.h"
#include "cli/perf_kv.h"
#include "cli/row_convert.h"
#include "cli/schema_parser.h"

namespace strom::cli {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using nlohmann::ordered_json;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Result<std::unique_ptr<Table>> OpenPrimaryKeyTable(CommandContext& ctx, const std::string& name) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(name));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, conn->GetTable(path));
  if (!table->HasPrimaryKey()) {
    return MakeError(ErrorCode::kNonPrimaryKeyTable,
                     "{} is a log table (it has no primary key): use `strom produce` and "
                     "`strom scan`",
                     path.ToString());
  }
  return table;
}

// Columns and types of `names` in `schema`.
std::vector<DataType> TypesOf(const Schema& schema, const std::vector<std::string>& names) {
  std::vector<DataType> types;
  const std::vector<std::string> all = schema.ColumnNames();
  const std::vector<DataType> all_types = schema.FieldTypes();
  for (const std::string& name : names) {
    auto it = std::find(all.begin(), all.end(), name);
    types.push_back(all_types[static_cast<size_t>(it - all.begin())]);
  }
  return types;
}

}  // namespace

Result<GenericRow> ParseKeyObject(const std::string& text, const std::vector<std::string>& names,
                                  const std::vector<DataType>& types) {
  json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "the key must be a JSON object of the columns ({}), e.g. '{{\"{}\": ...}}'",
                     fmt::join(names, ", "), names.empty() ? "id" : names.front());
  }
  for (const auto& [column, value] : object.items()) {
    if (std::find(names.begin(), names.end(), column) == names.end()) {
      return MakeError(ErrorCode::kCorruptRecord, "'{}' is not a key column; the key is ({})",
                       column, fmt::join(names, ", "));
    }
  }
  GenericRow key(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = object.find(names[i]);
    if (it == object.end() || it->is_null()) {
      return MakeError(ErrorCode::kCorruptRecord, "the key lacks column '{}' ({})", names[i],
                       types[i].ToString());
    }
    Result<Datum> value = JsonToDatum(*it, types[i]);
    if (!value.ok()) {
      return Status(value.status().code(),
                    fmt::format("key column '{}' ({}): {}", names[i], types[i].ToString(),
                                value.status().message()));
    }
    key[i] = std::move(*value);
  }
  return key;
}

Status Upsert(CommandContext& ctx, const UpsertOptions& options) {
  if (options.input_format != "json" && options.input_format != "csv") {
    return MakeError(ErrorCode::kInvalidConfig, "--input-format must be json or csv, not '{}'",
                     options.input_format);
  }
  STROM_ASSIGN_OR_RETURN(InputSource source, OpenInput(options.input));
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, OpenPrimaryKeyTable(ctx, options.table));
  const TablePath& path = table->path();
  const Schema& schema = table->info().schema();
  const std::vector<std::string> names = schema.ColumnNames();

  TableUpsert upsert = table->NewUpsert();
  // Columns a row may set: all, or the target columns of a partial update.
  std::vector<bool> writable(names.size(), true);
  std::vector<std::string> targets;
  if (!options.columns.empty()) {
    STROM_ASSIGN_OR_RETURN(targets, ParseNameList(options.columns));
    std::fill(writable.begin(), writable.end(), false);
    for (const std::string& name : targets) {
      std::optional<size_t> index = schema.ColumnIndex(name);
      if (!index) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "--columns names '{}', which is not a "
                         "column of {} ({})",
                         name, path.ToString(), fmt::join(names, ", "));
      }
      writable[*index] = true;
    }
    upsert.PartialUpdate(targets);
  }
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<UpsertWriter> writer, upsert.CreateWriter());

  Progress progress(&ctx.out(), ctx.out_is_terminal() && !ctx.json(), source.total_bytes);
  const Clock::time_point start = Clock::now();
  InputStats input;
  Status input_error = ReadInputRows(
      ctx, source, options.input_format, options.csv_header, path, names, schema.FieldTypes(),
      progress,
      [&](const GenericRow& row) -> Status {
        for (size_t i = 0; i < row.size(); ++i) {
          if (!writable[i] && !row[i].is_null()) {
            return MakeError(ErrorCode::kInvalidTargetColumn,
                             "column '{}' is not among --columns ({})", names[i],
                             fmt::join(targets, ", "));
          }
        }
        return writer->Upsert(row);
      },
      &input);
  progress.Update(input.rows, input.bytes, /*force=*/true);
  Status flushed = writer->Close();
  progress.Clear();
  const double seconds = std::max(Seconds(Clock::now() - start), 1e-6);
  const UpsertWriterStats stats = writer->stats();
  const int64_t written = stats.records_acked;
  const bool complete = input_error.ok() && flushed.ok() && !ctx.interrupted();
  if (ctx.json()) {
    ctx.out() << ordered_json{{"table", path.ToString()},
                              {"rows", written},
                              {"input_bytes", input.bytes},
                              {"seconds", seconds},
                              {"rows_per_second", written / seconds},
                              {"bytes_sent", stats.bytes_sent},
                              {"batches", stats.batches_sent},
                              {"partial_update", !targets.empty()},
                              {"complete", complete}}
                     .dump()
              << '\n';
  } else {
    ctx.out() << fmt::format(
        "Upserted {} rows ({}) to {}{} in {:.2f} s: {} rows/s{}\n", FormatCount(written),
        FormatBytes(static_cast<double>(input.bytes)), path.ToString(),
        targets.empty() ? "" : fmt::format(" (columns {})", fmt::join(targets, ", ")), seconds,
        FormatCount(static_cast<int64_t>(written / seconds)),
        input_error.ok() && !ctx.interrupted() ? "" : " (stopped early)");
  }
  if (!input_error.ok()) return input_error;
  return flushed;
}

Status Delete(CommandContext& ctx, const std::string& table_name, const std::string& key_text) {
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, OpenPrimaryKeyTable(ctx, table_name));
  const Schema& schema = table->info().schema();
  const std::vector<std::string>& key_names = table->info().primary_keys();
  STROM_ASSIGN_OR_RETURN(GenericRow key,
                         ParseKeyObject(key_text, key_names, TypesOf(schema, key_names)));
  GenericRow row = table->NewRow();
  for (size_t i = 0; i < key_names.size(); ++i) row[*schema.ColumnIndex(key_names[i])] = key[i];
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<UpsertWriter> writer, table->NewUpsert().CreateWriter());
  STROM_RETURN_IF_ERROR(writer->Delete(row));
  STROM_RETURN_IF_ERROR(writer->Close());
  if (ctx.json()) {
    ctx.out() << ordered_json{{"table", table->path().ToString()},
                              {"deleted", json::parse(key_text)}}
                     .dump()
              << '\n';
  } else {
    ctx.out() << "Deleted " << key_text << " from " << table->path().ToString() << '\n';
  }
  return Status::OK();
}

Status Lookup(CommandContext& ctx, const LookupOptions& options) {
  if (options.key.empty() == options.prefix.empty()) {
    return MakeError(ErrorCode::kInvalidConfig, "give exactly one of --key and --prefix");
  }
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, OpenPrimaryKeyTable(ctx, options.table));
  const Schema& schema = table->info().schema();
  TableLookup lookup = table->NewLookup();
  if (!options.prefix.empty()) lookup.LookupBy(table->info().pk_bucket_keys());
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Lookuper> lookuper, lookup.CreateLookuper());
  STROM_ASSIGN_OR_RETURN(GenericRow key,
                         ParseKeyObject(options.prefix.empty() ? options.key : options.prefix,
                                        lookuper->key_columns(), lookuper->key_types()));
  STROM_ASSIGN_OR_RETURN(LookupResult result, lookuper->Lookup(key));

  const std::vector<std::string> names = schema.ColumnNames();
  const std::vector<DataType> types = schema.FieldTypes();
  if (ctx.json()) {
    for (const GenericRow& row : result.rows()) {
      ordered_json object = ordered_json::object();
      for (size_t i = 0; i < names.size(); ++i) object[names[i]] = DatumToJson(row[i], types[i]);
      ctx.out() << object.dump() << '\n';
    }
    return Status::OK();
  }
  if (result.empty()) return Status::OK();
  TablePrinter printer(names);
  for (const GenericRow& row : result.rows()) {
    std::vector<std::string> cells;
    for (size_t i = 0; i < names.size(); ++i) cells.push_back(FormatDatum(types[i], row[i]));
    printer.AddRow(std::move(cells));
  }
  printer.Print(ctx.out());
  return Status::OK();
}

Status ScanSnapshot(CommandContext& ctx, const ScanOptions& options) {
  if (options.follow) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--snapshot reads the current state once; it cannot --follow");
  }
  if (options.limit && *options.limit < 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--limit must not be negative");
  }
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, OpenPrimaryKeyTable(ctx, options.table));
  TableScan scan = table->NewScan();
  if (!options.columns.empty()) {
    STROM_ASSIGN_OR_RETURN(std::vector<std::string> columns, ParseNameList(options.columns));
    scan.ProjectByName(std::move(columns));
  }
  std::vector<BucketId> buckets;
  for (int32_t b : options.buckets) buckets.emplace_back(b);
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotScanner> scanner,
                         scan.CreateSnapshotScanner(std::move(buckets)));
  const std::vector<std::string>& names = scanner->column_names();
  const std::vector<DataType>& types = scanner->column_types();
  std::vector<std::string> headers = {"bucket"};
  headers.insert(headers.end(), names.begin(), names.end());
  TablePrinter printer(headers);
  constexpr int64_t kWidthRows = 1000;  // rows buffered to fix the column widths
  const int64_t limit = options.limit.value_or(INT64_MAX);
  int64_t printed = 0;
  while (printed < limit && !ctx.interrupted()) {
    STROM_ASSIGN_OR_RETURN(std::optional<SnapshotBatch> batch, scanner->Next());
    if (!batch) break;
    for (const GenericRow& row : batch->rows) {
      if (printed >= limit) break;
      ++printed;
      if (ctx.json()) {
        ordered_json object = ordered_json::object();
        for (size_t i = 0; i < names.size(); ++i) object[names[i]] = DatumToJson(row[i], types[i]);
        ctx.out()
            << ordered_json{{"bucket", batch->bucket.value()}, {"row", std::move(object)}}.dump()
            << '\n';
        continue;
      }
      std::vector<std::string> cells = {std::to_string(batch->bucket.value())};
      for (size_t i = 0; i < names.size(); ++i) cells.push_back(FormatDatum(types[i], row[i]));
      if (printer.started()) {
        printer.StreamRow(ctx.out(), cells);
      } else {
        printer.AddRow(std::move(cells));
        if (printed >= kWidthRows) printer.Print(ctx.out());
      }
    }
  }
  if (!ctx.json()) {
    printer.Print(ctx.out());
    ctx.out() << "(" << FormatCount(printed) << " row" << (printed == 1 ? "" : "s") << ")\n";
  }
  return Status::OK();
}

void AddKvCommands(CLI::App& app, std::function<Status(CommandContext&)>& action) {
  {
    auto* upsert = app.add_subcommand(
        "upsert", "Insert or update rows of a primary-key table from JSON lines or CSV");
    auto options = std::make_shared<UpsertOptions>();
    auto no_header = std::make_shared<bool>(false);
    upsert->add_option("table", options->table, "DATABASE.TABLE")->required();
    upsert->add_option("--input,-i", options->input, "Input file (default: stdin)");
    upsert->add_option("--input-format", options->input_format, "json or csv")
        ->check(CLI::IsMember({"json", "csv"}))
        ->capture_default_str();
    upsert->add_flag("--no-header", *no_header,
                     "CSV without a header line: fields in table column order");
    upsert->add_option("--columns", options->columns,
                       "Partial update of these columns only (a,b; with the primary key)");
    upsert->callback([&action, options, no_header] {
      options->csv_header = !*no_header;
      action = [=](CommandContext& ctx) { return Upsert(ctx, *options); };
    });
  }
  {
    auto* del = app.add_subcommand("delete", "Delete a row of a primary-key table by its key");
    auto table = std::make_shared<std::string>();
    auto key = std::make_shared<std::string>();
    del->add_option("table", *table, "DATABASE.TABLE")->required();
    del->add_option("--key,-k", *key, "The primary key as JSON, e.g. '{\"id\": 1}'")->required();
    del->callback([&action, table, key] {
      action = [=](CommandContext& ctx) { return Delete(ctx, *table, *key); };
    });
  }
  {
    auto* lookup = app.add_subcommand(
        "lookup",
        "Print the row of a primary-key table with a key (nothing when absent), or "
        "the rows with a bucket-key prefix");
    auto options = std::make_shared<LookupOptions>();
    lookup->add_option("table", options->table, "DATABASE.TABLE")->required();
    auto* key =
        lookup->add_option("--key,-k", options->key, "The primary key as JSON, e.g. '{\"id\": 1}'");
    auto* prefix = lookup->add_option("--prefix", options->prefix,
                                      "The bucket-key columns as JSON (prefix lookup)");
    key->excludes(prefix);
    lookup->callback([&action, options] {
      action = [=](CommandContext& ctx) { return Lookup(ctx, *options); };
    });
  }
  CLI::App* perf = app.get_subcommand("perf");
  auto add_kv_common = [](CLI::App* cmd, const std::shared_ptr<KvPerfOptions>& options) {
    cmd->fallthrough();
    cmd->add_option("--keys", options->keys, "Keys (rows) to upsert")->capture_default_str();
    cmd->add_option("--buckets", options->buckets, "Buckets of the table")->capture_default_str();
    cmd->add_option("--threads", options->threads, "Threads sharing one writer (and one lookuper)")
        ->capture_default_str();
    cmd->add_option("--connections", options->connections,
                    "Connections the threads are spread over, each with its own writer (and "
                    "lookuper); at most --threads")
        ->capture_default_str();
    cmd->add_flag("--keep", options->keep, "Keep the table");
  };
  {
    auto options = std::make_shared<KvPerfOptions>();
    auto* upsert =
        perf->add_subcommand("upsert",
                             "Upsert 10-column rows under N keys into a fresh primary-key table in "
                             "strom_perf and report rows/s; the table is dropped afterwards");
    add_kv_common(upsert, options);
    upsert->callback([&action, options] {
      action = [=](CommandContext& ctx) { return PerfUpsert(ctx, *options); };
    });
  }
  {
    auto options = std::make_shared<KvPerfOptions>();
    auto* lookup =
        perf->add_subcommand("lookup",
                             "Load N keys into a fresh primary-key table, then look up random keys "
                             "through the batching lookuper; lookups/s and latency percentiles");
    add_kv_common(lookup, options);
    lookup->add_option("--lookups", options->lookups, "Lookups to run")->capture_default_str();
    lookup->add_option("--concurrency", options->concurrency, "Lookups in flight")
        ->capture_default_str();
    lookup->callback([&action, options] {
      action = [=](CommandContext& ctx) { return PerfLookup(ctx, *options); };
    });
  }
}

}  // namespace strom::cli
