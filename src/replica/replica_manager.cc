#include "replica/replica_manager.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>

#include "common/config/config.h"
#include "common/logging.h"
#include "kv/kv_table_config.h"
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
Status NonPrimaryKeyTable(const TableBucket& bucket) {
  return MakeError(ErrorCode::kNonPrimaryKeyTable,
                   "the primary key table not exists for {}: its table has no primary key.",
                   bucket);
}

/// What a KV tablet needs to know about its (non-partitioned) table.
kv::KvTableInfo MakeKvTableInfo(const metadata::TableInfo& table) {
  kv::KvTableInfo info;
  info.table_id = table.table_id;
  // Without partitions the physical primary key is the whole primary key (empty = that).
  const std::vector<std::string>& pk = table.schema().primary_key();
  const std::vector<std::string>& bucket_keys = table.descriptor.bucket_keys();
  info.is_default_bucket_key = bucket_keys.empty() || bucket_keys == pk;
  info.properties = table.descriptor.properties();
  return info;
}

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
      kv_scanners_(options_.scanners),
      delayed_fetches_(reactor, options_.max_waiting_fetches),
      maintenance_timer_(reactor),
      kv_checkpoint_timer_(reactor),
      scanner_expiry_timer_(reactor) {}

ReplicaManager::~ReplicaManager() = default;

std::string ReplicaManager::TableDir(const metadata::TableInfo& table) const {
  return fmt::format("{}/{}/{}-{}", options_.data_dir, table.path.database, table.path.table,
                     table.table_id);
}

std::string ReplicaManager::TabletDir(const metadata::TableInfo& table, BucketId bucket) const {
  return fmt::format("{}/log-{}", TableDir(table), bucket);
}

