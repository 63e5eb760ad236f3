#include "replica/replica_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>

#include "common/config/config.h"
#include "common/config/options.h"
#include "common/logging.h"
#include "kv/kv_table_config.h"
#include "record/log_record_batch.h"
#include "replica/high_watermark_checkpoint.h"

namespace strom::replica {
namespace {

namespace fs = std::filesystem;
using metadata::TableBucket;

constexpr std::string_view kComponent = "replica";

// Hot-standby KV tablets (cluster mode): the changelog one step of the sync loop applies per
// bucket before the reactor serves other work; how often the loop looks when idle; how long
// a failed open waits before the next try.
constexpr int64_t kKvApplyStepBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kKvSyncInterval(10);
constexpr std::chrono::milliseconds kKvOpenRetryDelay(1000);

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

void ReplicaManagerOptions::ApplyReplicationConfig(const config::Configuration& conf) {
  replica_max_lag_time = conf.Get(config::kLogReplicaMaxLagTime);
  min_in_sync_replicas = conf.Get(config::kLogReplicaMinInSyncReplicasNumber);
  fetcher.backoff = conf.Get(config::kLogReplicaFetchBackoffInterval);
  fetcher.max_bytes = static_cast<int32_t>(
      std::clamp<int64_t>(conf.Get(config::kLogReplicaFetchMaxBytes), 1, INT32_MAX));
  fetcher.max_bytes_per_bucket = static_cast<int32_t>(
      std::clamp<int64_t>(conf.Get(config::kLogReplicaFetchMaxBytesForBucket), 1, INT32_MAX));
  fetcher.max_wait = conf.Get(config::kLogReplicaFetchWaitMaxTime);
  fetcher.min_bytes = static_cast<int32_t>(
      std::clamp<int64_t>(conf.Get(config::kLogReplicaFetchMinBytes), 0, INT32_MAX));
  high_watermark_checkpoint_interval = conf.Get(config::kLogReplicaHighWatermarkCheckpointInterval);
}

ReplicaManager::ReplicaManager(Executor reactor, ReplicaManagerOptions options,
                               metadata::MetadataStore& store)
    : reactor_(reactor),
      options_(std::move(options)),
      store_(store),
      kv_scanners_(options_.scanners),
      delayed_fetches_(reactor, options_.max_waiting_fetches),
      delayed_writes_(reactor, options_.max_waiting_writes),
      maintenance_timer_(reactor),
      kv_checkpoint_timer_(reactor),
      scanner_expiry_timer_(reactor),
      isr_expiration_timer_(reactor),
      hw_checkpoint_timer_(reactor),
      kv_sync_timer_(reactor) {}

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
  if (options_.kv_flush_off_reactor && !kv_flush_pool_) {
    kv_flush_pool_ = std::make_unique<asio::thread_pool>(1);
  }
  if (!options_.local_leadership) {
    // A cluster tablet server opens buckets when the coordinator names their leaders, each
    // from the high watermark it had when this file was last written.
    auto saved = ReadHighWatermarks(nullptr, HighWatermarkCheckpointPath());
    if (!saved.ok()) {
      // Starting every bucket at 0 instead is safe: leaders and followers raise it again.
      STROM_LOG_WARN(kComponent, "{}; every bucket starts from high watermark 0",
                     saved.status().ToString());
    } else {
      saved_high_watermarks_ = std::move(saved).value();
    }
    if (options_.high_watermark_checkpoint_interval.count() > 0) {
      SpawnBackground(reactor_, gate_, "hw-checkpoint", HighWatermarkCheckpointLoop());
    }
    SpawnBackground(reactor_, gate_, "replica-maintenance", MaintenanceLoop());
    if (options_.kv_snapshot_interval.count() > 0) {
      SpawnBackground(reactor_, gate_, "kv-checkpoint", KvCheckpointLoop());
    }
    SpawnBackground(reactor_, gate_, "kv-scanner-expiry", ScannerExpiryLoop());
    SpawnBackground(reactor_, gate_, "isr-expiration", IsrExpirationLoop());
    kv_pool_ = std::make_unique<asio::thread_pool>(1);
    SpawnBackground(reactor_, gate_, "kv-sync", KvSyncLoop());
    STROM_LOG_INFO(kComponent, "replica manager of server {} started (cluster mode)",
                   options_.server_id);
    co_return Status::OK();
  }
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
      STROM_LOG_INFO(kComponent, "deleting tablets of dropped table {}",
                     table_entry.path().string());
      std::error_code rm;
      fs::remove_all(table_entry.path(), rm);
      if (rm) {
        return MakeError(ErrorCode::kStorage, "cannot delete {}: {}", table_entry.path().string(),
                         rm.message());
      }
    }
  }
  return Status::OK();
}

