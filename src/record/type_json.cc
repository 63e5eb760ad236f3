#include "record/type_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace strom::record {
namespace {

using Json = nlohmann::ordered_json;

template <typename... Args>
Status TypeError(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kInvalidTable,
                "invalid data type JSON: " + fmt::format(format, std::forward<Args>(args)...));
}

void AppendInt(int64_t v, std::string* out) { fmt::format_to(std::back_inserter(*out), "{}", v); }

void AppendKey(std::string_view key, std::string* out) {
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

/// Reads a required integer member; Java's `asInt()` on a missing node would throw.
Result<int32_t> RequiredInt(const Json& node, const char* key) {
  auto it = node.find(key);
  if (it == node.end()) return TypeError("missing \"{}\" in {}", key, node.dump());
  if (!it->is_number_integer()) return TypeError("\"{}\" must be an integer", key);
  int64_t v = it->get<int64_t>();
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return TypeError("\"{}\" is out of range: {}", key, v);
  }
  return static_cast<int32_t>(v);
}

Result<int32_t> PrecisionIn(const Json& node, int32_t min, int32_t max, const char* what) {
  STROM_ASSIGN_OR_RETURN(int32_t precision, RequiredInt(node, "precision"));
  if (precision < min || precision > max) {
    return TypeError("{} precision must be between {} and {}, got {}", what, min, max, precision);
  }
  return precision;
}

Result<TypeRoot> ParseRoot(std::string_view name) {
  static constexpr TypeRoot kAll[] = {
      TypeRoot::kBoolean, TypeRoot::kTinyInt,   TypeRoot::kSmallInt,  TypeRoot::kInt,
      TypeRoot::kBigInt,  TypeRoot::kFloat,     TypeRoot::kDouble,    TypeRoot::kChar,
      TypeRoot::kString,  TypeRoot::kBinary,    TypeRoot::kBytes,     TypeRoot::kDecimal,
      TypeRoot::kDate,    TypeRoot::kTime,      TypeRoot::kTimestamp, TypeRoot::kTimestampLtz,
      TypeRoot::kArray,   TypeRoot::kMap,       TypeRoot::kRow};
  for (TypeRoot root : kAll) {
    if (TypeRootJsonName(root) == name) return root;
  }
  return TypeError("unsupported type root \"{}\"", name);
}

Result<DataType> ParseRowFields(const Json& node, int depth) {
  auto it = node.find("fields");
  if (it == node.end() || !it->is_array()) return TypeError("ROW needs a \"fields\" array");
  std::vector<DataField> fields;
  fields.reserve(it->size());
  std::set<std::string, std::less<>> names;
  for (const Json& field_node : *it) {
    if (!field_node.is_object()) return TypeError("ROW field must be an object");
    auto name_it = field_node.find("name");
    if (name_it == field_node.end() || !name_it->is_string()) {
      return TypeError("ROW field needs a string \"name\"");
    }
    DataField field;
    field.name = name_it->get<std::string>();
    if (field.name.find_first_not_of(" \t\n\r\f\v") == std::string::npos) {
      return TypeError("ROW field names must contain a non-whitespace character");
    }
    if (!names.insert(field.name).second) {
      return TypeError("ROW field name \"{}\" is duplicated", field.name);
    }
    auto type_it = field_node.find("field_type");
    if (type_it == field_node.end()) return TypeError("ROW field \"{}\" has no field_type", field.name);
    STROM_ASSIGN_OR_RETURN(field.type, TypeFromJsonNode(*type_it, depth + 1));
    auto desc_it = field_node.find("description");
    if (desc_it != field_node.end() && !desc_it->is_null()) {
      if (!desc_it->is_string()) return TypeError("ROW field description must be a string");
      field.description = desc_it->get<std::string>();
    }
    if (field_node.contains("field_id")) {
      STROM_ASSIGN_OR_RETURN(field.field_id, RequiredInt(field_node, "field_id"));
    } else {
      field.field_id = -1;
    }
    fields.push_back(std::move(field));
  }
  return DataType::Row(std::move(fields));
}

