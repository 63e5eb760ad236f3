#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/append_writer.h"
#include "strom/log_scanner.h"
#include "strom/lookuper.h"
#include "strom/snapshot_scanner.h"
#include "strom/status.h"
#include "strom/types.h"
#include "strom/upsert_writer.h"

namespace strom {

namespace client {
class ClientContext;
}

/// Prepares an AppendWriter for a log table (Table::NewAppend). Cheap value; holds the table
/// and the connection's internals.
class TableAppend {
 public:
  /// A writer for the table. A primary-key table is refused with kInvalidTable (it takes
  /// upserts: Table::NewUpsert).
  Result<std::unique_ptr<AppendWriter>> CreateWriter();

 private:
  friend class Table;
  TableAppend(std::shared_ptr<client::ClientContext> context, TableInfo info)
      : context_(std::move(context)), info_(std::move(info)) {}

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
};

/// Prepares an UpsertWriter for a primary-key table (Table::NewUpsert): optionally a partial
/// update of some columns, then CreateWriter(). Cheap value; the last PartialUpdate wins.
class TableUpsert {
 public:
  /// Writes only these columns (0-based indexes; they must include the primary key, and
  /// every other column must be nullable): the server keeps the other columns of an
  /// existing row.
  TableUpsert& PartialUpdate(std::vector<size_t> column_indexes);
  /// The same by column name.
  TableUpsert& PartialUpdate(std::vector<std::string> column_names);

  /// A writer for the table. kNonPrimaryKeyTable for a log table, kInvalidTargetColumn for
  /// bad target columns (see PartialUpdate).
  Result<std::unique_ptr<UpsertWriter>> CreateWriter();

 private:
  friend class Table;
  TableUpsert(std::shared_ptr<client::ClientContext> context, TableInfo info)
      : context_(std::move(context)), info_(std::move(info)) {}

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
  std::optional<std::vector<size_t>> target_indexes_;
  std::optional<std::vector<std::string>> target_names_;
};

/// Prepares a Lookuper for a primary-key table (Table::NewLookup): by primary key (the
/// default), or by a prefix of it with LookupBy(bucket-key columns). Cheap value.
class TableLookup {
 public:
  /// Looks rows up by these columns instead of the whole primary key: they must be the
  /// table's bucket key, in order, and a proper prefix of the primary key (prefix lookup).
  /// Naming exactly the primary-key columns, in order, gives a primary-key lookuper.
  TableLookup& LookupBy(std::vector<std::string> column_names);

  /// kNonPrimaryKeyTable for a log table; kInvalidTable for LookupBy columns that do not
  /// allow a prefix lookup (naming why).
  Result<std::unique_ptr<Lookuper>> CreateLookuper();

 private:
  friend class Table;
  TableLookup(std::shared_ptr<client::ClientContext> context, TableInfo info)
      : context_(std::move(context)), info_(std::move(info)) {}

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
  std::optional<std::vector<std::string>> lookup_columns_;
};

/// Prepares a LogScanner (Table::NewScan): optional projection, then CreateLogScanner().
/// Cheap value; the last Project* call wins.
class TableScan {
 public:
  /// Reads only these columns, in this order (0-based column indexes).
  TableScan& ProjectByIndex(std::vector<size_t> column_indexes);
  /// Reads only the named columns, in this order.
  TableScan& ProjectByName(std::vector<std::string> column_names);

  /// A scanner with no subscriptions yet. kInvalidColumnProjection for an unknown or
  /// repeated column, or an empty projection.
  Result<std::unique_ptr<LogScanner>> CreateLogScanner();

  /// A scanner of a primary-key table's current rows (SnapshotScanner), over `buckets` in
  /// ascending order (every bucket when empty), with this projection.
  /// kNonPrimaryKeyTable for a log table, kUnknownTableOrBucket for a bucket it lacks.
  Result<std::unique_ptr<SnapshotScanner>> CreateSnapshotScanner(
      std::vector<BucketId> buckets = {});

 private:
  friend class Table;
  TableScan(std::shared_ptr<client::ClientContext> context, TableInfo info)
      : context_(std::move(context)), info_(std::move(info)) {}
  /// The projection as column indexes (nullopt: every column); names are resolved here.
  Result<std::optional<std::vector<size_t>>> ResolveProjection() const;

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
  std::optional<std::vector<size_t>> projection_indexes_;
  std::optional<std::vector<std::string>> projection_names_;
};

/// A handle on one table, from Connection::GetTable: its TableInfo (as of the lookup) and
/// factories for writers (appends to log tables, upserts to primary-key tables), lookupers
/// and scanners.
///
/// Threads: immutable after creation; any thread. Ownership: shares the connection's
/// internals (see Connection).
class Table {
 public:
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  const TableInfo& info() const { return info_; }
  const TablePath& path() const { return info_.path; }
  bool HasPrimaryKey() const { return info_.HasPrimaryKey(); }

  /// An empty row with one (null) Datum per column, to fill by index.
  GenericRow NewRow() const { return GenericRow(info_.schema().column_count()); }

  TableAppend NewAppend() const { return TableAppend(context_, info_); }
  TableUpsert NewUpsert() const { return TableUpsert(context_, info_); }
  TableLookup NewLookup() const { return TableLookup(context_, info_); }
  TableScan NewScan() const { return TableScan(context_, info_); }

 private:
  friend class Connection;
  Table(std::shared_ptr<client::ClientContext> context, TableInfo info);

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
};

}  // namespace strom
