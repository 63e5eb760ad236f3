#pragma once

#include <asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/async.h"
#include "common/config/config.h"
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
#include "replica/leader_and_isr.h"
#include "replica/replica_fetcher.h"
#include "replica/replica_state.h"

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
  /// Leaders write their committed KV changes to RocksDB on a worker thread, so that the
  /// reactor takes the next PutKv meanwhile; the high watermark moves once the write is in
  /// (`strom.kv.flush-off-reactor`). False: written on the reactor, as before.
  bool kv_flush_off_reactor = true;
  /// `kv.scanner.*`: SCAN_KV sessions.
  KvScannerOptions scanners;

  // ---- replication ----
  /// Single-node mode (`strom-server local`): every hosted bucket is its own leader with
  /// ISR = {self} from the moment it opens (Start, CreateTableBuckets). A tablet server of a
  /// cluster sets it false: Start() opens nothing and buckets open when the coordinator
  /// names their leader (BecomeLeaderOrFollower).
  bool local_leadership = true;
  /// `log.replica.max-lag-time`: a follower that has not caught up to the leader's log end
  /// for this long leaves the ISR (checked every half of it, as Fluss's isr-expiration).
  std::chrono::milliseconds replica_max_lag_time = std::chrono::seconds(30);
  /// `log.replica.min-in-sync-replicas-number`: acks=all writes are refused with
  /// NOT_ENOUGH_REPLICAS below this ISR size, and the high watermark does not move.
  int32_t min_in_sync_replicas = 1;
  /// Bound on acks=all writes waiting for replication at once.
  size_t max_waiting_writes = 4096;
  /// The follower fetchers (`log.replica.fetch.*`).
  FetcherOptions fetcher;
  /// `log.replica.high-watermark.checkpoint-interval`: how often a cluster tablet server saves
  /// every hosted bucket's high watermark to `{data_dir}/high-watermark-checkpoint` (also at
  /// Stop); a replica opened after a restart starts from the saved value. Zero or negative:
  /// only at Stop.
  std::chrono::milliseconds high_watermark_checkpoint_interval = std::chrono::seconds(5);

  /// Sets the replication fields above from their Fluss keys (`log.replica.max-lag-time`,
  /// `log.replica.min-in-sync-replicas-number`, `log.replica.fetch.*`).
  void ApplyReplicationConfig(const config::Configuration& conf);
};

/// One bucket hosted here: its table, its log tablet, for a primary-key table its KV tablet
/// (whose changelog the log is; only while leader, as in Fluss), and its place in the
/// bucket's replication (leader with its followers' progress, or follower of a leader).
struct Replica {
  metadata::TableBucket bucket;
  std::shared_ptr<const metadata::TableInfo> table;
  std::unique_ptr<log::LogTablet> log;
  /// Declared after `log`: destroyed first, as it borrows the log. In cluster mode kept on
  /// leaders and followers alike (a follower's is a hot standby, see README.md "Primary-key
  /// tables"); null while it is being opened or after it had to be dropped.
  std::unique_ptr<kv::KvTablet> kv;
  /// `kv` serves lookups and PutKv: the replica leads, and its tablet caught up to the high
  /// watermark and took the leader role (always so in single-node mode).
  bool kv_ready = false;
  /// An open of `kv` runs on the KV worker thread; `kv_open_token` names it (an answer with
  /// another token is dropped), `kv_cut_during_open` is the lowest offset the log was cut to
  /// meanwhile (a tablet restored beyond it is dropped and opened again).
  bool kv_opening = false;
  uint64_t kv_open_token = 0;
  std::optional<LogOffset> kv_cut_during_open;
  /// A failed open is tried again from this time on.
  SteadyClock::time_point kv_retry_at{};
  /// The flushed offset of the last checkpoint taken here; the periodic checkpoint skips a
  /// tablet that has not moved since.
  LogOffset checkpointed_offset{-1};
  /// Leader or follower, epochs, ISR and followers' progress.
  ReplicationState repl;

