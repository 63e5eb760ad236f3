#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "kv/auto_increment.h"
#include "kv/changelog_builder.h"
#include "kv/kv_checkpoint.h"
#include "kv/kv_table_config.h"
#include "kv/pre_write_buffer.h"
#include "kv/rocksdb_store.h"
#include "kv/row_merger.h"
#include "log/fs/file_system.h"
#include "log/log_tablet.h"
#include "record/key_encoder.h"
#include "record/kv_record_batch.h"

namespace strom::kv {

/// How to open a KvTablet.
struct KvTabletOptions {
  /// The tablet directory, e.g. `{data.dir}/{db}/{table}-{id}/kv-{bucket}`; created when
  /// missing. Holds `db/` (the live RocksDB) and `checkpoints/`.
  std::string dir;
  KvTableInfo table;
  /// Every schema of the table; the latest is what changelogs are written in.
  SchemaSet schemas;
  RocksDbOptions rocksdb;
  /// `kv.snapshot.num-retained`: local checkpoints kept.
  int32_t num_retained_checkpoints = 2;
  /// `kv.recover.log-record-batch.max-size`: changelog bytes read per step of a recovery.
  int64_t recover_read_bytes = 16LL * 1024 * 1024;
  /// The bucket's changelog. Not owned; must outlive the tablet and be driven by the same
  /// thread.
  log::LogTablet* log = nullptr;
  /// Not owned. Null means PosixFileSystem::Default().
  log::FileSystem* fs = nullptr;
  /// The table's auto-increment id counter; required when the table has an auto-increment
  /// column. Not owned.
  SequenceIdCounter* auto_increment_counter = nullptr;
};

/// What a PutKv asks for besides the records.
struct PutKvParams {
  /// Partial update: the column indexes written (must include the primary key). nullopt
  /// writes whole rows.
  std::optional<std::vector<int32_t>> target_columns;
  MergeMode merge_mode = MergeMode::kDefault;
};

/// The result of a PutKv on one bucket.
struct KvPutResult {
  /// The changelog append: offsets of the batch (of the original batch for a duplicate).
  log::LogAppendInfo append;
  /// True when the batch repeated one an idempotent writer had already written: nothing was
  /// applied again and `append` describes the original.
  bool duplicate = false;
  /// Changelog records the batch produced (0 for a duplicate).
  int32_t change_count = 0;
};

/// What TakeCheckpoint wrote.
struct KvCheckpointInfo {
  KvCheckpointMetadata metadata;
  std::string dir;
};

/// A point-in-time scan of a tablet's committed state (SCAN_KV).
struct KvSnapshotScan {
  /// Positioned on the first entry; detached (kKvStorage) if the tablet closes first.
  std::unique_ptr<RocksDbSnapshotCursor> cursor;
  /// Every change before this changelog offset, and none after it, is in the snapshot.
  LogOffset log_offset{0};
};

/// A leader's flush whose RocksDB write runs off the tablet's thread (KvTablet::BeginFlush).
/// Run() does the write on whatever thread calls it; the tablet's thread ends the flush with
/// KvTablet::SettleFlush, which waits for a write under way, or does it itself when no thread
/// has begun it (so a job never run, e.g. after its pool stopped, cannot hang the tablet).
/// Shared between the two threads; every field is handed over through `state_`.
class KvFlushJob {
 public:
  /// Writes the job's changes to RocksDB, unless the tablet's thread took it over. Any
  /// thread; later calls do nothing.
  void Run();
  /// The write is over (Run or SettleFlush did it).
  bool done() const { return state_.load(std::memory_order_acquire) == kDone; }

 private:
  friend class KvTablet;
  enum : int { kWaiting = 0, kWriting = 1, kDone = 2 };
  // True for the one caller that gets to write.
  bool Claim();
  void Write();
  void Wait() const;

