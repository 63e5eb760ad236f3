#pragma once

#include <functional>
#include <vector>

#include "common/async.h"
#include "common/result.h"
#include "coordinator/bucket_host.h"
#include "coordinator/cluster_view.h"
#include "coordinator/table_validation.h"
#include "metadata/metadata_store.h"
#include "metadata/server_node.h"
#include "proto/FlussApi.pb.h"
#include "rpc/dispatcher.h"

namespace strom::coordinator {

/// The coordinator's RPC handlers (Fluss `CoordinatorService` plus the read-only admin apis
/// of `RpcServiceBase`): database and table DDL with Fluss's validation and error codes,
/// schema lookups, cluster metadata, the file-system security token of a cluster without
/// remote storage, and the KV-snapshot / lake-snapshot lookups of a cluster that has neither.
///
/// Not (yet) supported, answered with a clear error: partitioned tables and primary-key
/// tables (CreateTable fails with INVALID_TABLE_EXCEPTION until Strom has partitions and a
/// KV store), partitions in Metadata requests (PARTITION_NOT_EXISTS).
///
/// Lifecycle: construct, SetCluster() once the listener is bound, Start() (creates the
/// default database `fluss` in an empty cluster), Register() into the dispatcher before the
/// server starts. Thread: everything on the reactor. Ownership: borrows the store and the
/// bucket host, which must outlive it and every request it serves.
class CoordinatorService {
 public:
  /// Name of the database created in an empty cluster (pyfluss examples expect it).
  static constexpr std::string_view kDefaultDatabase = "fluss";

  CoordinatorService(metadata::MetadataStore& store, BucketHost& host, TableDefaults defaults,
                     std::function<TimestampMs()> clock);

  /// The nodes Metadata responses list: one coordinator and at least one tablet server.
  void SetCluster(metadata::ServerNode coordinator, std::vector<metadata::ServerNode> tablets);

  /// In a distributed cluster: where Metadata answers take the coordinator, the live tablet
  /// servers and the bucket leaders from (instead of SetCluster's fixed nodes and the first
  /// replica of each bucket), where CreateTable takes the servers to place replicas on, and
  /// whether DDL is allowed here (a standby coordinator refuses it). Borrowed; outlives this.
  void SetClusterView(const ClusterView* view) { view_ = view; }

  /// Creates the default database when the cluster has none.
  Task<Status> Start();

  /// Registers every handler of this service.
  void Register(rpc::Dispatcher& dispatcher);
  /// Registers only the read-only admin and metadata handlers (what a tablet server answers
  /// in Fluss, `RpcServiceBase`).
  void RegisterReadOnly(rpc::Dispatcher& dispatcher);

  Task<Result<proto::CreateDatabaseResponse>> CreateDatabase(proto::CreateDatabaseRequest req);
  Task<Result<proto::DropDatabaseResponse>> DropDatabase(proto::DropDatabaseRequest req);
  Task<Result<proto::ListDatabasesResponse>> ListDatabases(proto::ListDatabasesRequest req);
  Task<Result<proto::DatabaseExistsResponse>> DatabaseExists(proto::DatabaseExistsRequest req);
  Task<Result<proto::GetDatabaseInfoResponse>> GetDatabaseInfo(proto::GetDatabaseInfoRequest req);
  Task<Result<proto::CreateTableResponse>> CreateTable(proto::CreateTableRequest req);
  Task<Result<proto::DropTableResponse>> DropTable(proto::DropTableRequest req);
  Task<Result<proto::GetTableInfoResponse>> GetTableInfo(proto::GetTableInfoRequest req);
  Task<Result<proto::ListTablesResponse>> ListTables(proto::ListTablesRequest req);
  Task<Result<proto::TableExistsResponse>> TableExists(proto::TableExistsRequest req);
  Task<Result<proto::GetTableSchemaResponse>> GetTableSchema(proto::GetTableSchemaRequest req);
  Task<Result<proto::MetadataResponse>> GetMetadata(proto::MetadataRequest req);
  Task<Result<proto::ListPartitionInfosResponse>> ListPartitionInfos(
      proto::ListPartitionInfosRequest req);
  Task<Result<proto::GetFileSystemSecurityTokenResponse>> GetFileSystemSecurityToken(
      proto::GetFileSystemSecurityTokenRequest req);
  /// No primary-key tables yet: every existing table answers NON_PRIMARY_KEY_TABLE_EXCEPTION.
  Task<Result<proto::GetLatestKvSnapshotsResponse>> GetLatestKvSnapshots(
      proto::GetLatestKvSnapshotsRequest req);
  /// No data lake: every existing table answers LAKE_SNAPSHOT_NOT_EXIST.
  Task<Result<proto::GetLakeSnapshotResponse>> GetLakeSnapshot(proto::GetLakeSnapshotRequest req);

 private:
  Task<Result<metadata::TableInfo>> RequireTable(metadata::TablePath path);
  Task<Status> DropTableAndBuckets(metadata::TablePath path, TableId table_id);
  Result<metadata::TableAssignment> GenerateAssignment(int32_t buckets, int32_t replication) const;

  metadata::MetadataStore& store_;
  BucketHost& host_;
  TableDefaults defaults_;
  std::function<TimestampMs()> clock_;
  metadata::ServerNode coordinator_;
  std::vector<metadata::ServerNode> tablet_servers_;
  const ClusterView* view_ = nullptr;
};

}  // namespace strom::coordinator
