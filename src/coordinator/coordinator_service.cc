#include "coordinator/coordinator_service.h"

#include <fmt/format.h>

#include <charconv>

#include "common/logging.h"
#include "coordinator/table_assignment_utils.h"
#include "metadata/table_path.h"
#include "record/table_descriptor.h"

namespace strom::coordinator {
namespace {

using metadata::TablePath;

TablePath ToTablePath(const proto::PbTablePath& pb) {
  return TablePath{pb.database_name(), pb.table_name()};
}

void FillServerNode(const metadata::ServerNode& node, proto::PbServerNode* pb) {
  pb->set_node_id(node.id.value());
  pb->set_host(node.host);
  pb->set_port(node.port);
  if (node.rack) pb->set_rack(*node.rack);
}

Status TableNotExist(const TablePath& path) {
  return MakeError(ErrorCode::kTableNotExist, "Table '{}' does not exist.", path);
}

}  // namespace

CoordinatorService::CoordinatorService(metadata::MetadataStore& store, BucketHost& host,
                                       TableDefaults defaults,
                                       std::function<TimestampMs()> clock)
    : store_(store), host_(host), defaults_(defaults), clock_(std::move(clock)) {}

void CoordinatorService::SetCluster(metadata::ServerNode coordinator,
                                    std::vector<metadata::ServerNode> tablets) {
  coordinator_ = std::move(coordinator);
  tablet_servers_ = std::move(tablets);
}

Task<Status> CoordinatorService::Start() {
  STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> dbs, co_await store_.ListDatabases());
  if (!dbs.empty()) co_return Status::OK();
  metadata::DatabaseRegistration reg{record::DatabaseDescriptor(), clock_(), clock_()};
  std::string name(kDefaultDatabase);
  Status s = co_await store_.CreateDatabase(std::move(name), std::move(reg));
  if (s.code() == ErrorCode::kDatabaseAlreadyExist) co_return Status::OK();
  co_return s;
}

void CoordinatorService::Register(rpc::Dispatcher& d) {
  using proto::ApiKey;
  d.Handle<ApiKey::kCreateDatabase>(
      [this](rpc::RequestContext, proto::CreateDatabaseRequest r) { return CreateDatabase(std::move(r)); });
  d.Handle<ApiKey::kDropDatabase>(
      [this](rpc::RequestContext, proto::DropDatabaseRequest r) { return DropDatabase(std::move(r)); });
  d.Handle<ApiKey::kCreateTable>(
      [this](rpc::RequestContext, proto::CreateTableRequest r) { return CreateTable(std::move(r)); });
  d.Handle<ApiKey::kDropTable>(
      [this](rpc::RequestContext, proto::DropTableRequest r) { return DropTable(std::move(r)); });
  RegisterReadOnly(d);
}

void CoordinatorService::RegisterReadOnly(rpc::Dispatcher& d) {
  using proto::ApiKey;
  d.Handle<ApiKey::kListDatabases>(
      [this](rpc::RequestContext, proto::ListDatabasesRequest r) { return ListDatabases(std::move(r)); });
  d.Handle<ApiKey::kDatabaseExists>(
      [this](rpc::RequestContext, proto::DatabaseExistsRequest r) { return DatabaseExists(std::move(r)); });
  d.Handle<ApiKey::kGetDatabaseInfo>(
      [this](rpc::RequestContext, proto::GetDatabaseInfoRequest r) { return GetDatabaseInfo(std::move(r)); });
  d.Handle<ApiKey::kGetTableInfo>(
      [this](rpc::RequestContext, proto::GetTableInfoRequest r) { return GetTableInfo(std::move(r)); });
  d.Handle<ApiKey::kListTables>(
      [this](rpc::RequestContext, proto::ListTablesRequest r) { return ListTables(std::move(r)); });
  d.Handle<ApiKey::kTableExists>(
      [this](rpc::RequestContext, proto::TableExistsRequest r) { return TableExists(std::move(r)); });
  d.Handle<ApiKey::kGetTableSchema>(
      [this](rpc::RequestContext, proto::GetTableSchemaRequest r) { return GetTableSchema(std::move(r)); });
  d.Handle<ApiKey::kGetMetadata>(
      [this](rpc::RequestContext, proto::MetadataRequest r) { return GetMetadata(std::move(r)); });
  d.Handle<ApiKey::kListPartitionInfos>([this](rpc::RequestContext,
                                               proto::ListPartitionInfosRequest r) {
    return ListPartitionInfos(std::move(r));
  });
  d.Handle<ApiKey::kGetFileSystemSecurityToken>(
      [this](rpc::RequestContext, proto::GetFileSystemSecurityTokenRequest r) {
        return GetFileSystemSecurityToken(std::move(r));
      });
  d.Handle<ApiKey::kGetLatestKvSnapshots>(
      [this](rpc::RequestContext, proto::GetLatestKvSnapshotsRequest r) {
        return GetLatestKvSnapshots(std::move(r));
      });
  d.Handle<ApiKey::kGetLakeSnapshot>([this](rpc::RequestContext, proto::GetLakeSnapshotRequest r) {
    return GetLakeSnapshot(std::move(r));
  });
}

