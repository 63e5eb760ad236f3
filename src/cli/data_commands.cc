#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/input_rows.h"
#include "cli/output.h"
#include "cli/row_convert.h"
#include "cli/schema_parser.h"

namespace strom::cli {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using nlohmann::ordered_json;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Keeps a table cell on one line: control characters are shown escaped.
std::string EscapeCell(std::string text) {
  if (text.find_first_of("\n\r\t") == std::string::npos) return text;
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

Status Produce(CommandContext& ctx, const ProduceOptions& options) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(options.table));
  if (options.input_format != "json" && options.input_format != "csv") {
    return MakeError(ErrorCode::kInvalidConfig, "--input-format must be json or csv, not '{}'",
                     options.input_format);
  }
  STROM_ASSIGN_OR_RETURN(InputSource source, OpenInput(options.input));

  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, conn->GetTable(path));
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<AppendWriter> writer, table->NewAppend().CreateWriter());
  const Schema& schema = table->info().schema();

  Progress progress(&ctx.out(), ctx.out_is_terminal() && !ctx.json(), source.total_bytes);
  const Clock::time_point start = Clock::now();
  InputStats input;
  Status input_error = ReadInputRows(
      ctx, source, options.input_format, options.csv_header, path, schema.ColumnNames(),
      schema.FieldTypes(), progress, [&](const GenericRow& row) { return writer->Append(row); },
      &input);
  const int64_t bytes = input.bytes;

  progress.Update(input.rows, bytes, /*force=*/true);
  Status flushed = writer->Close();
  progress.Clear();
  double seconds = std::max(Seconds(Clock::now() - start), 1e-6);
  AppendWriterStats stats = writer->stats();
  int64_t written = stats.records_acked;
  if (ctx.json()) {
    ctx.out() << ordered_json{{"table", path.ToString()},
                              {"rows", written},
                              {"input_bytes", bytes},
                              {"seconds", seconds},
                              {"rows_per_second", written / seconds},
                              {"bytes_sent", stats.bytes_sent},
                              {"batches", stats.batches_sent},
                              {"complete", input_error.ok() && flushed.ok() && !ctx.interrupted()}}
                     .dump()
              << '\n';
  } else {
    ctx.out() << fmt::format(
        "Produced {} rows ({}) to {} in {:.2f} s: {} rows/s, {}/s{}\n", FormatCount(written),
        FormatBytes(static_cast<double>(bytes)), path.ToString(), seconds,
        FormatCount(static_cast<int64_t>(written / seconds)), FormatBytes(bytes / seconds),
        input_error.ok() && !ctx.interrupted() ? "" : " (stopped early)");
  }
  if (!input_error.ok()) return input_error;
  return flushed;
}

namespace {

/// Where `--from` says to start: an offset or an OffsetSpec.
struct StartPosition {
  std::optional<int64_t> offset;
  OffsetSpec spec;
};

Result<StartPosition> ParseFrom(const std::string& from) {
  StartPosition start;
  std::string lower = from;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "earliest") {
    start.spec = OffsetSpec::Earliest();
    return start;
  }
  if (lower == "latest") {
    start.spec = OffsetSpec::Latest();
    return start;
  }
  if (!from.empty() && from.find_first_not_of("0123456789") == std::string::npos) {
    start.offset = std::stoll(from);
    return start;
  }
  std::string text = from;
  if (!text.empty() && text[0] == '@') {
    Result<Datum> millis = TextToDatum(text.substr(1), DataType::BigInt());
    if (!millis.ok()) {
      return MakeError(ErrorCode::kInvalidConfig, "--from {}: expected @EPOCH_MILLIS", from);
    }
    start.spec = OffsetSpec::Timestamp(millis->as<int64_t>());
    return start;
  }
  Result<Datum> ts = TextToDatum(text, DataType::TimestampLtz(3));
  if (!ts.ok()) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--from '{}' is not earliest, latest, an offset, @EPOCH_MILLIS or a "
                     "timestamp (YYYY-MM-DD HH:MM:SS[.fff][Z|+HH:MM])",
                     from);
  }
  start.spec = OffsetSpec::Timestamp(ts->as<TimestampValue>().millis);
  return start;
}

}  // namespace