Task<void> ReplicaManager::Stop() {
  stopping_ = true;
  delayed_fetches_.Stop();
  delayed_writes_.Stop();
  maintenance_timer_.cancel();
  kv_checkpoint_timer_.cancel();
  scanner_expiry_timer_.cancel();
  isr_expiration_timer_.cancel();
  hw_checkpoint_timer_.cancel();
  kv_sync_timer_.cancel();
  for (auto& [leader, fetcher] : fetchers_) co_await fetcher->Stop();
  fetchers_.clear();
  co_await gate_.Close();
  if (!options_.local_leadership && !replicas_.empty()) {
    Status s = CheckpointHighWatermarks();
    if (!s.ok()) STROM_LOG_WARN(kComponent, "{}", s.ToString());
  }
  kv_scanners_.CloseAll();
  for (auto& [bucket, replica] : replicas_) {
    if (replica->kv) {
      // Close() checkpoints, so the next start replays nothing.
      Status s = replica->kv->Close();
      if (!s.ok())
        STROM_LOG_WARN(kComponent, "closing the KV tablet of {}: {}", bucket, s.ToString());
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
  const auto interval =
      std::max(options_.scanners.expiration_interval, std::chrono::milliseconds(10));
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

Result<kv::KvTabletOptions> ReplicaManager::KvTabletOptionsFor(const Replica& replica) {
  const metadata::TableInfo& table = *replica.table;
  kv::KvTabletOptions opts;
  opts.dir = KvTabletDir(table, replica.bucket.bucket);
  opts.table = MakeKvTableInfo(table);
  opts.schemas = kv::SchemaSet(table.schema_id, table.schema());
  opts.rocksdb = options_.rocksdb;
  opts.num_retained_checkpoints = options_.kv_snapshot_num_retained;
  opts.recover_read_bytes = options_.kv_recover_read_bytes;
  opts.log = replica.log.get();
  STROM_ASSIGN_OR_RETURN(opts.auto_increment_counter, AutoIncrementCounter(table));
  return opts;
}

Status ReplicaManager::OpenKvTablet(Replica* replica) {
  STROM_ASSIGN_OR_RETURN(kv::KvTabletOptions opts, KvTabletOptionsFor(*replica));
  auto kv = kv::KvTablet::Open(std::move(opts));
  if (!kv.ok()) return kv.status().WithContext(replica->bucket.ToString());
  replica->kv = std::move(kv).value();
  replica->kv_ready = true;
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
  if (options_.local_leadership) {
    // One replica: everything in the log is committed.
    STROM_RETURN_IF_ERROR((*tablet)->UpdateHighWatermark((*tablet)->log_end_offset()));
  } else {
    // Replicated: only what was known committed when the checkpoint was written (0 when the
    // bucket is not in it). Taking the whole log would let a new leader serve, and a PK
    // bucket flush into RocksDB, records that other replicas lack and may cut off.
    auto saved = saved_high_watermarks_.find(key);
    const LogOffset hw = saved == saved_high_watermarks_.end() ? LogOffset(0) : saved->second;
    STROM_RETURN_IF_ERROR((*tablet)->UpdateHighWatermark(hw));
  }
  auto replica = std::make_unique<Replica>();
  replica->bucket = key;
  replica->table = std::move(table);
  replica->log = std::move(tablet).value();
  if (options_.local_leadership) {
    // Single node: the only replica leads, alone in its ISR.
    ReplicationState& repl = replica->repl;
    repl.is_leader = true;
    repl.leader = options_.server_id;
    repl.leader_epoch = LeaderEpoch(0);
    repl.bucket_epoch = BucketEpoch(0);
    repl.replicas = {options_.server_id};
    repl.isr = {options_.server_id};
    repl.leader_end_offset_snapshot = replica->log->log_end_offset();
    if (replica->table->HasPrimaryKey()) STROM_RETURN_IF_ERROR(OpenKvTablet(replica.get()));
  } else {
    STROM_ASSIGN_OR_RETURN(replica->repl.epoch_start, ReadEpochStart(nullptr, replica->log->dir()));
  }
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
    RemoveFetcher(it->first);
    it->second->repl.is_leader = false;
    WakeBucket(it->first);
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

namespace {

Status NotLeader(const TableBucket& bucket, ServerId self) {
  return MakeError(ErrorCode::kNotLeaderOrFollower,
                   "Leader not local for bucket {} on tabletServer {}", bucket, self);
}

}  // namespace

TimestampMs ReplicaManager::NowMs() const {
  return TimestampMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
}

bool ReplicaManager::IsAlive(ServerId id) const {
  // Without a directory (tests, single node) every replica counts as alive.
  return directory_ == nullptr || directory_->FindTabletServer(id).has_value();
}

void ReplicaManager::WakeBucket(const TableBucket& bucket) {
  delayed_fetches_.Notify(bucket);
  delayed_writes_.Notify(bucket);
}

Result<LogOffset> ReplicaManager::AppendToLeader(const TableBucket& bucket,
                                                 std::span<char> records) {
  STROM_ASSIGN_OR_RETURN(log::LogAppendInfo info, AppendRecordsToLeader(bucket, records, 1));
  return info.first_offset;
}

Result<log::LogAppendInfo> ReplicaManager::AppendRecordsToLeader(const TableBucket& bucket,
                                                                 std::span<char> records,
                                                                 int32_t acks) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  if (!replica->is_leader()) return NotLeader(bucket, options_.server_id);
  if (replica->table->HasPrimaryKey()) {
    // The log of a primary-key bucket is its KV tablet's write-ahead log: a record appended
    // behind the tablet's back would be replayed into the state at the next recovery.
    return MakeError(ErrorCode::kInvalidTable,
                     "{} belongs to primary key table {}: write to it with PutKv, not ProduceLog.",
                     bucket, replica->table->path);
  }
  if (acks == -1 &&
      static_cast<int32_t>(replica->repl.isr.size()) < options_.min_in_sync_replicas) {
    return MakeError(ErrorCode::kNotEnoughReplicas,
                     "The size of the current ISR {} is insufficient to satisfy the required "
                     "acks -1 for table bucket {}.",
                     fmt::join(replica->repl.isr, ","), bucket);
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
                       "Schema id {} of a batch for {} does not exist (latest is {}).", id, bucket,
                       replica->table->schema_id);
    }
  }
  if (batches.truncated()) {
    return MakeError(ErrorCode::kCorruptRecord, "records for {} end in an incomplete batch",
                     bucket);
  }
  STROM_ASSIGN_OR_RETURN(log::LogAppendInfo info, replica->log->AppendAsLeader(records));
  if (!info.duplicate && info.batch_count > 0) {
    // Followers long-poll for new data, so every append wakes fetches, moved HW or not.
    if (!MaybeIncrementLeaderHighWatermark(replica)) delayed_fetches_.Notify(bucket);
  }
  return info;
}

Task<Status> ReplicaManager::WaitForReplication(TableBucket bucket, LogOffset required_offset,
                                                SteadyClock::time_point deadline) {
  while (true) {
    Replica* replica = Find(bucket);
    if (replica == nullptr || !replica->is_leader()) {
      co_return NotLeader(bucket, options_.server_id);
    }
    if (replica->log->high_watermark() >= required_offset) {
      if (static_cast<int32_t>(replica->repl.maximal_isr().size()) <
          options_.min_in_sync_replicas) {
        co_return MakeError(ErrorCode::kNotEnoughReplicasAfterAppend,
                            "The ISR of {} shrank below {} while the write was replicated.", bucket,
                            options_.min_in_sync_replicas);
      }
      co_return Status::OK();
    }
    if (stopping_ || SteadyClock::now() >= deadline) break;
    std::vector<TableBucket> keys(1, bucket);
    bool waited = co_await delayed_writes_.Wait(std::move(keys), deadline);
    if (!waited) {
      if (stopping_) co_return NotLeader(bucket, options_.server_id);
      co_return MakeError(ErrorCode::kRequestTimeOut,
                          "too many writes wait for replication; {} not acknowledged", bucket);
    }
  }
  co_return MakeError(ErrorCode::kRequestTimeOut,
                      "The write to {} was not replicated to the ISR before the request "
                      "timeout.",
                      bucket);
}

Result<Replica*> ReplicaManager::FindKv(const TableBucket& bucket) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  if (!replica->table->HasPrimaryKey()) return NonPrimaryKeyTable(bucket);
  if (!replica->is_leader()) return NotLeader(bucket, options_.server_id);
  if (!replica->kv || !replica->kv_ready) {
    return MakeError(ErrorCode::kLeaderNotAvailable,
                     "The KV state of {} on leader {} is still being restored; retry.", bucket,
                     options_.server_id);
  }
  return replica;
}

bool ReplicaManager::IsSoleInSyncReplica(const TableBucket& bucket) {
  Replica* replica = Find(bucket);
  return replica != nullptr && replica->is_leader() && replica->repl.isr.size() == 1;
}

Result<kv::KvPutResult> ReplicaManager::PutKv(const TableBucket& bucket, ByteView records,
                                              const kv::PutKvParams& params, int32_t acks) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FindKv(bucket));
  if (acks == -1 &&
      static_cast<int32_t>(replica->repl.isr.size()) < options_.min_in_sync_replicas) {
    return MakeError(ErrorCode::kNotEnoughReplicas,
                     "The size of the current ISR {} is insufficient to satisfy the required "
                     "acks -1 for table bucket {}.",
                     fmt::join(replica->repl.isr, ","), bucket);
  }
  STROM_ASSIGN_OR_RETURN(kv::KvPutResult result, replica->kv->PutAsLeader(records, params));
  if (!result.duplicate) {
    // The KV tablet flushes its pre-write buffer only up to the high watermark, which moves
    // once the ISR has the changelog (at once with a single replica).
    if (!MaybeIncrementLeaderHighWatermark(replica)) delayed_fetches_.Notify(bucket);
  }
  return result;
}