// ---- databases ----

Task<Result<proto::CreateDatabaseResponse>> CoordinatorService::CreateDatabase(
    proto::CreateDatabaseRequest req) {
  if (view_ != nullptr) STROM_CO_RETURN_IF_ERROR(view_->CheckActive());
  STROM_CO_RETURN_IF_ERROR(metadata::ValidateDatabaseName(req.database_name()));
  record::DatabaseDescriptor descriptor;
  if (req.has_database_json()) {
    auto parsed = record::DatabaseDescriptor::FromJson(req.database_json());
    if (!parsed.ok()) co_return parsed.status();
    descriptor = std::move(parsed).value();
  }
  TimestampMs now = clock_();
  metadata::DatabaseRegistration reg{std::move(descriptor), now, now};
  std::string name = req.database_name();
  Status s = co_await store_.CreateDatabase(std::move(name), std::move(reg));
  if (s.code() == ErrorCode::kDatabaseAlreadyExist && req.ignore_if_exists()) s = Status::OK();
  if (!s.ok()) co_return s;
  co_return proto::CreateDatabaseResponse();
}

Task<Result<proto::DropDatabaseResponse>> CoordinatorService::DropDatabase(
    proto::DropDatabaseRequest req) {
  if (view_ != nullptr) STROM_CO_RETURN_IF_ERROR(view_->CheckActive());
  const std::string& name = req.database_name();
  STROM_CO_ASSIGN_OR_RETURN(auto db, co_await store_.GetDatabase(name));
  if (!db) {
    if (req.ignore_if_not_exists()) co_return proto::DropDatabaseResponse();
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.", name);
  }
  STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> tables, co_await store_.ListTables(name));
  if (!tables.empty() && !req.cascade()) {
    co_return MakeError(ErrorCode::kDatabaseNotEmpty, "Database {} is not empty.", name);
  }
  std::vector<TableId> table_ids;
  for (const std::string& table : tables) {
    TablePath path{name, table};
    STROM_CO_ASSIGN_OR_RETURN(auto reg, co_await store_.GetTable(path));
    if (reg) table_ids.push_back(reg->table_id);
  }
  std::string db_name = name;
  STROM_CO_RETURN_IF_ERROR(co_await store_.DeleteDatabase(std::move(db_name)));
  for (TableId id : table_ids) {
    STROM_CO_RETURN_IF_ERROR(co_await host_.DropTableBuckets(id));
    STROM_CO_RETURN_IF_ERROR(co_await store_.DeleteTableAssignment(id));
  }
  co_return proto::DropDatabaseResponse();
}

Task<Result<proto::ListDatabasesResponse>> CoordinatorService::ListDatabases(
    proto::ListDatabasesRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> names, co_await store_.ListDatabases());
  proto::ListDatabasesResponse resp;
  if (req.has_include_summary() && req.include_summary()) {
    for (const std::string& name : names) {
      STROM_CO_ASSIGN_OR_RETURN(auto db, co_await store_.GetDatabase(name));
      if (!db) continue;
      STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> tables, co_await store_.ListTables(name));
      proto::PbDatabaseSummary* summary = resp.add_database_summary();
      summary->set_database_name(name);
      summary->set_created_time(db->created_time.value());
      summary->set_table_count(static_cast<int32_t>(tables.size()));
    }
  } else {
    for (std::string& name : names) resp.add_database_name(std::move(name));
  }
  co_return resp;
}

Task<Result<proto::DatabaseExistsResponse>> CoordinatorService::DatabaseExists(
    proto::DatabaseExistsRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(auto db, co_await store_.GetDatabase(req.database_name()));
  proto::DatabaseExistsResponse resp;
  resp.set_exists(db.has_value());
  co_return resp;
}

