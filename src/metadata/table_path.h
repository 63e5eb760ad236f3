#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace strom::metadata {

/// Longest database or table name Fluss accepts (names become directory names:
/// `{db}/{table}-{tableId}/log-{bucket}`).
inline constexpr size_t kMaxNameLength = 200;

/// A table's name within the cluster: database and table (Fluss `TablePath`).
/// A plain value; ordering is by database, then table.
struct TablePath {
  std::string database;
  std::string table;

  /// "db.table", as Fluss prints it.
  std::string ToString() const { return database + "." + table; }

  friend auto operator<=>(const TablePath&, const TablePath&) = default;
  friend bool operator==(const TablePath&, const TablePath&) = default;
};

/// Why `name` is not a valid database/table name (Fluss `TablePath.detectInvalidName` plus
/// the reserved `__` prefix), or an empty string when it is valid: 1..200 characters of
/// ASCII letters, digits, '_' and '-', not starting with "__".
std::string DetectInvalidName(std::string_view name);

/// OK, or kInvalidDatabase with Fluss's message.
Status ValidateDatabaseName(std::string_view name);
/// OK, or kInvalidTable with Fluss's message.
Status ValidateTableName(std::string_view name);
/// Both names (database first, as Fluss's `TablePath.validate()`).
Status ValidateTablePath(const TablePath& path);

}  // namespace strom::metadata

template <>
struct std::hash<strom::metadata::TablePath> {
  size_t operator()(const strom::metadata::TablePath& p) const noexcept {
    return std::hash<std::string>()(p.database) * 31 + std::hash<std::string>()(p.table);
  }
};

template <>
struct fmt::formatter<strom::metadata::TablePath> : fmt::formatter<std::string_view> {
  auto format(const strom::metadata::TablePath& p, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}.{}", p.database, p.table);
  }
};
