#include "record/schema.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "record/type_json.h"

namespace strom::record {
namespace {

using Json = nlohmann::ordered_json;

template <typename... Args>
Status SchemaError(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kInvalidTable, fmt::format(format, std::forward<Args>(args)...));
}

constexpr std::pair<AggFunctionType, std::string_view> kAggNames[] = {
    {AggFunctionType::kSum, "sum"},
    {AggFunctionType::kProduct, "product"},
    {AggFunctionType::kMax, "max"},
    {AggFunctionType::kMin, "min"},
    {AggFunctionType::kLastValue, "last_value"},
    {AggFunctionType::kLastValueIgnoreNulls, "last_value_ignore_nulls"},
    {AggFunctionType::kFirstValue, "first_value"},
    {AggFunctionType::kFirstValueIgnoreNulls, "first_value_ignore_nulls"},
    {AggFunctionType::kListAgg, "listagg"},
    {AggFunctionType::kStringAgg, "string_agg"},
    {AggFunctionType::kBoolAnd, "bool_and"},
    {AggFunctionType::kBoolOr, "bool_or"},
    {AggFunctionType::kRbm32, "rbm32"},
    {AggFunctionType::kRbm64, "rbm64"},
};

/// Collects every field id of a type: ROW field ids, also inside ARRAY and MAP.
void CollectNestedIds(const DataType& type, std::vector<int32_t>* ids) {
  switch (type.root()) {
    case TypeRoot::kRow:
      for (const DataField& field : type.fields()) {
        ids->push_back(field.field_id);
        CollectNestedIds(field.type, ids);
      }
      break;
    case TypeRoot::kArray:
      CollectNestedIds(type.element(), ids);
      break;
    case TypeRoot::kMap:
      CollectNestedIds(type.key(), ids);
      CollectNestedIds(type.value(), ids);
      break;
    default:
      break;
  }
}

std::vector<int32_t> CollectAllIds(const std::vector<Schema::Column>& columns) {
  std::vector<int32_t> ids;
  for (const auto& column : columns) {
    ids.push_back(column.id);
    CollectNestedIds(column.type, &ids);
  }
  return ids;
}

/// Renumbers the ROW fields nested in `type` from `*highest` + 1 on, depth first, the way
/// Java's `ReassignFieldId` does for a newly declared column.
DataType ReassignNestedIds(const DataType& type, int32_t* highest) {
  switch (type.root()) {
    case TypeRoot::kArray:
      return DataType::Array(ReassignNestedIds(type.element(), highest))
          .WithNullable(type.nullable());
    case TypeRoot::kMap: {
      DataType key = ReassignNestedIds(type.key(), highest);
      DataType value = ReassignNestedIds(type.value(), highest);
      return DataType::Map(std::move(key), std::move(value)).WithNullable(type.nullable());
    }
    case TypeRoot::kRow: {
      std::vector<DataField> fields;
      fields.reserve(type.fields().size());
      for (const DataField& field : type.fields()) {
        DataField copy = field;
        copy.field_id = ++*highest;
        copy.type = ReassignNestedIds(field.type, highest);
        fields.push_back(std::move(copy));
      }
      return DataType::Row(std::move(fields)).WithNullable(type.nullable());
    }
    default:
      return type;
  }
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<std::string> FindDuplicate(const std::vector<std::string>& names) {
  std::set<std::string_view> seen;
  for (const auto& name : names) {
    if (!seen.insert(name).second) return name;
  }
  return std::nullopt;
}

void AppendNameArray(const std::vector<std::string>& names, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(names[i], out);
  }
  out->push_back(']');
}

void AppendColumnJson(const Schema::Column& column, std::string* out) {
  out->append("{\"name\":");
  AppendJsonString(column.name, out);
  out->append(",\"data_type\":");
  AppendTypeJson(column.type, out);
  if (column.comment) {
    out->append(",\"comment\":");
    AppendJsonString(*column.comment, out);
  }
  if (column.agg_function) {
    out->append(",\"agg_function\":{\"type\":");
    AppendJsonString(AggFunctionTypeName(column.agg_function->type), out);
    if (!column.agg_function->parameters.empty()) {
      out->append(",\"parameters\":{");
      bool first = true;
      for (const auto& [key, value] : column.agg_function->parameters) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendJsonString(value, out);
      }
      out->push_back('}');
    }
    out->push_back('}');
  }
  fmt::format_to(std::back_inserter(*out), ",\"id\":{}}}", column.id);
}

