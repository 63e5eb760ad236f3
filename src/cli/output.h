#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace strom::cli {

/// Prints rows as an aligned text table:
///
///   name  | type
///   ------+-------
///   id    | INT
///
/// Widths are fixed by the rows added before the first Print(); StreamRow() then prints
/// further rows with those widths (longer cells simply widen their line), so long scans can
/// stream. Cells are counted in UTF-8 code points. Not thread-safe.
class TablePrinter {
 public:
  explicit TablePrinter(std::vector<std::string> headers);

  void AddRow(std::vector<std::string> cells);
  /// Prints the header (once) and every row added so far.
  void Print(std::ostream& out);
  /// Prints one row right away (after the header, printed first if needed).
  void StreamRow(std::ostream& out, const std::vector<std::string>& cells);
  bool empty() const { return rows_.empty(); }
  /// True once the header was printed (widths are fixed from then on).
  bool started() const { return header_printed_; }

 private:
  void PrintLine(std::ostream& out, const std::vector<std::string>& cells) const;

  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> widths_;
  bool header_printed_ = false;
};

/// "1.5 MiB", "512 B".
std::string FormatBytes(double bytes);
/// "1,234,567".
std::string FormatCount(int64_t n);
/// Epoch milliseconds as "2024-05-01 12:00:00.000 UTC".
std::string FormatEpochMillis(int64_t millis);

}  // namespace strom::cli