Task<Result<proto::GetDatabaseInfoResponse>> CoordinatorService::GetDatabaseInfo(
    proto::GetDatabaseInfoRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(auto db, co_await store_.GetDatabase(req.database_name()));
  if (!db) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database '{}' does not exist.",
                        req.database_name());
  }
  proto::GetDatabaseInfoResponse resp;
  resp.set_database_json(db->descriptor.ToJson());
  resp.set_created_time(db->created_time.value());
  resp.set_modified_time(db->modified_time.value());
  co_return resp;
}

// ---- tables ----

Result<metadata::TableAssignment> CoordinatorService::GenerateAssignment(
    int32_t buckets, int32_t replication) const {
  std::vector<metadata::ServerNode> nodes = view_ != nullptr ? view_->TabletServers()
                                                             : tablet_servers_;
  if (nodes.empty()) {
    return Status(ErrorCode::kInvalidReplicationFactor, "No tablet server is available.");
  }
  std::vector<PlacementServer> servers;
  for (const metadata::ServerNode& node : nodes) servers.push_back({node.id, node.rack});
  return coordinator::GenerateAssignment(buckets, replication, std::move(servers));
}

Task<Result<proto::CreateTableResponse>> CoordinatorService::CreateTable(
    proto::CreateTableRequest req) {
  if (view_ != nullptr) STROM_CO_RETURN_IF_ERROR(view_->CheckActive());
  TablePath path = ToTablePath(req.table_path());
  STROM_CO_RETURN_IF_ERROR(metadata::ValidateTablePath(path));
  auto parsed = record::TableDescriptor::FromJson(req.table_json());
  if (!parsed.ok()) {
    co_return Status(ErrorCode::kInvalidTable, parsed.status().message());
  }
  STROM_CO_ASSIGN_OR_RETURN(record::TableDescriptor table,
                            ApplySystemDefaults(*parsed, defaults_));
  STROM_CO_RETURN_IF_ERROR(ValidateTableDescriptor(table, defaults_));
  if (table.IsPartitioned()) {
    co_return Status(ErrorCode::kInvalidTable,
                     "Partitioned tables are not supported by this Strom server yet.");
  }
  STROM_CO_RETURN_IF_ERROR(host_.CheckTable(table));

  STROM_CO_ASSIGN_OR_RETURN(auto db, co_await store_.GetDatabase(path.database));
  if (!db) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.",
                        path.database);
  }
  STROM_CO_ASSIGN_OR_RETURN(auto existing, co_await store_.GetTable(path));
  if (existing) {
    if (req.ignore_if_exists()) co_return proto::CreateTableResponse();
    co_return MakeError(ErrorCode::kTableAlreadyExist, "Table {} already exists.", path);
  }
  // ValidateTableDescriptor checked that the factor is a positive int.
  int32_t replication = 1;
  {
    const std::string& text = *table.Property("table.replication.factor");
    size_t begin = text.find_first_not_of(' ');
    if (begin == std::string::npos) begin = text.size();
    std::from_chars(text.data() + begin, text.data() + text.size(), replication);
  }
  STROM_CO_ASSIGN_OR_RETURN(metadata::TableAssignment assignment,
                            GenerateAssignment(*table.bucket_count(), replication));

  STROM_CO_ASSIGN_OR_RETURN(TableId table_id, co_await store_.NextTableId());
  metadata::TableRegistration reg =
      metadata::TableRegistration::ForNewTable(table_id, table, clock_());
  record::Schema schema = table.schema();
  metadata::TableAssignment stored_assignment = assignment;
  Status created = co_await store_.CreateTable(path, reg, std::move(schema),
                                               std::move(stored_assignment));
  if (created.code() == ErrorCode::kTableAlreadyExist && req.ignore_if_exists()) {
    co_return proto::CreateTableResponse();
  }
  STROM_CO_RETURN_IF_ERROR(created);

  STROM_CO_ASSIGN_OR_RETURN(auto info,
                            metadata::TableInfo::Make(path, reg, SchemaId(1), table.schema()));
  Status hosted = co_await host_.CreateTableBuckets(std::move(info), std::move(assignment));
  if (!hosted.ok()) {
    STROM_LOG_ERROR("coordinator", "table {} (id {}) registered but its buckets failed: {}", path,
                    table_id, hosted.ToString());
    co_return hosted;
  }
  STROM_LOG_INFO("coordinator", "created table {} (id {}, {} buckets)", path, table_id,
                 *table.bucket_count());
  co_return proto::CreateTableResponse();
}

