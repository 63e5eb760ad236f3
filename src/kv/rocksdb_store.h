#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/config/config.h"
#include "common/result.h"
#include "common/status.h"

/// The one place in Strom that talks to RocksDB (STYLE.md §3.2): every other file of the
/// component sees only the types below, so no RocksDB header leaks out of this pair of files.
namespace strom::kv {

/// Compression of one RocksDB level (`kv.rocksdb.compression.per.level`, Fluss's
/// KvCompressionType).
enum class KvCompression : uint8_t {
  kNone,
  kSnappy,
  kLz4,
  kZstd,
};

/// How a KV tablet's RocksDB instance is tuned. Defaults are Fluss 0.9.1's.
struct RocksDbOptions {
  /// `kv.rocksdb.writebuffer.size`: memtable size.
  int64_t write_buffer_size = 64LL * 1024 * 1024;
  /// `kv.rocksdb.writebuffer.count`: memtables before writes stall.
  int32_t write_buffer_count = 2;
  /// `kv.rocksdb.block.cache-size`: LRU block cache (per instance).
  int64_t block_cache_size = 8LL * 1024 * 1024;
  /// `kv.rocksdb.block.blocksize`.
  int64_t block_size = 4 * 1024;
  /// `kv.rocksdb.use-bloom-filter` and `kv.rocksdb.bloom-filter.bits-per-key` (full filters).
  bool use_bloom_filter = true;
  double bloom_bits_per_key = 10.0;
  /// `kv.rocksdb.compression.per.level`: one entry per level; the last one repeats for deeper
  /// levels.
  std::vector<KvCompression> compression_per_level = {
      KvCompression::kLz4, KvCompression::kLz4,  KvCompression::kLz4, KvCompression::kLz4,
      KvCompression::kLz4, KvCompression::kZstd, KvCompression::kZstd};
  /// `kv.rocksdb.files.open`: -1 keeps every file open.
  int32_t max_open_files = -1;
  /// `kv.rocksdb.thread.num`: background flush and compaction jobs.
  int32_t background_threads = 2;

  /// Reads the `kv.rocksdb.*` options; kInvalidConfig for an unknown compression name or a
  /// size out of range.
  static Result<RocksDbOptions> FromConfiguration(const config::Configuration& conf);
};

/// Parses one compression name as Fluss spells it (NO / NONE, SNAPPY, LZ4, ZSTD; any case).
Result<KvCompression> ParseKvCompression(std::string_view name);

/// Puts and deletes that RocksDbStore::Write applies atomically, in order.
///
/// Owns its buffered operations (copies of the keys and values). Not thread-safe. Reusable:
/// Write() empties it.
class RocksDbWriteBatch {
 public:
  RocksDbWriteBatch();
  ~RocksDbWriteBatch();
  RocksDbWriteBatch(const RocksDbWriteBatch&) = delete;
  RocksDbWriteBatch& operator=(const RocksDbWriteBatch&) = delete;

  void Put(ByteView key, ByteView value);
  void Delete(ByteView key);
  /// Operations buffered so far.
  int32_t count() const;
  /// Approximate bytes buffered.
  size_t size_in_bytes() const;
  bool empty() const { return count() == 0; }
  void Clear();

 private:
  friend class RocksDbStore;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A cursor over every entry of a RocksDbStore as it was when the cursor was made (a RocksDB
/// snapshot plus an iterator on it), in key order. Writes made afterwards are not seen. Made
/// by RocksDbStore::NewSnapshotCursor.
///
/// Lifecycle: holds the snapshot until destroyed. When the store closes first, the cursor is
/// detached: it releases its snapshot then and reports kKvStorage from status() and Valid()
/// returns false. Thread: the thread that drives the store; not thread-safe. Ownership: owned
/// by whoever opened it; borrows the store.
class RocksDbSnapshotCursor {
 public:
  ~RocksDbSnapshotCursor();
  RocksDbSnapshotCursor(const RocksDbSnapshotCursor&) = delete;
  RocksDbSnapshotCursor& operator=(const RocksDbSnapshotCursor&) = delete;

  /// True while the cursor is on an entry.
  bool Valid() const;
  /// The current entry; only while Valid(). Views stay valid until the next Next().
  ByteView key() const;
  ByteView value() const;
  /// Moves to the next entry; only while Valid().
  void Next();
  /// OK, or why iteration stopped early (an I/O error, or the store was closed).
  Status status() const;

  struct Impl;  // opaque; defined with the store

 private:
  friend class RocksDbStore;
  explicit RocksDbSnapshotCursor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One RocksDB instance (the state of one KV bucket), opened with Fluss's tuning and with
/// RocksDB's own write-ahead log disabled: the bucket's changelog is the WAL, and a crash
/// loses whatever was only in memtables, which recovery replays from the changelog.
///
/// Lifecycle: Open() creates the directory when missing; Close() (or the destructor) flushes
/// nothing and releases the instance. Thread: RocksDB itself is thread-safe, but KvTablet
/// drives a store from one thread at a time; iteration callbacks run on the calling thread.
/// Ownership: owns the RocksDB instance and its block cache.
///
/// Durability: Write() reaches the memtable only (no WAL, no fsync). Data is durable once a
/// memtable flush or CreateCheckpoint() (which flushes first) has completed.
///
/// Errors: every RocksDB failure is kKvStorage (KV_STORAGE_EXCEPTION) naming the operation
/// and RocksDB's message; calls after Close() are kKvStorage too.
class RocksDbStore {
 public:
  static Result<std::unique_ptr<RocksDbStore>> Open(const std::string& dir,
                                                    const RocksDbOptions& options);
  ~RocksDbStore();
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  const std::string& dir() const;

  /// The value stored under `key`, or nullopt.
  Result<std::optional<ByteBuffer>> Get(ByteView key);
  /// One answer per key, in order.
  Result<std::vector<std::optional<ByteBuffer>>> MultiGet(std::span<const ByteView> keys);

  /// Called per entry in key order; returning false stops the iteration.
  using Visitor = std::function<bool(ByteView key, ByteView value)>;
  /// Visits every entry whose key starts with `prefix` (all entries for an empty prefix).
  Status ScanPrefix(ByteView prefix, const Visitor& visit);
  /// Visits every entry.
  Status ScanAll(const Visitor& visit) { return ScanPrefix(ByteView(), visit); }

  /// Applies `batch` atomically and empties it.
  Status Write(RocksDbWriteBatch* batch);

  /// Flushes the memtables to SST files.
  Status Flush();
  /// Writes a consistent, openable copy of the current state into `checkpoint_dir` (which
  /// must not exist): memtables are flushed, SST files hard-linked, the rest copied.
  Status CreateCheckpoint(const std::string& checkpoint_dir);

  /// A point-in-time cursor over every entry, positioned on the first one.
  Result<std::unique_ptr<RocksDbSnapshotCursor>> NewSnapshotCursor();

  /// RocksDB's estimate of the number of keys (cheap, approximate).
  int64_t EstimateNumKeys();

  /// Releases the instance (detaching any snapshot cursor still open); later calls fail with
  /// kKvStorage.
  Status Close();

  struct Impl;  // opaque

 private:
  explicit RocksDbStore(std::unique_ptr<Impl> impl);
  Status CheckOpen() const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace strom::kv