Result<int32_t> JsonInt32(const Json& node, std::string_view what) {
  if (!node.is_number_integer()) return SchemaError("schema JSON: \"{}\" must be an integer", what);
  int64_t v = node.get<int64_t>();
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return SchemaError("schema JSON: \"{}\" is out of range", what);
  }
  return static_cast<int32_t>(v);
}

Result<std::vector<std::string>> JsonNameList(const Json& node, std::string_view what) {
  if (!node.is_array()) return SchemaError("schema JSON: \"{}\" must be an array", what);
  std::vector<std::string> names;
  names.reserve(node.size());
  for (const Json& item : node) {
    if (!item.is_string()) return SchemaError("schema JSON: \"{}\" must hold strings", what);
    names.push_back(item.get<std::string>());
  }
  return names;
}

/// Jackson's `asText()` for the scalar values Java accepts as strings.
Result<std::string> JsonText(const Json& node, std::string_view what) {
  if (node.is_string()) return node.get<std::string>();
  if (node.is_number() || node.is_boolean()) return node.dump();
  return SchemaError("schema JSON: \"{}\" must be a string", what);
}

Result<Schema::Column> ColumnFromJson(const Json& node) {
  if (!node.is_object()) return SchemaError("schema JSON: a column must be an object");
  Schema::Column column;
  auto name_it = node.find("name");
  if (name_it == node.end() || !name_it->is_string()) {
    return SchemaError("schema JSON: a column needs a string \"name\"");
  }
  column.name = name_it->get<std::string>();
  auto type_it = node.find("data_type");
  if (type_it == node.end()) {
    return SchemaError("schema JSON: column \"{}\" has no data_type", column.name);
  }
  STROM_ASSIGN_OR_RETURN(column.type, TypeFromJsonNode(*type_it));
  auto comment_it = node.find("comment");
  if (comment_it != node.end() && !comment_it->is_null()) {
    STROM_ASSIGN_OR_RETURN(column.comment, JsonText(*comment_it, "comment"));
  }
  auto agg_it = node.find("agg_function");
  if (agg_it != node.end() && !agg_it->is_null()) {
    if (!agg_it->is_object()) return SchemaError("schema JSON: agg_function must be an object");
    auto agg_type_it = agg_it->find("type");
    if (agg_type_it == agg_it->end() || !agg_type_it->is_string()) {
      return SchemaError("schema JSON: agg_function needs a string \"type\"");
    }
    // Like Java, a function this version does not know is dropped rather than refused.
    if (auto type = ParseAggFunctionType(agg_type_it->get_ref<const std::string&>())) {
      AggFunction agg{*type, {}};
      auto params_it = agg_it->find("parameters");
      if (params_it != agg_it->end() && !params_it->is_null()) {
        if (!params_it->is_object()) {
          return SchemaError("schema JSON: agg_function parameters must be an object");
        }
        for (auto it = params_it->begin(); it != params_it->end(); ++it) {
          STROM_ASSIGN_OR_RETURN(std::string value, JsonText(it.value(), it.key()));
          agg.parameters.emplace_back(it.key(), std::move(value));
        }
      }
      column.agg_function = std::move(agg);
    }
  }
  auto id_it = node.find("id");
  if (id_it != node.end()) {
    STROM_ASSIGN_OR_RETURN(column.id, JsonInt32(*id_it, "id"));
  }
  return column;
}

}  // namespace

std::string_view AggFunctionTypeName(AggFunctionType type) {
  for (const auto& [t, name] : kAggNames) {
    if (t == type) return name;
  }
  return "unknown";
}

std::optional<AggFunctionType> ParseAggFunctionType(std::string_view name) {
  size_t begin = name.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string_view::npos) return std::nullopt;
  size_t end = name.find_last_not_of(" \t\n\r\f\v");
  std::string normalized(name.substr(begin, end - begin + 1));
  for (char& c : normalized) {
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const auto& [type, type_name] : kAggNames) {
    if (type_name == normalized) return type;
  }
  return std::nullopt;
}

