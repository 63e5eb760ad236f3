#include "replica/replica_manager.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>

#include "common/config/config.h"
#include "common/logging.h"
#include "record/log_record_batch.h"

namespace strom::replica {
namespace {

namespace fs = std::filesystem;
using metadata::TableBucket;

constexpr std::string_view kComponent = "replica";

Status UnknownBucket(const TableBucket& bucket) {
  return MakeError(ErrorCode::kUnknownTableOrBucket,
                   "Unknown table or bucket: {} is not hosted by this server.", bucket);
}

/// The table id of a directory named `{table}-{tableId}`, or nullopt.
std::optional<int64_t> TableIdOfDir(const std::string& name) {
  auto dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 >= name.size()) return std::nullopt;
  int64_t id = 0;
  auto [end, ec] = std::from_chars(name.data() + dash + 1, name.data() + name.size(), id);
  if (ec != std::errc() || end != name.data() + name.size() || id < 0) return std::nullopt;
  return id;
}

}  // namespace

ReplicaManager::ReplicaManager(Executor reactor, ReplicaManagerOptions options,
                               metadata::MetadataStore& store)
    : reactor_(reactor),
      options_(std::move(options)),
      store_(store),
      delayed_fetches_(reactor, options_.max_waiting_fetches),
      maintenance_timer_(reactor) {}

ReplicaManager::~ReplicaManager() = default;

std::string ReplicaManager::TableDir(const metadata::TableInfo& table) const {
  return fmt::format("{}/{}/{}-{}", options_.data_dir, table.path.database, table.path.table,
                     table.table_id);
}

std::string ReplicaManager::TabletDir(const metadata::TableInfo& table, BucketId bucket) const {
  return fmt::format("{}/log-{}", TableDir(table), bucket);
}

Task<Status> ReplicaManager::Start() {
  // Every registered table with its assignment; buckets assigned here are opened.
  std::unordered_map<int64_t, std::string> live_dirs;
  std::set<int64_t> live_ids;
  STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> dbs, co_await store_.ListDatabases());
  for (const std::string& db : dbs) {
    STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> tables, co_await store_.ListTables(db));
    for (const std::string& name : tables) {
      metadata::TablePath path{db, name};
      STROM_CO_ASSIGN_OR_RETURN(auto info, co_await metadata::LoadTableInfo(store_, path));
      if (!info) continue;
      live_ids.insert(info->table_id.value());
      live_dirs[info->table_id.value()] = TableDir(*info);
      STROM_CO_ASSIGN_OR_RETURN(auto assignment,
                                co_await store_.GetTableAssignment(info->table_id));
      if (!assignment) continue;
      auto shared = std::make_shared<const metadata::TableInfo>(std::move(*info));
      STROM_CO_RETURN_IF_ERROR(CreateTableBuckets(shared, *assignment));
    }
  }
  // A crash between dropping a table and deleting its tablets leaves directories and an
  // assignment behind; finish the drop now.
  STROM_CO_RETURN_IF_ERROR(DeleteOrphanDirs(live_dirs));
  STROM_CO_ASSIGN_OR_RETURN(auto assignments, co_await store_.ListTableAssignments());
  for (const auto& [table_id, assignment] : assignments) {
    if (live_ids.count(table_id.value()) == 0) {
      STROM_CO_RETURN_IF_ERROR(co_await store_.DeleteTableAssignment(table_id));
    }
  }
  SpawnBackground(reactor_, gate_, "replica-maintenance", MaintenanceLoop());
  STROM_LOG_INFO(kComponent, "hosting {} buckets from {}", replicas_.size(), options_.data_dir);
  co_return Status::OK();
}

Status ReplicaManager::DeleteOrphanDirs(const std::unordered_map<int64_t, std::string>& live) {
  std::error_code ec;
  for (const auto& db_entry : fs::directory_iterator(options_.data_dir, ec)) {
    const std::string db_name = db_entry.path().filename().string();
    if (!db_entry.is_directory() || db_name.empty() || db_name[0] == '.') continue;
    std::error_code inner;
    for (const auto& table_entry : fs::directory_iterator(db_entry.path(), inner)) {
      if (!table_entry.is_directory()) continue;
      auto id = TableIdOfDir(table_entry.path().filename().string());
      if (!id) continue;
      auto it = live.find(*id);
      if (it != live.end() && fs::path(it->second) == table_entry.path()) continue;
      STROM_LOG_INFO(kComponent, "deleting tablets of dropped table {}", table_entry.path().string());
      std::error_code rm;
      fs::remove_all(table_entry.path(), rm);
      if (rm) {
        return MakeError(ErrorCode::kStorage, "cannot delete {}: {}",
                         table_entry.path().string(), rm.message());
      }
    }
  }
  return Status::OK();
}

Task<void> ReplicaManager::Stop() {
  stopping_ = true;
  delayed_fetches_.Stop();
  maintenance_timer_.cancel();
  co_await gate_.Close();
  for (auto& [bucket, replica] : replicas_) {
    Status s = replica->log->Close();
    if (!s.ok()) STROM_LOG_WARN(kComponent, "closing {}: {}", bucket, s.ToString());
  }
  replicas_.clear();
}

