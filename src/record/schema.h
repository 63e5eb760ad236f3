#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "record/data_type.h"

namespace strom::record {

/// Per-column aggregate of the `aggregation` merge engine (Fluss `AggFunctionType`).
enum class AggFunctionType : uint8_t {
  kSum,
  kProduct,
  kMax,
  kMin,
  kLastValue,
  kLastValueIgnoreNulls,
  kFirstValue,
  kFirstValueIgnoreNulls,
  kListAgg,
  kStringAgg,
  kBoolAnd,
  kBoolOr,
  kRbm32,
  kRbm64,
};

/// The lower-case name Java writes, e.g. "last_value_ignore_nulls".
std::string_view AggFunctionTypeName(AggFunctionType type);

/// Java's lenient lookup: any case, `-` read as `_`, surrounding blanks ignored. Returns
/// nullopt for a name this build does not know (Java then drops the function silently).
std::optional<AggFunctionType> ParseAggFunctionType(std::string_view name);

/// An aggregate function with its parameters (only `listagg`/`string_agg` take one,
/// `delimiter`). Parameters keep the order they were given in.
struct AggFunction {
  AggFunctionType type = AggFunctionType::kSum;
  std::vector<std::pair<std::string, std::string>> parameters;

  friend bool operator==(const AggFunction&, const AggFunction&) = default;
};

/// A table schema: columns with stable ids, an optional primary key and optional
/// auto-increment column, and the highest field id ever handed out.
///
/// Immutable value type; every Schema that exists has passed the checks Java's
/// `Schema.Builder.build()` makes (unique column names and field ids, primary key and
/// auto-increment columns exist, auto-increment column is INT/BIGINT and not in the key,
/// no aggregate on key columns). As in Java, primary-key columns are NOT NULL: building or
/// parsing a schema turns their types non-nullable.
class Schema {
 public:
  static constexpr int32_t kUnknownColumnId = -1;

  /// One top-level column.
  struct Column {
    std::string name;
    DataType type;
    std::optional<std::string> comment;
    std::optional<AggFunction> agg_function;
    int32_t id = kUnknownColumnId;

    friend bool operator==(const Column&, const Column&) = default;
  };

  class Builder;

  /// The empty schema (no columns, highest field id -1).
  Schema() = default;

  /// Adopts columns as Java's `Schema.Builder.fromColumns(...).build()` does: when every
  /// column has an id, ids (nested ones too) are kept and the highest field id defaults to
  /// the largest of them; when none has, columns get ids 0, 1, ... in order (nested ids
  /// untouched). A mix of both is an error. `highest_field_id`, when given, overrides the
  /// default. Errors are kInvalidTable.
  static Result<Schema> FromColumns(std::vector<Column> columns,
                                    std::vector<std::string> primary_key = {},
                                    std::vector<std::string> auto_increment_columns = {},
                                    std::optional<int32_t> highest_field_id = std::nullopt);

  const std::vector<Column>& columns() const { return columns_; }
  size_t column_count() const { return columns_.size(); }
  const Column& column(size_t index) const { return columns_[index]; }
  /// Primary-key column names in key order; empty for a log table.
  const std::vector<std::string>& primary_key() const { return primary_key_; }
  bool HasPrimaryKey() const { return !primary_key_.empty(); }
  const std::vector<std::string>& auto_increment_columns() const { return auto_increment_; }
  int32_t highest_field_id() const { return highest_field_id_; }

  /// Index of the column called `name`, or nullopt.
  std::optional<size_t> ColumnIndex(std::string_view name) const;
  /// Indexes of `names` in the given order; kInvalidTable naming the first unknown column.
  Result<std::vector<size_t>> ColumnIndexes(const std::vector<std::string>& names) const;
  /// Indexes of the primary-key columns in key order (empty for a log table).
  std::vector<size_t> PrimaryKeyIndexes() const;
  std::vector<std::string> ColumnNames() const;
  /// Column types in column order (what the row codecs take).
  std::vector<DataType> FieldTypes() const;
  /// ROW type of all columns; each field's id is the column id.
  DataType RowType() const;

  /// Schema JSON as Java writes it (compact; keys version, columns, primary_key?,
  /// auto_increment_column?, highest_field_id).
  std::string ToJson() const;
  void AppendJson(std::string* out) const;
  /// Parses schema JSON (any key order). Errors are kInvalidTable.
  static Result<Schema> FromJson(std::string_view json);
  static Result<Schema> FromJsonNode(const nlohmann::ordered_json& node);

  friend bool operator==(const Schema&, const Schema&) = default;

 private:
  static Result<Schema> Validate(std::vector<Column> columns, std::vector<std::string> primary_key,
                                 std::vector<std::string> auto_increment, int32_t highest_field_id);

  std::vector<Column> columns_;
  std::vector<std::string> primary_key_;
  std::vector<std::string> auto_increment_;
  int32_t highest_field_id_ = -1;
};

/// Builds a schema column by column like Java's `Schema.newBuilder().column(...)`: each new
/// column takes the next field id, then the fields nested in its type (ROW fields, also
/// inside ARRAY and MAP) are renumbered after it, depth first.
///
/// Single-use, not thread-safe. Misuse (WithComment before any column, two primary keys,
/// two auto-increment columns) is remembered and reported by Build().
class Schema::Builder {
 public:
  Builder() = default;

  /// Appends a column; `agg_function` is for the aggregation merge engine.
  Builder& AddColumn(std::string name, DataType type,
                     std::optional<AggFunction> agg_function = std::nullopt);
  /// Sets the comment of the column added last.
  Builder& WithComment(std::string comment);
  Builder& PrimaryKey(std::vector<std::string> column_names);
  Builder& EnableAutoIncrement(std::string column_name);
  /// Overrides the highest field id (as when reading a stored schema).
  Builder& HighestFieldId(int32_t id);

  /// Validates and returns the schema (kInvalidTable on failure).
  Result<Schema> Build();

 private:
  std::vector<Column> columns_;
  std::vector<std::string> primary_key_;
  std::vector<std::string> auto_increment_;
  int32_t highest_field_id_ = -1;
  std::optional<std::string> error_;
};

}  // namespace strom::record
