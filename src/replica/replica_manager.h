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
#include "log/log_config.h"
#include "log/log_tablet.h"
#include "metadata/metadata_store.h"
#include "metadata/table_assignment.h"
#include "metadata/table_bucket.h"
#include "metadata/table_info.h"
#include "replica/delayed_fetch_registry.h"

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
};

/// One bucket hosted here (always as leader while Strom runs single-node): its table and its
/// log tablet.
struct Replica {
  metadata::TableBucket bucket;
  std::shared_ptr<const metadata::TableInfo> table;
  std::unique_ptr<log::LogTablet> log;
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
/// Lifecycle: construct, Start() (opens the tablets of registered tables and deletes the
/// directories of tables that no longer exist), serve, Stop() (wakes waiting fetches, stops
/// housekeeping, closes every tablet cleanly). Thread: the reactor only; no locks. Tablet
/// appends and reads are synchronous (page cache); fsyncs happen at roll and close.
/// Ownership: owns every Replica and the delayed-fetch registry; borrows the store.
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

  /// Reads from the bucket's log up to the high watermark.
  Result<BucketRead> Read(const metadata::TableBucket& bucket, LogOffset fetch_offset,
                          int64_t max_bytes, bool min_one_batch);

  /// ListOffsets for one bucket.
  Result<LogOffset> ListOffset(const metadata::TableBucket& bucket, log::OffsetSpec spec,
                               TimestampMs timestamp);

  DelayedFetchRegistry& delayed_fetches() { return delayed_fetches_; }
  size_t replica_count() const { return replicas_.size(); }

  /// `{data_dir}/{db}/{table}-{tableId}` and `.../log-{bucket}`.
  std::string TableDir(const metadata::TableInfo& table) const;
  std::string TabletDir(const metadata::TableInfo& table, BucketId bucket) const;

 private:
  Status OpenReplica(std::shared_ptr<const metadata::TableInfo> table, BucketId bucket);
  Status DeleteOrphanDirs(const std::unordered_map<int64_t, std::string>& live_dirs);
  Task<void> MaintenanceLoop();

  Executor reactor_;
  ReplicaManagerOptions options_;
  metadata::MetadataStore& store_;
  std::unordered_map<metadata::TableBucket, std::unique_ptr<Replica>> replicas_;
  DelayedFetchRegistry delayed_fetches_;
  Gate gate_;
  asio::steady_timer maintenance_timer_;
  bool stopping_ = false;
};

}  // namespace strom::replica