std::string ReplicaManager::KvTabletDir(const metadata::TableInfo& table, BucketId bucket) const {
  return fmt::format("{}/kv-{}", TableDir(table), bucket);
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
  if (options_.kv_snapshot_interval.count() > 0) {
    SpawnBackground(reactor_, gate_, "kv-checkpoint", KvCheckpointLoop());
  }
  SpawnBackground(reactor_, gate_, "kv-scanner-expiry", ScannerExpiryLoop());
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
  kv_checkpoint_timer_.cancel();
  scanner_expiry_timer_.cancel();
  co_await gate_.Close();
  kv_scanners_.CloseAll();
  for (auto& [bucket, replica] : replicas_) {
    if (replica->kv) {
      // Close() checkpoints, so the next start replays nothing.
      Status s = replica->kv->Close();
      if (!s.ok()) STROM_LOG_WARN(kComponent, "closing the KV tablet of {}: {}", bucket, s.ToString());
      replica->kv.reset();
    }
    Status s = replica->log->Close();
    if (!s.ok()) STROM_LOG_WARN(kComponent, "closing {}: {}", bucket, s.ToString());
  }
  replicas_.clear();
  id_counters_.clear();
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

Task<void> ReplicaManager::KvCheckpointLoop() {
  while (!stopping_) {
    kv_checkpoint_timer_.expires_after(options_.kv_snapshot_interval);
    co_await kv_checkpoint_timer_.async_wait(kAwaitTuple);
    if (stopping_) break;
    CheckpointKvTablets();
  }
}

Task<void> ReplicaManager::ScannerExpiryLoop() {
  const auto interval = std::max(options_.scanners.expiration_interval,
                                 std::chrono::milliseconds(10));
  while (!stopping_) {
    scanner_expiry_timer_.expires_after(interval);
    co_await scanner_expiry_timer_.async_wait(kAwaitTuple);
    if (stopping_) break;
    size_t evicted = kv_scanners_.EvictExpired();
    if (evicted > 0) STROM_LOG_INFO(kComponent, "closed {} idle KV scanners", evicted);
  }
}

size_t ReplicaManager::CheckpointKvTablets() {
  size_t taken = 0;
  for (auto& [bucket, replica] : replicas_) {
    if (!replica->kv || replica->kv->flushed_log_offset() == replica->checkpointed_offset) {
      continue;
    }
    auto checkpoint = replica->kv->TakeCheckpoint();
    if (!checkpoint.ok()) {
      STROM_LOG_WARN(kComponent, "checkpoint of the KV tablet of {}: {}", bucket,
                     checkpoint.status().ToString());
      continue;
    }
    replica->checkpointed_offset = checkpoint->metadata.log_offset;
    ++taken;
  }
  return taken;
}

Status ReplicaManager::CheckKvTable(const record::TableDescriptor& table) {
  if (!table.HasPrimaryKey()) return Status::OK();
  const std::vector<std::string>& pk = table.schema().primary_key();
  const std::vector<std::string>& bucket_keys = table.bucket_keys();
  return kv::KvTableConfig::Make(table.properties(), table.schema(),
                                 bucket_keys.empty() || bucket_keys == pk)
      .status();
}

Result<kv::SequenceIdCounter*> ReplicaManager::AutoIncrementCounter(
    const metadata::TableInfo& table) {
  auto it = id_counters_.find(table.table_id);
  if (it != id_counters_.end()) return it->second.get();
  STROM_ASSIGN_OR_RETURN(auto counter,
                         FileSequenceIdCounter::Open(TableDir(table) + "/auto-increment"));
  kv::SequenceIdCounter* raw = counter.get();
  id_counters_.emplace(table.table_id, std::move(counter));
  return raw;
}

Status ReplicaManager::OpenKvTablet(Replica* replica) {
  const metadata::TableInfo& table = *replica->table;
  kv::KvTabletOptions opts;
  opts.dir = KvTabletDir(table, replica->bucket.bucket);
  opts.table = MakeKvTableInfo(table);
  opts.schemas = kv::SchemaSet(table.schema_id, table.schema());
  opts.rocksdb = options_.rocksdb;
  opts.num_retained_checkpoints = options_.kv_snapshot_num_retained;
  opts.recover_read_bytes = options_.kv_recover_read_bytes;
  opts.log = replica->log.get();
  STROM_ASSIGN_OR_RETURN(opts.auto_increment_counter, AutoIncrementCounter(table));
  auto kv = kv::KvTablet::Open(std::move(opts));
  if (!kv.ok()) return kv.status().WithContext(replica->bucket.ToString());
  replica->kv = std::move(kv).value();
  // Nothing replayed: the state is that of the newest checkpoint (or empty), so the periodic
  // checkpoint has nothing new to save until the next write.
  if (replica->kv->recovered_record_count() == 0) {
    replica->checkpointed_offset = replica->kv->flushed_log_offset();
  }
  if (replica->kv->recovered_record_count() > 0) {
    STROM_LOG_INFO(kComponent, "KV tablet of {} recovered: {} changelog records replayed",
                   replica->bucket, replica->kv->recovered_record_count());
  }
  return Status::OK();
}

Status ReplicaManager::OpenReplica(std::shared_ptr<const metadata::TableInfo> table,
                                   BucketId bucket) {
  TableBucket key{table->table_id, std::nullopt, bucket};
  if (replicas_.count(key) > 0) return Status::OK();
  log::LogTabletOptions opts;
  opts.dir = TabletDir(*table, bucket);
  opts.config = options_.log_config;
  opts.is_changelog = table->HasPrimaryKey();
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
  if (replica->table->HasPrimaryKey()) STROM_RETURN_IF_ERROR(OpenKvTablet(replica.get()));
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
    kv_scanners_.CloseBucket(it->first);
    // The state goes with the directory: no checkpoint, just release RocksDB.
    it->second->kv.reset();
    Status s = it->second->log->Drop();
    if (!s.ok()) return s.WithContext(it->first.ToString());
    it = replicas_.erase(it);
  }
  id_counters_.erase(table_id);
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
  if (replica->kv) {
    // The log of a primary-key bucket is its KV tablet's write-ahead log: a record appended
    // behind the tablet's back would be replayed into the state at the next recovery.
    return MakeError(ErrorCode::kInvalidTable,
                     "{} belongs to primary key table {}: write to it with PutKv, not ProduceLog.",
                     bucket, replica->table->path);
  }
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

Result<Replica*> ReplicaManager::FindKv(const TableBucket& bucket) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  if (!replica->kv) return NonPrimaryKeyTable(bucket);
  return replica;
}

Result<kv::KvPutResult> ReplicaManager::PutKv(const TableBucket& bucket, ByteView records,
                                              const kv::PutKvParams& params) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FindKv(bucket));
  STROM_ASSIGN_OR_RETURN(kv::KvPutResult result, replica->kv->PutAsLeader(records, params));
  if (!result.duplicate) {
    // One replica: the changelog is committed as soon as it is appended.
    STROM_ASSIGN_OR_RETURN(bool moved, replica->log->MaybeIncrementHighWatermark(
                                           replica->log->log_end_offset()));
    STROM_RETURN_IF_ERROR(replica->kv->FlushUpTo(replica->log->high_watermark()));
    if (moved) delayed_fetches_.Notify(bucket);
  }
  return result;
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
