#include "kv/row_merger.h"

#include <fmt/format.h>

#include <string>

#include "record/compacted_row.h"
#include "record/indexed_row.h"

namespace strom::kv {

namespace {

using record::Datum;
using record::GenericRow;

const Datum kNullDatum;

const Datum& FieldOrNull(const GenericRow& row, std::optional<size_t> index) {
  if (!index || *index >= row.size()) return kNullDatum;
  return row[*index];
}

std::string ColumnNames(const record::Schema& schema, const std::vector<size_t>& indexes) {
  std::string out = "[";
  for (size_t i = 0; i < indexes.size(); ++i) {
    if (i > 0) out += ", ";
    out += indexes[i] < schema.column_count() ? schema.column(indexes[i]).name : "?";
  }
  return out + "]";
}

// Fluss's PartialUpdater.sanityCheck / AggregationContext.sanityCheckTargetColumns.
Status CheckTargetColumns(const SchemaInfo& info, const std::vector<bool>& target,
                          const std::vector<size_t>& target_indexes, std::string_view what) {
  for (size_t pk : info.primary_key_indexes) {
    if (!target[pk]) {
      return MakeError(ErrorCode::kInvalidTargetColumn,
                       "The target write columns {} must contain the primary key columns {}.",
                       ColumnNames(*info.schema, target_indexes),
                       ColumnNames(*info.schema, info.primary_key_indexes));
    }
  }
  for (size_t i = 0; i < info.types.size(); ++i) {
    if (!info.is_primary_key[i] && !info.types[i].nullable()) {
      return MakeError(ErrorCode::kInvalidTargetColumn,
                       "{} requires all columns except primary key to be nullable, but column {} "
                       "is NOT NULL.",
                       what, info.schema->column(i).name);
    }
  }
  return Status::OK();
}

class DefaultMerger final : public RowMerger {
 public:
  Result<MergeResult> Merge(const KvValue*, const KvValue&) override {
    return MergeResult{MergeResult::Kind::kInput, {}};
  }
  Result<std::optional<KvValue>> Delete(const KvValue&) override {
    return std::optional<KvValue>();
  }
  bool is_default_full_row() const override { return true; }
};

class PartialUpdateMerger final : public RowMerger {
 public:
  PartialUpdateMerger(const SchemaInfo& latest, std::vector<bool> target)
      : latest_(latest), target_(std::move(target)) {
    update_primary_key_only_ = true;
    for (size_t i = 0; i < target_.size(); ++i) {
      if (target_[i] != latest_.is_primary_key[i]) update_primary_key_only_ = false;
    }
  }

  Result<MergeResult> Merge(const KvValue* old, const KvValue& input) override {
    if (update_primary_key_only_ && old != nullptr) {
      return MergeResult{MergeResult::Kind::kUnchanged, {}};
    }
    MergeResult result{MergeResult::Kind::kMerged, {}};
    result.merged.schema_id = latest_.id;
    GenericRow& row = result.merged.row;
    row.resize(target_.size());
    for (size_t i = 0; i < target_.size(); ++i) {
      if (target_[i]) {
        row[i] = FieldOrNull(input.row, i);
      } else if (old != nullptr) {
        row[i] = FieldOrNull(old->row, i);
      }
    }
    return result;
  }

  Result<std::optional<KvValue>> Delete(const KvValue& old) override {
    // Every column outside the targets null: the whole row goes.
    bool other_values = false;
    for (size_t i = 0; i < old.row.size(); ++i) {
      bool is_target = i < target_.size() && target_[i];
      if (!is_target && !old.row[i].is_null()) {
        other_values = true;
        break;
      }
    }
    if (!other_values) return std::optional<KvValue>();
    KvValue value;
    value.schema_id = latest_.id;
    value.row.resize(target_.size());
    for (size_t i = 0; i < target_.size(); ++i) {
      if (!(target_[i] && !latest_.is_primary_key[i])) value.row[i] = FieldOrNull(old.row, i);
    }
    return std::optional<KvValue>(std::move(value));
  }

