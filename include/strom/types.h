#pragma once

// The value types of the Strom client API: names of things (TablePath, TableBucket), what the
// cluster reports about them (ServerNode, TableInfo, DatabaseInfo), offsets (OffsetSpec), and
// the data model shared with the rest of Strom (DataType, Schema, TableDescriptor, Datum,
// GenericRow, ChangeType).
//
// All types here are plain values: copyable, no hidden sharing, safe to use from any thread
// as long as one object is not mutated concurrently.

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"               // IWYU pragma: export
#include "record/data_type.h"         // IWYU pragma: export
#include "record/datum.h"             // IWYU pragma: export
#include "record/datum_format.h"      // IWYU pragma: export
#include "record/log_record_batch.h"  // IWYU pragma: export (ChangeType)
#include "record/schema.h"            // IWYU pragma: export
#include "record/table_descriptor.h"  // IWYU pragma: export
#include "strom/status.h"

namespace strom {

/// Fluss's data model, as the Strom codecs implement it. See record/datum.h for which Datum
/// alternative holds which column type (INT -> int32_t, STRING -> std::string, ...).
using record::ArrayValue;
using record::ChangeType;
using record::DatabaseDescriptor;
using record::DataField;
using record::DataType;
using record::Datum;
using record::DecimalValue;
using record::GenericRow;
using record::MapValue;
using record::Properties;
using record::RowValue;
using record::Schema;
using record::TableDescriptor;
using record::TableDistribution;
using record::TimestampValue;
using record::TypeRoot;

/// "+A", "+I", "-U", "+U" or "-D".
using record::ChangeTypeShortName;

/// Human-readable text of a value (DECIMAL with its scale, DATE 2025-05-27, TIMESTAMP
/// 2025-05-31T03:42:35.428, BYTES as 0x hex, ARRAY [a, b], MAP {k: v}, ROW (a, b), "null").
using record::FormatDatum;
/// FormatDatum of each column of a row (of ROW type `row_type`), joined with ", ".
using record::FormatRow;

/// A table's name: database and table. Names are 1..200 characters of [A-Za-z0-9_-].
struct TablePath {
  std::string database;
  std::string table;

  TablePath() = default;
  TablePath(std::string database_name, std::string table_name)
      : database(std::move(database_name)), table(std::move(table_name)) {}

  /// Parses "db.table" (exactly one dot, both parts non-empty). kInvalidTable otherwise.
  static Result<TablePath> Parse(std::string_view text);

  /// "db.table".
  std::string ToString() const { return database + "." + table; }

  friend auto operator<=>(const TablePath&, const TablePath&) = default;
  friend bool operator==(const TablePath&, const TablePath&) = default;
};

/// One bucket of a table (of one partition for partitioned tables).
struct TableBucket {
  TableId table_id{0};
  std::optional<PartitionId> partition_id;
  BucketId bucket{0};

  TableBucket() = default;
  TableBucket(TableId table, BucketId bucket_id,
              std::optional<PartitionId> partition = std::nullopt)
      : table_id(table), partition_id(partition), bucket(bucket_id) {}

  /// "TableBucket{table_id=3, bucket=1}" (with partition_id when set).
  std::string ToString() const;

  friend auto operator<=>(const TableBucket&, const TableBucket&) = default;
  friend bool operator==(const TableBucket&, const TableBucket&) = default;
};

/// The role a cluster node plays.
enum class ServerRole : uint8_t { kCoordinator, kTabletServer };

/// A server as the cluster metadata reports it.
struct ServerNode {
  ServerId id{0};
  std::string host;
  int32_t port = 0;
  ServerRole role = ServerRole::kTabletServer;
  std::optional<std::string> rack;

  /// "host:port".
  std::string Address() const { return host + ":" + std::to_string(port); }

