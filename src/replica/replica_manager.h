#pragma once

#include <asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/async.h"
#include "common/ids.h"
#include "common/result.h"
#include "kv/kv_tablet.h"
#include "kv/rocksdb_store.h"
#include "log/log_config.h"
#include "log/log_tablet.h"
#include "metadata/metadata_store.h"
#include "metadata/table_assignment.h"
#include "metadata/table_bucket.h"
#include "metadata/table_info.h"
#include "replica/auto_increment_counter.h"
#include "replica/delayed_fetch_registry.h"
#include "replica/kv_scanner_manager.h"

namespace strom::replica {

/// How a ReplicaManager is set up.
struct ReplicaManagerOptions {
  /// `data.dir`: tablets live in `{data_dir}/{db}/{table}-{tableId}/log-{bucket}/`.
  std::string data_dir;
  /// This tablet server's id; buckets assigned to it are hosted here.
  ServerId server_id{0};
  /// Log settings of every tablet (server defaults; `table.log.ttl` of a table overrides).
  log::LogConfig log_config;
  /// Bound on FetchLog requests waiting for data at once.
  size_t max_waiting_fetches = 1024;
  /// How often tablets run their housekeeping (retention, writer expiry).
  std::chrono::milliseconds maintenance_interval = std::chrono::seconds(30);

  // ---- primary-key tables ----
  /// `kv.rocksdb.*`: the RocksDB tuning of every KV tablet.
  kv::RocksDbOptions rocksdb;
  /// `kv.snapshot.interval`: how often every KV tablet takes a local checkpoint (besides the
  /// one at shutdown); zero or negative turns the periodic checkpoint off.
  std::chrono::milliseconds kv_snapshot_interval = std::chrono::minutes(10);
  /// `kv.snapshot.num-retained`: local checkpoints kept per KV tablet.
  int32_t kv_snapshot_num_retained = 2;
  /// `kv.recover.log-record-batch.max-size`: changelog bytes read per recovery step.
  int64_t kv_recover_read_bytes = 16LL * 1024 * 1024;
  /// `kv.scanner.*`: SCAN_KV sessions.
  KvScannerOptions scanners;
};

/// One bucket hosted here (always as leader while Strom runs single-node): its table, its log
/// tablet and, for a primary-key table, its KV tablet (whose changelog the log is).
struct Replica {
  metadata::TableBucket bucket;
  std::shared_ptr<const metadata::TableInfo> table;
  std::unique_ptr<log::LogTablet> log;
  /// Declared after `log`: destroyed first, as it borrows the log.
  std::unique_ptr<kv::KvTablet> kv;
  /// The flushed offset of the last checkpoint taken here; the periodic checkpoint skips a
  /// tablet that has not moved since.
  LogOffset checkpointed_offset{-1};
};

/// What a read of one bucket produced.
struct BucketRead {
  ByteBuffer records;
  LogOffset high_watermark;
  LogOffset log_start_offset;
};

/// The tablets of this tablet server, keyed by TableBucket (Fluss `ReplicaManager`, reduced to
/// what a single-node cluster needs): creates and opens tablets when tables are created or
/// the server starts, deletes them when tables are dropped, appends as leader and advances
/// the high watermark (one replica: to the log end), reads, lists offsets, and wakes delayed
/// fetches on append.
///
/// Primary-key tables: each bucket also has a KvTablet in `{table dir}/kv-{bucket}/` over the
/// bucket's log (its changelog). It is opened (recovered from its newest checkpoint plus the
/// changelog after it) with the log, written by PutKv, flushed to RocksDB as soon as the high
/// watermark passes a write (one replica: right after the append), checkpointed every
/// `kv.snapshot.interval` and at Stop(), and deleted with its table. The table's
/// auto-increment counter is a FileSequenceIdCounter in `{table dir}/auto-increment`.
///
/// Lifecycle: construct, Start() (opens the tablets of registered tables and deletes the
/// directories of tables that no longer exist), serve, Stop() (wakes waiting fetches, stops
/// housekeeping, closes scan sessions, checkpoints and closes every KV tablet, closes every
/// log tablet cleanly). Thread: the reactor only; no locks. Tablet appends, reads, RocksDB
/// writes and checkpoints are synchronous on the reactor (page cache; RocksDB memtables);
/// fsyncs happen at roll, checkpoint and close. Ownership: owns every Replica, the id
/// counters, the scan sessions and the delayed-fetch registry; borrows the store.
class ReplicaManager {
 public:
  ReplicaManager(Executor reactor, ReplicaManagerOptions options, metadata::MetadataStore& store);
  ~ReplicaManager();
  ReplicaManager(const ReplicaManager&) = delete;
  ReplicaManager& operator=(const ReplicaManager&) = delete;