void ReplicaManager::RecomputeHighWatermarks() {
  for (auto& [bucket, replica] : replicas_) {
    if (replica->is_leader()) MaybeIncrementLeaderHighWatermark(replica.get());
  }
}

bool ReplicaManager::MaybeIncrementLeaderHighWatermark(Replica* replica) {
  ReplicationState& repl = replica->repl;
  if (!repl.is_leader) return false;
  if (static_cast<int32_t>(repl.isr.size()) < options_.min_in_sync_replicas) return false;
  const LogOffset leader_end = replica->log->log_end_offset();
  const TimestampMs now = NowMs();
  LogOffset hw = leader_end;
  for (const auto& [id, follower] : repl.followers) {
    if (follower.log_end_offset >= hw) continue;
    const ServerId follower_id(id);
    // Wait for the ISR, and for a follower about to join it (caught up but not yet added).
    if (ReplicationState::Contains(repl.maximal_isr(), follower_id) ||
        (follower.IsCaughtUp(leader_end, now, options_.replica_max_lag_time) &&
         IsAlive(follower_id))) {
      hw = follower.log_end_offset;
    }
  }
  if (hw <= replica->log->high_watermark()) return false;
  // A tablet still catching up as follower applies up to the new high watermark itself. A
  // leader's tablet must hold every change below the high watermark before it moves (lookups
  // read RocksDB only, and an acknowledged write must be visible to them).
  if (replica->kv && replica->kv->is_leader()) {
    kv::KvTablet* kv = replica->kv.get();
    if (kv->flushed_log_offset() < hw && !kv->flush_in_flight()) {
      Status flushed;
      if (kv_flush_pool_) {
        // The RocksDB write goes to the flush worker; FinishKvFlush moves the high watermark
        // once it is in. Meanwhile it moves no further than the tablet's flushed offset.
        auto job = kv->BeginFlush(hw);
        if (!job.ok()) {
          flushed = job.status();
        } else if (*job && !SpawnBackground(reactor_, gate_, "kv-flush",
                                            FinishKvFlush(replica->bucket, *job))) {
          flushed = kv->SettleFlush();  // stopping: no worker any more, write it here
        }
      } else {
        flushed = kv->FlushUpTo(hw);
      }
      if (!flushed.ok()) {
        STROM_LOG_WARN(kComponent, "flushing the KV tablet of {} to {}: {}", replica->bucket,
                       hw, flushed.ToString());
        return false;
      }
    }
    hw = std::min(hw, kv->flushed_log_offset());
    if (hw <= replica->log->high_watermark()) return false;
  }
  auto moved = replica->log->MaybeIncrementHighWatermark(hw);
  if (!moved.ok() || !*moved) return false;
  WakeBucket(replica->bucket);
  return true;
}

Task<void> ReplicaManager::FinishKvFlush(TableBucket bucket,
                                         std::shared_ptr<kv::KvFlushJob> job) {
  auto write = [job] {
    job->Run();
    return true;
  };
  co_await RunBlocking(*kv_flush_pool_, std::move(write));
  // The tablet may have settled the flush itself meanwhile (a role change, a checkpoint), or
  // be gone; then there is nothing left to do here.
  Replica* replica = Find(bucket);
  if (replica == nullptr || !replica->kv) co_return;
  Status settled = replica->kv->SettleFlush(/*wait=*/false);
  if (!settled.ok()) {
    STROM_LOG_WARN(kComponent, "flushing the KV tablet of {}: {}", bucket, settled.ToString());
    co_return;
  }
  MaybeIncrementLeaderHighWatermark(replica);
}

Result<BucketRead> ReplicaManager::Read(const TableBucket& bucket, LogOffset fetch_offset,
                                        int64_t max_bytes, bool min_one_batch,
                                        ServerId follower_id, bool zero_copy) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  if (!replica->is_leader()) return NotLeader(bucket, options_.server_id);
  const bool from_follower = follower_id.value() >= 0;
  auto follower = replica->repl.followers.end();
  if (from_follower) {
    follower = replica->repl.followers.find(follower_id.value());
    if (follower == replica->repl.followers.end()) {
      return MakeError(ErrorCode::kNotLeaderOrFollower,
                       "Server {} is not a follower of {} on leader {}.", follower_id, bucket,
                       options_.server_id);
    }
  }
  log::ReadParams params;
  params.fetch_offset = fetch_offset;
  params.max_bytes = max_bytes;
  params.isolation =
      from_follower ? log::FetchIsolation::kLogEnd : log::FetchIsolation::kHighWatermark;
  params.min_one_batch = min_one_batch;
  params.zero_copy = zero_copy;
  STROM_ASSIGN_OR_RETURN(log::FetchDataInfo data, replica->log->Read(params));
  BucketRead read{std::move(data.records), std::move(data.slice), replica->log->high_watermark(),
                  replica->log->log_start_offset()};
  if (from_follower) {
    const LogOffset resolved =
        fetch_offset.value() < 0 ? replica->log->log_start_offset() : fetch_offset;
    const LogOffset previous = follower->second.log_end_offset;
    follower->second.UpdateFetchState(resolved, NowMs(), replica->log->log_end_offset());
    MaybeExpandIsr(replica, follower_id);
    if (previous != resolved) MaybeIncrementLeaderHighWatermark(replica);
    read.high_watermark = replica->log->high_watermark();
  }
  return read;
}

Result<LogOffset> ReplicaManager::ListOffset(const TableBucket& bucket, log::OffsetSpec spec,
                                             TimestampMs timestamp, ServerId follower_id) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  if (!replica->is_leader()) return NotLeader(bucket, options_.server_id);
  return replica->log->ListOffset(spec, timestamp, /*for_follower=*/follower_id.value() >= 0);
}

Result<LogOffset> ReplicaManager::LeaderEndOffsetSnapshot(const TableBucket& bucket) {
  Replica* replica = Find(bucket);
  if (replica == nullptr) return UnknownBucket(bucket);
  if (!replica->is_leader()) return NotLeader(bucket, options_.server_id);
  return replica->repl.leader_end_offset_snapshot;
}

// ---- ISR ----

void ReplicaManager::MaybeExpandIsr(Replica* replica, ServerId follower_id) {
  ReplicationState& repl = replica->repl;
  if (isr_channel_ == nullptr || repl.isr_inflight()) return;
  if (ReplicationState::Contains(repl.isr, follower_id) || !IsAlive(follower_id)) return;
  auto it = repl.followers.find(follower_id.value());
  if (it == repl.followers.end()) return;
  // In sync once it has everything below the high watermark (as Fluss, which checks only
  // the HW to agree with how followers judge themselves).
  if (it->second.log_end_offset < replica->log->high_watermark()) return;
  std::vector<ServerId> proposed = repl.isr;
  proposed.push_back(follower_id);
  STROM_LOG_INFO(kComponent, "expanding the ISR of {} from [{}] to [{}]", replica->bucket,
                 fmt::join(repl.isr, ","), fmt::join(proposed, ","));
  SubmitAdjustIsr(replica, std::move(proposed), /*expand=*/true);
}

