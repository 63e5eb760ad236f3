#include "kv/kv_table_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/config/config.h"
#include "common/config/options.h"
#include "record/bucketing.h"

namespace strom::kv {

namespace {

std::string Upper(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-') c = '_';
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

const std::string* Prop(const record::Properties& p, std::string_view key) {
  return record::FindProperty(p, key);
}

Status BadValue(std::string_view key, std::string_view value) {
  return MakeError(ErrorCode::kInvalidConfig, "Invalid value for config '{}': '{}'", key, value);
}

bool IsNumeric(record::TypeRoot r) {
  using record::TypeRoot;
  return r == TypeRoot::kTinyInt || r == TypeRoot::kSmallInt || r == TypeRoot::kInt ||
         r == TypeRoot::kBigInt || r == TypeRoot::kFloat || r == TypeRoot::kDouble ||
         r == TypeRoot::kDecimal;
}

bool IsComparable(record::TypeRoot r) {
  using record::TypeRoot;
  return IsNumeric(r) || r == TypeRoot::kDate || r == TypeRoot::kTime ||
         r == TypeRoot::kTimestamp || r == TypeRoot::kTimestampLtz || r == TypeRoot::kChar ||
         r == TypeRoot::kString || r == TypeRoot::kBinary || r == TypeRoot::kBytes;
}

// AggFunctionType.validateDataType / validateParameter of Fluss 0.9.1.
Status ValidateAggFunction(const record::Schema::Column& column) {
  using record::AggFunctionType;
  using record::TypeRoot;
  const record::AggFunction& f = *column.agg_function;
  TypeRoot root = column.type.root();
  bool ok = true;
  switch (f.type) {
    case AggFunctionType::kSum:
    case AggFunctionType::kProduct:
      ok = IsNumeric(root);
      break;
    case AggFunctionType::kMax:
    case AggFunctionType::kMin:
      ok = IsComparable(root);
      break;
    case AggFunctionType::kListAgg:
    case AggFunctionType::kStringAgg:
      ok = root == TypeRoot::kString || root == TypeRoot::kChar;
      break;
    case AggFunctionType::kBoolAnd:
    case AggFunctionType::kBoolOr:
      ok = root == TypeRoot::kBoolean;
      break;
    case AggFunctionType::kRbm32:
    case AggFunctionType::kRbm64:
      ok = root == TypeRoot::kBytes;
      break;
    default:
      break;
  }
  if (!ok) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Data type for {} column '{}' is not supported but was '{}'.",
                     record::AggFunctionTypeName(f.type), column.name, column.type.ToString());
  }
  bool takes_delimiter =
      f.type == AggFunctionType::kListAgg || f.type == AggFunctionType::kStringAgg;
  for (const auto& [name, value] : f.parameters) {
    if (!takes_delimiter || name != "delimiter") {
      return MakeError(ErrorCode::kInvalidConfig,
                       "Parameter '{}' is not supported for aggregation function '{}'.", name,
                       record::AggFunctionTypeName(f.type));
    }
    if (value.empty()) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "Parameter 'delimiter' for aggregation function '{}' must be a non-empty "
                       "string",
                       record::AggFunctionTypeName(f.type));
    }
  }
  return Status::OK();
}

}  // namespace

std::string_view KvFormatName(KvFormat format) {
  return format == KvFormat::kCompacted ? "COMPACTED" : "INDEXED";
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
  return "?";
}

std::string_view MergeEngineName(MergeEngine engine) {
  switch (engine) {
    case MergeEngine::kDefault:
      return "DEFAULT";
    case MergeEngine::kFirstRow:
      return "FIRST_ROW";
    case MergeEngine::kVersioned:
      return "VERSIONED";
    case MergeEngine::kAggregation:
      return "AGGREGATION";
  }
  return "?";
}

std::string_view DeleteBehaviorName(DeleteBehavior behavior) {
  switch (behavior) {
    case DeleteBehavior::kAllow:
      return "ALLOW";
    case DeleteBehavior::kIgnore:
      return "IGNORE";
    case DeleteBehavior::kDisable:
      return "DISABLE";
  }
  return "?";
}