  KvPreWriteBuffer::FlushSet set_;
  RocksDbStore* store_ = nullptr;
  RocksDbWriteBatch batch_;
  Status status_;
  std::atomic<int> state_{kWaiting};
};

/// The primary-key state of one bucket (Fluss's KvTablet): RocksDB plus a pre-write buffer,
/// with the bucket's LogTablet as its write-ahead log.
///
/// Write path (PutAsLeader): every record of a KV batch is merged with the current value of
/// its key (pre-write buffer first, then RocksDB) by the table's merge engine; each change
/// becomes changelog records (+I / -U,+U / -D, or +U only in WAL image mode) of one log batch
/// that carries the KV batch's writer id and sequence and is appended to the LogTablet; the
/// new values wait in the pre-write buffer under their changelog offsets. FlushUpTo(offset),
/// called when the high watermark moves to `offset`, writes the committed changes to RocksDB;
/// or BeginFlush(offset) hands that write to another thread and SettleFlush ends it, while
/// PutAsLeader goes on (its reads find the changes being written in the buffer still).
/// Reads (Lookup, PrefixLookup, LimitScan, ScanAll, RowCount) see RocksDB only, so they
/// never show a change a crash could take back.
///
/// Roles: a tablet is the leader's (PutAsLeader, FlushUpTo; the pre-write buffer holds the
/// changes beyond the high watermark) or a follower's hot standby (ApplyCommittedChangelog
/// replays the replicated changelog into RocksDB as the follower's high watermark moves; the
/// buffer stays empty). BecomeLeader / BecomeFollower switch without reopening RocksDB.
///
/// Lifecycle: Open() recovers as leader: it restores the newest local checkpoint (or starts
/// empty), replays the changelog from the checkpoint's offset up to the log's high watermark
/// into RocksDB, and the rest up to the log end into the pre-write buffer. OpenStorage() is
/// the first half only (checkpoint and RocksDB, no changelog): the tablet is a follower at the
/// checkpoint's offset. A checkpoint beyond the log's end is discarded (the log was truncated
/// below it). Close() takes a checkpoint and releases RocksDB. Dropping a tablet without
/// Close() is a crash: the next open recovers the same committed state. A tablet whose log
/// was truncated below flushed_log_offset() is invalid (every later apply or BecomeLeader
/// says so, kKvStorage): drop it, DiscardCheckpointsAbove(the truncation point), open again.
///
/// Threads: none of its own, no locks. OpenStorage() and DiscardCheckpointsAbove() touch
/// only the tablet's directory and RocksDB, never the LogTablet, so they may run on a worker
/// thread while the log's thread goes on (the caller passes the log's bounds it read there).
/// Every other method, Open() included, reads or writes the LogTablet and must be called
/// from the thread that drives it (the reactor in the server), one at a time; a tablet made
/// by OpenStorage() on a worker is handed to that thread before any other call. RocksDB
/// calls block the calling thread: Open() and an unbounded apply take time in proportion to
/// the changelog replayed, so a reactor applies in bounded steps (`max_bytes`).
/// Ownership: owns RocksDB, the pre-write buffer and the checkpoints; borrows the LogTablet,
/// file system and id counter.
///
/// Durability: a PutKv is as durable as its changelog. RocksDB runs without its own WAL;
/// checkpoints are durable when TakeCheckpoint returns. After a crash at any moment, Open()
/// yields exactly the replay of the changelog (every committed change, and the uncommitted
/// tail back in the pre-write buffer).
///
/// Errors: a failed PutKv writes nothing (the buffer is truncated back). RocksDB failures are
/// kKvStorage; a failure to flush the buffer puts the tablet offline (every later call
/// returns that error), as Fluss treats it as fatal.
class KvTablet {
 public:
  /// Opens as leader: OpenStorage() over the log's current bounds, then BecomeLeader().
  static Result<std::unique_ptr<KvTablet>> Open(KvTabletOptions options);
  /// Opens as follower at the newest checkpoint whose offset lies in [log_start, log_end]
  /// (the bucket's log bounds, read by the caller on the log's thread); newer checkpoints are
  /// deleted. Never touches the LogTablet: may run on any thread. kKvStorage when the state
  /// cannot be rebuilt (the log starts beyond every checkpoint).
  static Result<std::unique_ptr<KvTablet>> OpenStorage(KvTabletOptions options,
                                                       LogOffset log_start, LogOffset log_end);
  /// Deletes the checkpoints in `{dir}/checkpoints` that cover changelog beyond `offset`
  /// (before the bucket's log is cut back to `offset`, while no tablet of `dir` is open).
  /// Returns how many went. `fs` null: PosixFileSystem::Default().
  static Result<int32_t> DiscardCheckpointsAbove(const std::string& dir, log::FileSystem* fs,
                                                 LogOffset offset);
  /// The changelog offsets the checkpoints in `{dir}/checkpoints` cover, oldest first (none
  /// when there is no such directory).
  static Result<std::vector<LogOffset>> CheckpointOffsets(const std::string& dir,
                                                          log::FileSystem* fs);
  ~KvTablet();
  KvTablet(const KvTablet&) = delete;
  KvTablet& operator=(const KvTablet&) = delete;

  /// Applies one KV record batch (PutKv for this bucket) and appends its changelog. Errors,
  /// with nothing written: kSchemaNotExist (schema id not in 0..latest), kInvalidTargetColumn
  /// (partial update without the key, with a NOT NULL column left out, touching the
  /// auto-increment column, or a full-row write on a table with one), kDeletionDisabled
  /// (a delete on a table with `table.delete.behavior` = DISABLE), kCorruptRecord (malformed
  /// batch, a row that does not decode, a null key column, or key bytes that are not the
  /// row's encoded primary key), kUnknownServerError (partial update on first_row or
  /// versioned), and whatever the changelog append returns (kOutOfOrderSequence, ...).
  Result<KvPutResult> PutAsLeader(ByteView kv_batch, const PutKvParams& params = {});