  friend bool operator==(const ServerNode&, const ServerNode&) = default;
};

/// The record format of a log table's batches (table property `table.log.format`).
enum class LogFormat : uint8_t { kArrow, kIndexed, kCompacted };

/// "ARROW", "INDEXED" or "COMPACTED".
std::string_view LogFormatName(LogFormat format);
/// Parses a `table.log.format` value (any letter case). kInvalidConfig otherwise.
Result<LogFormat> ParseLogFormat(std::string_view text);

/// The row format of a primary-key table's stored values (table property `table.kv.format`).
enum class KvFormat : uint8_t { kCompacted, kIndexed };

/// "COMPACTED" or "INDEXED".
std::string_view KvFormatName(KvFormat format);
/// Parses a `table.kv.format` value (any letter case). kInvalidConfig otherwise.
Result<KvFormat> ParseKvFormat(std::string_view text);

/// A table as the cluster stores it: its id, current schema id, the descriptor with the
/// server's defaults applied (bucket count always set), and its timestamps.
struct TableInfo {
  TablePath path;
  TableId table_id{0};
  SchemaId schema_id{0};
  TableDescriptor descriptor;
  int64_t created_time_ms = 0;
  int64_t modified_time_ms = 0;

  const Schema& schema() const { return descriptor.schema(); }
  bool HasPrimaryKey() const { return descriptor.HasPrimaryKey(); }
  bool IsPartitioned() const { return descriptor.IsPartitioned(); }
  /// Number of buckets (the server always fills it in).
  int32_t num_buckets() const { return descriptor.bucket_count().value_or(1); }
  /// Bucket key columns; empty for a log table without a bucket key.
  const std::vector<std::string>& bucket_keys() const { return descriptor.bucket_keys(); }
  /// `table.log.format` (ARROW when unset). kInvalidConfig for an unknown value.
  Result<LogFormat> log_format() const;
  /// `table.kv.format` (COMPACTED when unset). kInvalidConfig for an unknown value.
  Result<KvFormat> kv_format() const;
  /// `table.kv.format-version` (1 when unset, as for tables made before the option existed).
  /// kInvalidConfig for a value that is not a number.
  Result<int32_t> kv_format_version() const;
  /// Primary-key columns (empty for a log table).
  const std::vector<std::string>& primary_keys() const { return schema().primary_key(); }
  /// The bucket key of a primary-key table: its declared bucket keys, or the primary key when
  /// none were declared (the default bucket key).
  std::vector<std::string> pk_bucket_keys() const;
  /// True when a primary-key table is bucketed by its whole primary key.
  bool IsDefaultBucketKey() const { return pk_bucket_keys() == primary_keys(); }
};

/// A table's schema with its id (GetTableSchema).
struct SchemaInfo {
  SchemaId schema_id{0};
  Schema schema;
};

/// A database as the cluster stores it.
struct DatabaseInfo {
  std::string name;
  DatabaseDescriptor descriptor;
  int64_t created_time_ms = 0;
  int64_t modified_time_ms = 0;
};

/// Which offset of a bucket to look up (Admin::ListOffsets) or to start reading from
/// (LogScanner::Subscribe).
struct OffsetSpec {
  enum class Kind : uint8_t {
    kEarliest,   ///< The log start offset.
    kLatest,     ///< The high watermark: the offset the next appended record will get.
    kTimestamp,  ///< The first offset whose batch commit timestamp is >= timestamp_ms.
  };
  Kind kind = Kind::kEarliest;
  int64_t timestamp_ms = 0;

  static OffsetSpec Earliest() { return {Kind::kEarliest, 0}; }
  static OffsetSpec Latest() { return {Kind::kLatest, 0}; }
  static OffsetSpec Timestamp(int64_t epoch_millis) { return {Kind::kTimestamp, epoch_millis}; }

  friend bool operator==(const OffsetSpec&, const OffsetSpec&) = default;
};

/// The FetchLog offset meaning "from the log start" (what Subscribe(bucket,
/// kEarliestOffset) sends; no ListOffsets round trip is needed).
inline constexpr int64_t kEarliestOffsetValue = -2;

}  // namespace strom

template <>
struct std::hash<strom::TableBucket> {
  size_t operator()(const strom::TableBucket& b) const noexcept {
    size_t h = std::hash<int64_t>()(b.table_id.value());
    h = h * 31 + std::hash<int32_t>()(b.bucket.value());
    if (b.partition_id) h = h * 31 + std::hash<int64_t>()(b.partition_id->value());
    return h;
  }
};
