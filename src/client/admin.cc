#include "strom/admin.h"

#include <algorithm>

#include "client/client_context.h"

namespace strom {

namespace {

using client::ClientContext;
using proto::ApiKey;

void SetPath(proto::PbTablePath* out, const TablePath& path) {
  out->set_database_name(path.database);
  out->set_table_name(path.table);
}

Task<Status> CreateDatabaseTask(ClientContext* ctx, std::string name, std::string json,
                                bool ignore) {
  proto::CreateDatabaseRequest request;
  request.set_database_name(std::move(name));
  request.set_ignore_if_exists(ignore);
  request.set_database_json(std::move(json));
  auto response = co_await ctx->CallCoordinator<ApiKey::kCreateDatabase>(std::move(request));
  co_return response.ok() ? Status::OK() : response.status();
}

Task<Status> DropDatabaseTask(ClientContext* ctx, std::string name, bool ignore, bool cascade) {
  proto::DropDatabaseRequest request;
  request.set_database_name(std::move(name));
  request.set_ignore_if_not_exists(ignore);
  request.set_cascade(cascade);
  auto response = co_await ctx->CallCoordinator<ApiKey::kDropDatabase>(std::move(request));
  co_return response.ok() ? Status::OK() : response.status();
}

Task<Result<std::vector<std::string>>> ListDatabasesTask(ClientContext* ctx) {
  auto response =
      co_await ctx->CallAnyTabletServer<ApiKey::kListDatabases>(proto::ListDatabasesRequest());
  if (!response.ok()) co_return std::move(response).status();
  co_return std::vector<std::string>(response->database_name().begin(),
                                     response->database_name().end());
}

Task<Result<bool>> DatabaseExistsTask(ClientContext* ctx, std::string name) {
  proto::DatabaseExistsRequest request;
  request.set_database_name(std::move(name));
  auto response = co_await ctx->CallAnyTabletServer<ApiKey::kDatabaseExists>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  co_return response->exists();
}

Task<Result<DatabaseInfo>> GetDatabaseInfoTask(ClientContext* ctx, std::string name) {
  proto::GetDatabaseInfoRequest request;
  request.set_database_name(name);
  auto response = co_await ctx->CallAnyTabletServer<ApiKey::kGetDatabaseInfo>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  STROM_CO_ASSIGN_OR_RETURN(DatabaseDescriptor descriptor,
                            DatabaseDescriptor::FromJson(response->database_json()));
  co_return DatabaseInfo{std::move(name), std::move(descriptor), response->created_time(),
                         response->modified_time()};
}

Task<Status> CreateTableTask(ClientContext* ctx, TablePath path, std::string json, bool ignore) {
  proto::CreateTableRequest request;
  SetPath(request.mutable_table_path(), path);
  request.set_table_json(std::move(json));
  request.set_ignore_if_exists(ignore);
  auto response = co_await ctx->CallCoordinator<ApiKey::kCreateTable>(std::move(request));
  co_return response.ok() ? Status::OK() : response.status();
}

Task<Status> DropTableTask(ClientContext* ctx, TablePath path, bool ignore) {
  proto::DropTableRequest request;
  SetPath(request.mutable_table_path(), path);
  request.set_ignore_if_not_exists(ignore);
  auto response = co_await ctx->CallCoordinator<ApiKey::kDropTable>(std::move(request));
  co_return response.ok() ? Status::OK() : response.status();
}

Task<Result<std::vector<std::string>>> ListTablesTask(ClientContext* ctx, std::string database) {
  proto::ListTablesRequest request;
  request.set_database_name(std::move(database));
  auto response = co_await ctx->CallAnyTabletServer<ApiKey::kListTables>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  co_return std::vector<std::string>(response->table_name().begin(), response->table_name().end());
}

Task<Result<bool>> TableExistsTask(ClientContext* ctx, TablePath path) {
  proto::TableExistsRequest request;
  SetPath(request.mutable_table_path(), path);
  auto response = co_await ctx->CallAnyTabletServer<ApiKey::kTableExists>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  co_return response->exists();
}

Task<Result<SchemaInfo>> GetTableSchemaTask(ClientContext* ctx, TablePath path,
                                            std::optional<SchemaId> schema_id) {
  proto::GetTableSchemaRequest request;
  SetPath(request.mutable_table_path(), path);
  if (schema_id) request.set_schema_id(schema_id->value());
  auto response = co_await ctx->CallAnyTabletServer<ApiKey::kGetTableSchema>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  STROM_CO_ASSIGN_OR_RETURN(Schema schema, Schema::FromJson(response->schema_json()));
  co_return SchemaInfo{SchemaId(static_cast<int16_t>(response->schema_id())), std::move(schema)};
}

Task<Result<std::vector<ServerNode>>> GetServerNodesTask(ClientContext* ctx) {
  STROM_CO_RETURN_IF_ERROR(co_await ctx->UpdateMetadata(std::vector<TablePath>()));
  co_return ctx->metadata().Get()->AllServers();
}

Task<Result<std::vector<BucketLocation>>> GetBucketLocationsTask(ClientContext* ctx,
                                                                  TablePath path) {
  proto::MetadataRequest request;
  SetPath(request.add_table_path(), path);
  auto response = co_await ctx->CallAnyTabletServer<ApiKey::kGetMetadata>(std::move(request));
  if (!response.ok()) co_return client::UnwrapServerCause(response.status());
  for (const proto::PbTableMetadata& table : response->table_metadata()) {
    if (table.table_path().database_name() != path.database ||
        table.table_path().table_name() != path.table) {
      continue;
    }
    std::vector<BucketLocation> out;
    for (const proto::PbBucketMetadata& pb : table.bucket_metadata()) {
      BucketLocation location;
      location.bucket = BucketId(pb.bucket_id());
      if (pb.has_leader_id() && pb.leader_id() >= 0) location.leader = ServerId(pb.leader_id());
      if (pb.has_leader_epoch()) location.leader_epoch = pb.leader_epoch();
      for (int32_t id : pb.replica_id()) location.replicas.emplace_back(id);
      // A Strom server always lists the ISR of a bucket that has replicas; an empty list
      // with replicas present means the server does not report it.
      if (pb.isr_size() > 0 || pb.replica_id_size() == 0) {
        location.isr.emplace();
        for (int32_t id : pb.isr()) location.isr->emplace_back(id);
      }
      out.push_back(std::move(location));
    }
    std::sort(out.begin(), out.end(),
              [](const BucketLocation& a, const BucketLocation& b) { return a.bucket < b.bucket; });
    co_return out;
  }
  co_return MakeError(ErrorCode::kTableNotExist, "table {} does not exist", path.ToString());
}

Task<Result<std::string>> RebalanceTask(ClientContext* ctx, std::vector<RebalanceGoal> goals) {
  proto::RebalanceRequest request;
  for (RebalanceGoal goal : goals) request.add_goals(static_cast<int32_t>(goal));
  auto response = co_await ctx->CallCoordinator<ApiKey::kRebalance>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  co_return response->rebalance_id();
}

Task<Result<std::optional<RebalanceProgress>>> ListRebalanceProgressTask(
    ClientContext* ctx, std::optional<std::string> rebalance_id) {
  proto::ListRebalanceProgressRequest request;
  if (rebalance_id) request.set_rebalance_id(*rebalance_id);
  auto response = co_await ctx->CallCoordinator<ApiKey::kListRebalanceProgress>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  if (!response->has_rebalance_id()) co_return std::optional<RebalanceProgress>();
  RebalanceProgress progress;
  progress.rebalance_id = response->rebalance_id();
  progress.status = static_cast<RebalanceStatus>(response->rebalance_status());
  for (const proto::PbRebalanceProgressForTable& table : response->table_progress()) {
    for (const proto::PbRebalanceProgressForBucket& b : table.buckets_progress()) {
      const proto::PbRebalancePlanForBucket& plan = b.rebalance_plan();
      RebalanceBucketProgress out;
      out.bucket = TableBucket(TableId(table.table_id()), BucketId(plan.bucket_id()),
                               plan.has_partition_id()
                                   ? std::optional<PartitionId>(PartitionId(plan.partition_id()))
                                   : std::nullopt);
      if (plan.has_original_leader() && plan.original_leader() >= 0) {
        out.original_leader = ServerId(plan.original_leader());
      }
      if (plan.has_new_leader() && plan.new_leader() >= 0) {
        out.new_leader = ServerId(plan.new_leader());
      }
      for (int32_t id : plan.original_replicas()) out.original_replicas.emplace_back(id);
      for (int32_t id : plan.new_replicas()) out.new_replicas.emplace_back(id);
      out.status = static_cast<RebalanceStatus>(b.rebalance_status());
      progress.buckets.push_back(std::move(out));
    }
  }
  std::sort(progress.buckets.begin(), progress.buckets.end(),
            [](const RebalanceBucketProgress& a, const RebalanceBucketProgress& b) {
              return a.bucket < b.bucket;
            });
  co_return std::optional<RebalanceProgress>(std::move(progress));
}

Task<Status> CancelRebalanceTask(ClientContext* ctx, std::optional<std::string> rebalance_id) {
  proto::CancelRebalanceRequest request;
  if (rebalance_id) request.set_rebalance_id(*rebalance_id);
  auto response = co_await ctx->CallCoordinator<ApiKey::kCancelRebalance>(std::move(request));
  co_return response.ok() ? Status::OK() : response.status();
}

Task<Status> ServerTagTask(ClientContext* ctx, std::vector<ServerId> servers, ServerTag tag,
                           bool add) {
  if (add) {
    proto::AddServerTagRequest request;
    for (ServerId id : servers) request.add_server_ids(id.value());
    request.set_server_tag(static_cast<int32_t>(tag));
    auto response = co_await ctx->CallCoordinator<ApiKey::kAddServerTag>(std::move(request));
    co_return response.ok() ? Status::OK() : response.status();
  }
  proto::RemoveServerTagRequest request;
  for (ServerId id : servers) request.add_server_ids(id.value());
  request.set_server_tag(static_cast<int32_t>(tag));
  auto response = co_await ctx->CallCoordinator<ApiKey::kRemoveServerTag>(std::move(request));
  co_return response.ok() ? Status::OK() : response.status();
}

Task<Result<std::chrono::microseconds>> PingTask(ClientContext* ctx, ServerNode node) {
  const auto start = std::chrono::steady_clock::now();
  proto::ApiVersionsRequest request;
  request.set_client_software_name("strom-cli");
  request.set_client_software_version("ping");
  auto response = co_await ctx->CallNode<ApiKey::kApiVersions>(node, std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  co_return std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
}

}  // namespace

namespace client {

/// ListOffsets for `buckets` of `path` (all buckets when empty): metadata for the leaders,
/// then one request per leader, retrying once after a metadata refresh when a leader moved.
Task<Result<std::map<BucketId, LogOffset>>> ListOffsetsTask(ClientContext* ctx, TablePath path,
                                                            std::vector<BucketId> buckets,
                                                            OffsetSpec spec) {
  std::map<BucketId, LogOffset> out;
  std::vector<BucketId> wanted = buckets;
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    STROM_CO_RETURN_IF_ERROR(co_await ctx->UpdateMetadata(OneTable(path)));
    std::shared_ptr<const Cluster> cluster = ctx->metadata().Get();
    const Cluster::TableMeta* meta = cluster->FindTable(path);
    if (meta == nullptr) {
      co_return MakeError(ErrorCode::kTableNotExist, "table {} does not exist", path.ToString());
    }
    if (wanted.empty()) {
      for (size_t i = 0; i < meta->leaders.size(); ++i) {
        wanted.emplace_back(static_cast<int32_t>(i));
      }
    }
    // Group by leader.
    std::map<ServerId, std::vector<BucketId>> by_leader;
    bool missing_leader = false;
    for (BucketId bucket : wanted) {
      if (out.count(bucket) > 0) continue;
      if (bucket.value() < 0 || static_cast<size_t>(bucket.value()) >= meta->leaders.size()) {
        co_return MakeError(ErrorCode::kUnknownTableOrBucket, "table {} has no bucket {}",
                            path.ToString(), bucket);
      }
      std::optional<ServerNode> leader = cluster->Leader(TableBucket(meta->table_id, bucket));
      if (!leader) {
        missing_leader = true;
        last = MakeError(ErrorCode::kLeaderNotAvailable, "bucket {} of {} has no leader", bucket,
                         path.ToString());
        continue;
      }
      by_leader[leader->id].push_back(bucket);
    }
    bool retry = missing_leader;
    for (const auto& [leader_id, leader_buckets] : by_leader) {
      proto::ListOffsetsRequest request;
      request.set_follower_server_id(-1);
      request.set_table_id(meta->table_id.value());
      switch (spec.kind) {
        case OffsetSpec::Kind::kEarliest:
          request.set_offset_type(0);
          break;
        case OffsetSpec::Kind::kLatest:
          request.set_offset_type(1);
          break;
        case OffsetSpec::Kind::kTimestamp:
          request.set_offset_type(2);
          request.set_starttimestamp(spec.timestamp_ms);
          break;
      }
      for (BucketId b : leader_buckets) request.add_bucket_id(b.value());
      ServerNode node = cluster->tablet_servers().at(leader_id);
      auto response = co_await ctx->CallNode<proto::ApiKey::kListOffsets>(node, std::move(request));
      if (!response.ok()) {
        if (!response.status().IsRetriable()) co_return std::move(response).status();
        last = response.status();
        retry = true;
        continue;
      }
      for (const auto& entry : response->buckets_resp()) {
        if (entry.has_error_code()) {
          Status error(ErrorCodeFromWire(entry.error_code()), entry.error_message());
          if (!error.IsRetriable()) co_return error;
          last = error;
          retry = true;
          continue;
        }
        if (!entry.has_offset()) {
          co_return MakeError(ErrorCode::kCorruptMessage,
                              "ListOffsets answer for bucket {} has no offset", entry.bucket_id());
        }
        out[BucketId(entry.bucket_id())] = LogOffset(entry.offset());
      }
    }
    if (!retry) break;
    ctx->InvalidateLeaders(meta->table_id);
    asio::steady_timer timer(ctx->executor(), std::chrono::milliseconds(100 << attempt));
    co_await timer.async_wait(kAwaitTuple);
  }
  for (BucketId bucket : wanted) {
    if (out.count(bucket) == 0) {
      co_return last.ok() ? MakeError(ErrorCode::kLeaderNotAvailable,
                                      "no offset for bucket {} of {}", bucket, path.ToString())
                          : last;
    }
  }
  co_return out;
}

}  // namespace client

std::string RebalanceStatusName(RebalanceStatus status) {
  switch (status) {
    case RebalanceStatus::kNotStarted:
      return "NOT_STARTED";
    case RebalanceStatus::kRebalancing:
      return "REBALANCING";
    case RebalanceStatus::kFailed:
      return "FAILED";
    case RebalanceStatus::kCompleted:
      return "COMPLETED";
    case RebalanceStatus::kCanceled:
      return "CANCELED";
  }
  return fmt::format("UNKNOWN({})", static_cast<int32_t>(status));
}

bool IsFinal(RebalanceStatus status) {
  return status == RebalanceStatus::kCompleted || status == RebalanceStatus::kCanceled ||
         status == RebalanceStatus::kFailed;
}

double RebalanceProgress::progress() const {
  if (buckets.empty()) return 1.0;
  size_t finished = 0;
  for (const RebalanceBucketProgress& b : buckets) finished += IsFinal(b.status) ? 1 : 0;
  return static_cast<double>(finished) / static_cast<double>(buckets.size());
}

Admin::Admin(std::shared_ptr<ClientContext> context) : context_(std::move(context)) {}
Admin::~Admin() = default;

Status Admin::CreateDatabase(const std::string& name, const DatabaseDescriptor& descriptor,
                             bool ignore_if_exists) {
  return context_->RunSync(
      CreateDatabaseTask(context_.get(), name, descriptor.ToJson(), ignore_if_exists));
}

Status Admin::DropDatabase(const std::string& name, bool ignore_if_not_exists, bool cascade) {
  return context_->RunSync(DropDatabaseTask(context_.get(), name, ignore_if_not_exists, cascade));
}

Result<std::vector<std::string>> Admin::ListDatabases() {
  return context_->RunSync(ListDatabasesTask(context_.get()));
}

Result<bool> Admin::DatabaseExists(const std::string& name) {
  return context_->RunSync(DatabaseExistsTask(context_.get(), name));
}

Result<DatabaseInfo> Admin::GetDatabaseInfo(const std::string& name) {
  return context_->RunSync(GetDatabaseInfoTask(context_.get(), name));
}

Status Admin::CreateTable(const TablePath& path, const TableDescriptor& descriptor,
                          bool ignore_if_exists) {
  return context_->RunSync(
      CreateTableTask(context_.get(), path, descriptor.ToJson(), ignore_if_exists));
}

Status Admin::DropTable(const TablePath& path, bool ignore_if_not_exists) {
  return context_->RunSync(DropTableTask(context_.get(), path, ignore_if_not_exists));
}

Result<std::vector<std::string>> Admin::ListTables(const std::string& database) {
  return context_->RunSync(ListTablesTask(context_.get(), database));
}

Result<bool> Admin::TableExists(const TablePath& path) {
  return context_->RunSync(TableExistsTask(context_.get(), path));
}

Result<TableInfo> Admin::GetTableInfo(const TablePath& path) {
  return context_->RunSync(context_->FetchTableInfo(path));
}

Result<SchemaInfo> Admin::GetTableSchema(const TablePath& path,
                                         std::optional<SchemaId> schema_id) {
  return context_->RunSync(GetTableSchemaTask(context_.get(), path, schema_id));
}

Result<std::map<BucketId, LogOffset>> Admin::ListOffsets(const TablePath& path,
                                                         const std::vector<BucketId>& buckets,
                                                         const OffsetSpec& spec) {
  return context_->RunSync(client::ListOffsetsTask(context_.get(), path, buckets, spec));
}

Result<std::vector<ServerNode>> Admin::GetServerNodes() {
  return context_->RunSync(GetServerNodesTask(context_.get()));
}

Result<std::vector<BucketLocation>> Admin::GetBucketLocations(const TablePath& path) {
  return context_->RunSync(GetBucketLocationsTask(context_.get(), path));
}

Result<std::chrono::microseconds> Admin::Ping(const ServerNode& node) {
  return context_->RunSync(PingTask(context_.get(), node));
}

Result<std::string> Admin::Rebalance(const std::vector<RebalanceGoal>& goals) {
  return context_->RunSync(RebalanceTask(context_.get(), goals));
}

Result<std::optional<RebalanceProgress>> Admin::ListRebalanceProgress(
    const std::optional<std::string>& rebalance_id) {
  return context_->RunSync(ListRebalanceProgressTask(context_.get(), rebalance_id));
}

Status Admin::CancelRebalance(const std::optional<std::string>& rebalance_id) {
  return context_->RunSync(CancelRebalanceTask(context_.get(), rebalance_id));
}

Status Admin::AddServerTag(const std::vector<ServerId>& servers, ServerTag tag) {
  return context_->RunSync(ServerTagTask(context_.get(), servers, tag, true));
}

Status Admin::RemoveServerTag(const std::vector<ServerId>& servers, ServerTag tag) {
  return context_->RunSync(ServerTagTask(context_.get(), servers, tag, false));
}

}  // namespace strom
