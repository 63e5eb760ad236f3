#include "coordinator/table_validation.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>
#include <charconv>
#include <string>
#include <string_view>

#include "common/config/config.h"
#include "common/config/options.h"
#include "record/type_json.h"

namespace strom::coordinator {
namespace {

using record::DataType;
using record::TypeRoot;

constexpr std::string_view kReplicationFactor = "table.replication.factor";
constexpr std::string_view kKvFormatVersion = "table.kv.format-version";
constexpr std::string_view kMergeEngine = "table.merge-engine";
constexpr std::string_view kDeleteBehavior = "table.delete.behavior";
constexpr std::string_view kAutoPartitionEnabled = "table.auto-partition.enabled";
constexpr std::string_view kAutoPartitionKey = "table.auto-partition.key";
constexpr std::string_view kAutoPartitionNumPrecreate = "table.auto-partition.num-precreate";
constexpr std::string_view kDatalakeEnabled = "table.datalake.enabled";

/// Every `table.*` option of Fluss 0.9.1 (`FlussConfigUtils.TABLE_OPTIONS`), with the
/// option type of those the config registry does not describe.
struct TableOptionKey {
  std::string_view key;
  config::OptionType fallback_type;
};
constexpr std::array kFlussTableOptions = {
    TableOptionKey{"table.replication.factor", config::OptionType::kInt},
    TableOptionKey{"table.log.format", config::OptionType::kString},
    TableOptionKey{"table.log.arrow.compression.type", config::OptionType::kString},
    TableOptionKey{"table.log.arrow.compression.zstd.level", config::OptionType::kInt},
    TableOptionKey{"table.kv.format", config::OptionType::kString},
    TableOptionKey{"table.kv.format-version", config::OptionType::kInt},
    TableOptionKey{"table.auto-partition.enabled", config::OptionType::kBool},
    TableOptionKey{"table.auto-partition.key", config::OptionType::kString},
    TableOptionKey{"table.auto-partition.time-unit", config::OptionType::kString},
    TableOptionKey{"table.auto-partition.time-zone", config::OptionType::kString},
    TableOptionKey{"table.auto-partition.num-precreate", config::OptionType::kInt},
    TableOptionKey{"table.auto-partition.num-retention", config::OptionType::kInt},
    TableOptionKey{"table.log.ttl", config::OptionType::kDuration},
    TableOptionKey{"table.log.tiered.local-segments", config::OptionType::kInt},
    TableOptionKey{"table.datalake.enabled", config::OptionType::kBool},
    TableOptionKey{"table.datalake.format", config::OptionType::kString},
    TableOptionKey{"table.datalake.freshness", config::OptionType::kDuration},
    TableOptionKey{"table.datalake.auto-compaction", config::OptionType::kBool},
    TableOptionKey{"table.datalake.auto-expire-snapshot", config::OptionType::kBool},
    TableOptionKey{"table.merge-engine", config::OptionType::kString},
    TableOptionKey{"table.merge-engine.versioned.ver-column", config::OptionType::kString},
    TableOptionKey{"table.delete.behavior", config::OptionType::kString},
    TableOptionKey{"table.auto-increment.cache-size", config::OptionType::kLong},
    TableOptionKey{"table.changelog.image", config::OptionType::kString},
    // Strom's own table option (log retention by size), see src/log/README.md.
    TableOptionKey{"table.log.retention-size", config::OptionType::kMemorySize},
};

constexpr std::array<std::string_view, 6> kSystemColumns = {
    "__offset", "__timestamp", "__bucket", "_change_type", "_log_offset", "_commit_timestamp"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const std::string* Prop(const record::TableDescriptor& t, std::string_view key) {
  return t.Property(key);
}

bool PropIs(const record::TableDescriptor& t, std::string_view key, std::string_view value) {
  const std::string* v = Prop(t, key);
  return v != nullptr && EqualsIgnoreCase(*v, value);
}

std::optional<int64_t> PropInt(const record::TableDescriptor& t, std::string_view key) {
  const std::string* v = Prop(t, key);
  if (v == nullptr) return std::nullopt;
  std::string_view text = *v;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsKeyUnsupported(const DataType& type) {
  return type.root() == TypeRoot::kArray || type.root() == TypeRoot::kMap ||
         type.root() == TypeRoot::kRow;
}

bool IsPartitionKeySupported(const DataType& type) {
  switch (type.root()) {
    case TypeRoot::kDecimal:
    case TypeRoot::kArray:
    case TypeRoot::kMap:
    case TypeRoot::kRow:
      return false;
    default:
      return true;
  }
}

Status ValidateOptionValue(std::string_view key, const std::string& value,
                           config::OptionType fallback) {
  if (const config::OptionSpec* spec = config::FindOption(key)) {
    Status s = config::ValidateValue(*spec, value);
    if (!s.ok()) {
      return MakeError(ErrorCode::kInvalidConfig, "Invalid value for config '{}'. Reason: {}",
                       key, s.message());
    }
    return Status::OK();
  }
  config::OptionSpec spec{key, fallback, "", "", ""};
  Status s = config::ValidateValue(spec, value);
  if (!s.ok()) {
    return MakeError(ErrorCode::kInvalidConfig, "Invalid value for config '{}'. Reason: {}", key,
                     s.message());
  }
  return Status::OK();
}

Status CheckProperties(const record::TableDescriptor& table) {
  for (const auto& [key, value] : table.properties()) {
    auto known = std::find_if(kFlussTableOptions.begin(), kFlussTableOptions.end(),
                              [&](const TableOptionKey& o) { return o.key == key; });
    if (known == kFlussTableOptions.end()) {
      if (key.rfind("table.", 0) == 0) {
        return MakeError(ErrorCode::kInvalidConfig,
                         "'{}' is not a recognized Fluss table property in the current cluster "
                         "version. You may be using an older Fluss cluster that does not "
                         "support this property.",
                         key);
      }
      return MakeError(ErrorCode::kInvalidConfig,
                       "'{}' is not a Fluss table property. Please use '.customProperty(..)' to "
                       "set custom properties.",
                       key);
    }
    STROM_RETURN_IF_ERROR(ValidateOptionValue(key, value, known->fallback_type));
  }
  return Status::OK();
}

}  // namespace

Result<record::TableDescriptor> ApplySystemDefaults(const record::TableDescriptor& table,
                                                    const TableDefaults& defaults) {
  if (table.HasPrimaryKey() && !defaults.allow_kv_tables) {
    return Status(ErrorCode::kInvalidTable,
                  "Creation of Primary Key Tables is disallowed in the cluster.");
  }
  if (!table.HasPrimaryKey() && !defaults.allow_log_tables) {
    return Status(ErrorCode::kInvalidTable, "Creation of Log Tables is disallowed in the cluster.");
  }
  record::TableDescriptor out = table;
  if (!out.bucket_count()) out = out.WithBucketCount(defaults.default_bucket_number);
  if (Prop(table, kReplicationFactor) == nullptr) {
    out = out.WithProperty(std::string(kReplicationFactor),
                           std::to_string(defaults.default_replication_factor));
  }
  if (out.partition_keys().size() > 1 && PropIs(table, kAutoPartitionEnabled, "true") &&
      Prop(table, kAutoPartitionNumPrecreate) == nullptr) {
    out = out.WithProperty(std::string(kAutoPartitionNumPrecreate), "0");
  }
  if (PropIs(table, kDatalakeEnabled, "true")) {
    return MakeError(ErrorCode::kInvalidTable,
                     "'{}' is enabled for the table, but the Fluss cluster doesn't enable "
                     "datalake tables.",
                     kDatalakeEnabled);
  }
  if (table.HasPrimaryKey() &&
      (PropIs(table, kMergeEngine, "first_row") || PropIs(table, kMergeEngine, "versioned") ||
       PropIs(table, kMergeEngine, "aggregation")) &&
      Prop(table, kDeleteBehavior) == nullptr) {
    out = out.WithProperty(std::string(kDeleteBehavior), "IGNORE");
  }
  if (out.HasPrimaryKey()) {
    if (Prop(out, kKvFormatVersion) == nullptr) {
      out = out.WithProperty(std::string(kKvFormatVersion),
                             std::to_string(kCurrentKvFormatVersion));
    } else if (auto version = PropInt(out, kKvFormatVersion);
               version && *version > kCurrentKvFormatVersion) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "Unsupported kv format version {}. The maximum supported version is {}.",
                       *version, kCurrentKvFormatVersion);
    }
  }
  return out;
}

Status ValidateTableDescriptor(const record::TableDescriptor& table,
                               const TableDefaults& defaults) {
  STROM_RETURN_IF_ERROR(CheckProperties(table));
  const record::Schema& schema = table.schema();

  // Distribution.
  if (!table.bucket_count()) return Status(ErrorCode::kInvalidTable, "Bucket number must be set.");
  int32_t buckets = *table.bucket_count();
  if (buckets <= 0) {
    return MakeError(ErrorCode::kInvalidTable, "Bucket number must be positive, but is {}.",
                     buckets);
  }
  if (buckets > defaults.max_bucket_number) {
    return MakeError(ErrorCode::kBucketMaxNum, "Bucket count {} exceeds the maximum limit {}.",
                     buckets, defaults.max_bucket_number);
  }
  for (const std::string& key : table.bucket_keys()) {
    auto index = schema.ColumnIndex(key);
    if (index && IsKeyUnsupported(schema.column(*index).type)) {
      return MakeError(ErrorCode::kInvalidTable,
                       "Bucket key column '{}' has unsupported data type {}. Currently, bucket "
                       "key column does not support types: [ARRAY, MAP, ROW].",
                       key, record::TypeToJson(schema.column(*index).type));
    }
  }
  for (const std::string& key : schema.primary_key()) {
    auto index = schema.ColumnIndex(key);
    if (index && IsKeyUnsupported(schema.column(*index).type)) {
      return MakeError(ErrorCode::kInvalidTable,
                       "Primary key column '{}' has unsupported data type {}. Currently, primary "
                       "key column does not support types: [ARRAY, MAP, ROW].",
                       key, record::TypeToJson(schema.column(*index).type));
    }
  }

  // Replication factor.
  auto replication = PropInt(table, kReplicationFactor);
  if (Prop(table, kReplicationFactor) == nullptr) {
    return MakeError(ErrorCode::kInvalidConfig, "Missing required table property '{}'.",
                     kReplicationFactor);
  }
  if (!replication || *replication <= 0) {
    return MakeError(ErrorCode::kInvalidConfig, "'{}' must be greater than 0.",
                     kReplicationFactor);
  }

  // Log format of primary-key tables.
  const bool pk = table.HasPrimaryKey();
  const std::string* kv_format = Prop(table, "table.kv.format");
  const std::string* log_format = Prop(table, "table.log.format");
  bool kv_compacted = kv_format == nullptr || EqualsIgnoreCase(*kv_format, "COMPACTED");
  bool log_ok = log_format == nullptr || EqualsIgnoreCase(*log_format, "ARROW") ||
                EqualsIgnoreCase(*log_format, "COMPACTED");
  if (pk && kv_compacted && !log_ok) {
    return Status(ErrorCode::kInvalidConfig,
                  "Currently, Primary Key Table supports ARROW or COMPACTED log format when kv "
                  "format is COMPACTED.");
  }

  // Arrow compression.
  if (auto level = PropInt(table, "table.log.arrow.compression.zstd.level");
      level && (*level < 1 || *level > 22)) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Invalid ZSTD compression level: {}. Expected a value between 1 and 22.",
                     *level);
  }

  // Merge engine.
  const std::string* merge_engine = Prop(table, kMergeEngine);
  if (merge_engine != nullptr) {
    if (!pk) {
      return Status(ErrorCode::kInvalidConfig,
                    "Merge engine is only supported in primary key table.");
    }
    if (EqualsIgnoreCase(*merge_engine, "versioned")) {
      const std::string* column = Prop(table, "table.merge-engine.versioned.ver-column");
      if (column == nullptr) {
        return Status(ErrorCode::kInvalidConfig,
                      "'table.merge-engine.versioned.ver-column' must be set for versioned "
                      "merge engine.");
      }
      auto index = schema.ColumnIndex(*column);
      if (!index) {
        return MakeError(ErrorCode::kInvalidConfig,
                         "The version column '{}' for versioned merge engine doesn't exist in "
                         "schema.",
                         *column);
      }
      TypeRoot root = schema.column(*index).type.root();
      if (root != TypeRoot::kInt && root != TypeRoot::kBigInt && root != TypeRoot::kTimestamp &&
          root != TypeRoot::kTimestampLtz) {
        return MakeError(ErrorCode::kInvalidConfig,
                         "The version column '{}' for versioned merge engine must be one type of "
                         "[INT, BIGINT, TIMESTAMP, TIMESTAMP_LTZ], but got {}.",
                         *column, record::TypeToJson(schema.column(*index).type));
      }
    } else if (EqualsIgnoreCase(*merge_engine, "aggregation") &&
               PropIs(table, "table.changelog.image", "WAL")) {
      return Status(ErrorCode::kInvalidConfig,
                    "Table with 'AGGREGATION' merge engine does not support 'WAL' changelog "
                    "image mode.");
    }
  }

  // Delete behaviour.
  const std::string* delete_behavior = Prop(table, kDeleteBehavior);
  if (!pk && delete_behavior != nullptr) {
    return Status(ErrorCode::kInvalidConfig,
                  "The 'table.delete.behavior' configuration is only supported for primary key "
                  "tables.");
  }
  if (merge_engine != nullptr && delete_behavior != nullptr &&
      EqualsIgnoreCase(*delete_behavior, "ALLOW") &&
      (EqualsIgnoreCase(*merge_engine, "first_row") ||
       EqualsIgnoreCase(*merge_engine, "versioned"))) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Table with '{}' merge engine does not support delete operations. The "
                     "'table.delete.behavior' config must be set to 'ignore' or 'disable', but "
                     "got 'allow'.",
                     *merge_engine);
  }

  // Tiered log.
  if (auto segments = PropInt(table, "table.log.tiered.local-segments");
      segments && *segments <= 0) {
    return Status(ErrorCode::kInvalidConfig,
                  "'table.log.tiered.local-segments' must be greater than 0.");
  }

  // Partitions.
  const bool auto_partition = PropIs(table, kAutoPartitionEnabled, "true");
  if (!table.IsPartitioned() && auto_partition) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Currently, auto partition is only supported for partitioned table, please "
                     "set table property '{}' to false.",
                     kAutoPartitionEnabled);
  }
  for (const std::string& key : table.partition_keys()) {
    auto index = schema.ColumnIndex(key);
    if (index && !IsPartitionKeySupported(schema.column(*index).type)) {
      return MakeError(ErrorCode::kInvalidTable,
                       "Currently, partitioned table does not support partition key '{}' with "
                       "data type {}.",
                       key, record::TypeToJson(schema.column(*index).type));
    }
  }
  if (auto_partition && table.partition_keys().size() > 1) {
    const std::string* key = Prop(table, kAutoPartitionKey);
    if (key == nullptr || key->find_first_not_of(" \t") == std::string::npos) {
      return MakeError(ErrorCode::kInvalidTable,
                       "Currently, auto partitioned table must set one auto partition key when "
                       "it has multiple partition keys. Please set table property '{}'.",
                       kAutoPartitionKey);
    }
    const auto& keys = table.partition_keys();
    if (std::find(keys.begin(), keys.end(), *key) == keys.end()) {
      return MakeError(ErrorCode::kInvalidTable,
                       "The specified key for auto partitioned table is not a partition key. "
                       "Your key '{}' is not in key list [{}]",
                       *key, fmt::join(keys, ", "));
    }
    if (auto precreate = PropInt(table, kAutoPartitionNumPrecreate); precreate && *precreate > 0) {
      return MakeError(ErrorCode::kInvalidTable,
                       "For a partitioned table with multiple partition keys, auto pre-create is "
                       "unsupported and this value must be set to 0, but is {}",
                       *precreate);
    }
  }

  // Reserved column names.
  std::vector<std::string> reserved;
  for (const auto& column : schema.columns()) {
    if (std::find(kSystemColumns.begin(), kSystemColumns.end(), column.name) !=
        kSystemColumns.end()) {
      reserved.push_back(column.name);
    }
  }
  if (!reserved.empty()) {
    return MakeError(ErrorCode::kInvalidTable,
                     "{} cannot be used as column names, because they are reserved system "
                     "columns in Fluss. Please use other names for these columns. The reserved "
                     "system columns are: {}",
                     fmt::join(reserved, ", "), fmt::join(kSystemColumns, ", "));
  }
  return Status::OK();
}

}  // namespace strom::coordinator