 private:
  const SchemaInfo& latest_;
  std::vector<bool> target_;
  bool update_primary_key_only_ = false;
};

class FirstRowMerger final : public RowMerger {
 public:
  Result<MergeResult> Merge(const KvValue* old, const KvValue&) override {
    return MergeResult{old == nullptr ? MergeResult::Kind::kInput : MergeResult::Kind::kUnchanged,
                       {}};
  }
  Result<std::optional<KvValue>> Delete(const KvValue&) override {
    return MakeError(ErrorCode::kUnknownServerError,
                     "DELETE is not supported for the first_row merge engine.");
  }
};

class VersionedMerger final : public RowMerger {
 public:
  VersionedMerger(size_t version_index, record::TypeRoot root)
      : version_index_(version_index), root_(root) {}

  Result<MergeResult> Merge(const KvValue* old, const KvValue& input) override {
    if (old == nullptr) return MergeResult{MergeResult::Kind::kInput, {}};
    // The new row wins when its version is at least the stored one; null is the smallest.
    bool take_new =
        Compare(FieldOrNull(old->row, version_index_), FieldOrNull(input.row, version_index_)) <= 0;
    return MergeResult{take_new ? MergeResult::Kind::kInput : MergeResult::Kind::kUnchanged, {}};
  }
  Result<std::optional<KvValue>> Delete(const KvValue&) override {
    return MakeError(ErrorCode::kUnknownServerError,
                     "DELETE is not supported for the versioned merge engine.");
  }

 private:
  int Compare(const Datum& a, const Datum& b) const {
    if (a.is_null() && b.is_null()) return 0;
    if (a.is_null()) return -1;
    if (b.is_null()) return 1;
    switch (root_) {
      case record::TypeRoot::kInt:
        return a.as<int32_t>() < b.as<int32_t>() ? -1 : (a.as<int32_t>() > b.as<int32_t>());
      case record::TypeRoot::kBigInt:
        return a.as<int64_t>() < b.as<int64_t>() ? -1 : (a.as<int64_t>() > b.as<int64_t>());
      default: {
        const auto& x = a.as<record::TimestampValue>();
        const auto& y = b.as<record::TimestampValue>();
        if (x.millis != y.millis) return x.millis < y.millis ? -1 : 1;
        if (x.nanos_of_milli != y.nanos_of_milli)
          return x.nanos_of_milli < y.nanos_of_milli ? -1 : 1;
        return 0;
      }
    }
  }

  size_t version_index_;
  record::TypeRoot root_;
};

class AggregateMerger final : public RowMerger {
 public:
  // `target_column_ids` empty = every column is aggregated.
  AggregateMerger(const SchemaCache& schemas, std::optional<std::vector<bool>> target_ids)
      : schemas_(schemas), target_ids_(std::move(target_ids)) {}

  Result<MergeResult> Merge(const KvValue* old, const KvValue& input) override {
    if (old == nullptr) return MergeResult{MergeResult::Kind::kInput, {}};
    const SchemaInfo& target = schemas_.latest();
    STROM_ASSIGN_OR_RETURN(const SchemaInfo* old_info, Info(old->schema_id));
    STROM_ASSIGN_OR_RETURN(const SchemaInfo* new_info, Info(input.schema_id));
    MergeResult result{MergeResult::Kind::kMerged, {}};
    result.merged.schema_id = target.id;
    GenericRow& row = result.merged.row;
    row.resize(target.types.size());
    for (size_t i = 0; i < target.types.size(); ++i) {
      int32_t column_id = target.schema->column(i).id;
      std::optional<size_t> old_index = old_info->IndexOfColumnId(column_id);
      if (IsTarget(column_id)) {
        std::optional<size_t> new_index = new_info->IndexOfColumnId(column_id);
        STROM_ASSIGN_OR_RETURN(row[i],
                               target.aggregators[i]->Agg(FieldOrNull(old->row, old_index),
                                                          FieldOrNull(input.row, new_index)));
      } else {
        // Partial aggregation keeps the stored value of the other columns (null when the
        // stored row predates the column), never the incoming one.
        row[i] = FieldOrNull(old->row, old_index);
      }
    }
    return result;
  }