Result<Schema> Schema::FromColumns(std::vector<Column> columns,
                                   std::vector<std::string> primary_key,
                                   std::vector<std::string> auto_increment_columns,
                                   std::optional<int32_t> highest_field_id) {
  size_t with_id = std::count_if(columns.begin(), columns.end(),
                                 [](const Column& c) { return c.id != kUnknownColumnId; });
  int32_t highest = -1;
  if (with_id == columns.size()) {
    std::vector<int32_t> ids = CollectAllIds(columns);
    if (!ids.empty()) highest = *std::max_element(ids.begin(), ids.end());
  } else if (with_id == 0) {
    for (Column& column : columns) column.id = ++highest;
  } else {
    return SchemaError("all columns must have a column id or none of them may have one");
  }
  if (highest_field_id) highest = *highest_field_id;
  return Validate(std::move(columns), std::move(primary_key), std::move(auto_increment_columns),
                  highest);
}

Result<Schema> Schema::Validate(std::vector<Column> columns, std::vector<std::string> primary_key,
                                std::vector<std::string> auto_increment,
                                int32_t highest_field_id) {
  std::vector<int32_t> ids = CollectAllIds(columns);
  std::vector<int32_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return SchemaError("all field ids (including nested fields) must be unique, got [{}]",
                       fmt::join(ids, ", "));
  }
  if (!sorted.empty() && highest_field_id < sorted.back()) {
    return SchemaError("highest field id {} is below the largest field id {}", highest_field_id,
                       sorted.back());
  }
  std::vector<std::string> names;
  names.reserve(columns.size());
  for (const Column& column : columns) names.push_back(column.name);
  if (auto dup = FindDuplicate(names)) {
    return SchemaError("column \"{}\" appears more than once", *dup);
  }
  if (auto_increment.size() > 1) {
    return SchemaError("at most one auto-increment column is supported, got {}",
                       fmt::join(auto_increment, ", "));
  }
  if (primary_key.empty()) {
    if (!auto_increment.empty()) {
      return SchemaError("an auto-increment column needs a primary-key table");
    }
  } else {
    if (auto dup = FindDuplicate(primary_key)) {
      return SchemaError("primary key column \"{}\" appears more than once", *dup);
    }
    for (const auto& key : primary_key) {
      if (!Contains(names, key)) {
        return SchemaError("primary key column \"{}\" is not a column of the table", key);
      }
    }
    for (const auto& name : auto_increment) {
      if (!Contains(names, name)) {
        return SchemaError("auto-increment column \"{}\" is not a column of the table", name);
      }
      if (Contains(primary_key, name)) {
        return SchemaError("auto-increment column \"{}\" cannot be part of the primary key", name);
      }
    }
    for (Column& column : columns) {
      bool in_key = Contains(primary_key, column.name);
      if (in_key && column.agg_function) {
        return SchemaError("primary key column \"{}\" cannot have an aggregate function",
                           column.name);
      }
      if (Contains(auto_increment, column.name) && column.type.root() != TypeRoot::kInt &&
          column.type.root() != TypeRoot::kBigInt) {
        return SchemaError("auto-increment column \"{}\" must be INT or BIGINT", column.name);
      }
      if (in_key && column.type.nullable()) column.type = column.type.NotNull();
    }
  }
  Schema schema;
  schema.columns_ = std::move(columns);
  schema.primary_key_ = std::move(primary_key);
  schema.auto_increment_ = std::move(auto_increment);
  schema.highest_field_id_ = highest_field_id;
  return schema;
}

std::optional<size_t> Schema::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

Result<std::vector<size_t>> Schema::ColumnIndexes(const std::vector<std::string>& names) const {
  std::vector<size_t> indexes;
  indexes.reserve(names.size());
  for (const auto& name : names) {
    auto index = ColumnIndex(name);
    if (!index) return SchemaError("column \"{}\" does not exist in the schema", name);
    indexes.push_back(*index);
  }
  return indexes;
}

std::vector<size_t> Schema::PrimaryKeyIndexes() const {
  std::vector<size_t> indexes;
  indexes.reserve(primary_key_.size());
  // Validation guarantees every key column exists.
  for (const auto& name : primary_key_) indexes.push_back(*ColumnIndex(name));
  return indexes;
}

std::vector<std::string> Schema::ColumnNames() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const auto& column : columns_) names.push_back(column.name);
  return names;
}

std::vector<DataType> Schema::FieldTypes() const {
  std::vector<DataType> types;
  types.reserve(columns_.size());
  for (const auto& column : columns_) types.push_back(column.type);
  return types;
}

