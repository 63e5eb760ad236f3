#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "common/async.h"
#include "common/ids.h"
#include "metadata/table_bucket.h"

namespace strom::rpc {
class Connection;
}

namespace strom::replica {

class ReplicaManager;
class ServerDirectory;

/// How followers fetch (`log.replica.fetch.*`, Fluss names and defaults).
struct FetcherOptions {
  /// `log.replica.fetch.max-bytes`: budget of one FetchLog.
  int32_t max_bytes = 16 << 20;
  /// `log.replica.fetch.max-bytes-for-bucket`.
  int32_t max_bytes_per_bucket = 1 << 20;
  /// `log.replica.fetch.min-bytes`.
  int32_t min_bytes = 1;
  /// `log.replica.fetch.wait-max-time`: how long the leader may hold a fetch for data.
  std::chrono::milliseconds max_wait = std::chrono::milliseconds(500);
  /// `log.replica.fetch.backoff-interval`: pause of a bucket (or of the whole fetcher when
  /// the leader cannot be reached) after an error.
  std::chrono::milliseconds backoff = std::chrono::seconds(1);
  /// Bound on one call to the leader beyond `max_wait` (and on connecting).
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
};

/// Copies the logs of the buckets this server follows from one leader server (Fluss
/// ReplicaFetcherThread, on the reactor instead of a thread): one rpc connection, one FetchLog
/// at a time for every bucket it follows there, with `follower_server_id` = own id and the
/// follower's log end as fetch offset. Fetched batches are appended as they are
/// (ReplicaManager::AppendAsFollower).
///
/// Before the first fetch of a bucket (and after a duplicate or out-of-order sequence error)
/// it asks the leader for its LEADER_END_OFFSET_SNAPSHOT (ListOffsets type 3) and, unless the
/// follower's persisted epoch start shows it already copied from this leader epoch,
/// truncates the follower's log to it when the follower has more
/// (ReplicaManager::ReconcileWithLeader): what a replica holds beyond the log the new leader
/// had when it took over was never acknowledged and would diverge. An out-of-range
/// fetch offset is handled as Fluss does: truncate to the leader's log end when the follower is
/// ahead, restart at the leader's log start when the follower is behind it. Errors pause the
/// bucket for `backoff`; a failed connection pauses all of them and reconnects.
///
/// Lifecycle: construct, Start(gate), AddBucket / RemoveBucket at will, Stop() (awaited)
/// before destruction. Thread: the reactor. Ownership: owned by the ReplicaManager it
/// borrows; owns its connection.
class ReplicaFetcher {
 public:
  ReplicaFetcher(Executor executor, ReplicaManager& manager, ServerId leader,
                 FetcherOptions options);
  ~ReplicaFetcher();
  ReplicaFetcher(const ReplicaFetcher&) = delete;
  ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

  void Start(Gate& gate);
  /// Ends the loop (closing the connection fails a fetch in flight) and waits for it.
  Task<void> Stop();

  /// Starts (or restarts, after a leader epoch change) fetching `bucket` from its log end.
  void AddBucket(const metadata::TableBucket& bucket);
  void RemoveBucket(const metadata::TableBucket& bucket);
  size_t bucket_count() const { return buckets_.size(); }
  ServerId leader() const { return leader_; }

 private:
  struct BucketState {
    /// Bumped on every AddBucket, so an answer to an older request is dropped.
    uint64_t generation = 0;
    LogOffset fetch_offset{-1};
    /// Ask the leader for its end-offset snapshot (and truncate) before fetching.
    bool check_leader_end = true;
    /// Cut back even when the follower's epoch start names the current epoch.
    bool force_reconcile = false;
    SteadyClock::time_point delayed_until{};
  };

  Task<void> Run();
  /// Connects when needed; false when the leader cannot be reached now.
  Task<bool> EnsureConnected();
  /// ListOffsets of one bucket at the leader (offset_type 0, 1 or 3), as a follower.
  Task<Result<LogOffset>> LeaderOffset(metadata::TableBucket bucket, int32_t offset_type);
  /// Truncates to the leader's end-offset snapshot when the follower has more.
  Task<void> CheckLeaderEnd(metadata::TableBucket bucket, uint64_t generation);
  /// The LOG_OFFSET_OUT_OF_RANGE recovery; returns the new fetch offset.
  Task<Result<LogOffset>> HandleOutOfRange(metadata::TableBucket bucket);
  Task<void> FetchOnce();
  void Delay(const metadata::TableBucket& bucket);
  Task<void> Sleep(SteadyClock::duration d);

  Executor executor_;
  ReplicaManager& manager_;
  ServerId leader_;
  FetcherOptions options_;
  std::unordered_map<metadata::TableBucket, BucketState> buckets_;
  uint64_t next_generation_ = 1;
  std::shared_ptr<rpc::Connection> connection_;
  Notifier wake_;
  bool stopped_ = false;
  std::unique_ptr<Gate> loop_gate_;
};

}  // namespace strom::replica
