#include "cli/input_rows.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/output.h"
#include "cli/row_convert.h"

namespace strom::cli {

namespace {

using nlohmann::json;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

Status AtLine(int64_t line, const Status& status) {
  return Status(status.code(), fmt::format("line {}: {}", line, status.message()));
}

}  // namespace

Progress::Progress(std::ostream* out, bool enabled, int64_t total_bytes)
    : out_(out), enabled_(enabled), total_(total_bytes), start_(Clock::now()) {}

void Progress::Update(int64_t rows, int64_t bytes, bool force) {
  if (!enabled_) return;
  Clock::time_point now = Clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  double rate = bytes / std::max(Seconds(now - start_), 1e-3);
  std::string line;
  if (total_ > 0) {
    int percent = static_cast<int>(std::min<int64_t>(100, bytes * 100 / total_));
    int filled = percent / 5;
    line = fmt::format("[{}{}] {:3d}%  ", std::string(filled, '#'), std::string(20 - filled, '-'),
                       percent);
  }
  line +=
      fmt::format("{} rows  {}  {}/s", FormatCount(rows), FormatBytes(bytes), FormatBytes(rate));
  width_ = std::max(width_, line.size());
  *out_ << '\r' << line << std::string(width_ - line.size(), ' ') << std::flush;
  drawn_ = true;
}

void Progress::Clear() {
  if (drawn_) *out_ << '\r' << std::string(width_, ' ') << '\r' << std::flush;
  drawn_ = false;
}

Result<InputSource> OpenInput(const std::string& path) {
  InputSource source;
  source.in = &std::cin;
  if (path.empty() || path == "-") return source;
  source.file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*source.file) {
    return MakeError(ErrorCode::kInvalidConfig, "cannot open '{}': {}", path, std::strerror(errno));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) source.total_bytes = st.st_size;
  source.in = source.file.get();
  return source;
}

Status ReadInputRows(CommandContext& ctx, InputSource& source, const std::string& format,
                     bool csv_header, const TablePath& path, const std::vector<std::string>& names,
                     const std::vector<DataType>& types, Progress& progress,
                     const std::function<Status(const GenericRow&)>& sink, InputStats* stats) {
  int64_t& rows = stats->rows;
  int64_t& bytes = stats->bytes;
  Status input_error;
  if (format == "json") {
    std::string line;
    int64_t line_number = 0;
    while (!ctx.interrupted() && std::getline(*source.in, line)) {
      ++line_number;
      bytes += static_cast<int64_t>(line.size()) + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (object.is_discarded()) {
        input_error = AtLine(line_number, Status(ErrorCode::kCorruptRecord, "not valid JSON"));
        break;
      }
      Result<GenericRow> row = JsonObjectToRow(object, names, types);
      if (!row.ok()) {
        input_error = AtLine(line_number, row.status());
        break;
      }
      Status appended = sink(*row);
      if (!appended.ok()) {
        input_error = AtLine(line_number, appended);
        break;
      }
      ++rows;
      progress.Update(rows, bytes);
    }
  } else {
    CsvReader reader(source.in);
    std::vector<int> position(names.size(), -1);  // CSV field of each column
    size_t expected_fields = names.size();
    if (csv_header) {
      Result<std::optional<std::vector<CsvField>>> header = reader.Next();
      if (!header.ok()) return header.status();
      if (*header) {
        expected_fields = (*header)->size();
        std::set<std::string> seen;
        for (size_t i = 0; i < (*header)->size(); ++i) {
          const std::string& name = (**header)[i].text;
          auto it = std::find(names.begin(), names.end(), name);
          if (it == names.end()) {
            return AtLine(1, MakeError(ErrorCode::kCorruptRecord,
                                       "header names '{}', which is not a column of {}", name,
                                       path.ToString()));
          }
          if (!seen.insert(name).second) {
            return AtLine(1, MakeError(ErrorCode::kCorruptRecord, "header names '{}' twice", name));
          }
          position[static_cast<size_t>(it - names.begin())] = static_cast<int>(i);
        }
      }
    } else {
      for (size_t i = 0; i < names.size(); ++i) position[i] = static_cast<int>(i);
    }
    while (!ctx.interrupted()) {
      Result<std::optional<std::vector<CsvField>>> record = reader.Next();
      if (!record.ok()) {
        input_error = record.status();
        break;
      }
      if (!*record) break;
      bytes = reader.bytes_read();
      const std::vector<CsvField>& fields = **record;
      if (fields.size() == 1 && fields[0].text.empty() && !fields[0].quoted) continue;  // blank
      if (fields.size() != expected_fields) {
        input_error =
            AtLine(reader.line(), MakeError(ErrorCode::kCorruptRecord, "{} fields, expected {}",
                                            fields.size(), expected_fields));
        break;
      }
      GenericRow row(names.size());
      for (size_t i = 0; i < names.size() && input_error.ok(); ++i) {
        if (position[i] < 0) continue;  // not in the file: null
        const CsvField& field = fields[static_cast<size_t>(position[i])];
        if (!field.quoted && field.text.empty()) {
          if (!types[i].nullable()) {
            input_error = AtLine(reader.line(), MakeError(ErrorCode::kCorruptRecord,
                                                          "column '{}' ({}): empty (null) value",
                                                          names[i], types[i].ToString()));
          }
          continue;
        }
        Result<Datum> value = TextToDatum(field.text, types[i]);
        if (!value.ok()) {
          input_error = AtLine(reader.line(),
                               Status(value.status().code(),
                                      fmt::format("column '{}' ({}): {}", names[i],
                                                  types[i].ToString(), value.status().message())));
          continue;
        }
        row[i] = std::move(*value);
      }
      if (!input_error.ok()) break;
      Status appended = sink(row);
      if (!appended.ok()) {
        input_error = AtLine(reader.line(), appended);
        break;
      }
      ++rows;
      progress.Update(rows, bytes);
    }
  }

  return input_error;
}

}  // namespace strom::cli
