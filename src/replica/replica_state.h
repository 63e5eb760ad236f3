#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"

// The replication side of a Replica: whether it leads its bucket, the epochs the coordinator
// gave it, the ISR and, on a leader, what each follower has fetched (Fluss's Replica /
// IsrState / FollowerReplica, reduced to plain data plus the rules that read it).

namespace strom::replica {

/// What a leader knows of one follower, from the follower's FetchLog requests (Fluss
/// FollowerReplica.FollowerReplicaState). A follower's fetch offset is its log end offset.
struct FollowerState {
  /// -1 until the follower's first fetch in this leader epoch.
  LogOffset log_end_offset{-1};
  TimestampMs last_fetch_time{0};
  /// The leader's log end at the follower's previous fetch.
  LogOffset last_fetch_leader_log_end{-1};
  /// The last time the follower was known to have everything the leader had.
  TimestampMs last_caught_up_time{0};

  /// Records a fetch at `fetch_offset` made at `now` while the leader's log ended at
  /// `leader_log_end`. A follower that reached the leader's log end is caught up now; one
  /// that reached what the leader had at its previous fetch was caught up then.
  void UpdateFetchState(LogOffset fetch_offset, TimestampMs now, LogOffset leader_log_end) {
    if (fetch_offset >= leader_log_end) {
      last_caught_up_time = std::max(last_caught_up_time, now);
    } else if (fetch_offset >= last_fetch_leader_log_end) {
      last_caught_up_time = std::max(last_caught_up_time, last_fetch_time);
    }
    log_end_offset = fetch_offset;
    last_fetch_leader_log_end = std::max(leader_log_end, last_fetch_leader_log_end);
    last_fetch_time = now;
  }

  /// In sync: it has the leader's whole log, or was caught up within `max_lag`.
  bool IsCaughtUp(LogOffset leader_log_end, TimestampMs now,
                  std::chrono::milliseconds max_lag) const {
    return log_end_offset == leader_log_end ||
           now.value() - last_caught_up_time.value() <= max_lag.count();
  }
};

/// Where the leader epoch a replica's log tail belongs to began: the newest entry of Kafka's
/// leader-epoch checkpoint, reduced to one. A leader writes (its epoch, its log end) when it is
/// elected; a follower writes (the leader's epoch, the leader's log end at that election) once
/// it has cut what it had beyond that offset. So a replica whose file names the current
/// leader epoch has only copied from this leader past that offset, and keeps its log; any
/// other must cut back to the leader's election-time log end (see ReplicaFetcher).
struct EpochStart {
  LeaderEpoch epoch{-1};
  LogOffset start_offset{-1};
};

/// `{tablet dir}/leader-epoch-checkpoint`: "strom-leader-epoch 1 {epoch} {offset}\n".
/// nullopt when absent; kStorage when unreadable or corrupt.
Result<std::optional<EpochStart>> ReadEpochStart(log::FileSystem* fs, const std::string& dir);
/// Replaces the file atomically (temporary file, fsync, rename).
Status WriteEpochStart(log::FileSystem* fs, const std::string& dir, EpochStart start);

/// The replication state of one replica. Thread: the reactor (owned by its Replica).
struct ReplicationState {
  bool is_leader = false;
  /// The bucket's leader (own id when leading), -1 when unknown.
  ServerId leader{-1};
  /// -1 before the coordinator named a leader (epoch 0 is the first).
  LeaderEpoch leader_epoch{-1};
  BucketEpoch bucket_epoch{-1};
  CoordinatorEpoch coordinator_epoch{-1};
  /// Every replica of the bucket (leader only).
  std::vector<ServerId> replicas;
  /// The committed ISR (leader only): what the coordinator last confirmed.
  std::vector<ServerId> isr;
  /// An AdjustIsr in flight: the ISR proposed, and whether it adds a follower.
  std::optional<std::vector<ServerId>> pending_isr;
  bool pending_expand = false;
  /// Moves with every change of the ISR state, so a late AdjustIsr answer can tell it is stale.
  uint64_t isr_version = 0;
  /// The log end when this replica last became leader (ListOffsets type 3).
  LogOffset leader_end_offset_snapshot{-1};
  /// The persisted start of the epoch the log tail belongs to (see EpochStart).
  std::optional<EpochStart> epoch_start;
  /// Followers of a leader, by server id.
  std::map<int32_t, FollowerState> followers;
  /// The replica led its bucket at `leader_epoch` when this server lost its ZooKeeper
  /// session and gave that leadership up (ReplicaManager::FenceLeadership): only a newer
  /// leader epoch makes it leader or follower again.
  bool fenced = false;

  bool isr_inflight() const { return pending_isr.has_value(); }
  /// The ISR the high watermark must wait for: while an expansion is in flight the proposed
  /// (larger) one, otherwise the committed one (a shrink counts only once confirmed).
  const std::vector<ServerId>& maximal_isr() const {
    return pending_isr && pending_expand ? *pending_isr : isr;
  }
  static bool Contains(const std::vector<ServerId>& ids, ServerId id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
};

}  // namespace strom::replica