  bool is_leader() const { return repl.is_leader; }
};

/// What a read of one bucket produced.
struct BucketRead {
  ByteBuffer records;
  /// Set instead of `records` by a zero-copy read: the bytes left in their segment file.
  std::optional<log::FileSlice> slice;
  LogOffset high_watermark;
  LogOffset log_start_offset;
};

/// The tablets of this tablet server, keyed by TableBucket (Fluss `ReplicaManager`): creates
/// and opens tablets when tables are created or the server starts (single-node mode) or when
/// the coordinator names their leader (cluster mode), deletes them when tables are dropped or
/// replicas stopped, appends as leader and advances the high watermark as the ISR allows (one
/// replica: to the log end), completes acks=all writes, serves reads to clients and
/// followers, keeps the ISR (AdjustIsr through the IsrChannel), runs one ReplicaFetcher per
/// leader server it follows, lists offsets, and wakes delayed fetches on append. See
/// README.md "Replication".
///
/// Primary-key tables: each bucket also has a KvTablet in `{table dir}/kv-{bucket}/` over the
/// bucket's log (its changelog). It is opened (recovered from its newest checkpoint plus the
/// changelog after it) with the log (single node) or on the KV worker thread when the
/// coordinator names the replica's role (cluster mode, where followers keep theirs as a hot
/// standby applying the committed changelog), written by PutKv, flushed to RocksDB as soon
/// as the high watermark passes a write (one replica: right after the append), checkpointed every
/// `kv.snapshot.interval` and at Stop(), and deleted with its table. The table's
/// auto-increment counter is a FileSequenceIdCounter in `{table dir}/auto-increment`.
///
/// Lifecycle: construct, SetIsrChannel / SetServerDirectory (cluster mode), Start() (single
/// node: opens the tablets of registered tables and deletes the directories of tables that no
/// longer exist), serve, Stop() (wakes waiting fetches and writes, stops the fetchers and
/// housekeeping, closes scan sessions, checkpoints and closes every KV tablet, closes every
/// log tablet cleanly). Thread: the reactor only, no locks, but for the KV worker thread that
/// opens KV tablets no one else sees yet (cluster mode). Tablet appends, reads, RocksDB
/// writes and checkpoints are synchronous on the reactor (page cache; RocksDB memtables);
/// fsyncs happen at roll, checkpoint and close. Ownership: owns every Replica, the id
/// counters, the scan sessions, the delayed-fetch and delayed-write registries and the
/// fetchers; borrows the store, the ISR channel and the server directory.
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
  /// AppendToLeader with the producer's acks: NOT_LEADER_OR_FOLLOWER on a follower; with
  /// acks = -1, NOT_ENOUGH_REPLICAS (nothing appended) when the ISR is smaller than
  /// `log.replica.min-in-sync-replicas-number`. Returns what was appended; an acks=-1 caller
  /// then awaits WaitForReplication(last_offset + 1).
  Result<log::LogAppendInfo> AppendRecordsToLeader(const metadata::TableBucket& bucket,
                                                   std::span<char> records, int32_t acks);

  /// The delayed write of an acks=-1 ProduceLog / PutKv (Fluss DelayedWrite): completes when
  /// the bucket's high watermark reaches `required_offset` (OK, or
  /// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below the minimum meanwhile), when
  /// the replica stops being leader (NOT_LEADER_OR_FOLLOWER), or at `deadline`
  /// (REQUEST_TIME_OUT). Also REQUEST_TIME_OUT at once when `max_waiting_writes` writes wait.
  Task<Status> WaitForReplication(metadata::TableBucket bucket, LogOffset required_offset,
                                  SteadyClock::time_point deadline);

  /// True when `bucket` is led here and its ISR is this replica alone: its high watermark
  /// then waits for nothing but the local log and KV flush.
  bool IsSoleInSyncReplica(const metadata::TableBucket& bucket);

  /// Applies one PutKv batch to a primary-key bucket (KvTablet::PutAsLeader), then advances
  /// the high watermark as far as the ISR allows, flushes the KV tablet up to it (on the flush
  /// worker, `kv_flush_off_reactor`: the high watermark moves when the write is in) and wakes
  /// fetches.
  /// kUnknownTableOrBucket for a bucket not hosted here, kNonPrimaryKeyTable for a log table;
  /// a failed put writes nothing.
  Result<kv::KvPutResult> PutKv(const metadata::TableBucket& bucket, ByteView records,
                                const kv::PutKvParams& params, int32_t acks = 1);

  /// The replica of a primary-key bucket led here: kUnknownTableOrBucket,
  /// kNotLeaderOrFollower (not the leader), kLeaderNotAvailable (the leader's KV tablet is
  /// still being opened or catching up; retriable), kNonPrimaryKeyTable.
  Result<Replica*> FindKv(const metadata::TableBucket& bucket);

  /// Checks that a primary-key table's options make a valid KV tablet (what opening one
  /// would refuse, kInvalidConfig), so CreateTable can refuse it before registering it.
  static Status CheckKvTable(const record::TableDescriptor& table);

  /// Takes a local checkpoint of every KV tablet whose state moved since its last one (what
  /// the `kv.snapshot.interval` timer runs). Returns how many it took; the first failure is
  /// logged and the others still run.
  size_t CheckpointKvTablets();

  KvScannerManager& kv_scanners() { return kv_scanners_; }

  /// Reads from the bucket's log: a client (`follower_id` < 0) up to the high watermark, a
  /// follower up to the log end. Only the leader serves reads (NOT_LEADER_OR_FOLLOWER). A
  /// follower's fetch offset is its log end offset: the leader records it, which may add the
  /// follower to the ISR (AdjustIsr) and move the high watermark. With `zero_copy` the bytes
  /// may be left in their segment file (BucketRead::slice), for a sender that uses sendfile.
  Result<BucketRead> Read(const metadata::TableBucket& bucket, LogOffset fetch_offset,
                          int64_t max_bytes, bool min_one_batch,
                          ServerId follower_id = ServerId(-1), bool zero_copy = false);

  /// ListOffsets for one bucket (leader only): kLatest is the log end for a follower.
  Result<LogOffset> ListOffset(const metadata::TableBucket& bucket, log::OffsetSpec spec,
                               TimestampMs timestamp, ServerId follower_id = ServerId(-1));
  /// ListOffsets type 3 (Fluss LEADER_END_OFFSET_SNAPSHOT): the log end offset the leader had
  /// when it became leader in its current epoch; a new follower truncates what it has beyond.
  Result<LogOffset> LeaderEndOffsetSnapshot(const metadata::TableBucket& bucket);

  // ---- replication control (the coordinator's requests, see leader_and_isr.h) ----

  /// NotifyLeaderAndIsr: fences a coordinator epoch older than the newest seen
  /// (kInvalidCoordinator for every bucket), then per bucket opens or creates the tablets
  /// (TableInfo from the metadata store), refuses a bucket epoch older than the replica's
  /// (kInvalidUpdateVersion) or a leader epoch older than its own (kFencedLeaderEpoch), and
  /// makes the replica leader (own id == leader: takes the ISR, remembers its log end; a
  /// primary-key table's standby KV tablet catches up to the high watermark and takes the
  /// lead, or is opened first, see README.md) or follower (the KV tablet stays open as
  /// standby, its pre-write buffer dropped; fetches from the leader).
  /// The same leader epoch again only refreshes the ISR. See FenceLeadership() for a server
  /// that lost its ZooKeeper session.
  Task<std::vector<BucketResult>> BecomeLeaderOrFollower(CoordinatorEpoch coordinator_epoch,
                                                         std::vector<NotifyLeaderAndIsrItem> items);
  /// StopReplica: stops fetching, fails waiting writes, closes the tablets (deletes their
  /// files when asked). kFencedLeaderEpoch for a leader epoch older than the replica's.
  Task<std::vector<BucketResult>> StopReplicas(CoordinatorEpoch coordinator_epoch,
                                               std::vector<StopReplicaItem> items);
  /// The tablet server lost its ZooKeeper session (expired, or cut off for longer than the
  /// session timeout, after which ZooKeeper has ended it): the coordinator has seen the
  /// server leave and elects other leaders with a newer leader epoch. Every bucket led here
  /// stops leading at once: writes, reads and lookups answer NOT_LEADER_OR_FOLLOWER (acks=-1
  /// writes waiting for the ISR included, never acknowledged afterwards), the high watermark
  /// stops, ISR proposals in flight are dropped, KV tablets are closed (their checkpoints
  /// hold committed state only). Until AllowLeadership(), NotifyLeaderAndIsr refuses to make
  /// this server leader of anything (NOT_LEADER_OR_FOLLOWER); afterwards a fenced bucket
  /// takes only a newer leader epoch (FENCED_LEADER_EPOCH for its own), as leader or
  /// follower. Followed buckets keep fetching. Returns how many buckets were led.
  size_t FenceLeadership();
  /// A new ZooKeeper session exists (the server registers again): NotifyLeaderAndIsr may make
  /// this server leader again, each fenced bucket with a newer leader epoch.
  void AllowLeadership();
  /// Between FenceLeadership() and AllowLeadership().
  bool leadership_fenced() const { return leadership_fenced_; }

  /// Where ISR changes are proposed (the coordinator). Without one the ISR never changes.
  /// Not owned; must outlive the manager.
  void SetIsrChannel(IsrChannel* channel) { isr_channel_ = channel; }
  /// Where followers find their leaders. Not owned; must outlive the manager.
  void SetServerDirectory(const ServerDirectory* directory) { directory_ = directory; }
  const ServerDirectory* server_directory() const { return directory_; }
  /// Recomputes the high watermark of every bucket led here; on UpdateMetadata (the
  /// directory changed) and with every ISR expiration check. A follower outside the ISR that
  /// was caught up counts for the high watermark while it is alive and within the lag time
  /// (Kafka's rule, so that it can join the ISR); once the directory says it is gone, or the
  /// lag time has passed, it no longer holds back acks=all writes. Nothing else would
  /// recompute it when the only other events are retries of the waiting writes (duplicates
  /// append nothing) and the followers left have nothing new to fetch.
  void RecomputeHighWatermarks();

  // ---- the follower side (called by ReplicaFetcher) ----

  /// Appends batches fetched from the leader at `fetch_offset` (which must be the log end)
  /// as they are, offsets and timestamps kept; the follower's high watermark then follows its
  /// log end, as in Fluss 0.9.1. Returns the new log end. kNotLeaderOrFollower when the
  /// replica is no longer a follower.
  Result<LogOffset> AppendAsFollower(const metadata::TableBucket& bucket, LogOffset fetch_offset,
                                     ByteView records, LogOffset leader_high_watermark);
  /// Reconciles a follower's log with its leader's before it fetches: unless the follower's
  /// persisted EpochStart already names the current leader epoch (it copied from this leader
  /// only; `force` ignores that), cuts the log back to `leader_epoch_start` (the leader's log
  /// end at its election, ListOffsets type 3) and records that epoch start. Returns the log end
  /// to fetch from.
  Result<LogOffset> ReconcileWithLeader(const metadata::TableBucket& bucket,
                                        LogOffset leader_epoch_start, bool force);
  /// The follower's log end offset.
  Result<LogOffset> FollowerLogEndOffset(const metadata::TableBucket& bucket);
  /// Truncates a follower's log to `offset` (nothing when it already ends there or before).
  Status TruncateFollower(const metadata::TableBucket& bucket, LogOffset offset);
  /// Empties a follower's log and restarts it at `offset` (the leader deleted what it lacks).
  Status TruncateFollowerFullyAndStartAt(const metadata::TableBucket& bucket, LogOffset offset);

  /// Runs one ISR-expiration pass now (what the `max-lag-time / 2` timer runs): every leader
  /// proposes to drop followers that have not caught up for `replica_max_lag_time`.
  void MaybeShrinkIsr();
  /// Writes every hosted bucket's high watermark to `{data_dir}/high-watermark-checkpoint`
  /// now (what the checkpoint-interval timer and Stop run in cluster mode).
  Status CheckpointHighWatermarks();
  ServerId server_id() const { return options_.server_id; }
  const ReplicaManagerOptions& options() const { return options_; }

  DelayedFetchRegistry& delayed_fetches() { return delayed_fetches_; }
  size_t replica_count() const { return replicas_.size(); }

  /// `{data_dir}/{db}/{table}-{tableId}`, `.../log-{bucket}` and `.../kv-{bucket}`.
  std::string TableDir(const metadata::TableInfo& table) const;
  std::string TabletDir(const metadata::TableInfo& table, BucketId bucket) const;
  std::string KvTabletDir(const metadata::TableInfo& table, BucketId bucket) const;
  /// `{data_dir}/high-watermark-checkpoint`.
  std::string HighWatermarkCheckpointPath() const;

 private:
  Status OpenReplica(std::shared_ptr<const metadata::TableInfo> table, BucketId bucket);
  Status OpenKvTablet(Replica* replica);
  Result<kv::SequenceIdCounter*> AutoIncrementCounter(const metadata::TableInfo& table);
  Status DeleteOrphanDirs(const std::unordered_map<int64_t, std::string>& live_dirs);
  Task<void> MaintenanceLoop();
  Task<void> KvCheckpointLoop();
  Task<void> ScannerExpiryLoop();
  Task<void> IsrExpirationLoop();
  Task<void> HighWatermarkCheckpointLoop();

  Result<Replica*> OpenReplicaForNotify(std::shared_ptr<const metadata::TableInfo> table,
                                        BucketId bucket);
  Status MakeLeader(Replica* replica, const NotifyLeaderAndIsrItem& item, bool new_epoch);
  Status MakeFollower(Replica* replica, const NotifyLeaderAndIsrItem& item, bool new_epoch);
  void CloseKv(Replica* replica);
  /// Lets go of the replica's KV tablet, if any: its scanners closed, the tablet closed with a
  /// checkpoint when `checkpoint` (else dropped as is: its state is unusable or to be
  /// rebuilt), its readiness and checkpoint bookkeeping reset.
  void ReleaseKv(Replica* replica, bool checkpoint);
  // ---- the KV tablets of cluster mode (leaders and hot-standby followers) ----
  /// Starts opening `replica`'s KV tablet on the KV worker (checkpoint restore and RocksDB
  /// open); the sync loop then applies the changelog in steps. Nothing when open or opening.
  void StartKvOpen(Replica* replica);
  Task<void> OpenKvTask(metadata::TableBucket bucket, uint64_t token, kv::KvTabletOptions options,
                        LogOffset log_start, LogOffset log_end);
  Result<kv::KvTabletOptions> KvTabletOptionsFor(const Replica& replica);
  /// One step for one replica: opens a missing tablet, applies up to about one step of
  /// committed changelog, makes a caught-up leader's tablet leader. True when more is left.
  bool SyncKv(Replica* replica);
  Task<void> KvSyncLoop();
  /// Runs a leader's KV flush (`job`) on the flush worker, settles it and moves the high
  /// watermark as far as it allows.
  Task<void> FinishKvFlush(metadata::TableBucket bucket, std::shared_ptr<kv::KvFlushJob> job);
  /// Leader to follower (or fenced): the tablet stays open as standby, its buffer dropped.
  void DemoteKv(Replica* replica);
  /// Deletes the replica's KV checkpoints that cover changelog beyond `offset`; a failure is
  /// logged (the next open discards them too).
  void DiscardKvCheckpointsAbove(Replica* replica, LogOffset offset);
  /// Drops a tablet whose state is unusable (no checkpoint); it is opened again later.
  void DropKv(Replica* replica);
  /// Called right after a follower's log was cut (`fully`: emptied and restarted at its new
  /// end), before anything is appended: a tablet holding changelog beyond the new log end is
  /// dropped and the checkpoints beyond it deleted, so the next open rebuilds from one at or
  /// below it (an open in flight is checked when it comes back).
  void AfterFollowerTruncation(Replica* replica, bool fully);
  /// Moves the leader's high watermark to the smallest log end of the (maximal) ISR and the
  /// caught-up followers, flushing the KV tablet first; wakes fetches and writes when it moved.
  bool MaybeIncrementLeaderHighWatermark(Replica* replica);
  void MaybeExpandIsr(Replica* replica, ServerId follower);
  void SubmitAdjustIsr(Replica* replica, std::vector<ServerId> proposed, bool expand);
  Task<void> AdjustIsrTask(metadata::TableBucket bucket, LeaderAndIsr proposed,
                           uint64_t isr_version);
  bool IsAlive(ServerId id) const;
  TimestampMs NowMs() const;
  void WakeBucket(const metadata::TableBucket& bucket);
  void RemoveFetcher(const metadata::TableBucket& bucket);

  Executor reactor_;
  ReplicaManagerOptions options_;
  metadata::MetadataStore& store_;
  // Before replicas_: KV tablets borrow the counters, so they must go after the tablets.
  std::unordered_map<TableId, std::unique_ptr<FileSequenceIdCounter>> id_counters_;
  std::unordered_map<metadata::TableBucket, std::unique_ptr<Replica>> replicas_;
  // After replicas_: scan sessions hold RocksDB snapshots, released before the tablets close.
  KvScannerManager kv_scanners_;
  DelayedFetchRegistry delayed_fetches_;
  /// acks=-1 writes waiting for the high watermark (the same wait-by-bucket registry).
  DelayedFetchRegistry delayed_writes_;
  IsrChannel* isr_channel_ = nullptr;
  const ServerDirectory* directory_ = nullptr;
  CoordinatorEpoch coordinator_epoch_{-1};
  /// Set by FenceLeadership(), cleared by AllowLeadership().
  bool leadership_fenced_ = false;
  /// One fetcher per leader server this server follows, keyed by the leader's id; stopped
  /// and destroyed at Stop() only (an idle one waits for buckets).
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers_;
  Gate gate_;
  asio::steady_timer maintenance_timer_;
  asio::steady_timer kv_checkpoint_timer_;
  asio::steady_timer scanner_expiry_timer_;
  asio::steady_timer isr_expiration_timer_;
  asio::steady_timer hw_checkpoint_timer_;
  asio::steady_timer kv_sync_timer_;
  /// Cluster mode: the thread that opens KV tablets (RocksDB open and checkpoint restore
  /// block), so that the reactor goes on serving meanwhile.
  std::unique_ptr<asio::thread_pool> kv_pool_;
  /// The thread that writes leaders' committed KV changes to RocksDB
  /// (`kv_flush_off_reactor`); null when they are written on the reactor.
  std::unique_ptr<asio::thread_pool> kv_flush_pool_;
  uint64_t next_kv_open_token_ = 0;
  bool stopping_ = false;
  /// Cluster mode: the high watermarks saved by the previous run, read once by Start(); a
  /// replica opened later starts from its entry (0 without one), as Fluss.
  std::map<metadata::TableBucket, LogOffset> saved_high_watermarks_;
};

}  // namespace strom::replica
