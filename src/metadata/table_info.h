#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "metadata/table_path.h"
#include "record/schema.h"
#include "record/table_descriptor.h"

namespace strom::metadata {

/// A table as stored, without its schema: the data of znode
/// `/metadata/databases/{db}/tables/{table}` (Fluss `TableRegistration`). The schemas live in
/// their own nodes (`.../schemas/{schemaId}`).
struct TableRegistration {
  TableId table_id{-1};
  std::optional<std::string> comment;
  std::vector<std::string> partition_keys;
  std::vector<std::string> bucket_keys;
  int32_t bucket_count = 0;
  record::Properties properties;
  record::Properties custom_properties;
  TimestampMs created_time{0};
  TimestampMs modified_time{0};

  /// The registration of a new table from its normalised descriptor, which must carry a
  /// bucket count.
  static TableRegistration ForNewTable(TableId table_id, const record::TableDescriptor& table,
                                       TimestampMs now);

  friend bool operator==(const TableRegistration&, const TableRegistration&) = default;
};

/// The log format of a table (`table.log.format`).
enum class LogFormat { kArrow, kIndexed, kCompacted };

/// Everything the servers know about one table (Fluss `TableInfo`): path, id, latest schema
/// id, the normalised descriptor (schema, keys, bucket count, properties with the server
/// defaults applied) and its times. An immutable value, rebuilt when the table changes.
struct TableInfo {
  TablePath path;
  TableId table_id{-1};
  SchemaId schema_id{0};
  record::TableDescriptor descriptor;
  TimestampMs created_time{0};
  TimestampMs modified_time{0};

  /// Joins a registration with the schema of `schema_id`. kInvalidTable when they do not
  /// fit together (corrupt metadata).
  static Result<TableInfo> Make(TablePath path, const TableRegistration& registration,
                                SchemaId schema_id, record::Schema schema);

  const record::Schema& schema() const { return descriptor.schema(); }
  int32_t bucket_count() const { return descriptor.bucket_count().value_or(0); }
  bool HasPrimaryKey() const { return descriptor.HasPrimaryKey(); }
  bool IsPartitioned() const { return descriptor.IsPartitioned(); }
  /// `table.log.format`, ARROW when unset or unknown.
  LogFormat log_format() const;
  /// The descriptor JSON clients receive (GetTableInfo, Metadata `table_json`).
  std::string ToTableJson() const { return descriptor.ToJson(); }
};

}  // namespace strom::metadata