void ReplicaManager::MaybeShrinkIsr() {
  if (isr_channel_ == nullptr) return;
  const TimestampMs now = NowMs();
  for (auto& [bucket, replica] : replicas_) {
    ReplicationState& repl = replica->repl;
    if (!repl.is_leader || repl.isr_inflight()) continue;
    const LogOffset leader_end = replica->log->log_end_offset();
    std::vector<ServerId> kept;
    bool dropped = false;
    for (ServerId id : repl.isr) {
      if (id == options_.server_id) {
        kept.push_back(id);
        continue;
      }
      auto it = repl.followers.find(id.value());
      if (it == repl.followers.end() ||
          !it->second.IsCaughtUp(leader_end, now, options_.replica_max_lag_time)) {
        dropped = true;
        continue;
      }
      kept.push_back(id);
    }
    if (!dropped) continue;
    STROM_LOG_INFO(kComponent,
                   "shrinking the ISR of {} from [{}] to [{}] (high watermark {}, log end {})",
                   bucket, fmt::join(repl.isr, ","), fmt::join(kept, ","),
                   replica->log->high_watermark(), leader_end);
    SubmitAdjustIsr(replica.get(), std::move(kept), /*expand=*/false);
  }
}

void ReplicaManager::SubmitAdjustIsr(Replica* replica, std::vector<ServerId> proposed,
                                     bool expand) {
  ReplicationState& repl = replica->repl;
  repl.pending_isr = proposed;
  repl.pending_expand = expand;
  ++repl.isr_version;
  LeaderAndIsr sent;
  sent.leader = options_.server_id;
  sent.leader_epoch = repl.leader_epoch;
  sent.isr = std::move(proposed);
  sent.coordinator_epoch = repl.coordinator_epoch;
  sent.bucket_epoch = repl.bucket_epoch;
  SpawnBackground(reactor_, gate_, "adjust-isr",
                  AdjustIsrTask(replica->bucket, std::move(sent), repl.isr_version));
}

Task<void> ReplicaManager::AdjustIsrTask(TableBucket bucket, LeaderAndIsr proposed,
                                         uint64_t isr_version) {
  while (true) {
    Result<LeaderAndIsr> answer = co_await isr_channel_->AdjustIsr(bucket, proposed);
    Replica* replica = Find(bucket);
    // A newer NotifyLeaderAndIsr (or another proposal) replaced the state: the answer is stale.
    if (replica == nullptr || stopping_ || replica->repl.isr_version != isr_version) co_return;
    ReplicationState& repl = replica->repl;
    if (answer.ok()) {
      if (answer->bucket_epoch < repl.bucket_epoch) {
        STROM_LOG_INFO(kComponent, "ignoring an AdjustIsr answer for {} with older bucket epoch {}",
                       bucket, answer->bucket_epoch);
        co_return;
      }
      repl.isr = answer->isr;
      repl.bucket_epoch = answer->bucket_epoch;
      repl.pending_isr.reset();
      ++repl.isr_version;
      STROM_LOG_INFO(kComponent, "ISR of {} is now [{}] (bucket epoch {})", bucket,
                     fmt::join(repl.isr, ","), repl.bucket_epoch);
      // The ISR may have shrunk to the replicas that already have everything.
      MaybeIncrementLeaderHighWatermark(replica);
      delayed_writes_.Notify(bucket);
      co_return;
    }
    const ErrorCode code = answer.status().code();
    if (code == ErrorCode::kOperationNotAttempted || code == ErrorCode::kIneligibleReplica) {
      // Back to the committed ISR; a later fetch or expiration pass proposes again.
      repl.pending_isr.reset();
      ++repl.isr_version;
      co_return;
    }
    if (code == ErrorCode::kUnknownTableOrBucket || code == ErrorCode::kInvalidUpdateVersion ||
        code == ErrorCode::kFencedLeaderEpoch || code == ErrorCode::kInvalidCoordinator ||
        code == ErrorCode::kNotLeaderOrFollower) {
      // Stay pending until the coordinator sends newer leader and ISR.
      STROM_LOG_WARN(kComponent, "AdjustIsr of {} refused: {}; awaiting new metadata", bucket,
                     answer.status().ToString());
      co_return;
    }
    STROM_LOG_WARN(kComponent, "AdjustIsr of {} failed: {}; retrying", bucket,
                   answer.status().ToString());
    asio::steady_timer pause(reactor_, std::chrono::milliseconds(100));
    co_await pause.async_wait(kAwaitTuple);
  }
}

std::string ReplicaManager::HighWatermarkCheckpointPath() const {
  return fmt::format("{}/{}", options_.data_dir, kHighWatermarkCheckpointFile);
}

Status ReplicaManager::CheckpointHighWatermarks() {
  HighWatermarks hws;
  for (const auto& [bucket, replica] : replicas_) hws[bucket] = replica->log->high_watermark();
  Status s = WriteHighWatermarks(nullptr, HighWatermarkCheckpointPath(), hws);
  if (!s.ok()) return s.WithContext("writing the high watermark checkpoint");
  return Status::OK();
}

Task<void> ReplicaManager::HighWatermarkCheckpointLoop() {
  while (!stopping_) {
    hw_checkpoint_timer_.expires_after(options_.high_watermark_checkpoint_interval);
    co_await hw_checkpoint_timer_.async_wait(kAwaitTuple);
    if (stopping_) break;
    if (replicas_.empty()) continue;
    // A failed write keeps the previous file, which is only older: still safe to start from.
    Status s = CheckpointHighWatermarks();
    if (!s.ok()) STROM_LOG_WARN(kComponent, "{}", s.ToString());
  }
}

Task<void> ReplicaManager::IsrExpirationLoop() {
  const auto interval = std::max(options_.replica_max_lag_time / 2, std::chrono::milliseconds(10));
  while (!stopping_) {
    isr_expiration_timer_.expires_after(interval);
    co_await isr_expiration_timer_.async_wait(kAwaitTuple);
    if (stopping_) break;
    MaybeShrinkIsr();
    RecomputeHighWatermarks();
  }
}

// ---- leader / follower transitions ----

Result<Replica*> ReplicaManager::OpenReplicaForNotify(
    std::shared_ptr<const metadata::TableInfo> table, BucketId bucket) {
  TableBucket key{table->table_id, std::nullopt, bucket};
  if (Replica* existing = Find(key)) return existing;
  STROM_RETURN_IF_ERROR(OpenReplica(std::move(table), bucket));
  return Find(key);
}

void ReplicaManager::CloseKv(Replica* replica) {
  if (replica->kv) ReleaseKv(replica, /*checkpoint=*/true);
}

