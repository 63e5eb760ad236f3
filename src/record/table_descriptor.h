#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "record/schema.h"

namespace strom::record {

/// String options in the order they were given (Java keeps them in hash maps; the JSON key
/// order carries no meaning, but keeping ours stable makes output reproducible).
using Properties = std::vector<std::pair<std::string, std::string>>;

/// Value of `key` in `properties`, or null.
const std::string* FindProperty(const Properties& properties, std::string_view key);
/// Sets `key` to `value`, replacing an existing entry in place or appending a new one.
void SetProperty(Properties* properties, std::string key, std::string value);

/// How a table is split into buckets: the bucket key columns and, once known, the count.
struct TableDistribution {
  std::optional<int32_t> bucket_count;
  std::vector<std::string> bucket_keys;

  friend bool operator==(const TableDistribution&, const TableDistribution&) = default;
};

/// A table as a client describes it (`TableDescriptor`): schema, partition keys,
/// distribution, Fluss properties, user properties and a comment.
///
/// Immutable value type. Every TableDescriptor that exists is normalised and validated the
/// way Java's constructor does it (errors are kInvalidTable):
///   - bucket keys must not include a partition key;
///   - primary-key table: an empty or missing bucket key becomes the primary key minus the
///     partition keys (which must leave at least one column), an explicit bucket key must be
///     a subset of the primary key, and every partition key must be part of the primary key;
///   - log table: partition keys must be columns; bucket keys must be columns.
class TableDescriptor {
 public:
  /// The descriptor as stated, before normalisation.
  struct Parts {
    Schema schema;
    std::optional<std::string> comment;
    std::vector<std::string> partition_keys;
    std::optional<TableDistribution> distribution;
    Properties properties;
    Properties custom_properties;
  };

  /// Normalises and validates `parts`.
  static Result<TableDescriptor> Make(Parts parts);

  const Schema& schema() const { return parts_.schema; }
  const std::optional<std::string>& comment() const { return parts_.comment; }
  const std::vector<std::string>& partition_keys() const { return parts_.partition_keys; }
  const std::optional<TableDistribution>& distribution() const { return parts_.distribution; }
  const Properties& properties() const { return parts_.properties; }
  const Properties& custom_properties() const { return parts_.custom_properties; }

  /// Bucket key columns (empty when there is no distribution or no bucket key).
  const std::vector<std::string>& bucket_keys() const;
  std::optional<int32_t> bucket_count() const;
  bool IsPartitioned() const { return !parts_.partition_keys.empty(); }
  bool HasPrimaryKey() const { return parts_.schema.HasPrimaryKey(); }
  /// Primary key minus partition keys, in key order (the default bucket key).
  std::vector<std::string> PhysicalPrimaryKey() const;
  /// True when the bucket key is the default one: the physical primary key for a
  /// primary-key table, empty for a log table.
  bool IsDefaultBucketKey() const;
  /// Value of the Fluss property `key`, or null.
  const std::string* Property(std::string_view key) const;

  /// Copies with a bucket count set (bucket keys kept).
  TableDescriptor WithBucketCount(int32_t bucket_count) const;
  /// Copies with one Fluss property set or replaced.
  TableDescriptor WithProperty(std::string key, std::string value) const;

  /// Table JSON as Java writes it: version, schema, comment?, partition_key,
  /// bucket_key + bucket_count? (when there is a distribution), properties,
  /// custom_properties.
  std::string ToJson() const;
  /// Parses table JSON (any key order), then normalises it like Make().
  static Result<TableDescriptor> FromJson(std::string_view json);

  friend bool operator==(const TableDescriptor& a, const TableDescriptor& b) {
    return a.parts_.schema == b.parts_.schema && a.parts_.comment == b.parts_.comment &&
           a.parts_.partition_keys == b.parts_.partition_keys &&
           a.parts_.distribution == b.parts_.distribution &&
           a.parts_.properties == b.parts_.properties &&
           a.parts_.custom_properties == b.parts_.custom_properties;
  }

 private:
  explicit TableDescriptor(Parts parts) : parts_(std::move(parts)) {}

  Parts parts_;
};

/// A database as a client describes it: optional comment and user properties.
///
/// Immutable value type; JSON `{"version":1,"comment":"...","custom_properties":{...}}` with
/// the comment written only when set. Parse errors are kInvalidDatabase.
class DatabaseDescriptor {
 public:
  DatabaseDescriptor() = default;
  DatabaseDescriptor(std::optional<std::string> comment, Properties custom_properties)
      : comment_(std::move(comment)), custom_properties_(std::move(custom_properties)) {}

  const std::optional<std::string>& comment() const { return comment_; }
  const Properties& custom_properties() const { return custom_properties_; }

  std::string ToJson() const;
  /// Parses database JSON; `custom_properties` is required as in Java.
  static Result<DatabaseDescriptor> FromJson(std::string_view json);

  friend bool operator==(const DatabaseDescriptor&, const DatabaseDescriptor&) = default;

 private:
  std::optional<std::string> comment_;
  Properties custom_properties_;
};

}  // namespace strom::record