Result<DataType> ParseByRoot(TypeRoot root, const Json& node, int depth) {
  switch (root) {
    case TypeRoot::kBoolean: return DataType::Boolean();
    case TypeRoot::kTinyInt: return DataType::TinyInt();
    case TypeRoot::kSmallInt: return DataType::SmallInt();
    case TypeRoot::kInt: return DataType::Int();
    case TypeRoot::kBigInt: return DataType::BigInt();
    case TypeRoot::kFloat: return DataType::Float();
    case TypeRoot::kDouble: return DataType::Double();
    case TypeRoot::kString: return DataType::String();
    case TypeRoot::kBytes: return DataType::Bytes();
    case TypeRoot::kDate: return DataType::Date();
    case TypeRoot::kChar:
    case TypeRoot::kBinary: {
      STROM_ASSIGN_OR_RETURN(int32_t length, RequiredInt(node, "length"));
      if (length < 1) return TypeError("{} length must be at least 1", TypeRootJsonName(root));
      return root == TypeRoot::kChar ? DataType::Char(length) : DataType::Binary(length);
    }
    case TypeRoot::kDecimal: {
      STROM_ASSIGN_OR_RETURN(int32_t precision, PrecisionIn(node, 1, 38, "DECIMAL"));
      STROM_ASSIGN_OR_RETURN(int32_t scale, RequiredInt(node, "scale"));
      if (scale < 0 || scale > precision) {
        return TypeError("DECIMAL scale must be between 0 and {}, got {}", precision, scale);
      }
      return DataType::Decimal(precision, scale);
    }
    case TypeRoot::kTime: {
      STROM_ASSIGN_OR_RETURN(int32_t precision, PrecisionIn(node, 0, 9, "TIME"));
      return DataType::Time(precision);
    }
    case TypeRoot::kTimestamp: {
      STROM_ASSIGN_OR_RETURN(int32_t precision, PrecisionIn(node, 0, 9, "TIMESTAMP"));
      return DataType::Timestamp(precision);
    }
    case TypeRoot::kTimestampLtz: {
      STROM_ASSIGN_OR_RETURN(int32_t precision, PrecisionIn(node, 0, 9, "TIMESTAMP_LTZ"));
      return DataType::TimestampLtz(precision);
    }
    case TypeRoot::kArray: {
      auto it = node.find("element_type");
      if (it == node.end()) return TypeError("ARRAY needs \"element_type\"");
      STROM_ASSIGN_OR_RETURN(DataType element, TypeFromJsonNode(*it, depth + 1));
      return DataType::Array(std::move(element));
    }
    case TypeRoot::kMap: {
      auto key_it = node.find("key_type");
      auto value_it = node.find("value_type");
      if (key_it == node.end() || value_it == node.end()) {
        return TypeError("MAP needs \"key_type\" and \"value_type\"");
      }
      STROM_ASSIGN_OR_RETURN(DataType key, TypeFromJsonNode(*key_it, depth + 1));
      STROM_ASSIGN_OR_RETURN(DataType value, TypeFromJsonNode(*value_it, depth + 1));
      return DataType::Map(std::move(key), std::move(value));
    }
    case TypeRoot::kRow:
      return ParseRowFields(node, depth);
  }
  return TypeError("unsupported type root");
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\b': out->append("\\b"); continue;
      case '\t': out->append("\\t"); continue;
      case '\n': out->append("\\n"); continue;
      case '\f': out->append("\\f"); continue;
      case '\r': out->append("\\r"); continue;
      default: break;
    }
    if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 0xF]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendTypeJson(const DataType& type, std::string* out) {
  out->append("{\"type\":\"");
  out->append(TypeRootJsonName(type.root()));
  out->push_back('"');
  if (!type.nullable()) out->append(",\"nullable\":false");
  switch (type.root()) {
    case TypeRoot::kChar:
    case TypeRoot::kBinary:
      out->push_back(',');
      AppendKey("length", out);
      AppendInt(type.length(), out);
      break;
    case TypeRoot::kDecimal:
      out->push_back(',');
      AppendKey("precision", out);
      AppendInt(type.precision(), out);
      out->push_back(',');
      AppendKey("scale", out);
      AppendInt(type.scale(), out);
      break;
    case TypeRoot::kTime:
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      out->push_back(',');
      AppendKey("precision", out);
      AppendInt(type.precision(), out);
      break;
    case TypeRoot::kArray:
      out->push_back(',');
      AppendKey("element_type", out);
      AppendTypeJson(type.element(), out);
      break;
    case TypeRoot::kMap:
      out->push_back(',');
      AppendKey("key_type", out);
      AppendTypeJson(type.key(), out);
      out->push_back(',');
      AppendKey("value_type", out);
      AppendTypeJson(type.value(), out);
      break;
    case TypeRoot::kRow: {
      out->push_back(',');
      AppendKey("fields", out);
      out->push_back('[');
      bool first = true;
      for (const DataField& field : type.fields()) {
        if (!first) out->push_back(',');
        first = false;
        out->push_back('{');
        AppendKey("name", out);
        AppendJsonString(field.name, out);
        out->push_back(',');
        AppendKey("field_type", out);
        AppendTypeJson(field.type, out);
        if (field.description) {
          out->push_back(',');
          AppendKey("description", out);
          AppendJsonString(*field.description, out);
        }
        out->push_back(',');
        AppendKey("field_id", out);
        AppendInt(field.field_id, out);
        out->push_back('}');
      }
      out->push_back(']');
      break;
    }
    default:
      break;
  }
  out->push_back('}');
}

std::string TypeToJson(const DataType& type) {
  std::string out;
  AppendTypeJson(type, &out);
  return out;
}

Result<DataType> TypeFromJsonNode(const Json& node, int depth) {
  if (depth > kMaxTypeNestingDepth) {
    return TypeError("types nested deeper than {} levels", kMaxTypeNestingDepth);
  }
  if (!node.is_object()) return TypeError("a data type must be a JSON object");
  auto type_it = node.find("type");
  if (type_it == node.end() || !type_it->is_string()) {
    return TypeError("missing string \"type\" in {}", node.dump());
  }
  STROM_ASSIGN_OR_RETURN(TypeRoot root, ParseRoot(type_it->get_ref<const std::string&>()));
  STROM_ASSIGN_OR_RETURN(DataType type, ParseByRoot(root, node, depth));
  auto nullable_it = node.find("nullable");
  if (nullable_it != node.end()) {
    if (!nullable_it->is_boolean()) return TypeError("\"nullable\" must be a boolean");
    type = type.WithNullable(nullable_it->get<bool>());
  }
  return type;
}

Result<DataType> TypeFromJson(std::string_view json) {
  Json node = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded()) return TypeError("not valid JSON");
  try {
    return TypeFromJsonNode(node);
  } catch (const nlohmann::json::exception& e) {
    return TypeError("{}", e.what());
  }
}

}  // namespace strom::record