void ReplicaManager::ReleaseKv(Replica* replica, bool checkpoint) {
  kv_scanners_.CloseBucket(replica->bucket);
  if (checkpoint && replica->kv) {
    // Close() checkpoints what was flushed, which is at most the high watermark: committed.
    Status s = replica->kv->Close();
    if (!s.ok()) {
      STROM_LOG_WARN(kComponent, "closing the KV tablet of {}: {}", replica->bucket, s.ToString());
    }
  }
  replica->kv.reset();
  replica->kv_ready = false;
  replica->checkpointed_offset = LogOffset(-1);
}

void ReplicaManager::StartKvOpen(Replica* replica) {
  // Single-node mode has no KV worker: it opens its (leader) tablets synchronously.
  if (!replica->table->HasPrimaryKey() || replica->kv || replica->kv_opening || stopping_ ||
      !kv_pool_) {
    return;
  }
  auto opts = KvTabletOptionsFor(*replica);
  if (!opts.ok()) {
    STROM_LOG_WARN(kComponent, "opening the KV tablet of {}: {}", replica->bucket,
                   opts.status().ToString());
    replica->kv_retry_at = SteadyClock::now() + kKvOpenRetryDelay;
    return;
  }
  const uint64_t token = ++next_kv_open_token_;
  replica->kv_opening = true;
  replica->kv_open_token = token;
  replica->kv_cut_during_open.reset();
  // The log's bounds are read here, on the reactor: the worker never touches the log.
  if (!SpawnBackground(reactor_, gate_, "kv-open",
                       OpenKvTask(replica->bucket, token, std::move(opts).value(),
                                  replica->log->log_start_offset(),
                                  replica->log->log_end_offset()))) {
    replica->kv_opening = false;
  }
}

Task<void> ReplicaManager::OpenKvTask(TableBucket bucket, uint64_t token,
                                      kv::KvTabletOptions options, LogOffset log_start,
                                      LogOffset log_end) {
  auto job = [options = std::move(options), log_start, log_end]() mutable {
    return kv::KvTablet::OpenStorage(std::move(options), log_start, log_end);
  };
  Result<std::unique_ptr<kv::KvTablet>> opened = co_await RunBlocking(*kv_pool_, std::move(job));
  Replica* replica = Find(bucket);
  if (replica == nullptr || !replica->kv_opening || replica->kv_open_token != token) {
    // Stopped, dropped or recreated meanwhile: the tablet (if any) is released unused.
    co_return;
  }
  replica->kv_opening = false;
  if (!opened.ok()) {
    STROM_LOG_WARN(kComponent, "opening the KV tablet of {}: {}; trying again in {} ms", bucket,
                   opened.status().ToString(), kKvOpenRetryDelay.count());
    replica->kv_retry_at = SteadyClock::now() + kKvOpenRetryDelay;
    co_return;
  }
  std::unique_ptr<kv::KvTablet> tablet = std::move(opened).value();
  if (replica->kv_cut_during_open && tablet->flushed_log_offset() > *replica->kv_cut_during_open) {
    // The log was cut below the checkpoint restored meanwhile (that checkpoint is gone now).
    STROM_LOG_INFO(kComponent,
                   "KV tablet of {} was restored up to {} while its log was cut to {}; opening "
                   "it again",
                   bucket, tablet->flushed_log_offset(), *replica->kv_cut_during_open);
    tablet.reset();
    StartKvOpen(replica);
    co_return;
  }
  STROM_LOG_INFO(kComponent,
                 "KV tablet of {} opened at changelog offset {} (log end {}, high watermark {})",
                 bucket, tablet->flushed_log_offset(), replica->log->log_end_offset(),
                 replica->log->high_watermark());
  replica->checkpointed_offset = tablet->flushed_log_offset();
  replica->kv = std::move(tablet);
  replica->kv_ready = false;
  // The sync loop applies the changelog from here, and makes a leader's tablet leader.
  kv_sync_timer_.cancel();
}

void ReplicaManager::DiscardKvCheckpointsAbove(Replica* replica, LogOffset offset) {
  auto discarded = kv::KvTablet::DiscardCheckpointsAbove(
      KvTabletDir(*replica->table, replica->bucket.bucket), nullptr, offset);
  if (!discarded.ok()) {
    STROM_LOG_WARN(kComponent, "discarding KV checkpoints of {} beyond {}: {}", replica->bucket,
                   offset, discarded.status().ToString());
  } else if (*discarded > 0) {
    STROM_LOG_INFO(kComponent, "discarded {} KV checkpoints of {} beyond {}", *discarded,
                   replica->bucket, offset);
  }
}

void ReplicaManager::DropKv(Replica* replica) {
  const LogOffset log_end = replica->log->log_end_offset();
  // Its checkpoints beyond the log's end hold changes the log no longer has.
  const bool beyond_log = replica->kv && replica->kv->flushed_log_offset() > log_end;
  ReleaseKv(replica, /*checkpoint=*/false);
  if (beyond_log) DiscardKvCheckpointsAbove(replica, log_end);
  replica->kv_retry_at = SteadyClock::now() + kKvOpenRetryDelay;
}

bool ReplicaManager::SyncKv(Replica* replica) {
  if (!replica->table->HasPrimaryKey() || stopping_) return false;
  if (!replica->kv) {
    if (replica->repl.leader_epoch.value() >= 0 && SteadyClock::now() >= replica->kv_retry_at) {
      StartKvOpen(replica);
    }
    return false;
  }
  kv::KvTablet& kv = *replica->kv;
  if (kv.is_leader()) return false;
  auto applied = kv.ApplyCommittedChangelog(replica->log->high_watermark(), kKvApplyStepBytes);
  if (!applied.ok()) {
    STROM_LOG_WARN(kComponent,
                   "the KV tablet of {} cannot follow its changelog ({}); dropping it and "
                   "rebuilding it from a checkpoint",
                   replica->bucket, applied.status().ToString());
    DropKv(replica);
    return false;
  }
  if (!*applied) return true;
  if (!replica->is_leader()) return false;
  // Caught up as leader: only the uncommitted tail is left, into the pre-write buffer.
  Status promoted = kv.BecomeLeader();
  if (!promoted.ok()) {
    STROM_LOG_WARN(kComponent, "the KV tablet of {} cannot take the lead ({}); rebuilding it",
                   replica->bucket, promoted.ToString());
    DropKv(replica);
    return false;
  }
  replica->kv_ready = true;
  STROM_LOG_INFO(kComponent,
                 "KV tablet of {} leads from changelog offset {} ({} uncommitted records "
                 "buffered)",
                 replica->bucket, kv.flushed_log_offset(), kv.recovered_record_count());
  MaybeIncrementLeaderHighWatermark(replica);
  WakeBucket(replica->bucket);
  return false;
}

Task<void> ReplicaManager::KvSyncLoop() {
  while (!stopping_) {
    bool more = false;
    for (auto& [bucket, replica] : replicas_) {
      if (SyncKv(replica.get())) more = true;
    }
    if (more) {
      // Other work runs between the steps.
      co_await asio::post(reactor_, asio::use_awaitable);
      continue;
    }
    kv_sync_timer_.expires_after(kKvSyncInterval);
    co_await kv_sync_timer_.async_wait(kAwaitTuple);
  }
}

