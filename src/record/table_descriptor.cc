#include "record/table_descriptor.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "record/type_json.h"

namespace strom::record {
namespace {

using Json = nlohmann::ordered_json;

template <typename... Args>
Status TableError(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kInvalidTable, fmt::format(format, std::forward<Args>(args)...));
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string ListText(const std::vector<std::string>& names) {
  return fmt::format("[{}]", fmt::join(names, ", "));
}

void AppendNames(const std::vector<std::string>& names, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(names[i], out);
  }
  out->push_back(']');
}

void AppendProperties(const Properties& properties, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [key, value] : properties) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    AppendJsonString(value, out);
  }
  out->push_back('}');
}

/// Reads a JSON object of options. Java takes `asText()` of each value; strings are taken
/// as they are and numbers/booleans by their JSON text. A repeated key keeps its first
/// position and its last value, as a map would.
Result<Properties> ParseProperties(const Json& node, std::string_view what, ErrorCode code) {
  if (!node.is_object()) return Status(code, fmt::format("\"{}\" must be a JSON object", what));
  Properties properties;
  properties.reserve(node.size());
  for (auto it = node.begin(); it != node.end(); ++it) {
    const Json& value = it.value();
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      text = value.dump();
    } else {
      return Status(code, fmt::format("\"{}\" value of \"{}\" must be a string", what, it.key()));
    }
    SetProperty(&properties, it.key(), std::move(text));
  }
  return properties;
}

Result<std::vector<std::string>> ParseNames(const Json& node, std::string_view what) {
  if (!node.is_array()) return TableError("table JSON: \"{}\" must be an array", what);
  std::vector<std::string> names;
  names.reserve(node.size());
  for (const Json& item : node) {
    if (!item.is_string()) return TableError("table JSON: \"{}\" must hold strings", what);
    names.push_back(item.get<std::string>());
  }
  return names;
}

Result<TableDescriptor> TableFromJsonNode(const Json& node) {
  if (!node.is_object()) return TableError("table JSON must be an object");
  TableDescriptor::Parts parts;
  auto schema_it = node.find("schema");
  if (schema_it == node.end()) return TableError("table JSON needs \"schema\"");
  STROM_ASSIGN_OR_RETURN(parts.schema, Schema::FromJsonNode(*schema_it));
  if (auto it = node.find("comment"); it != node.end() && !it->is_null()) {
    if (!it->is_string()) return TableError("table JSON: \"comment\" must be a string");
    parts.comment = it->get<std::string>();
  }
  auto partition_it = node.find("partition_key");
  if (partition_it == node.end()) return TableError("table JSON needs \"partition_key\"");
  STROM_ASSIGN_OR_RETURN(parts.partition_keys, ParseNames(*partition_it, "partition_key"));
  auto bucket_key_it = node.find("bucket_key");
  auto bucket_count_it = node.find("bucket_count");
  if (bucket_key_it != node.end() || bucket_count_it != node.end()) {
    // Java reads the two together: a count without a key list is malformed.
    if (bucket_key_it == node.end()) {
      return TableError("table JSON has \"bucket_count\" but no \"bucket_key\"");
    }
    TableDistribution distribution;
    STROM_ASSIGN_OR_RETURN(distribution.bucket_keys, ParseNames(*bucket_key_it, "bucket_key"));
    if (bucket_count_it != node.end() && !bucket_count_it->is_null()) {
      if (!bucket_count_it->is_number_integer()) {
        return TableError("table JSON: \"bucket_count\" must be an integer");
      }
      int64_t count = bucket_count_it->get<int64_t>();
      if (count < std::numeric_limits<int32_t>::min() ||
          count > std::numeric_limits<int32_t>::max()) {
        return TableError("table JSON: \"bucket_count\" is out of range");
      }
      distribution.bucket_count = static_cast<int32_t>(count);
    }
    parts.distribution = std::move(distribution);
  }
  auto properties_it = node.find("properties");
  if (properties_it == node.end()) return TableError("table JSON needs \"properties\"");
  STROM_ASSIGN_OR_RETURN(parts.properties,
                         ParseProperties(*properties_it, "properties", ErrorCode::kInvalidTable));
  auto custom_it = node.find("custom_properties");
  if (custom_it == node.end()) return TableError("table JSON needs \"custom_properties\"");
  STROM_ASSIGN_OR_RETURN(parts.custom_properties,
                         ParseProperties(*custom_it, "custom_properties", ErrorCode::kInvalidTable));
  return TableDescriptor::Make(std::move(parts));
}

}  // namespace

const std::string* FindProperty(const Properties& properties, std::string_view key) {
  for (const auto& [k, v] : properties) {
    if (k == key) return &v;
  }
  return nullptr;
}

void SetProperty(Properties* properties, std::string key, std::string value) {
  for (auto& [k, v] : *properties) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  properties->emplace_back(std::move(key), std::move(value));
}

