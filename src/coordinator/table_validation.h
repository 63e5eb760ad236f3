#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/status.h"
#include "record/table_descriptor.h"

/// CreateTable's server-side rules, as the Fluss 0.9.1 coordinator applies them
/// (`CoordinatorService.applySystemDefaults`, `TableDescriptorValidation`).
namespace strom::coordinator {

/// The key encoding version new primary-key tables get (`table.kv.format-version`).
inline constexpr int32_t kCurrentKvFormatVersion = 2;

/// Cluster settings CreateTable depends on.
struct TableDefaults {
  int32_t default_bucket_number = 1;       ///< `default.bucket.number`
  int32_t default_replication_factor = 1;  ///< `default.replication.factor`
  int32_t max_bucket_number = 128000;      ///< `max.bucket.num`
  bool allow_log_tables = true;            ///< `allow.create.log.tables`
  bool allow_kv_tables = true;             ///< `allow.create.kv.tables`
};

/// Fills in what the client left to the server: bucket count, `table.replication.factor`,
/// `table.auto-partition.num-precreate=0` for multi-key auto-partitioned tables,
/// `table.delete.behavior=IGNORE` for first_row/versioned/aggregation primary-key tables,
/// `table.kv.format-version=2` for primary-key tables. kInvalidTable when the table enables a
/// data lake (this cluster has none); kInvalidConfig for a kv format version above 2;
/// kInvalidTable when the kind of table is disallowed.
Result<record::TableDescriptor> ApplySystemDefaults(const record::TableDescriptor& table,
                                                    const TableDefaults& defaults);

/// Checks a descriptor after ApplySystemDefaults: properties must be known Fluss table
/// options with valid values (kInvalidConfig), the bucket count must be set, positive and
/// within `max.bucket.num` (kInvalidTable / kBucketMaxNum), key columns must not be ARRAY,
/// MAP or ROW, partition keys must have a supported type, merge-engine, delete-behavior,
/// log-format, compression and auto-partition settings must fit the table, and no column may
/// use a reserved system name (kInvalidTable / kInvalidConfig, as Fluss).
Status ValidateTableDescriptor(const record::TableDescriptor& table, const TableDefaults& defaults);

}  // namespace strom::coordinator