  /// Writes the buffered changes below `committed_offset` (the new high watermark) to
  /// RocksDB. Idempotent; an offset at or below the flushed one does nothing. Leader only.
  Status FlushUpTo(LogOffset committed_offset);
  /// FlushUpTo with the RocksDB write left to the caller: returns the job to Run() on another
  /// thread, or null when there is nothing to write (the flushed offset has moved already).
  /// Until SettleFlush ends it, flushed_log_offset() stays where it was; PutAsLeader and
  /// reads go on (a lookup may see the changes before the flush settles: they are committed).
  /// Every other call that needs RocksDB to match flushed_log_offset() (FlushUpTo, the role
  /// changes, checkpoints, snapshot scans, Close) settles the flush first. Leader only; one
  /// flush at a time (kUnknownServerError while one is in flight).
  Result<std::shared_ptr<KvFlushJob>> BeginFlush(LogOffset committed_offset);
  /// Ends the flush in flight, if any: waits for its write (or writes here when no thread has
  /// begun it), then drops the written changes from the buffer and moves the flushed offset.
  /// `wait` false: only when the write is already over. A failed write takes the tablet
  /// offline (kKvStorage), as FlushUpTo.
  Status SettleFlush(bool wait = true);
  bool flush_in_flight() const { return flush_ != nullptr; }

  /// Follower: replays the changelog from flushed_log_offset() up to min(`up_to`, log end)
  /// into RocksDB (the caller passes the follower's high watermark: committed changes only),
  /// reading about `max_bytes` of it at most (at least one batch; <= 0: no bound). Returns
  /// true once the flushed offset reached that bound. kKvStorage when the log no longer holds
  /// the flushed offset (truncated below it, or starting beyond it: the tablet is invalid,
  /// see the class comment) or RocksDB fails (the tablet goes offline); kUnknownServerError
  /// on a leader.
  Result<bool> ApplyCommittedChangelog(LogOffset up_to, int64_t max_bytes);
  /// Follower to leader: applies the committed changelog up to the log's high watermark (in
  /// one go: a standby that kept up has little left), then loads the rest up to the log end
  /// into the pre-write buffer and resumes the auto-increment range after the last id seen.
  /// recovered_record_count() then counts what this replayed. kKvStorage as for
  /// ApplyCommittedChangelog. Nothing to do on a leader.
  Status BecomeLeader();
  /// Leader to follower: drops the pre-write buffer (changes beyond the high watermark, which
  /// the next leader may cut off); RocksDB keeps the committed state. Nothing on a follower.
  void BecomeFollower();

  /// The stored value (int16 schema id + row) of each key, in order; nullopt for absent keys.
  Result<std::vector<std::optional<ByteBuffer>>> Lookup(std::span<const ByteView> keys);
  /// Every stored value whose key starts with `prefix` (encoded bucket key), in key order.
  Result<std::vector<ByteBuffer>> PrefixLookup(ByteView prefix);
  /// The first `limit` values in key order as one ValueRecordBatch (LimitScan of a PK table).
  Result<ByteBuffer> LimitScan(int32_t limit);
  /// Visits every committed key and stored value in key order; return false to stop.
  Status ScanAll(const RocksDbStore::Visitor& visit);
  /// Opens a point-in-time cursor over the committed state and the offset it covers.
  Result<KvSnapshotScan> OpenSnapshotScan();
  /// Live keys (GetTableStats). kInvalidTable when the table keeps no row count (WAL image
  /// mode), as Fluss.
  Result<int64_t> RowCount() const;

  /// Writes a local checkpoint of the committed state (RocksDB checkpoint + the changelog
  /// offset it covers, the row count and the auto-increment range), keeps the newest
  /// `num_retained_checkpoints`, and lets the changelog drop what the oldest kept one covers.
  Result<KvCheckpointInfo> TakeCheckpoint();

  /// Installs a newer set of schemas (after ALTER TABLE). The latest id may only grow.
  Status UpdateSchemas(SchemaSet schemas);

  /// Takes a checkpoint and releases RocksDB. The tablet is unusable afterwards.
  Status Close();

  // ---- introspection ----
  const std::string& dir() const { return options_.dir; }
  const KvTableConfig& config() const { return config_; }
  /// Every change before this offset is in RocksDB.
  LogOffset flushed_log_offset() const { return flushed_log_offset_; }
  const KvPreWriteBuffer& pre_write_buffer() const { return buffer_; }
  std::optional<AutoIncIdRange> auto_increment_range() const;
  /// OK, or the error that took the tablet offline.
  const Status& failure() const { return failure_; }
  /// Changelog records replayed by Open() or the last BecomeLeader() (into RocksDB and into
  /// the buffer); a standby that kept up replays only the uncommitted tail there.
  int64_t recovered_record_count() const { return recovered_records_; }
  /// Changelog records ApplyCommittedChangelog wrote to RocksDB since the tablet opened.
  int64_t applied_record_count() const { return applied_records_; }
  bool is_leader() const { return leader_; }

