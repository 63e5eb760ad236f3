#include "log/log_file_names.h"

#include <fmt/format.h>

#include <limits>

namespace strom::log {

namespace {
constexpr size_t kOffsetDigits = 20;
}  // namespace

std::string OffsetFileName(LogOffset offset, std::string_view suffix) {
  return fmt::format("{:020d}{}", offset.value(), suffix);
}

std::optional<LogOffset> ParseOffsetFileName(std::string_view name, std::string_view suffix) {
  if (name.size() != kOffsetDigits + suffix.size()) return std::nullopt;
  if (name.substr(kOffsetDigits) != suffix) return std::nullopt;
  int64_t value = 0;
  for (size_t i = 0; i < kOffsetDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    int digit = c - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return LogOffset(value);
}

}  // namespace strom::log
