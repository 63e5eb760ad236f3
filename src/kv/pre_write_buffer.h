#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "kv/rocksdb_store.h"

namespace strom::kv {

/// Changes whose changelog is written but not yet committed (Fluss's KvPreWriteBuffer).
///
/// Every change of a PutKv goes here first, tagged with the log offset of the changelog
/// record that carries it (its "LSN"). Reads made while later records of the same or a later
/// batch are processed see the buffered value (Get), so a batch that updates a key twice
/// merges against its own first update. FlushUpTo(offset) moves the changes below `offset`
/// (once the changelog is committed up to there) into RocksDB; TruncateTo(offset) drops the
/// changes at and after `offset` (a failed or duplicate batch), restoring what each key held
/// before them. So RocksDB only ever holds committed changes: a lookup never sees a change a
/// crash could take back.
///
/// LSNs must be put in strictly increasing order. Owns copies of every key and value. Not
/// thread-safe: driven by its KvTablet's thread.
class KvPreWriteBuffer {
 public:
  /// What a change does to the row count when it is flushed.
  enum class Op : uint8_t { kInsert, kUpdate, kDelete };

  /// One buffered change. `value` is absent for a delete.
  struct Entry {
    Op op;
    std::string key;
    std::optional<ByteBuffer> value;
    LogOffset lsn;
    // The previous buffered change of the same key (still buffered), and the next one.
    Entry* previous = nullptr;
    Entry* next = nullptr;
  };

  KvPreWriteBuffer() = default;
  KvPreWriteBuffer(const KvPreWriteBuffer&) = delete;
  KvPreWriteBuffer& operator=(const KvPreWriteBuffer&) = delete;

  void Insert(ByteView key, ByteBuffer value, LogOffset lsn) {
    Put(Op::kInsert, key, std::move(value), lsn);
  }
  void Update(ByteView key, ByteBuffer value, LogOffset lsn) {
    Put(Op::kUpdate, key, std::move(value), lsn);
  }
  void Delete(ByteView key, LogOffset lsn) { Put(Op::kDelete, key, std::nullopt, lsn); }

  /// The newest buffered change of `key`, or null when the key has none (then RocksDB has
  /// the answer). A change with no value means the key is deleted.
  const Entry* Get(ByteView key) const;

  /// Drops every change with LSN >= `lsn`, newest first, giving each key back its previous
  /// buffered change (or RocksDB's value).
  void TruncateTo(LogOffset lsn);

  /// Writes every change with LSN < `up_to` to `store` in one atomic RocksDB write batch (the
  /// newest of each key, in key order) and forgets them. Returns the row-count difference
  /// (+1 per insert, -1 per delete). On a RocksDB error nothing is forgotten.
  /// The same as CollectFlush, WriteFlush and ForgetFlushed in a row.
  Result<int64_t> FlushUpTo(LogOffset up_to, RocksDbStore* store);

  /// A flush taken apart, so that its RocksDB write can run on another thread: CollectFlush
  /// (buffer's thread) picks the changes, WriteFlush (any thread) sorts and writes them,
  /// ForgetFlushed or AbandonFlush (buffer's thread) ends it. While a set is out, the buffer's
  /// thread may Put and Get, and TruncateTo LSNs at or above the set's `up_to` only; the
  /// write reads nothing but the set's keys and values, which stay where they are until
  /// ForgetFlushed. One set at a time.
  struct FlushSet {
    LogOffset up_to{0};
    // How many of the oldest entries it covers.
    size_t entry_count = 0;
    // +1 per insert, -1 per delete among them.
    int64_t row_count_diff = 0;
    // The newest change of each key among them (WriteFlush sorts them by key).
    std::vector<const Entry*> newest;
  };
  /// The changes with LSN < `up_to`. An empty set (entry_count 0) needs no write.
  FlushSet CollectFlush(LogOffset up_to);
  /// Writes `set` to `store` through `batch` (scratch, cleared first).
  static Status WriteFlush(FlushSet* set, RocksDbStore* store, RocksDbWriteBatch* batch);
  /// Forgets the changes of `set`, which WriteFlush has written.
  void ForgetFlushed(const FlushSet& set);
  /// Ends a set whose write failed: every change stays buffered.
  void AbandonFlush() { flush_out_ = false; }

  /// Visits the newest change of every buffered key (in no particular order).
  void ForEachLatest(const std::function<void(const Entry&)>& visit) const;

  size_t entry_count() const { return entries_.size(); }
  size_t key_count() const { return latest_.size(); }
  /// Bytes of keys and values held.
  size_t size_in_bytes() const { return bytes_; }
  /// The largest LSN buffered, or -1 when empty.
  LogOffset max_lsn() const { return entries_.empty() ? LogOffset(-1) : entries_.back().lsn; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  void Put(Op op, ByteView key, std::optional<ByteBuffer> value, LogOffset lsn);

  // All changes in LSN order. A deque keeps references stable across push_back/pop_front.
  std::deque<Entry> entries_;
  // Key -> its newest change.
  std::unordered_map<std::string, Entry*, Hash, Eq> latest_;
  size_t bytes_ = 0;
  // A FlushSet is out (between CollectFlush and ForgetFlushed / AbandonFlush).
  bool flush_out_ = false;
  LogOffset flush_up_to_{0};
};

}  // namespace strom::kv