  Result<std::optional<KvValue>> Delete(const KvValue& old) override {
    if (!target_ids_) return std::optional<KvValue>();
    STROM_ASSIGN_OR_RETURN(const SchemaInfo* old_info, Info(old.schema_id));
    bool other_values = false;
    for (size_t i = 0; i < old.row.size(); ++i) {
      bool is_target = i < old_info->types.size() && IsTarget(old_info->schema->column(i).id);
      if (!is_target && !old.row[i].is_null()) {
        other_values = true;
        break;
      }
    }
    if (!other_values) return std::optional<KvValue>();
    const SchemaInfo& target = schemas_.latest();
    KvValue value;
    value.schema_id = target.id;
    value.row.resize(target.types.size());
    for (size_t i = 0; i < target.types.size(); ++i) {
      int32_t column_id = target.schema->column(i).id;
      if (IsTarget(column_id) && !target.is_primary_key[i]) continue;
      value.row[i] = FieldOrNull(old.row, old_info->IndexOfColumnId(column_id));
    }
    return std::optional<KvValue>(std::move(value));
  }

 private:
  bool IsTarget(int32_t column_id) const {
    if (!target_ids_) return true;
    return column_id >= 0 && static_cast<size_t>(column_id) < target_ids_->size() &&
           (*target_ids_)[column_id];
  }
  Result<const SchemaInfo*> Info(SchemaId id) const {
    const SchemaInfo* info = schemas_.Find(id);
    if (info == nullptr) {
      return MakeError(ErrorCode::kSchemaNotExist, "Schema with ID {} not found", id.value());
    }
    return info;
  }