void ReplicaManager::DemoteKv(Replica* replica) {
  if (!replica->table->HasPrimaryKey()) return;
  kv_scanners_.CloseBucket(replica->bucket);
  replica->kv_ready = false;
  if (replica->kv) {
    replica->kv->BecomeFollower();
  } else {
    StartKvOpen(replica);
  }
}

void ReplicaManager::AfterFollowerTruncation(Replica* replica, bool fully) {
  if (!replica->table->HasPrimaryKey()) return;
  // Where the log ends now: a cut lands on a batch boundary, at or below the offset asked.
  // Nothing is appended before this runs, so a crash in between leaves checkpoints beyond
  // the log's end, which the next open discards.
  const LogOffset offset = replica->log->log_end_offset();
  if (replica->kv_opening) {
    replica->kv_cut_during_open =
        replica->kv_cut_during_open ? std::min(*replica->kv_cut_during_open, offset) : offset;
  }
  if (replica->kv) {
    const LogOffset flushed = replica->kv->flushed_log_offset();
    // Cut above its state, the tablet goes on; an emptied log restarting exactly at its
    // state too.
    if (fully ? flushed == offset : flushed <= offset) return;
    STROM_LOG_WARN(kComponent,
                   "the log of {} is cut to {} below the changelog offset {} its KV tablet "
                   "holds: rebuilding the tablet from a checkpoint at or below {}",
                   replica->bucket, offset, flushed, offset);
    ReleaseKv(replica, /*checkpoint=*/false);
  }
  DiscardKvCheckpointsAbove(replica, offset);
}

void ReplicaManager::RemoveFetcher(const TableBucket& bucket) {
  for (auto& [leader, fetcher] : fetchers_) fetcher->RemoveBucket(bucket);
}

Status ReplicaManager::MakeLeader(Replica* replica, const NotifyLeaderAndIsrItem& item,
                                  bool new_epoch) {
  ReplicationState& repl = replica->repl;
  const LeaderAndIsr& lai = item.leader_and_isr;
  RemoveFetcher(replica->bucket);
  const TimestampMs now = NowMs();
  std::map<int32_t, FollowerState> followers;
  for (ServerId id : item.replicas) {
    if (id == options_.server_id) continue;
    auto old = repl.followers.find(id.value());
    if (!new_epoch && old != repl.followers.end()) {
      followers.emplace(id.value(), old->second);
      continue;
    }
    // A follower starts unknown; one in the ISR counts as caught up now (Kafka's reset).
    FollowerState state;
    if (ReplicationState::Contains(lai.isr, id)) state.last_caught_up_time = now;
    followers.emplace(id.value(), state);
  }
  repl.followers = std::move(followers);
  repl.replicas = item.replicas;
  repl.isr = lai.isr;
  repl.pending_isr.reset();
  ++repl.isr_version;
  repl.coordinator_epoch = lai.coordinator_epoch;
  repl.bucket_epoch = lai.bucket_epoch;
  repl.leader = options_.server_id;
  repl.is_leader = true;
  if (new_epoch) {
    repl.fenced = false;
    repl.leader_epoch = lai.leader_epoch;
    repl.leader_end_offset_snapshot = replica->log->log_end_offset();
    // Everything past this offset is written in this epoch.
    EpochStart start{repl.leader_epoch, repl.leader_end_offset_snapshot};
    STROM_RETURN_IF_ERROR(WriteEpochStart(nullptr, replica->log->dir(), start));
    repl.epoch_start = start;
    STROM_LOG_INFO(kComponent, "server {} becomes leader of {} at epoch {} (log end {})",
                   options_.server_id, replica->bucket, repl.leader_epoch,
                   replica->log->log_end_offset());
  }
  if (replica->table->HasPrimaryKey() && !replica->kv_ready) {
    // The standby tablet applies what is left up to the high watermark and takes the
    // uncommitted tail into its buffer, now when little is left; otherwise (still opening,
    // or far behind) the sync loop finishes it in steps, and PutKv and lookups answer
    // LEADER_NOT_AVAILABLE until then.
    SyncKv(replica);
    if (!replica->kv_ready) kv_sync_timer_.cancel();
  }
  MaybeIncrementLeaderHighWatermark(replica);
  WakeBucket(replica->bucket);
  return Status::OK();
}

Status ReplicaManager::MakeFollower(Replica* replica, const NotifyLeaderAndIsrItem& item,
                                    bool new_epoch) {
  ReplicationState& repl = replica->repl;
  const LeaderAndIsr& lai = item.leader_and_isr;
  repl.coordinator_epoch = lai.coordinator_epoch;
  repl.bucket_epoch = lai.bucket_epoch;
  repl.followers.clear();
  repl.isr.clear();
  repl.replicas.clear();
  repl.pending_isr.reset();
  ++repl.isr_version;
  repl.is_leader = false;
  repl.leader = lai.leader;
  if (!new_epoch) return Status::OK();
  repl.fenced = false;
  repl.leader_epoch = lai.leader_epoch;
  // Writes waiting for replication here will never complete: answer them now.
  WakeBucket(replica->bucket);
  RemoveFetcher(replica->bucket);
  // The KV tablet stays open as a standby; its buffer (beyond the high watermark) goes.
  DemoteKv(replica);
  // The log is kept as it is: Fluss 0.9.1 (ReplicaManager.makeFollowers) cuts it back to the
  // high watermark here, but a follower's high watermark lags the leader's, so that would drop
  // records the old leader may have acknowledged (KIP-101's loss case). A former leader's
  // unacknowledged tail lies beyond the new leader's log end at its election, and the fetcher
  // cuts there before its first fetch (ReconcileWithLeader).
  STROM_LOG_INFO(kComponent, "server {} follows {} for {} at epoch {} from offset {}",
                 options_.server_id, lai.leader, replica->bucket, repl.leader_epoch,
                 replica->log->log_end_offset());
  if (!stopping_) {
    auto& fetcher = fetchers_[lai.leader.value()];
    if (!fetcher) {
      fetcher = std::make_unique<ReplicaFetcher>(reactor_, *this, lai.leader, options_.fetcher);
      fetcher->Start(gate_);
    }
    fetcher->AddBucket(replica->bucket);
  }
  return Status::OK();
}

size_t ReplicaManager::FenceLeadership() {
  leadership_fenced_ = true;
  size_t fenced = 0;
  for (auto& [bucket, replica] : replicas_) {
    ReplicationState& repl = replica->repl;
    if (!repl.is_leader) continue;
    // Not leader any more: every leader path (append, PutKv, reads, lookups, ListOffsets,
    // the high watermark, ISR changes) refuses or stops from here on.
    repl.is_leader = false;
    repl.fenced = true;
    repl.leader = ServerId(-1);
    repl.pending_isr.reset();
    ++repl.isr_version;  // an AdjustIsr answer still on its way is dropped
    // The KV tablet stays as a standby (committed state only, its buffer dropped).
    DemoteKv(replica.get());
    // Waiting acks=-1 writes answer NOT_LEADER_OR_FOLLOWER, long polls re-read and get it.
    WakeBucket(bucket);
    STROM_LOG_WARN(kComponent,
                   "server {} stops leading {} at leader epoch {} (high watermark {}, log end "
                   "{}): its ZooKeeper session is lost",
                   options_.server_id, bucket, repl.leader_epoch, replica->log->high_watermark(),
                   replica->log->log_end_offset());
    ++fenced;
  }
  return fenced;
}

