#include "metadata/znode_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>

#include "record/type_json.h"

namespace strom::metadata {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kNodeVersion = 1;

void AppendKeyedString(std::string_view key, std::string_view value, std::string* out) {
  record::AppendJsonString(key, out);
  out->push_back(':');
  record::AppendJsonString(value, out);
}

void AppendNames(std::string_view key, const std::vector<std::string>& names, std::string* out) {
  record::AppendJsonString(key, out);
  out->append(":[");
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out->push_back(',');
    record::AppendJsonString(names[i], out);
  }
  out->push_back(']');
}

void AppendProperties(std::string_view key, const record::Properties& props, std::string* out) {
  record::AppendJsonString(key, out);
  out->append(":{");
  bool first = true;
  for (const auto& [k, v] : props) {
    if (!first) out->push_back(',');
    first = false;
    AppendKeyedString(k, v, out);
  }
  out->push_back('}');
}

Result<Json> ParseObject(std::string_view json, std::string_view what) {
  Json node = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded() || !node.is_object()) {
    return Corruption("{} node is not a JSON object", what);
  }
  return node;
}

Result<int64_t> ReadInt(const Json& node, std::string_view key, std::string_view what) {
  auto it = node.find(key);
  if (it == node.end() || !it->is_number_integer()) {
    return Corruption("{} node lacks the integer \"{}\"", what, key);
  }
  return it->get<int64_t>();
}

Result<std::vector<std::string>> ReadNames(const Json& node, std::string_view key,
                                           std::string_view what) {
  std::vector<std::string> names;
  auto it = node.find(key);
  if (it == node.end()) return names;
  if (!it->is_array()) return Corruption("{} node: \"{}\" is not an array", what, key);
  for (const Json& e : *it) {
    if (!e.is_string()) return Corruption("{} node: \"{}\" holds a non-string", what, key);
    names.push_back(e.get<std::string>());
  }
  return names;
}

Result<record::Properties> ReadProperties(const Json& node, std::string_view key,
                                          std::string_view what) {
  auto it = node.find(key);
  if (it == node.end() || !it->is_object()) {
    return Corruption("{} node lacks the object \"{}\"", what, key);
  }
  record::Properties props;
  for (auto p = it->begin(); p != it->end(); ++p) {
    if (!p.value().is_string()) {
      return Corruption("{} node: property \"{}\" is not a string", what, p.key());
    }
    props.emplace_back(p.key(), p.value().get<std::string>());
  }
  return props;
}