Task<Status> CoordinatorService::DropTableAndBuckets(TablePath path, TableId table_id) {
  STROM_CO_RETURN_IF_ERROR(co_await store_.DeleteTable(path));
  STROM_CO_RETURN_IF_ERROR(co_await host_.DropTableBuckets(table_id));
  STROM_CO_RETURN_IF_ERROR(co_await store_.DeleteTableAssignment(table_id));
  STROM_LOG_INFO("coordinator", "dropped table {} (id {})", path, table_id);
  co_return Status::OK();
}

Task<Result<proto::DropTableResponse>> CoordinatorService::DropTable(proto::DropTableRequest req) {
  if (view_ != nullptr) STROM_CO_RETURN_IF_ERROR(view_->CheckActive());
  TablePath path = ToTablePath(req.table_path());
  STROM_CO_ASSIGN_OR_RETURN(auto reg, co_await store_.GetTable(path));
  if (!reg) {
    if (req.ignore_if_not_exists()) co_return proto::DropTableResponse();
    co_return MakeError(ErrorCode::kTableNotExist, "Table {} does not exist.", path);
  }
  Status s = co_await DropTableAndBuckets(path, reg->table_id);
  if (s.code() == ErrorCode::kTableNotExist && req.ignore_if_not_exists()) s = Status::OK();
  if (!s.ok()) co_return s;
  co_return proto::DropTableResponse();
}

Task<Result<metadata::TableInfo>> CoordinatorService::RequireTable(TablePath path) {
  STROM_CO_ASSIGN_OR_RETURN(auto info, co_await metadata::LoadTableInfo(store_, path));
  if (!info) co_return TableNotExist(path);
  co_return std::move(*info);
}

Task<Result<proto::GetTableInfoResponse>> CoordinatorService::GetTableInfo(
    proto::GetTableInfoRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(metadata::TableInfo info,
                            co_await RequireTable(ToTablePath(req.table_path())));
  proto::GetTableInfoResponse resp;
  resp.set_table_id(info.table_id.value());
  resp.set_schema_id(info.schema_id.value());
  resp.set_table_json(info.ToTableJson());
  resp.set_created_time(info.created_time.value());
  resp.set_modified_time(info.modified_time.value());
  co_return resp;
}

Task<Result<proto::ListTablesResponse>> CoordinatorService::ListTables(
    proto::ListTablesRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> names,
                            co_await store_.ListTables(req.database_name()));
  proto::ListTablesResponse resp;
  for (std::string& name : names) resp.add_table_name(std::move(name));
  co_return resp;
}

Task<Result<proto::TableExistsResponse>> CoordinatorService::TableExists(
    proto::TableExistsRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(auto reg, co_await store_.GetTable(ToTablePath(req.table_path())));
  proto::TableExistsResponse resp;
  resp.set_exists(reg.has_value());
  co_return resp;
}

Task<Result<proto::GetTableSchemaResponse>> CoordinatorService::GetTableSchema(
    proto::GetTableSchemaRequest req) {
  TablePath path = ToTablePath(req.table_path());
  STROM_CO_ASSIGN_OR_RETURN(auto reg, co_await store_.GetTable(path));
  if (!reg) co_return TableNotExist(path);
  STROM_CO_ASSIGN_OR_RETURN(std::vector<SchemaId> ids, co_await store_.ListSchemaIds(path));
  if (ids.empty()) co_return Corruption("table {} has no schema", path);
  SchemaId id = ids.back();
  if (req.has_schema_id()) {
    if (req.schema_id() <= 0 || req.schema_id() > ids.back().value()) {
      co_return MakeError(ErrorCode::kSchemaNotExist,
                          "Schema for table {} with schema id {} does not exist.", path,
                          req.schema_id());
    }
    id = SchemaId(static_cast<int16_t>(req.schema_id()));
  }
  STROM_CO_ASSIGN_OR_RETURN(auto schema, co_await store_.GetSchema(path, id));
  if (!schema) {
    co_return MakeError(ErrorCode::kSchemaNotExist,
                        "Schema for table {} with schema id {} does not exist.", path, id);
  }
  proto::GetTableSchemaResponse resp;
  resp.set_schema_id(id.value());
  resp.set_schema_json(schema->ToJson());
  co_return resp;
}