void ReplicaManager::AllowLeadership() {
  if (!leadership_fenced_) return;
  leadership_fenced_ = false;
  STROM_LOG_INFO(kComponent, "server {} may lead buckets again (new ZooKeeper session)",
                 options_.server_id);
}

namespace {

/// Every bucket of a request from a deposed coordinator (an epoch older than the newest seen)
/// answered with INVALID_COORDINATOR_EXCEPTION.
template <typename Item>
std::vector<BucketResult> RefuseStaleCoordinator(const std::vector<Item>& items,
                                                 std::string_view request,
                                                 CoordinatorEpoch got, CoordinatorEpoch current) {
  std::vector<BucketResult> results;
  results.reserve(items.size());
  for (const Item& item : items) {
    results.push_back(BucketResult{
        item.bucket, MakeError(ErrorCode::kInvalidCoordinator,
                               "{} from coordinator epoch {} is older than the current "
                               "coordinator epoch {}.",
                               request, got, current)});
  }
  return results;
}

}  // namespace

Task<std::vector<BucketResult>> ReplicaManager::BecomeLeaderOrFollower(
    CoordinatorEpoch coordinator_epoch, std::vector<NotifyLeaderAndIsrItem> items) {
  if (coordinator_epoch < coordinator_epoch_) {
    co_return RefuseStaleCoordinator(items, "NotifyLeaderAndIsr", coordinator_epoch,
                                     coordinator_epoch_);
  }
  std::vector<BucketResult> results;
  results.reserve(items.size());
  coordinator_epoch_ = coordinator_epoch;
  // Table infos loaded once per table of the request.
  std::unordered_map<TableId, std::shared_ptr<const metadata::TableInfo>> tables;
  for (NotifyLeaderAndIsrItem& item : items) {
    const TableBucket bucket = item.bucket;
    auto fail = [&](Status s) { results.push_back(BucketResult{bucket, std::move(s)}); };
    if (stopping_) {
      fail(MakeError(ErrorCode::kNotLeaderOrFollower, "tablet server {} is shutting down",
                     options_.server_id));
      continue;
    }
    if (bucket.partition_id) {
      fail(MakeError(ErrorCode::kUnknownTableOrBucket,
                     "{}: partitioned tables are not replicated by this server yet", bucket));
      continue;
    }
    if (leadership_fenced_ && item.leader_and_isr.leader == options_.server_id) {
      // Sent before the session was lost (the coordinator has since seen this server leave):
      // leading now could acknowledge writes beside the leader elected meanwhile.
      fail(MakeError(ErrorCode::kNotLeaderOrFollower,
                     "tablet server {} lost its ZooKeeper session and leads no bucket until it "
                     "is registered again; not taking {} at leader epoch {}",
                     options_.server_id, bucket, item.leader_and_isr.leader_epoch));
      continue;
    }
    Replica* replica = Find(bucket);
    if (replica == nullptr) {
      std::shared_ptr<const metadata::TableInfo> table;
      auto known = tables.find(bucket.table_id);
      if (known != tables.end()) {
        table = known->second;
      } else {
        auto loaded = co_await metadata::LoadTableInfo(store_, item.table_path);
        if (!loaded.ok()) {
          fail(loaded.status());
          continue;
        }
        if (!loaded->has_value() || (*loaded)->table_id != bucket.table_id) {
          fail(UnknownBucket(bucket));
          continue;
        }
        table = std::make_shared<const metadata::TableInfo>(std::move(**loaded));
        tables.emplace(bucket.table_id, table);
      }
      // The await above may have let another request open it.
      auto opened = OpenReplicaForNotify(std::move(table), bucket.bucket);
      if (!opened.ok()) {
        fail(opened.status());
        continue;
      }
      replica = *opened;
    }
    const LeaderAndIsr& lai = item.leader_and_isr;
    ReplicationState& repl = replica->repl;
    if (lai.bucket_epoch < repl.bucket_epoch) {
      fail(MakeError(ErrorCode::kInvalidUpdateVersion,
                     "Skipped the state change for {} with a lower bucket epoch {} since the "
                     "replica is already at a newer bucket epoch {}",
                     bucket, lai.bucket_epoch, repl.bucket_epoch));
      continue;
    }
    if (lai.leader_epoch < repl.leader_epoch) {
      fail(MakeError(ErrorCode::kFencedLeaderEpoch,
                     "the leader epoch {} in notify leader and isr data is smaller than the "
                     "current leader epoch {} for table bucket {}",
                     lai.leader_epoch, repl.leader_epoch, bucket));
      continue;
    }
    const bool new_epoch = lai.leader_epoch > repl.leader_epoch;
    if (repl.fenced && !new_epoch) {
      fail(MakeError(ErrorCode::kFencedLeaderEpoch,
                     "tablet server {} gave up leader epoch {} of {} when its ZooKeeper session "
                     "was lost and takes a newer leader epoch only",
                     options_.server_id, repl.leader_epoch, bucket));
      continue;
    }
    Status s = lai.leader == options_.server_id ? MakeLeader(replica, item, new_epoch)
                                                : MakeFollower(replica, item, new_epoch);
    if (!s.ok())
      STROM_LOG_WARN(kComponent, "leader/follower change of {}: {}", bucket, s.ToString());
    results.push_back(BucketResult{bucket, std::move(s)});
  }
  co_return results;
}

Task<std::vector<BucketResult>> ReplicaManager::StopReplicas(CoordinatorEpoch coordinator_epoch,
                                                             std::vector<StopReplicaItem> items) {
  if (coordinator_epoch < coordinator_epoch_) {
    co_return RefuseStaleCoordinator(items, "StopReplica", coordinator_epoch, coordinator_epoch_);
  }
  std::vector<BucketResult> results;
  results.reserve(items.size());
  coordinator_epoch_ = coordinator_epoch;
  for (const StopReplicaItem& item : items) {
    auto it = replicas_.find(item.bucket);
    if (it == replicas_.end()) {
      // Nothing hosted (already stopped): still delete leftover files when asked? Nothing to
      // find them by without the table; answer OK as Fluss does for an absent replica.
      results.push_back(BucketResult{item.bucket, Status::OK()});
      continue;
    }
    Replica* replica = it->second.get();
    if (item.leader_epoch < replica->repl.leader_epoch) {
      results.push_back(BucketResult{
          item.bucket,
          MakeError(ErrorCode::kFencedLeaderEpoch,
                    "Invalid leader epoch {} in stop replica request, the current leader epoch "
                    "is {} for {}.",
                    item.leader_epoch, replica->repl.leader_epoch, item.bucket)});
      continue;
    }
    RemoveFetcher(item.bucket);
    replica->repl.is_leader = false;
    WakeBucket(item.bucket);
    kv_scanners_.CloseBucket(item.bucket);
    Status s;
    if (item.delete_data) {
      replica->kv.reset();
      s = replica->log->Drop();
      if (s.ok() && replica->table->HasPrimaryKey()) {
        std::error_code ec;
        fs::remove_all(KvTabletDir(*replica->table, item.bucket.bucket), ec);
      }
    } else {
      CloseKv(replica);
      s = replica->log->Close();
    }
    replicas_.erase(it);
    results.push_back(BucketResult{item.bucket, std::move(s)});
  }
  co_return results;
}

