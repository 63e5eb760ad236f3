#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "record/arrow/compression.h"
#include "record/key_encoder.h"
#include "record/schema.h"
#include "record/table_descriptor.h"

/// What a KV tablet knows about its table: the schemas by id and the table options that shape
/// how values are stored, merged and logged.
namespace strom::kv {

/// `table.kv.format`: the row format of stored values.
enum class KvFormat : uint8_t { kCompacted, kIndexed };
/// `table.log.format`: the record format of the changelog batches.
enum class LogFormat : uint8_t { kArrow, kIndexed, kCompacted };
/// `table.merge-engine` (unset = kDefault, last row wins).
enum class MergeEngine : uint8_t { kDefault, kFirstRow, kVersioned, kAggregation };
/// `table.delete.behavior`.
enum class DeleteBehavior : uint8_t { kAllow, kIgnore, kDisable };
/// `table.changelog.image`: FULL writes -U/+U for an update, WAL only +U (and +U for inserts
/// when the old value is not read).
enum class ChangelogImage : uint8_t { kFull, kWal };
/// PutKv `agg_mode`: 0 merges through the merge engine, 1 overwrites (Fluss's undo recovery).
enum class MergeMode : uint8_t { kDefault = 0, kOverwrite = 1 };

std::string_view KvFormatName(KvFormat format);
std::string_view LogFormatName(LogFormat format);
std::string_view MergeEngineName(MergeEngine engine);
std::string_view DeleteBehaviorName(DeleteBehavior behavior);

/// The schemas a table has had, by id (schema evolution is ADD COLUMN at the end only, as in
/// Fluss 0.9, so a row of an older schema is a prefix of a row of a newer one).
///
/// Immutable value type; tablets share one through a shared_ptr and get a new one when the
/// table is altered.
class SchemaSet {
 public:
  SchemaSet() = default;
  /// A set holding `schema` under `id`.
  SchemaSet(SchemaId id, record::Schema schema);

  /// A copy with `schema` added under `id`; `id` becomes the latest when it is the largest.
  SchemaSet With(SchemaId id, record::Schema schema) const;

  /// The schema of `id`, or null.
  const record::Schema* Find(SchemaId id) const;
  SchemaId latest_id() const { return latest_id_; }
  const record::Schema& latest() const { return *Find(latest_id_); }
  bool empty() const { return schemas_.empty(); }

 private:
  std::map<int16_t, std::shared_ptr<const record::Schema>> schemas_;
  SchemaId latest_id_{-1};
};

/// The table-level facts a KV tablet needs besides its schemas.
struct KvTableInfo {
  TableId table_id{-1};
  /// The primary key minus partition columns, in key order: the columns of the RocksDB key.
  /// Empty means the schema's whole primary key (non-partitioned table).
  std::vector<std::string> physical_primary_key;
  /// Whether the bucket key is the default one (decides the key encoding with a data lake).
  bool is_default_bucket_key = true;
  /// The table's Fluss properties (`table.*`).
  record::Properties properties;
};

/// The parsed table options of a primary-key table, validated as Fluss's
/// TableDescriptorValidation does (errors are kInvalidConfig with Fluss's messages).
struct KvTableConfig {
  KvFormat kv_format = KvFormat::kCompacted;
  LogFormat log_format = LogFormat::kArrow;
  record::arrow::ArrowCompression arrow_compression = record::arrow::ArrowCompression::Zstd(3);
  MergeEngine merge_engine = MergeEngine::kDefault;
  /// `table.merge-engine.versioned.ver-column` (versioned engine only).
  std::string version_column;
  /// The effective `table.delete.behavior`: as set, else ALLOW for the default engine and
  /// IGNORE for first_row, versioned and aggregation.
  DeleteBehavior delete_behavior = DeleteBehavior::kAllow;
  ChangelogImage changelog_image = ChangelogImage::kFull;
  /// `table.auto-increment.cache-size`: ids a bucket reserves at a time.
  int64_t auto_increment_cache_size = 100000;
  /// How primary keys are encoded (RocksDB keys, KV record keys, lookup keys).
  record::KeyEncoding key_encoding = record::KeyEncoding::kCompacted;

  /// Parses and validates `properties` against the latest schema.
  static Result<KvTableConfig> Make(const record::Properties& properties,
                                    const record::Schema& schema, bool is_default_bucket_key);
};

}  // namespace strom::kv
