#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class ClientContext;
}

/// Where one bucket of a table lives, as the cluster's metadata says.
struct BucketLocation {
  BucketId bucket{0};
  /// The leader's server id; nullopt while the bucket has no leader.
  std::optional<ServerId> leader;
  std::optional<int32_t> leader_epoch;
  /// Every replica, the preferred leader first.
  std::vector<ServerId> replicas;
  /// The in-sync replicas. Strom servers report them; nullopt when the server does not
  /// (the Fluss 0.9 metadata has no ISR).
  std::optional<std::vector<ServerId>> isr;

  friend bool operator==(const BucketLocation&, const BucketLocation&) = default;
};

/// Cluster administration: databases, tables, offsets and servers.
///
/// DDL goes to the coordinator, reads about tables to any tablet server, ListOffsets to each
/// bucket's leader, as the Fluss Java client does. Every call blocks until the cluster
/// answered; failures carry the server's Fluss error code and message (for example
/// kDatabaseNotExist, kTableAlreadyExist, kInvalidTable).
///
/// Threads: safe to use from several threads at once. Ownership: created by
/// Connection::GetAdmin; shares the connection's internals (see Connection).
class Admin {
 public:
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // ---- databases ----

  /// kDatabaseAlreadyExist unless `ignore_if_exists`; kInvalidDatabase for a bad name.
  Status CreateDatabase(const std::string& name,
                        const DatabaseDescriptor& descriptor = DatabaseDescriptor(),
                        bool ignore_if_exists = false);
  /// kDatabaseNotExist unless `ignore_if_not_exists`; kDatabaseNotEmpty when the database
  /// still has tables and `cascade` is false (with cascade its tables are dropped too).
  Status DropDatabase(const std::string& name, bool ignore_if_not_exists = false,
                      bool cascade = false);
  Result<std::vector<std::string>> ListDatabases();
  Result<bool> DatabaseExists(const std::string& name);
  /// kDatabaseNotExist when missing.
  Result<DatabaseInfo> GetDatabaseInfo(const std::string& name);

  // ---- tables ----

  /// kTableAlreadyExist unless `ignore_if_exists`; kDatabaseNotExist; kInvalidTable for a
  /// descriptor the server refuses.
  Status CreateTable(const TablePath& path, const TableDescriptor& descriptor,
                     bool ignore_if_exists = false);
  /// kTableNotExist unless `ignore_if_not_exists`.
  Status DropTable(const TablePath& path, bool ignore_if_not_exists = false);
  /// Table names of a database (kDatabaseNotExist when missing).
  Result<std::vector<std::string>> ListTables(const std::string& database);
  Result<bool> TableExists(const TablePath& path);
  /// kTableNotExist when missing.
  Result<TableInfo> GetTableInfo(const TablePath& path);
  /// The latest schema, or the one with `schema_id` (kSchemaNotExist when unknown).
  Result<SchemaInfo> GetTableSchema(const TablePath& path,
                                    std::optional<SchemaId> schema_id = std::nullopt);

  // ---- offsets and servers ----

  /// The offset `spec` names for each of `buckets` of a non-partitioned table (all buckets
  /// when `buckets` is empty). Asks each bucket's leader. kInvalidTimestamp for a timestamp
  /// in the future.
  Result<std::map<BucketId, LogOffset>> ListOffsets(const TablePath& path,
                                                    const std::vector<BucketId>& buckets,
                                                    const OffsetSpec& spec);

  /// The coordinator and every live tablet server, freshly asked from the cluster.
  Result<std::vector<ServerNode>> GetServerNodes();

  /// Leader, replicas and ISR of every bucket of a non-partitioned table, freshly asked from
  /// the cluster, by bucket id. kTableNotExist when missing.
  Result<std::vector<BucketLocation>> GetBucketLocations(const TablePath& path);

  /// Connects to `node` and answers how long an ApiVersions round trip took: a liveness
  /// probe. The error (kNetworkException, ...) when the server does not answer in time.
  Result<std::chrono::microseconds> Ping(const ServerNode& node);

 private:
  friend class Connection;
  explicit Admin(std::shared_ptr<client::ClientContext> context);

  std::shared_ptr<client::ClientContext> context_;
};

}  // namespace strom
