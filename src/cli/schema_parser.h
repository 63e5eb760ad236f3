#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strom/types.h"

namespace strom::cli {

/// One column of a `--schema` string.
struct ColumnSpec {
  std::string name;
  DataType type;
  std::optional<std::string> comment;
};

/// Parses Fluss / Flink SQL type names into DataTypes:
///
///   BOOLEAN (BOOL), TINYINT, SMALLINT, INT (INTEGER), BIGINT, FLOAT, DOUBLE [PRECISION],
///   CHAR[(n)] (n = 1), STRING, BINARY[(n)] (n = 1), BYTES, DECIMAL[(p[, s])] (NUMERIC; 10, 0),
///   DATE, TIME[(p)] (0), TIMESTAMP[(p)] (6) [WITHOUT TIME ZONE | WITH LOCAL TIME ZONE],
///   TIMESTAMP_LTZ[(p)] (6), ARRAY<T>, MAP<K, V>, ROW<name T, ...> (also ROW(name T, ...)
///   and `name: T`), each optionally followed by NOT NULL or NULL.
///
/// Keywords are case-insensitive; names may be quoted with backticks (`` `my col` ``, a
/// doubled backtick inside stands for one). Errors are kInvalidTable with the position
/// and what was expected, e.g. "schema: at column 12: expected a type, found ')'".
Result<DataType> ParseDataType(std::string_view text);

/// Parses a comma-separated column list: `id INT NOT NULL, name STRING COMMENT 'who', ...`.
/// Column names must be unique (case-sensitive, as Fluss compares them).
Result<std::vector<ColumnSpec>> ParseColumns(std::string_view text);

/// Splits "a, b ,c" into names (backticks allowed); empty entries are errors.
Result<std::vector<std::string>> ParseNameList(std::string_view text);

}  // namespace strom::cli
