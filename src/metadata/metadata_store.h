#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/ids.h"
#include "common/result.h"
#include "metadata/database_info.h"
#include "metadata/table_assignment.h"
#include "metadata/table_info.h"
#include "metadata/table_path.h"
#include "record/schema.h"

namespace strom::metadata {

/// The durable cluster metadata, modelled on Fluss's ZooKeeper layout (fluss-formats §7.3):
///
///   /metadata/databases/{db}                          DatabaseRegistration
///   /metadata/databases/{db}/tables/{t}               TableRegistration
///   /metadata/databases/{db}/tables/{t}/schemas/{id}  Schema (ids from 1)
///   /tabletservers/tables/{tableId}                   TableAssignment
///   /metadata/table_seqid, partition_seqid, writer_id counters (first id 0)
///
/// Two implementations: EmbeddedMetadataStore (files in the data directory, for
/// `strom-server local`) and, later, one on ZooKeeper. Callers (the coordinator) validate
/// requests; the store only enforces the structure (a table needs its database, names are
/// unique) and reports kDatabaseNotExist, kDatabaseAlreadyExist, kTableNotExist,
/// kTableAlreadyExist; kStorage when it cannot make a change durable.
///
/// Every method is a coroutine so that the ZooKeeper implementation can wait for its server;
/// the embedded one answers reads without suspending. A mutation that returns OK is durable.
/// Thread: call from the owning reactor only.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Databases.
  virtual Task<Status> CreateDatabase(std::string name, DatabaseRegistration registration) = 0;
  virtual Task<Result<std::optional<DatabaseRegistration>>> GetDatabase(std::string name) = 0;
  /// Names in ascending order.
  virtual Task<Result<std::vector<std::string>>> ListDatabases() = 0;
  /// Deletes the database and, recursively, its tables and their schemas (not the bucket
  /// assignments: those go once the tablets are deleted, see DeleteTableAssignment).
  virtual Task<Status> DeleteDatabase(std::string name) = 0;

  // Tables.
  /// Registers, in one atomic step, the first schema (id 1), the bucket assignment (when
  /// given: non-partitioned tables) and the table.
  virtual Task<Status> CreateTable(TablePath path, TableRegistration registration,
                                   record::Schema first_schema,
                                   std::optional<TableAssignment> assignment) = 0;
  virtual Task<Result<std::optional<TableRegistration>>> GetTable(TablePath path) = 0;
  /// Table names of a database in ascending order; kDatabaseNotExist.
  virtual Task<Result<std::vector<std::string>>> ListTables(std::string database) = 0;
  /// Deletes the table and its schemas; kTableNotExist.
  virtual Task<Status> DeleteTable(TablePath path) = 0;

  // Schemas.
  /// Adds a schema under the next id; kTableNotExist.
  virtual Task<Result<SchemaId>> RegisterSchema(TablePath path, record::Schema schema) = 0;
  virtual Task<Result<std::optional<record::Schema>>> GetSchema(TablePath path, SchemaId id) = 0;
  /// Ids in ascending order; empty when the table does not exist.
  virtual Task<Result<std::vector<SchemaId>>> ListSchemaIds(TablePath path) = 0;

  // Bucket assignments.
  virtual Task<Result<std::optional<TableAssignment>>> GetTableAssignment(TableId table_id) = 0;
  virtual Task<Result<std::map<TableId, TableAssignment>>> ListTableAssignments() = 0;
  /// OK also when there is none.
  virtual Task<Status> DeleteTableAssignment(TableId table_id) = 0;

  // Id counters: each call returns a new id, never handed out before (also across restarts).
  virtual Task<Result<TableId>> NextTableId() = 0;
  virtual Task<Result<PartitionId>> NextPartitionId() = 0;
  virtual Task<Result<WriterId>> NextWriterId() = 0;
};

/// The table at `path` with its latest schema, or nullopt when it does not exist.
Task<Result<std::optional<TableInfo>>> LoadTableInfo(MetadataStore& store, TablePath path);

}  // namespace strom::metadata