  Task<Status> Start();
  Task<void> Stop();

  /// Creates or opens the tablets of `table`'s buckets assigned to this server. Idempotent.
  Status CreateTableBuckets(std::shared_ptr<const metadata::TableInfo> table,
                            const metadata::TableAssignment& assignment);
  /// Deletes every tablet of `table_id` and its table directory. Idempotent.
  Status DropTableBuckets(TableId table_id);

  /// The replica of `bucket`, or null (UNKNOWN_TABLE_OR_BUCKET for callers).
  Replica* Find(const metadata::TableBucket& bucket);

  /// Appends a producer's records to the bucket's log (see LogTablet::AppendAsLeader), after
  /// checking every batch's schema id against the table (SCHEMA_NOT_EXIST); advances the high
  /// watermark and wakes fetches waiting on the bucket. Returns the first offset assigned
  /// (the original one for a duplicate batch).
  Result<LogOffset> AppendToLeader(const metadata::TableBucket& bucket, std::span<char> records);

  /// Applies one PutKv batch to a primary-key bucket (KvTablet::PutAsLeader), then advances
  /// the high watermark to the log end, flushes the KV tablet up to it and wakes fetches.
  /// kUnknownTableOrBucket for a bucket not hosted here, kNonPrimaryKeyTable for a log table;
  /// a failed put writes nothing.
  Result<kv::KvPutResult> PutKv(const metadata::TableBucket& bucket, ByteView records,
                                const kv::PutKvParams& params);

  /// The replica of a primary-key bucket: kUnknownTableOrBucket / kNonPrimaryKeyTable.
  Result<Replica*> FindKv(const metadata::TableBucket& bucket);

  /// Checks that a primary-key table's options make a valid KV tablet (what opening one
  /// would refuse, kInvalidConfig), so CreateTable can refuse it before registering it.
  static Status CheckKvTable(const record::TableDescriptor& table);

  /// Takes a local checkpoint of every KV tablet whose state moved since its last one (what
  /// the `kv.snapshot.interval` timer runs). Returns how many it took; the first failure is
  /// logged and the others still run.
  size_t CheckpointKvTablets();

  KvScannerManager& kv_scanners() { return kv_scanners_; }

  /// Reads from the bucket's log up to the high watermark.
  Result<BucketRead> Read(const metadata::TableBucket& bucket, LogOffset fetch_offset,
                          int64_t max_bytes, bool min_one_batch);

  /// ListOffsets for one bucket.
  Result<LogOffset> ListOffset(const metadata::TableBucket& bucket, log::OffsetSpec spec,
                               TimestampMs timestamp);

  DelayedFetchRegistry& delayed_fetches() { return delayed_fetches_; }
  size_t replica_count() const { return replicas_.size(); }

  /// `{data_dir}/{db}/{table}-{tableId}`, `.../log-{bucket}` and `.../kv-{bucket}`.
  std::string TableDir(const metadata::TableInfo& table) const;
  std::string TabletDir(const metadata::TableInfo& table, BucketId bucket) const;
  std::string KvTabletDir(const metadata::TableInfo& table, BucketId bucket) const;

 private:
  Status OpenReplica(std::shared_ptr<const metadata::TableInfo> table, BucketId bucket);
  Status OpenKvTablet(Replica* replica);
  Result<kv::SequenceIdCounter*> AutoIncrementCounter(const metadata::TableInfo& table);
  Status DeleteOrphanDirs(const std::unordered_map<int64_t, std::string>& live_dirs);
  Task<void> MaintenanceLoop();
  Task<void> KvCheckpointLoop();
  Task<void> ScannerExpiryLoop();

  Executor reactor_;
  ReplicaManagerOptions options_;
  metadata::MetadataStore& store_;
  // Before replicas_: KV tablets borrow the counters, so they must go after the tablets.
  std::unordered_map<TableId, std::unique_ptr<FileSequenceIdCounter>> id_counters_;
  std::unordered_map<metadata::TableBucket, std::unique_ptr<Replica>> replicas_;
  // After replicas_: scan sessions hold RocksDB snapshots, released before the tablets close.
  KvScannerManager kv_scanners_;
  DelayedFetchRegistry delayed_fetches_;
  Gate gate_;
  asio::steady_timer maintenance_timer_;
  asio::steady_timer kv_checkpoint_timer_;
  asio::steady_timer scanner_expiry_timer_;
  bool stopping_ = false;
};

}  // namespace strom::replica