DataType Schema::RowType() const {
  std::vector<DataField> fields;
  fields.reserve(columns_.size());
  for (const auto& column : columns_) {
    fields.push_back(DataField{column.name, column.type, std::nullopt, column.id});
  }
  return DataType::Row(std::move(fields));
}

void Schema::AppendJson(std::string* out) const {
  out->append("{\"version\":1,\"columns\":[");
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendColumnJson(columns_[i], out);
  }
  out->push_back(']');
  if (!primary_key_.empty()) {
    out->append(",\"primary_key\":");
    AppendNameArray(primary_key_, out);
  }
  if (!auto_increment_.empty()) {
    out->append(",\"auto_increment_column\":");
    AppendNameArray(auto_increment_, out);
  }
  fmt::format_to(std::back_inserter(*out), ",\"highest_field_id\":{}}}", highest_field_id_);
}

std::string Schema::ToJson() const {
  std::string out;
  AppendJson(&out);
  return out;
}

Result<Schema> Schema::FromJsonNode(const Json& node) {
  if (!node.is_object()) return SchemaError("schema JSON must be an object");
  auto columns_it = node.find("columns");
  if (columns_it == node.end() || !columns_it->is_array()) {
    return SchemaError("schema JSON needs a \"columns\" array");
  }
  std::vector<Column> columns;
  columns.reserve(columns_it->size());
  for (const Json& column_node : *columns_it) {
    STROM_ASSIGN_OR_RETURN(Column column, ColumnFromJson(column_node));
    columns.push_back(std::move(column));
  }
  std::vector<std::string> primary_key;
  if (auto it = node.find("primary_key"); it != node.end()) {
    STROM_ASSIGN_OR_RETURN(primary_key, JsonNameList(*it, "primary_key"));
    if (primary_key.empty()) {
      return SchemaError("a primary key must name at least one column");
    }
  }
  std::vector<std::string> auto_increment;
  if (auto it = node.find("auto_increment_column"); it != node.end()) {
    STROM_ASSIGN_OR_RETURN(auto_increment, JsonNameList(*it, "auto_increment_column"));
  }
  std::optional<int32_t> highest;
  if (auto it = node.find("highest_field_id"); it != node.end()) {
    STROM_ASSIGN_OR_RETURN(highest, JsonInt32(*it, "highest_field_id"));
  }
  return FromColumns(std::move(columns), std::move(primary_key), std::move(auto_increment),
                     highest);
}

Result<Schema> Schema::FromJson(std::string_view json) {
  Json node = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded()) return SchemaError("schema JSON is not valid JSON");
  try {
    return FromJsonNode(node);
  } catch (const nlohmann::json::exception& e) {
    return SchemaError("schema JSON: {}", e.what());
  }
}

Schema::Builder& Schema::Builder::AddColumn(std::string name, DataType type,
                                            std::optional<AggFunction> agg_function) {
  Column column;
  column.name = std::move(name);
  column.id = ++highest_field_id_;
  column.type = ReassignNestedIds(type, &highest_field_id_);
  column.agg_function = std::move(agg_function);
  columns_.push_back(std::move(column));
  return *this;
}

Schema::Builder& Schema::Builder::WithComment(std::string comment) {
  if (columns_.empty()) {
    if (!error_) error_ = "WithComment() must follow a column";
  } else {
    columns_.back().comment = std::move(comment);
  }
  return *this;
}

Schema::Builder& Schema::Builder::PrimaryKey(std::vector<std::string> column_names) {
  if (!primary_key_.empty()) {
    if (!error_) error_ = "multiple primary keys are not supported";
  } else if (column_names.empty()) {
    if (!error_) error_ = "a primary key must name at least one column";
  } else {
    primary_key_ = std::move(column_names);
  }
  return *this;
}

Schema::Builder& Schema::Builder::EnableAutoIncrement(std::string column_name) {
  if (!auto_increment_.empty()) {
    if (!error_) error_ = "multiple auto-increment columns are not supported";
  } else {
    auto_increment_.push_back(std::move(column_name));
  }
  return *this;
}

Schema::Builder& Schema::Builder::HighestFieldId(int32_t id) {
  highest_field_id_ = id;
  return *this;
}

Result<Schema> Schema::Builder::Build() {
  if (error_) return SchemaError("{}", *error_);
  return Schema::Validate(columns_, primary_key_, auto_increment_, highest_field_id_);
}

}  // namespace strom::record
