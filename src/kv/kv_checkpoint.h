#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "kv/auto_increment.h"
#include "log/fs/file_system.h"

/// Local KV checkpoints: a RocksDB checkpoint of a bucket's state plus the changelog offset it
/// covers (docs/formats/kv-snapshot.md).
namespace strom::kv {

/// What a checkpoint covers, stored as `_METADATA` (JSON) next to its RocksDB files.
struct KvCheckpointMetadata {
  static constexpr int32_t kVersion = 1;

  int64_t checkpoint_id = 0;
  /// The changelog offset the state includes everything before (exclusive): recovery
  /// replays the changelog from here.
  LogOffset log_offset{0};
  /// Live keys at that offset; nullopt when the table keeps no row count (WAL image).
  std::optional<int64_t> row_count;
  /// The id range the bucket was drawing auto-increment ids from.
  std::optional<AutoIncIdRange> auto_inc_range;
  /// The table and bucket it belongs to (a guard against restoring a foreign directory).
  TableId table_id{-1};
  TimestampMs created_at{0};

  std::string ToJson() const;
  /// kCorruptMessage for JSON that is not a checkpoint metadata of a known version.
  static Result<KvCheckpointMetadata> FromJson(ByteView json);

  friend bool operator==(const KvCheckpointMetadata&, const KvCheckpointMetadata&) = default;
};

/// The checkpoints of one KV tablet, in `{kv dir}/checkpoints/`:
///   chk-{id, 20 digits}/db/...       the RocksDB checkpoint (SSTs, MANIFEST, OPTIONS, CURRENT)
///   chk-{id, 20 digits}/_METADATA    KvCheckpointMetadata, written last
///   chk-{id, 20 digits}.tmp/         a checkpoint being written (removed on open)
/// A checkpoint becomes visible atomically when its `.tmp` directory is renamed (after its
/// files and `_METADATA` are durable); a crash at any moment leaves either the previous set
/// of checkpoints or the new one.
///
/// Borrows the file system. Not thread-safe: used by its KvTablet's thread.
class KvCheckpointStore {
 public:
  KvCheckpointStore(std::string dir, log::FileSystem* fs) : dir_(std::move(dir)), fs_(fs) {}

  const std::string& dir() const { return dir_; }

  /// Creates the directory, deletes unfinished (`.tmp`) checkpoints and completed ones whose
  /// metadata cannot be read.
  Status Init();

  /// Completed checkpoints, oldest first.
  Result<std::vector<KvCheckpointMetadata>> List();

  /// Where the RocksDB checkpoint of an in-progress checkpoint `id` must be created.
  std::string PendingDbDir(int64_t id) const;
  /// Clears any leftover of an in-progress checkpoint `id` (so PendingDbDir does not exist).
  Status PreparePending(int64_t id);
  /// Makes the pending checkpoint `metadata.checkpoint_id` durable and visible.
  Status Commit(const KvCheckpointMetadata& metadata);
  /// The RocksDB directory of a completed checkpoint.
  std::string DbDir(int64_t id) const;
  /// Deletes the oldest completed checkpoints until at most `num_retained` remain.
  Status Prune(int32_t num_retained);
  /// Deletes every completed checkpoint that covers the changelog beyond `offset` (its
  /// log_offset is greater): what it holds is no longer in a log truncated to `offset`.
  /// Returns how many went.
  Result<int32_t> DiscardAbove(LogOffset offset);

  /// Replaces `target_dir` by a copy of checkpoint `id`'s RocksDB files (SST files hard
  /// linked: they are immutable; the rest copied, since RocksDB may rewrite them).
  Status RestoreInto(int64_t id, const std::string& target_dir);

 private:
  std::string Name(int64_t id) const;

  std::string dir_;
  log::FileSystem* fs_;
};

}  // namespace strom::kv
