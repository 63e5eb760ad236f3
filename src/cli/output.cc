#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace strom::cli {

namespace {
size_t DisplayWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

TablePrinter::TablePrinter(std::vector<std::string> headers) : headers_(std::move(headers)) {
  for (const auto& h : headers_) widths_.push_back(DisplayWidth(h));
}

void TablePrinter::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  if (!header_printed_) {
    for (size_t i = 0; i < cells.size(); ++i) {
      widths_[i] = std::max(widths_[i], DisplayWidth(cells[i]));
    }
  }
  rows_.push_back(std::move(cells));
}

void TablePrinter::PrintLine(std::ostream& out, const std::vector<std::string>& cells) const {
  std::string line;
  for (size_t i = 0; i < headers_.size(); ++i) {
    if (i > 0) line += " | ";
    const std::string& cell = i < cells.size() ? cells[i] : std::string();
    line += cell;
    if (i + 1 < headers_.size()) {
      size_t width = DisplayWidth(cell);
      if (width < widths_[i]) line.append(widths_[i] - width, ' ');
    }
  }
  out << line << '\n';
}

void TablePrinter::Print(std::ostream& out) {
  if (!header_printed_) {
    PrintLine(out, headers_);
    std::string rule;
    for (size_t i = 0; i < headers_.size(); ++i) {
      if (i > 0) rule += "-+-";
      rule.append(widths_[i], '-');
    }
    out << rule << '\n';
    header_printed_ = true;
  }
  for (const auto& row : rows_) PrintLine(out, row);
  rows_.clear();
}

void TablePrinter::StreamRow(std::ostream& out, const std::vector<std::string>& cells) {
  if (!header_printed_ || !rows_.empty()) Print(out);
  PrintLine(out, cells);
}

std::string FormatBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string FormatCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatEpochMillis(int64_t millis) {
  std::time_t seconds = static_cast<std::time_t>(millis >= 0 ? millis / 1000 : (millis - 999) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:03d} UTC", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(millis - static_cast<int64_t>(seconds) * 1000));
}

}  // namespace strom::cli