Task<Result<proto::MetadataResponse>> CoordinatorService::GetMetadata(proto::MetadataRequest req) {
  proto::MetadataResponse resp;
  if (view_ != nullptr) {
    if (auto coordinator = view_->CoordinatorNode()) {
      FillServerNode(*coordinator, resp.mutable_coordinator_server());
    }
    for (const metadata::ServerNode& node : view_->TabletServers()) {
      FillServerNode(node, resp.add_tablet_servers());
    }
  } else {
    FillServerNode(coordinator_, resp.mutable_coordinator_server());
    for (const metadata::ServerNode& node : tablet_servers_) {
      FillServerNode(node, resp.add_tablet_servers());
    }
  }
  for (const proto::PbTablePath& pb_path : req.table_path()) {
    STROM_CO_ASSIGN_OR_RETURN(metadata::TableInfo info, co_await RequireTable(ToTablePath(pb_path)));
    STROM_CO_ASSIGN_OR_RETURN(auto assignment, co_await store_.GetTableAssignment(info.table_id));
    proto::PbTableMetadata* table = resp.add_table_metadata();
    *table->mutable_table_path() = pb_path;
    table->set_table_id(info.table_id.value());
    table->set_schema_id(info.schema_id.value());
    table->set_table_json(info.ToTableJson());
    table->set_created_time(info.created_time.value());
    table->set_modified_time(info.modified_time.value());
    if (assignment) {
      for (const auto& [bucket, replicas] : assignment->buckets) {
        proto::PbBucketMetadata* b = table->add_bucket_metadata();
        b->set_bucket_id(bucket.value());
        for (ServerId r : replicas) b->add_replica_id(r.value());
        if (view_ != nullptr) {
          // The elected leader; none while the bucket is offline or not yet known here.
          auto leader = view_->Leader(metadata::TableBucket{info.table_id, std::nullopt, bucket});
          if (leader && leader->leader) b->set_leader_id(leader->leader->value());
          if (leader) b->set_leader_epoch(leader->leader_epoch.value());
          if (leader && leader->isr) {
            for (ServerId r : *leader->isr) b->add_isr(r.value());
          }
        } else if (!replicas.empty()) {
          // One node: the first replica leads and every replica is in sync.
          b->set_leader_id(replicas.front().value());
          b->set_leader_epoch(0);
          for (ServerId r : replicas) b->add_isr(r.value());
        }
      }
    }
  }
  if (req.partitions_path_size() > 0) {
    const proto::PbPhysicalTablePath& p = req.partitions_path(0);
    co_return MakeError(ErrorCode::kPartitionNotExists,
                        "Partition '{}' of table {}.{} does not exist.", p.partition_name(),
                        p.database_name(), p.table_name());
  }
  if (req.partitions_id_size() > 0) {
    co_return MakeError(ErrorCode::kPartitionNotExists, "Partition id {} does not exist.",
                        req.partitions_id(0));
  }
  co_return resp;
}

Task<Result<proto::ListPartitionInfosResponse>> CoordinatorService::ListPartitionInfos(
    proto::ListPartitionInfosRequest req) {
  TablePath path = ToTablePath(req.table_path());
  STROM_CO_ASSIGN_OR_RETURN(metadata::TableInfo info, co_await RequireTable(path));
  if (!info.IsPartitioned()) {
    co_return MakeError(ErrorCode::kTableNotPartitioned, "Table '{}' is not a partitioned table.",
                        path);
  }
  co_return proto::ListPartitionInfosResponse();
}

Task<Result<proto::GetFileSystemSecurityTokenResponse>>
CoordinatorService::GetFileSystemSecurityToken(proto::GetFileSystemSecurityTokenRequest) {
  // A cluster whose remote data lives on the local file system answers as the Fluss server
  // does then (spec §7.14): scheme "file", empty token, no expiration, no extra info.
  proto::GetFileSystemSecurityTokenResponse resp;
  resp.set_schema("file");
  resp.set_token("");
  co_return resp;
}

Task<Result<proto::GetLatestKvSnapshotsResponse>> CoordinatorService::GetLatestKvSnapshots(
    proto::GetLatestKvSnapshotsRequest req) {
  TablePath path = ToTablePath(req.table_path());
  STROM_CO_ASSIGN_OR_RETURN(metadata::TableInfo info, co_await RequireTable(path));
  co_return MakeError(ErrorCode::kNonPrimaryKeyTable,
                      "Table '{}' is not a primary key table, so it doesn't have any kv "
                      "snapshots.",
                      info.path);
}

Task<Result<proto::GetLakeSnapshotResponse>> CoordinatorService::GetLakeSnapshot(
    proto::GetLakeSnapshotRequest req) {
  TablePath path = ToTablePath(req.table_path());
  STROM_CO_ASSIGN_OR_RETURN(metadata::TableInfo info, co_await RequireTable(path));
  co_return MakeError(ErrorCode::kLakeSnapshotNotExist,
                      "Lake table snapshot doesn't exist for table: {}, table id: {}", info.path,
                      info.table_id);
}

}  // namespace strom::coordinator