  const SchemaCache& schemas_;
  std::optional<std::vector<bool>> target_ids_;
};

}  // namespace

Status DecodeKvRow(KvFormat format, std::span<const record::DataType> types, ByteView bytes,
                   GenericRow* row) {
  return format == KvFormat::kCompacted ? record::DecodeCompactedRow(types, bytes, row)
                                        : record::DecodeIndexedRow(types, bytes, row);
}

Status EncodeKvRow(KvFormat format, std::span<const record::DataType> types, const GenericRow& row,
                   ByteBuffer* out) {
  return format == KvFormat::kCompacted ? record::AppendCompactedRow(types, row, out)
                                        : record::AppendIndexedRow(types, row, out);
}

Result<std::shared_ptr<const SchemaCache>> SchemaCache::Make(const SchemaSet& schemas,
                                                             bool with_aggregators) {
  auto cache = std::make_shared<SchemaCache>();
  cache->latest_id_ = schemas.latest_id();
  for (int16_t id = 0; id <= schemas.latest_id().value(); ++id) {
    const record::Schema* schema = schemas.Find(SchemaId(id));
    if (schema == nullptr) continue;
    SchemaInfo info;
    info.id = SchemaId(id);
    info.schema = std::make_shared<const record::Schema>(*schema);
    info.types = schema->FieldTypes();
    info.row_type = schema->RowType();
    info.primary_key_indexes = schema->PrimaryKeyIndexes();
    info.is_primary_key.assign(info.types.size(), false);
    for (size_t pk : info.primary_key_indexes) info.is_primary_key[pk] = true;
    for (size_t i = 0; i < schema->column_count(); ++i) {
      info.index_by_column_id[schema->column(i).id] = i;
    }
    if (with_aggregators) {
      for (size_t i = 0; i < schema->column_count(); ++i) {
        record::AggFunction function;
        if (info.is_primary_key[i]) {
          function.type = record::AggFunctionType::kLastValue;
        } else if (schema->column(i).agg_function) {
          function = *schema->column(i).agg_function;
        } else {
          function.type = record::AggFunctionType::kLastValueIgnoreNulls;
        }
        STROM_ASSIGN_OR_RETURN(auto aggregator, FieldAggregator::Create(function, info.types[i]));
        info.aggregators.push_back(std::move(aggregator));
      }
    }
    cache->infos_.emplace(id, std::move(info));
  }
  if (cache->Find(cache->latest_id_) == nullptr) {
    return MakeError(ErrorCode::kSchemaNotExist, "the table has no schema");
  }
  return std::shared_ptr<const SchemaCache>(std::move(cache));
}

const SchemaInfo* SchemaCache::Find(SchemaId id) const {
  auto it = infos_.find(id.value());
  return it == infos_.end() ? nullptr : &it->second;
}

Result<std::unique_ptr<RowMerger>> CreateRowMerger(
    const KvTableConfig& config, MergeMode mode, const SchemaCache& schemas,
    const std::optional<std::vector<int32_t>>& target_columns) {
  const SchemaInfo& latest = schemas.latest();
  std::vector<bool> target;
  std::vector<size_t> target_indexes;
  if (target_columns) {
    target.assign(latest.types.size(), false);
    for (int32_t index : *target_columns) {
      if (index < 0 || static_cast<size_t>(index) >= latest.types.size()) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "target column index {} is out of range for a table of {} columns", index,
                         latest.types.size());
      }
      target[index] = true;
      target_indexes.push_back(static_cast<size_t>(index));
    }
  }
  MergeEngine engine = mode == MergeMode::kOverwrite ? MergeEngine::kDefault : config.merge_engine;
  switch (engine) {
    case MergeEngine::kDefault:
      if (!target_columns) return std::unique_ptr<RowMerger>(new DefaultMerger());
      STROM_RETURN_IF_ERROR(CheckTargetColumns(latest, target, target_indexes, "Partial Update"));
      return std::unique_ptr<RowMerger>(new PartialUpdateMerger(latest, std::move(target)));
    case MergeEngine::kFirstRow:
      if (target_columns) {
        return MakeError(ErrorCode::kUnknownServerError,
                         "Partial update is not supported for the first_row merge engine.");
      }
      return std::unique_ptr<RowMerger>(new FirstRowMerger());
    case MergeEngine::kVersioned: {
      if (target_columns) {
        return MakeError(ErrorCode::kUnknownServerError,
                         "Partial update is not supported for the versioned merge engine.");
      }
      auto index = latest.schema->ColumnIndex(config.version_column);
      if (!index) {
        return MakeError(ErrorCode::kInvalidConfig,
                         "The version column '{}' for versioned merge engine doesn't exist in "
                         "schema.",
                         config.version_column);
      }
      return std::unique_ptr<RowMerger>(new VersionedMerger(*index, latest.types[*index].root()));
    }
    case MergeEngine::kAggregation: {
      if (latest.aggregators.size() != latest.types.size()) {
        return MakeError(ErrorCode::kUnknownServerError, "aggregators were not built");
      }
      if (!target_columns) {
        return std::unique_ptr<RowMerger>(new AggregateMerger(schemas, std::nullopt));
      }
      STROM_RETURN_IF_ERROR(
          CheckTargetColumns(latest, target, target_indexes, "Partial aggregate"));
      std::vector<bool> ids;
      for (size_t index : target_indexes) {
        int32_t id = latest.schema->column(index).id;
        if (id < 0) continue;
        if (ids.size() <= static_cast<size_t>(id)) ids.resize(id + 1, false);
        ids[id] = true;
      }
      return std::unique_ptr<RowMerger>(new AggregateMerger(schemas, std::move(ids)));
    }
  }
  return MakeError(ErrorCode::kUnknownServerError, "unknown merge engine");
}

}  // namespace strom::kv