Task<void> ReplicaManager::MaintenanceLoop() {
  while (!stopping_) {
    maintenance_timer_.expires_after(options_.maintenance_interval);
    co_await maintenance_timer_.async_wait(kAwaitTuple);
    if (stopping_) break;
    for (auto& [bucket, replica] : replicas_) {
      Status s = replica->log->Maintain();
      if (!s.ok()) STROM_LOG_WARN(kComponent, "maintenance of {}: {}", bucket, s.ToString());
    }
  }
}

Status ReplicaManager::OpenReplica(std::shared_ptr<const metadata::TableInfo> table,
                                   BucketId bucket) {
  TableBucket key{table->table_id, std::nullopt, bucket};
  if (replicas_.count(key) > 0) return Status::OK();
  log::LogTabletOptions opts;
  opts.dir = TabletDir(*table, bucket);
  opts.config = options_.log_config;
  if (const std::string* ttl = table->descriptor.Property("table.log.ttl")) {
    auto parsed = config::ParseDuration(*ttl);
    if (parsed.ok()) opts.config.ttl = *parsed;
  }
  auto tablet = log::LogTablet::Open(std::move(opts));
  if (!tablet.ok()) return tablet.status().WithContext(key.ToString());
  // One replica: everything in the log is committed.
  STROM_RETURN_IF_ERROR((*tablet)->UpdateHighWatermark((*tablet)->log_end_offset()));
  auto replica = std::make_unique<Replica>();
  replica->bucket = key;
  replica->table = std::move(table);
  replica->log = std::move(tablet).value();
  replicas_.emplace(key, std::move(replica));
  return Status::OK();
}

Status ReplicaManager::CreateTableBuckets(std::shared_ptr<const metadata::TableInfo> table,
                                          const metadata::TableAssignment& assignment) {
  for (const auto& [bucket, replicas] : assignment.buckets) {
    if (std::find(replicas.begin(), replicas.end(), options_.server_id) == replicas.end()) {
      continue;
    }
    STROM_RETURN_IF_ERROR(OpenReplica(table, bucket));
  }
  return Status::OK();
}

Status ReplicaManager::DropTableBuckets(TableId table_id) {
  std::optional<std::string> table_dir;
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    if (it->first.table_id != table_id) {
      ++it;
      continue;
    }
    table_dir = TableDir(*it->second->table);
    delayed_fetches_.Notify(it->first);
    Status s = it->second->log->Drop();
    if (!s.ok()) return s.WithContext(it->first.ToString());
    it = replicas_.erase(it);
  }
  if (table_dir) {
    std::error_code ec;
    fs::remove_all(*table_dir, ec);
    if (ec) return MakeError(ErrorCode::kStorage, "cannot delete {}: {}", *table_dir, ec.message());
    // The database directory goes with its last table (remove() leaves a non-empty one).
    fs::remove(fs::path(*table_dir).parent_path(), ec);
  }
  return Status::OK();
}

Replica* ReplicaManager::Find(const TableBucket& bucket) {
  auto it = replicas_.find(bucket);
  return it == replicas_.end() ? nullptr : it->second.get();
}

Result<LogOffset> ReplicaManager::AppendToLeader(const TableBucket& bucket,
                                                 std::span<char> records) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  // Every batch must name a schema of the table (ids 1..latest).
  record::LogRecordBatchIterator batches(ByteView(records.data(), records.size()));
  while (true) {
    auto next = batches.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    SchemaId id = (*next)->schema_id();
    if (id.value() < 1 || id > replica->table->schema_id) {
      return MakeError(ErrorCode::kSchemaNotExist,
                       "Schema id {} of a batch for {} does not exist (latest is {}).", id,
                       bucket, replica->table->schema_id);
    }
  }
  if (batches.truncated()) {
    return MakeError(ErrorCode::kCorruptRecord, "records for {} end in an incomplete batch",
                     bucket);
  }
  STROM_ASSIGN_OR_RETURN(log::LogAppendInfo info, replica->log->AppendAsLeader(records));
  if (!info.duplicate && info.batch_count > 0) {
    STROM_ASSIGN_OR_RETURN(bool moved,
                           replica->log->MaybeIncrementHighWatermark(replica->log->log_end_offset()));
    if (moved) delayed_fetches_.Notify(bucket);
  }
  return info.first_offset;
}

Result<BucketRead> ReplicaManager::Read(const TableBucket& bucket, LogOffset fetch_offset,
                                        int64_t max_bytes, bool min_one_batch) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  log::ReadParams params;
  params.fetch_offset = fetch_offset;
  params.max_bytes = max_bytes;
  params.isolation = log::FetchIsolation::kHighWatermark;
  params.min_one_batch = min_one_batch;
  STROM_ASSIGN_OR_RETURN(log::FetchDataInfo data, replica->log->Read(params));
  return BucketRead{std::move(data.records), replica->log->high_watermark(),
                    replica->log->log_start_offset()};
}

Result<LogOffset> ReplicaManager::ListOffset(const TableBucket& bucket, log::OffsetSpec spec,
                                             TimestampMs timestamp) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  return replica->log->ListOffset(spec, timestamp, /*for_follower=*/false);
}

}  // namespace strom::replica
