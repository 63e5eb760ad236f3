#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "strom/types.h"

namespace strom::cli {

/// The one-line progress display of `produce` and `upsert` on a terminal:
///   [##########----------]  50%  123,456 rows  12.3 MiB  4.5 MiB/s
/// Redrawn at most every 200 ms; Clear() erases it before the summary. Not thread-safe.
class Progress {
 public:
  Progress(std::ostream* out, bool enabled, int64_t total_bytes);

  void Update(int64_t rows, int64_t bytes, bool force = false);
  void Clear();

 private:
  using Clock = std::chrono::steady_clock;
  std::ostream* out_;
  bool enabled_;
  int64_t total_;
  Clock::time_point start_;
  Clock::time_point last_{};
  size_t width_ = 0;
  bool drawn_ = false;
};

/// Where rows are read from: a file or stdin, and its size when known (for the progress
/// bar).
struct InputSource {
  std::unique_ptr<std::ifstream> file;
  std::istream* in = nullptr;
  int64_t total_bytes = 0;
};

/// Opens `path` ("" or "-": stdin). kInvalidConfig naming the file when it cannot be opened.
Result<InputSource> OpenInput(const std::string& path);

/// What ReadInputRows did.
struct InputStats {
  int64_t rows = 0;   ///< Rows handed to the sink.
  int64_t bytes = 0;  ///< Input bytes consumed.
};

/// Reads rows of the columns `names`/`types` from JSON lines (one object per row, keyed by
/// column; missing columns are null) or CSV (`format` "json" or "csv"; with `csv_header` a
/// header line names the columns, otherwise fields are in column order) and hands each to
/// `sink`. Stops at the first bad line or failing sink with that error, prefixed with the
/// line number (rows before it were handed over), or when `ctx` is interrupted. Blank lines
/// are skipped. Updates `progress` and `stats` as it goes.
Status ReadInputRows(CommandContext& ctx, InputSource& source, const std::string& format,
                     bool csv_header, const TablePath& path, const std::vector<std::string>& names,
                     const std::vector<DataType>& types, Progress& progress,
                     const std::function<Status(const GenericRow&)>& sink, InputStats* stats);

}  // namespace strom::cli
