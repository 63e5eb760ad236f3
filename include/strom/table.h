#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/append_writer.h"
#include "strom/log_scanner.h"
#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class ClientContext;
}

/// Prepares an AppendWriter for a log table (Table::NewAppend). Cheap value; holds the table
/// and the connection's internals.
class TableAppend {
 public:
  /// A writer for the table. kNonPrimaryKeyTable-style misuse (a primary-key table) is
  /// refused with kInvalidTable: upserts are not part of this API yet.
  Result<std::unique_ptr<AppendWriter>> CreateWriter();

 private:
  friend class Table;
  TableAppend(std::shared_ptr<client::ClientContext> context, TableInfo info)
      : context_(std::move(context)), info_(std::move(info)) {}

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
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

 private:
  friend class Table;
  TableScan(std::shared_ptr<client::ClientContext> context, TableInfo info)
      : context_(std::move(context)), info_(std::move(info)) {}

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
  std::optional<std::vector<size_t>> projection_indexes_;
  std::optional<std::vector<std::string>> projection_names_;
};

/// A handle on one table, from Connection::GetTable: its TableInfo (as of the lookup) and
/// factories for writers and scanners.
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
  TableScan NewScan() const { return TableScan(context_, info_); }

 private:
  friend class Connection;
  Table(std::shared_ptr<client::ClientContext> context, TableInfo info);

  std::shared_ptr<client::ClientContext> context_;
  TableInfo info_;
};

}  // namespace strom