 private:
  KvTablet(KvTabletOptions options, KvTableConfig config);

  static Result<std::unique_ptr<KvTablet>> Create(KvTabletOptions options);
  Status Init();
  // Restores the newest usable checkpoint (or empty state) and opens RocksDB.
  Status RestoreCheckpoint(LogOffset log_start, LogOffset log_end);
  // kKvStorage unless the log holds the flushed offset (log start <= flushed <= log end).
  Status CheckChangelogCovers() const;
  // Replays [from, to) (or until about `max_bytes` were read, when > 0; `reached` gets where
  // it stopped).
  Status ReplayChangelog(LogOffset from, LogOffset to, bool into_rocksdb, int64_t* row_count,
                         int64_t* last_auto_inc_id, int64_t max_bytes, LogOffset* reached);
  Status ApplyChangelogBatch(const record::LogRecordBatch& batch, LogOffset from, LogOffset to,
                             bool into_rocksdb, RocksDbWriteBatch* write_batch, int64_t* row_count,
                             int64_t* last_auto_inc_id, LogOffset* next);
  Status BuildSchemaState();

  Status ProcessBatch(const record::KvRecordBatch& batch, const PutKvParams& params,
                      RowMerger* merger, LogOffset start_offset);
  // `prefetched`: the key's RocksDB value read ahead for the batch (moved from), or null to
  // read it here.
  Status ProcessUpsert(ByteView key, KvValue input, RowMerger* merger,
                       std::optional<ByteBuffer>* prefetched, LogOffset* lsn);
  Status ProcessDelete(ByteView key, RowMerger* merger, std::optional<ByteBuffer>* prefetched,
                       LogOffset* lsn);
  Status ApplyInsert(ByteView key, KvValue value, LogOffset* lsn);
  Status ApplyUpdate(ByteView key, const KvValue* old, KvValue value, LogOffset* lsn);
  Status ApplyDelete(ByteView key, const KvValue& old, LogOffset* lsn);
  /// The current value of `key` (buffer, then `prefetched` when given, else RocksDB): false
  /// when absent. `storage` keeps the bytes `value->encoded` points into.
  Result<bool> ReadCurrent(ByteView key, std::optional<ByteBuffer>* prefetched, KvValue* value,
                           ByteBuffer* storage);
  Result<KvValue> DecodeStored(ByteView stored);
  Status EncodeStored(const KvValue& value, ByteBuffer* out);
  Status CheckKey(ByteView key, const record::GenericRow* row);
  Status CheckUsable() const;
  Status GoOffline(Status status);

  KvTabletOptions options_;
  KvTableConfig config_;
  std::shared_ptr<const SchemaCache> schema_cache_;
  std::unique_ptr<record::KeyEncoder> key_encoder_;
  std::unique_ptr<RocksDbStore> store_;
  KvCheckpointStore checkpoints_;
  KvPreWriteBuffer buffer_;
  ChangelogBuilder changelog_;
  std::optional<AutoIncrementAllocator> auto_increment_;
  std::optional<size_t> auto_increment_index_;
  LogOffset flushed_log_offset_{0};
  // -1: not kept (WAL image mode).
  int64_t row_count_ = 0;
  int64_t next_checkpoint_id_ = 1;
  bool leader_ = false;
  // Changelog records decoded by every replay; the two counters below are taken from it.
  int64_t replayed_records_ = 0;
  int64_t recovered_records_ = 0;
  int64_t applied_records_ = 0;
  // A follower's auto-increment bookkeeping: the range it started from (checkpoint, or its
  // own as leader) and the last id the changelog applied since inserted; BecomeLeader derives
  // the range in use from them.
  std::optional<AutoIncIdRange> replay_range_;
  int64_t last_auto_inc_id_ = -1;
  Status failure_;
  bool closed_ = false;
  // The flush whose write is off this thread (BeginFlush), until SettleFlush.
  std::shared_ptr<KvFlushJob> flush_;
  ByteBuffer scratch_key_;
  // ProcessBatch's scratch, kept to reuse its memory: the batch's records, the keys read
  // ahead, each record's slot in them (-1: not read), and the values read.
  std::vector<record::KvRecord> batch_records_;
  std::vector<ByteView> prefetch_keys_;
  std::vector<int32_t> prefetch_slots_;
  std::vector<std::optional<ByteBuffer>> prefetched_;
};

}  // namespace strom::kv
