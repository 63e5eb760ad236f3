#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "kv/field_aggregator.h"
#include "kv/kv_table_config.h"
#include "record/datum.h"
#include "record/schema.h"

/// How an incoming row is merged into the stored row of the same key: Fluss's RowMerger
/// family (default, first_row, versioned, aggregation; partial updates; the overwrite mode).
namespace strom::kv {

/// Decodes a row of `types` in the KV format (kCorruptRecord on malformed bytes).
Status DecodeKvRow(KvFormat format, std::span<const record::DataType> types, ByteView bytes,
                   record::GenericRow* row);
/// Appends the encoding of `row` in the KV format.
Status EncodeKvRow(KvFormat format, std::span<const record::DataType> types,
                   const record::GenericRow& row, ByteBuffer* out);

/// What the merge code needs to know about one schema id, derived once.
struct SchemaInfo {
  SchemaId id;
  std::shared_ptr<const record::Schema> schema;
  std::vector<record::DataType> types;
  /// ROW type of all columns (what Arrow changelogs are read with; views keep pointing at it).
  record::DataType row_type;
  std::vector<size_t> primary_key_indexes;
  std::vector<bool> is_primary_key;
  /// Column id -> position.
  std::unordered_map<int32_t, size_t> index_by_column_id;
  /// The aggregate of each column (aggregation engine only; primary-key columns use
  /// last_value, unset columns last_value_ignore_nulls, as in Fluss).
  std::vector<std::unique_ptr<FieldAggregator>> aggregators;

  std::optional<size_t> IndexOfColumnId(int32_t column_id) const {
    auto it = index_by_column_id.find(column_id);
    if (it == index_by_column_id.end()) return std::nullopt;
    return it->second;
  }
};

/// SchemaInfo for every schema id of a table.
///
/// Built from a SchemaSet; immutable afterwards. Errors building it (an aggregate function the
/// column type does not support) are kInvalidConfig.
class SchemaCache {
 public:
  static Result<std::shared_ptr<const SchemaCache>> Make(const SchemaSet& schemas,
                                                         bool with_aggregators);
  /// The info of `id`, or null when the table has no such schema.
  const SchemaInfo* Find(SchemaId id) const;
  const SchemaInfo& latest() const { return *Find(latest_id_); }
  SchemaId latest_id() const { return latest_id_; }

 private:
  std::map<int16_t, SchemaInfo> infos_;
  SchemaId latest_id_{-1};
};

/// A decoded value: the schema id it was written with and its row.
struct KvValue {
  SchemaId schema_id{0};
  record::GenericRow row;
  /// The row bytes in the KV format when they are known to encode `row` (saves an encode);
  /// they borrow from the request or the stored value and live only while a record is
  /// processed.
  std::optional<ByteView> encoded;
};

/// Outcome of a merge.
struct MergeResult {
  enum class Kind {
    kUnchanged,  ///< Keep the stored value: no change, no changelog.
    kInput,      ///< Store the incoming value as it is.
    kMerged,     ///< Store `merged`.
  };
  Kind kind = Kind::kInput;
  KvValue merged;
};

/// Merges incoming rows with stored rows for one PutKv batch.
///
/// Created per batch by CreateRowMerger (which validates the target columns); borrows the
/// SchemaCache, which must outlive it. Not thread-safe.
class RowMerger {
 public:
  virtual ~RowMerger() = default;
  /// Merges `input` into `old` (null when the key has no value yet).
  virtual Result<MergeResult> Merge(const KvValue* old, const KvValue& input) = 0;
  /// Applies a delete to `old`: nullopt removes the row, a value replaces it (partial
  /// delete). Only called when deletes are allowed.
  virtual Result<std::optional<KvValue>> Delete(const KvValue& old) = 0;
  /// Whether the default merge applies to full rows (WAL mode may then skip reading the old
  /// value, as Fluss does).
  virtual bool is_default_full_row() const { return false; }
};

/// The merger for one PutKv (Fluss's RowMerger.configureTargetColumns):
///   - `target_columns` set: partial update (default engine, or aggregation), which must
///     include every primary-key column and needs every other column nullable
///     (kInvalidTargetColumn); first_row and versioned refuse partial updates
///     (kUnknownServerError, as Fluss's UnsupportedOperationException);
///   - MergeMode::kOverwrite bypasses the merge engine (default merger, partial or not).
Result<std::unique_ptr<RowMerger>> CreateRowMerger(
    const KvTableConfig& config, MergeMode mode, const SchemaCache& schemas,
    const std::optional<std::vector<int32_t>>& target_columns);

}  // namespace strom::kv