// ---- follower side ----

namespace {

Result<Replica*> FollowerOf(Replica* replica, const TableBucket& bucket, ServerId self) {
  if (replica == nullptr) return UnknownBucket(bucket);
  if (replica->is_leader()) {
    return MakeError(ErrorCode::kNotLeaderOrFollower, "{} is led by server {} itself", bucket,
                     self);
  }
  return replica;
}

}  // namespace

Result<LogOffset> ReplicaManager::AppendAsFollower(const TableBucket& bucket,
                                                   LogOffset fetch_offset, ByteView records,
                                                   LogOffset leader_high_watermark) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FollowerOf(Find(bucket), bucket, options_.server_id));
  if (fetch_offset != replica->log->log_end_offset()) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "Offset mismatch for replica {}: fetched offset {}, log end offset {}", bucket,
                     fetch_offset, replica->log->log_end_offset());
  }
  // A fetch cut by its byte budget may end in part of a batch: append the complete batches
  // (as Fluss, whose record iterator stops before a partial batch); the rest comes next time.
  record::LogRecordBatchIterator batches(records);
  size_t complete = 0;
  while (true) {
    auto next = batches.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const ByteView batch = (*next)->data();
    complete = static_cast<size_t>(batch.data() + batch.size() - records.data());
  }
  if (complete > 0) {
    STROM_RETURN_IF_ERROR(
        replica->log->AppendAsFollower(ByteView(records.data(), complete)).status());
  }
  // Kafka's rule: a follower's high watermark is the leader's, capped by its own log end, and
  // never moves back. (Fluss 0.9.1 lets it follow the follower's own log end instead, so that
  // its truncation to the high watermark on a leader change keeps acknowledged records; but
  // then a follower that becomes leader counts its whole log as committed, records other
  // replicas may lack included. Strom does not truncate to the high watermark at all: a
  // follower cuts its log only at the leader's election-time log end, ReconcileWithLeader.)
  const LogOffset follower_hw = std::min(leader_high_watermark, replica->log->log_end_offset());
  if (follower_hw > replica->log->high_watermark()) {
    STROM_RETURN_IF_ERROR(replica->log->UpdateHighWatermark(follower_hw));
  }
  return replica->log->log_end_offset();
}

Result<LogOffset> ReplicaManager::ReconcileWithLeader(const TableBucket& bucket,
                                                      LogOffset leader_epoch_start, bool force) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FollowerOf(Find(bucket), bucket, options_.server_id));
  ReplicationState& repl = replica->repl;
  const bool same_epoch = repl.epoch_start && repl.epoch_start->epoch == repl.leader_epoch;
  if ((force || !same_epoch) && leader_epoch_start.value() >= 0) {
    // The leader's log end at its election is where this replica's log may start to differ
    // when it took part in the previous epoch. A replica that missed whole epochs (down while
    // two or more leaders followed each other) may hold a tail of its own epoch that a leader
    // in between overwrote below that offset (same offsets, other batches): it keeps only
    // what it had before its own epoch began, and copies the rest again.
    LogOffset keep = leader_epoch_start;
    if (repl.epoch_start && repl.epoch_start->epoch.value() + 1 < repl.leader_epoch.value() &&
        repl.epoch_start->start_offset < keep) {
      keep = std::max(repl.epoch_start->start_offset, replica->log->log_start_offset());
    }
    if (replica->log->log_end_offset() > keep) {
      STROM_LOG_INFO(kComponent,
                     "truncating follower {} from {} to {} (the leader's log end when it was "
                     "elected at epoch {} is {}; this replica's epoch {} began at {})",
                     bucket, replica->log->log_end_offset(), keep, repl.leader_epoch,
                     leader_epoch_start,
                     repl.epoch_start ? repl.epoch_start->epoch : LeaderEpoch(-1),
                     repl.epoch_start ? repl.epoch_start->start_offset : LogOffset(-1));
      Status cut = replica->log->TruncateTo(keep).status();
      AfterFollowerTruncation(replica, /*fully=*/false);
      STROM_RETURN_IF_ERROR(cut);
    }
    EpochStart start{repl.leader_epoch, leader_epoch_start};
    STROM_RETURN_IF_ERROR(WriteEpochStart(nullptr, replica->log->dir(), start));
    repl.epoch_start = start;
  }
  return replica->log->log_end_offset();
}

Result<LogOffset> ReplicaManager::FollowerLogEndOffset(const TableBucket& bucket) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FollowerOf(Find(bucket), bucket, options_.server_id));
  return replica->log->log_end_offset();
}

Status ReplicaManager::TruncateFollower(const TableBucket& bucket, LogOffset offset) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FollowerOf(Find(bucket), bucket, options_.server_id));
  if (offset >= replica->log->log_end_offset()) return Status::OK();
  STROM_LOG_INFO(kComponent, "truncating follower {} from {} to {}", bucket,
                 replica->log->log_end_offset(), offset);
  Status cut = replica->log->TruncateTo(offset).status();
  AfterFollowerTruncation(replica, /*fully=*/false);
  return cut;
}

Status ReplicaManager::TruncateFollowerFullyAndStartAt(const TableBucket& bucket,
                                                       LogOffset offset) {
  STROM_ASSIGN_OR_RETURN(Replica * replica, FollowerOf(Find(bucket), bucket, options_.server_id));
  if (replica->table->HasPrimaryKey() && offset.value() > 0) {
    // The leader no longer has the changelog this replica lacks. Its KV state can then only be
    // rebuilt from a snapshot at exactly `offset`: its own tablet or a local checkpoint there.
    // Without one, restarting the log would leave a replica that joins the ISR yet could never
    // serve as leader; it stays behind instead (out of the ISR), and says why.
    bool covered = replica->kv && replica->kv->flushed_log_offset() == offset;
    if (!covered) {
      STROM_ASSIGN_OR_RETURN(std::vector<LogOffset> checkpoints,
                             kv::KvTablet::CheckpointOffsets(
                                 KvTabletDir(*replica->table, replica->bucket.bucket), nullptr));
      covered = std::find(checkpoints.begin(), checkpoints.end(), offset) != checkpoints.end();
    }
    if (!covered) {
      return MakeError(ErrorCode::kKvStorage,
                       "follower {} cannot restart at the leader's log start {}: the changelog "
                       "before it is gone and no KV snapshot here covers it (its log ends at {}); "
                       "the replica stays out of the ISR",
                       bucket, offset, replica->log->log_end_offset());
    }
  }
  STROM_LOG_INFO(kComponent, "follower {} restarts empty at {}", bucket, offset);
  Status cut = replica->log->TruncateFullyAndStartAt(offset);
  AfterFollowerTruncation(replica, /*fully=*/true);
  return cut;
}

}  // namespace strom::replica
