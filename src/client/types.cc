#include "strom/types.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace strom {

Result<TablePath> TablePath::Parse(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size() ||
      text.find('.', dot + 1) != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidTable, "'{}' is not a table path: expected DATABASE.TABLE",
                     text);
  }
  return TablePath(std::string(text.substr(0, dot)), std::string(text.substr(dot + 1)));
}

std::string TableBucket::ToString() const {
  if (partition_id) {
    return fmt::format("TableBucket{{table_id={}, partition_id={}, bucket={}}}", table_id,
                       *partition_id, bucket);
  }
  return fmt::format("TableBucket{{table_id={}, bucket={}}}", table_id, bucket);
}

std::string_view LogFormatName(LogFormat format) {
  switch (format) {
    case LogFormat::kArrow:
      return "ARROW";
    case LogFormat::kIndexed:
      return "INDEXED";
    case LogFormat::kCompacted:
      return "COMPACTED";
  }
  return "ARROW";
}

Result<LogFormat> ParseLogFormat(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "ARROW") return LogFormat::kArrow;
  if (upper == "INDEXED") return LogFormat::kIndexed;
  if (upper == "COMPACTED") return LogFormat::kCompacted;
  return MakeError(ErrorCode::kInvalidConfig,
                   "'{}' is not a log format (expected ARROW, INDEXED or COMPACTED)", text);
}

Result<LogFormat> TableInfo::log_format() const {
  const std::string* value = descriptor.Property("table.log.format");
  if (value == nullptr) return LogFormat::kArrow;
  return ParseLogFormat(*value);
}

std::string_view KvFormatName(KvFormat format) {
  return format == KvFormat::kIndexed ? "INDEXED" : "COMPACTED";
}

Result<KvFormat> ParseKvFormat(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "COMPACTED") return KvFormat::kCompacted;
  if (upper == "INDEXED") return KvFormat::kIndexed;
  return MakeError(ErrorCode::kInvalidConfig,
                   "'{}' is not a kv format (expected COMPACTED or INDEXED)", text);
}

Result<KvFormat> TableInfo::kv_format() const {
  const std::string* value = descriptor.Property("table.kv.format");
  if (value == nullptr) return KvFormat::kCompacted;
  return ParseKvFormat(*value);
}

Result<int32_t> TableInfo::kv_format_version() const {
  const std::string* value = descriptor.Property("table.kv.format-version");
  if (value == nullptr || value->empty()) return 1;
  int32_t version = 0;
  auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), version);
  if (error != std::errc() || end != value->data() + value->size()) {
    return MakeError(ErrorCode::kInvalidConfig, "table.kv.format-version '{}' is not a number",
                     *value);
  }
  return version;
}

std::vector<std::string> TableInfo::pk_bucket_keys() const {
  if (!bucket_keys().empty()) return bucket_keys();
  return primary_keys();
}

}  // namespace strom