SchemaSet::SchemaSet(SchemaId id, record::Schema schema) {
  schemas_[id.value()] = std::make_shared<const record::Schema>(std::move(schema));
  latest_id_ = id;
}

SchemaSet SchemaSet::With(SchemaId id, record::Schema schema) const {
  SchemaSet copy = *this;
  copy.schemas_[id.value()] = std::make_shared<const record::Schema>(std::move(schema));
  if (id > copy.latest_id_) copy.latest_id_ = id;
  return copy;
}

const record::Schema* SchemaSet::Find(SchemaId id) const {
  auto it = schemas_.find(id.value());
  return it == schemas_.end() ? nullptr : it->second.get();
}

Result<KvTableConfig> KvTableConfig::Make(const record::Properties& properties,
                                          const record::Schema& schema,
                                          bool is_default_bucket_key) {
  KvTableConfig c;
  if (!schema.HasPrimaryKey()) {
    return MakeError(ErrorCode::kNonPrimaryKeyTable, "a KV tablet needs a primary-key table");
  }
  if (const auto* v = Prop(properties, "table.kv.format")) {
    std::string u = Upper(*v);
    if (u == "COMPACTED") {
      c.kv_format = KvFormat::kCompacted;
    } else if (u == "INDEXED") {
      c.kv_format = KvFormat::kIndexed;
    } else {
      return BadValue("table.kv.format", *v);
    }
  }
  if (const auto* v = Prop(properties, "table.log.format")) {
    std::string u = Upper(*v);
    if (u == "ARROW") {
      c.log_format = LogFormat::kArrow;
    } else if (u == "INDEXED") {
      c.log_format = LogFormat::kIndexed;
    } else if (u == "COMPACTED") {
      c.log_format = LogFormat::kCompacted;
    } else {
      return BadValue("table.log.format", *v);
    }
  }
  if (c.kv_format == KvFormat::kCompacted && c.log_format == LogFormat::kIndexed) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Currently, Primary Key Table supports ARROW or COMPACTED log format when kv "
                     "format is COMPACTED.");
  }
  if (const auto* v = Prop(properties, "table.log.arrow.compression.type")) {
    auto codec = record::arrow::ParseCompressionCodec(*v);
    if (!codec.ok()) return BadValue("table.log.arrow.compression.type", *v);
    c.arrow_compression.codec = *codec;
  }
  if (const auto* v = Prop(properties, "table.log.arrow.compression.zstd.level")) {
    int level = 0;
    try {
      level = std::stoi(*v);
    } catch (...) {
      return BadValue("table.log.arrow.compression.zstd.level", *v);
    }
    if (level < 1 || level > 22) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "Invalid ZSTD compression level: {}. Expected a value between 1 and 22.",
                       level);
    }
    c.arrow_compression.zstd_level = level;
  }
  if (const auto* v = Prop(properties, "table.merge-engine")) {
    std::string u = Upper(*v);
    if (u == "FIRST_ROW") {
      c.merge_engine = MergeEngine::kFirstRow;
    } else if (u == "VERSIONED") {
      c.merge_engine = MergeEngine::kVersioned;
    } else if (u == "AGGREGATION") {
      c.merge_engine = MergeEngine::kAggregation;
    } else if (!u.empty()) {
      return BadValue("table.merge-engine", *v);
    }
  }
  if (const auto* v = Prop(properties, "table.changelog.image")) {
    std::string u = Upper(*v);
    if (u == "FULL") {
      c.changelog_image = ChangelogImage::kFull;
    } else if (u == "WAL") {
      c.changelog_image = ChangelogImage::kWal;
    } else {
      return BadValue("table.changelog.image", *v);
    }
  }
  std::optional<DeleteBehavior> delete_behavior;
  if (const auto* v = Prop(properties, "table.delete.behavior")) {
    std::string u = Upper(*v);
    if (u == "ALLOW") {
      delete_behavior = DeleteBehavior::kAllow;
    } else if (u == "IGNORE") {
      delete_behavior = DeleteBehavior::kIgnore;
    } else if (u == "DISABLE") {
      delete_behavior = DeleteBehavior::kDisable;
    } else {
      return BadValue("table.delete.behavior", *v);
    }
  }
  if (const auto* v = Prop(properties, "table.auto-increment.cache-size")) {
    try {
      c.auto_increment_cache_size = std::stoll(*v);
    } catch (...) {
      return BadValue("table.auto-increment.cache-size", *v);
    }
    if (c.auto_increment_cache_size < 1) return BadValue("table.auto-increment.cache-size", *v);
  }

  // Merge engine checks (TableDescriptorValidation.checkMergeEngine / checkDeleteBehavior).
  switch (c.merge_engine) {
    case MergeEngine::kDefault:
      c.delete_behavior = delete_behavior.value_or(DeleteBehavior::kAllow);
      break;
    case MergeEngine::kFirstRow:
    case MergeEngine::kVersioned:
      if (delete_behavior == DeleteBehavior::kAllow) {
        return MakeError(ErrorCode::kInvalidConfig,
                         "Table with '{}' merge engine does not support delete operations. The "
                         "'table.delete.behavior' config must be set to 'ignore' or 'disable', but "
                         "got 'allow'.",
                         MergeEngineName(c.merge_engine));
      }
      c.delete_behavior = delete_behavior.value_or(DeleteBehavior::kIgnore);
      break;
    case MergeEngine::kAggregation:
      c.delete_behavior = delete_behavior.value_or(DeleteBehavior::kIgnore);
      break;
  }
  if (c.merge_engine == MergeEngine::kVersioned) {
    const auto* v = Prop(properties, "table.merge-engine.versioned.ver-column");
    if (v == nullptr || v->empty()) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "'table.merge-engine.versioned.ver-column' must be set for versioned merge "
                       "engine.");
    }
    c.version_column = *v;
    auto index = schema.ColumnIndex(*v);
    if (!index) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "The version column '{}' for versioned merge engine doesn't exist in "
                       "schema.",
                       *v);
    }
    record::TypeRoot root = schema.column(*index).type.root();
    if (root != record::TypeRoot::kInt && root != record::TypeRoot::kBigInt &&
        root != record::TypeRoot::kTimestamp && root != record::TypeRoot::kTimestampLtz) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "The version column '{}' for versioned merge engine must be one type of "
                       "[INT, BIGINT, TIMESTAMP, TIMESTAMP_LTZ], but got {}.",
                       *v, schema.column(*index).type.ToString());
    }
  }
  if (c.merge_engine == MergeEngine::kAggregation) {
    if (c.changelog_image == ChangelogImage::kWal) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "Table with 'AGGREGATION' merge engine does not support 'WAL' changelog "
                       "image mode. Aggregation merge engine tables require FULL changelog image "
                       "mode for correct UNDO recovery. Please set 'table.changelog.image' to "
                       "'FULL' or remove the setting.");
    }
    for (const auto& column : schema.columns()) {
      if (column.agg_function) STROM_RETURN_IF_ERROR(ValidateAggFunction(column));
    }
  }

  // Key encoding (KeyEncoder.ofPrimaryKeyEncoder).
  record::DataLakeFormat lake = record::DataLakeFormat::kNone;
  if (const auto* v = Prop(properties, "table.datalake.format")) {
    STROM_ASSIGN_OR_RETURN(lake, record::ParseDataLakeFormat(*v));
  }
  int32_t kv_format_version = 1;
  if (const auto* v = Prop(properties, "table.kv.format-version")) {
    try {
      kv_format_version = std::stoi(*v);
    } catch (...) {
      return BadValue("table.kv.format-version", *v);
    }
  }
  STROM_ASSIGN_OR_RETURN(
      c.key_encoding, record::PrimaryKeyEncoding(lake, kv_format_version, is_default_bucket_key));
  return c;
}

}  // namespace strom::kv