Result<std::optional<std::string>> ReadComment(const Json& node, std::string_view what) {
  auto it = node.find("comment");
  if (it == node.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Corruption("{} node: \"comment\" is not a string", what);
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

std::string DatabaseRegistrationToJson(const DatabaseRegistration& reg) {
  std::string out = fmt::format("{{\"version\":{}", kNodeVersion);
  if (reg.descriptor.comment()) {
    out.push_back(',');
    AppendKeyedString("comment", *reg.descriptor.comment(), &out);
  }
  out.push_back(',');
  AppendProperties("custom_properties", reg.descriptor.custom_properties(), &out);
  fmt::format_to(std::back_inserter(out), ",\"created_time\":{},\"modified_time\":{}}}",
                 reg.created_time, reg.modified_time);
  return out;
}

Result<DatabaseRegistration> DatabaseRegistrationFromJson(std::string_view json) {
  constexpr std::string_view kWhat = "database";
  STROM_ASSIGN_OR_RETURN(Json node, ParseObject(json, kWhat));
  STROM_ASSIGN_OR_RETURN(auto comment, ReadComment(node, kWhat));
  STROM_ASSIGN_OR_RETURN(auto custom, ReadProperties(node, "custom_properties", kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t created, ReadInt(node, "created_time", kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t modified, ReadInt(node, "modified_time", kWhat));
  return DatabaseRegistration{record::DatabaseDescriptor(std::move(comment), std::move(custom)),
                              TimestampMs(created), TimestampMs(modified)};
}

std::string TableRegistrationToJson(const TableRegistration& reg) {
  std::string out = fmt::format("{{\"version\":{},\"table_id\":{}", kNodeVersion, reg.table_id);
  if (reg.comment) {
    out.push_back(',');
    AppendKeyedString("comment", *reg.comment, &out);
  }
  if (!reg.partition_keys.empty()) {
    out.push_back(',');
    AppendNames("partition_key", reg.partition_keys, &out);
  }
  if (!reg.bucket_keys.empty()) {
    out.push_back(',');
    AppendNames("bucket_key", reg.bucket_keys, &out);
  }
  fmt::format_to(std::back_inserter(out), ",\"bucket_count\":{},", reg.bucket_count);
  AppendProperties("properties", reg.properties, &out);
  out.push_back(',');
  AppendProperties("custom_properties", reg.custom_properties, &out);
  fmt::format_to(std::back_inserter(out), ",\"created_time\":{},\"modified_time\":{}}}",
                 reg.created_time, reg.modified_time);
  return out;
}

Result<TableRegistration> TableRegistrationFromJson(std::string_view json) {
  constexpr std::string_view kWhat = "table";
  STROM_ASSIGN_OR_RETURN(Json node, ParseObject(json, kWhat));
  TableRegistration reg;
  STROM_ASSIGN_OR_RETURN(int64_t table_id, ReadInt(node, "table_id", kWhat));
  reg.table_id = TableId(table_id);
  STROM_ASSIGN_OR_RETURN(reg.comment, ReadComment(node, kWhat));
  STROM_ASSIGN_OR_RETURN(reg.partition_keys, ReadNames(node, "partition_key", kWhat));
  STROM_ASSIGN_OR_RETURN(reg.bucket_keys, ReadNames(node, "bucket_key", kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t bucket_count, ReadInt(node, "bucket_count", kWhat));
  if (bucket_count <= 0 || bucket_count > std::numeric_limits<int32_t>::max()) {
    return Corruption("table node: bucket_count {} out of range", bucket_count);
  }
  reg.bucket_count = static_cast<int32_t>(bucket_count);
  STROM_ASSIGN_OR_RETURN(reg.properties, ReadProperties(node, "properties", kWhat));
  STROM_ASSIGN_OR_RETURN(reg.custom_properties, ReadProperties(node, "custom_properties", kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t created, ReadInt(node, "created_time", kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t modified, ReadInt(node, "modified_time", kWhat));
  reg.created_time = TimestampMs(created);
  reg.modified_time = TimestampMs(modified);
  return reg;
}

std::string TableAssignmentToJson(const TableAssignment& assignment) {
  std::string out = fmt::format("{{\"version\":{},\"buckets\":{{", kNodeVersion);
  bool first = true;
  for (const auto& [bucket, replicas] : assignment.buckets) {
    if (!first) out.push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(out), "\"{}\":[", bucket);
    for (size_t i = 0; i < replicas.size(); ++i) {
      if (i > 0) out.push_back(',');
      fmt::format_to(std::back_inserter(out), "{}", replicas[i]);
    }
    out.push_back(']');
  }
  out.append("}}");
  return out;
}

Result<TableAssignment> TableAssignmentFromJson(std::string_view json) {
  constexpr std::string_view kWhat = "assignment";
  STROM_ASSIGN_OR_RETURN(Json node, ParseObject(json, kWhat));
  auto buckets = node.find("buckets");
  if (buckets == node.end() || !buckets->is_object()) {
    return Corruption("assignment node lacks the object \"buckets\"");
  }
  TableAssignment assignment;
  for (auto it = buckets->begin(); it != buckets->end(); ++it) {
    const std::string& key = it.key();
    int32_t bucket = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), bucket);
    if (ec != std::errc() || end != key.data() + key.size() || bucket < 0) {
      return Corruption("assignment node: bad bucket id \"{}\"", key);
    }
    if (!it.value().is_array()) return Corruption("assignment node: bucket {} not an array", key);
    std::vector<ServerId> replicas;
    for (const Json& r : it.value()) {
      if (!r.is_number_integer()) return Corruption("assignment node: bad replica in {}", key);
      replicas.emplace_back(r.get<int32_t>());
    }
    assignment.buckets[BucketId(bucket)] = std::move(replicas);
  }
  return assignment;
}

}  // namespace strom::metadata
