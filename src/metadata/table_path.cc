#include "metadata/table_path.h"

namespace strom::metadata {
namespace {

constexpr std::string_view kInternalPrefix = "__";

bool IsValidNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

}  // namespace

std::string DetectInvalidName(std::string_view name) {
  if (name.empty()) return "the empty string is not allowed";
  if (name == ".") return "'.' is not allowed";
  if (name == "..") return "'..' is not allowed";
  if (name.size() > kMaxNameLength) {
    return fmt::format("the length of '{}' is longer than the max allowed length {}", name,
                       kMaxNameLength);
  }
  for (char c : name) {
    if (!IsValidNameChar(c)) {
      return fmt::format(
          "'{}' contains one or more characters other than ASCII alphanumerics, '_' and '-'",
          name);
    }
  }
  if (name.substr(0, kInternalPrefix.size()) == kInternalPrefix) {
    return fmt::format(
        "'{}' is not allowed as prefix, since it is reserved for internal databases/internal "
        "tables/internal partitions in Fluss server",
        kInternalPrefix);
  }
  return {};
}

Status ValidateDatabaseName(std::string_view name) {
  std::string error = DetectInvalidName(name);
  if (error.empty()) return Status::OK();
  return MakeError(ErrorCode::kInvalidDatabase, "Database name {} is invalid: {}", name, error);
}

Status ValidateTableName(std::string_view name) {
  std::string error = DetectInvalidName(name);
  if (error.empty()) return Status::OK();
  return MakeError(ErrorCode::kInvalidTable, "Table name {} is invalid: {}", name, error);
}

Status ValidateTablePath(const TablePath& path) {
  STROM_RETURN_IF_ERROR(ValidateDatabaseName(path.database));
  return ValidateTableName(path.table);
}

}  // namespace strom::metadata