Status Scan(CommandContext& ctx, const ScanOptions& options) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(options.table));
  STROM_ASSIGN_OR_RETURN(StartPosition from, ParseFrom(options.from));
  if (options.limit && *options.limit < 0) {
    return MakeError(ErrorCode::kInvalidConfig, "--limit must not be negative");
  }
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, conn->GetTable(path));
  TableScan scan = table->NewScan();
  if (!options.columns.empty()) {
    STROM_ASSIGN_OR_RETURN(std::vector<std::string> columns, ParseNameList(options.columns));
    scan.ProjectByName(std::move(columns));
  }
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<LogScanner> scanner, scan.CreateLogScanner());

  std::vector<BucketId> buckets;
  for (int32_t b : options.buckets) {
    if (b < 0 || b >= table->info().num_buckets()) {
      return MakeError(ErrorCode::kUnknownTableOrBucket, "table {} has no bucket {} (it has {})",
                       path.ToString(), b, table->info().num_buckets());
    }
    buckets.emplace_back(b);
  }
  if (buckets.empty()) {
    for (int32_t b = 0; b < table->info().num_buckets(); ++b) buckets.emplace_back(b);
  }

  auto admin = conn->GetAdmin();
  // Without --follow the scan ends at the high watermark each bucket had when it started.
  std::map<BucketId, LogOffset> stop;
  if (!options.follow) {
    STROM_ASSIGN_OR_RETURN(stop, admin->ListOffsets(path, buckets, OffsetSpec::Latest()));
  }
  std::map<BucketId, LogOffset> starts;
  if (from.offset) {
    for (BucketId b : buckets) starts[b] = LogOffset(*from.offset);
  } else if (from.spec.kind == OffsetSpec::Kind::kLatest && !options.follow) {
    starts = stop;
  } else {
    STROM_ASSIGN_OR_RETURN(starts, admin->ListOffsets(path, buckets, from.spec));
  }
  std::set<BucketId> open;
  for (BucketId b : buckets) {
    if (!options.follow && starts[b] >= stop[b]) continue;
    STROM_RETURN_IF_ERROR(scanner->Subscribe(b, starts[b].value()));
    open.insert(b);
  }

  const std::vector<std::string>& names = scanner->column_names();
  const std::vector<DataType>& types = scanner->column_types();
  std::vector<std::string> headers = {"bucket", "offset", "op"};
  headers.insert(headers.end(), names.begin(), names.end());
  TablePrinter printer(headers);
  int64_t printed = 0;
  const int64_t limit = options.limit.value_or(INT64_MAX);

  // Without --follow a scan that stops making progress (the cluster went away) ends with
  // REQUEST_TIME_OUT instead of waiting forever.
  const auto stall_limit = conn->config().request_timeout;
  auto last_progress = std::chrono::steady_clock::now();
  std::map<BucketId, LogOffset> last_positions;
  while (!open.empty() && printed < limit && !ctx.interrupted()) {
    STROM_ASSIGN_OR_RETURN(ScanRecords records, scanner->Poll(options.poll_timeout));
    // Human output buffers the first rows (up to kWidthRows, or with --follow the first
    // poll) to fix the column widths, then streams.
    constexpr int64_t kWidthRows = 1000;
    const bool buffering = !ctx.json() && !printer.started();
    for (const ScanRecord& record : records) {
      if (printed >= limit) break;
      if (!options.follow && record.offset >= stop[record.bucket]) continue;
      ++printed;
      if (ctx.json()) {
        ordered_json row = ordered_json::object();
        for (size_t i = 0; i < names.size(); ++i)
          row[names[i]] = DatumToJson(record.row[i], types[i]);
        ctx.out() << ordered_json{{"bucket", record.bucket.value()},
                                  {"offset", record.offset.value()},
                                  {"timestamp", record.timestamp.value()},
                                  {"change_type", ChangeTypeShortName(record.change_type)},
                                  {"row", std::move(row)}}
                         .dump()
                  << '\n';
        continue;
      }
      std::vector<std::string> cells = {std::to_string(record.bucket.value()),
                                        std::to_string(record.offset.value()),
                                        std::string(ChangeTypeShortName(record.change_type))};
      for (size_t i = 0; i < names.size(); ++i) {
        cells.push_back(EscapeCell(FormatDatum(types[i], record.row[i])));
      }
      if (buffering) {
        printer.AddRow(std::move(cells));
      } else {
        printer.StreamRow(ctx.out(), cells);
      }
    }
    if (buffering && (options.follow || printed >= kWidthRows)) printer.Print(ctx.out());
    if (options.follow) {
      ctx.out().flush();
      continue;
    }
    std::map<BucketId, LogOffset> positions = scanner->Positions();
    if (!records.empty() || positions != last_positions) {
      last_progress = std::chrono::steady_clock::now();
      last_positions = positions;
    } else if (std::chrono::steady_clock::now() - last_progress > stall_limit) {
      return MakeError(
          ErrorCode::kRequestTimeOut,
          "the scan of {} made no progress for {} s ({} bucket(s) unfinished)", path.ToString(),
          std::chrono::duration_cast<std::chrono::seconds>(stall_limit).count(), open.size());
    }
    for (auto it = open.begin(); it != open.end();) {
      auto pos = positions.find(*it);
      if (pos != positions.end() && pos->second >= stop[*it]) {
        it = open.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!ctx.json()) {
    printer.Print(ctx.out());  // the header, when nothing was printed
    ctx.out() << "(" << FormatCount(printed) << " row" << (printed == 1 ? "" : "s") << ")\n";
  }
  return Status::OK();
}

}  // namespace strom::cli