Result<TableDescriptor> TableDescriptor::Make(Parts parts) {
  const Schema& schema = parts.schema;
  const auto& partition_keys = parts.partition_keys;
  std::vector<std::string> physical_pk;
  for (const auto& key : schema.primary_key()) {
    if (!Contains(partition_keys, key)) physical_pk.push_back(key);
  }
  if (parts.distribution) {
    auto& bucket_keys = parts.distribution->bucket_keys;
    for (const auto& key : bucket_keys) {
      if (Contains(partition_keys, key)) {
        return TableError("bucket key {} must not include any partition key {}",
                          ListText(bucket_keys), ListText(partition_keys));
      }
    }
    if (schema.HasPrimaryKey()) {
      if (bucket_keys.empty()) {
        bucket_keys = physical_pk;
      } else {
        for (const auto& key : bucket_keys) {
          if (!Contains(schema.primary_key(), key)) {
            return TableError(
                "bucket keys of a primary-key table must be a subset of the primary key {} "
                "without the partition keys {}, got {}",
                ListText(schema.primary_key()), ListText(partition_keys), ListText(bucket_keys));
          }
        }
      }
    }
  } else if (schema.HasPrimaryKey()) {
    parts.distribution = TableDistribution{std::nullopt, physical_pk};
  }
  if (schema.HasPrimaryKey() && physical_pk.empty() && parts.distribution &&
      parts.distribution->bucket_keys.empty()) {
    return TableError("primary key {} must not be the same as the partition keys {}",
                      ListText(schema.primary_key()), ListText(partition_keys));
  }
  for (const auto& key : partition_keys) {
    if (schema.HasPrimaryKey()) {
      if (!Contains(schema.primary_key(), key)) {
        return TableError(
            "a partitioned primary-key table needs its partition keys {} to be part of the "
            "primary key {}",
            ListText(partition_keys), ListText(schema.primary_key()));
      }
    } else if (!schema.ColumnIndex(key)) {
      return TableError("partition key \"{}\" does not exist in the schema", key);
    }
  }
  if (parts.distribution) {
    for (const auto& key : parts.distribution->bucket_keys) {
      if (!schema.ColumnIndex(key)) {
        return TableError("bucket key \"{}\" does not exist in the schema", key);
      }
    }
  }
  return TableDescriptor(std::move(parts));
}

const std::vector<std::string>& TableDescriptor::bucket_keys() const {
  static const std::vector<std::string> kNone;
  return parts_.distribution ? parts_.distribution->bucket_keys : kNone;
}

std::optional<int32_t> TableDescriptor::bucket_count() const {
  return parts_.distribution ? parts_.distribution->bucket_count : std::nullopt;
}

std::vector<std::string> TableDescriptor::PhysicalPrimaryKey() const {
  std::vector<std::string> keys;
  for (const auto& key : parts_.schema.primary_key()) {
    if (!Contains(parts_.partition_keys, key)) keys.push_back(key);
  }
  return keys;
}

bool TableDescriptor::IsDefaultBucketKey() const {
  if (HasPrimaryKey()) return bucket_keys() == PhysicalPrimaryKey();
  return bucket_keys().empty();
}

const std::string* TableDescriptor::Property(std::string_view key) const {
  return FindProperty(parts_.properties, key);
}

TableDescriptor TableDescriptor::WithBucketCount(int32_t bucket_count) const {
  TableDescriptor copy = *this;
  if (!copy.parts_.distribution) copy.parts_.distribution = TableDistribution{};
  copy.parts_.distribution->bucket_count = bucket_count;
  return copy;
}

TableDescriptor TableDescriptor::WithProperty(std::string key, std::string value) const {
  TableDescriptor copy = *this;
  SetProperty(&copy.parts_.properties, std::move(key), std::move(value));
  return copy;
}

std::string TableDescriptor::ToJson() const {
  std::string out;
  out.append("{\"version\":1,\"schema\":");
  parts_.schema.AppendJson(&out);
  if (parts_.comment) {
    out.append(",\"comment\":");
    AppendJsonString(*parts_.comment, &out);
  }
  out.append(",\"partition_key\":");
  AppendNames(parts_.partition_keys, &out);
  if (parts_.distribution) {
    out.append(",\"bucket_key\":");
    AppendNames(parts_.distribution->bucket_keys, &out);
    if (parts_.distribution->bucket_count) {
      fmt::format_to(std::back_inserter(out), ",\"bucket_count\":{}",
                     *parts_.distribution->bucket_count);
    }
  }
  out.append(",\"properties\":");
  AppendProperties(parts_.properties, &out);
  out.append(",\"custom_properties\":");
  AppendProperties(parts_.custom_properties, &out);
  out.push_back('}');
  return out;
}

Result<TableDescriptor> TableDescriptor::FromJson(std::string_view json) {
  Json node = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded()) return TableError("table JSON is not valid JSON");
  try {
    return TableFromJsonNode(node);
  } catch (const nlohmann::json::exception& e) {
    return TableError("table JSON: {}", e.what());
  }
}

std::string DatabaseDescriptor::ToJson() const {
  std::string out = "{\"version\":1";
  if (comment_) {
    out.append(",\"comment\":");
    AppendJsonString(*comment_, &out);
  }
  out.append(",\"custom_properties\":");
  AppendProperties(custom_properties_, &out);
  out.push_back('}');
  return out;
}

Result<DatabaseDescriptor> DatabaseDescriptor::FromJson(std::string_view json) {
  auto error = [](std::string message) {
    return Status(ErrorCode::kInvalidDatabase, "database JSON: " + message);
  };
  Json node = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded()) return error("not valid JSON");
  try {
    if (!node.is_object()) return error("must be an object");
    DatabaseDescriptor descriptor;
    if (auto it = node.find("comment"); it != node.end() && !it->is_null()) {
      if (!it->is_string()) return error("\"comment\" must be a string");
      descriptor.comment_ = it->get<std::string>();
    }
    auto custom_it = node.find("custom_properties");
    if (custom_it == node.end()) return error("\"custom_properties\" is required");
    STROM_ASSIGN_OR_RETURN(descriptor.custom_properties_,
                           ParseProperties(*custom_it, "custom_properties",
                                           ErrorCode::kInvalidDatabase));
    return descriptor;
  } catch (const nlohmann::json::exception& e) {
    return error(e.what());
  }
}

}  // namespace strom::record
