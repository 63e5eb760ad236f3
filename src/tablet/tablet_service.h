#pragma once

#include "common/async.h"
#include "common/result.h"
#include "metadata/metadata_store.h"
#include "proto/FlussApi.pb.h"
#include "replica/replica_manager.h"
#include "rpc/dispatcher.h"

namespace strom::tablet {

/// The tablet server's data-path handlers (Fluss `TabletService`): ProduceLog, FetchLog
/// (with long poll and ARROW column projection), ListOffsets, InitWriter, and for log
/// tables LimitScan (the last `limit` offsets below the high watermark) and GetTableStats
/// (row count = high watermark - log start).
///
/// Per-bucket results follow the client contract (spec §7.0): one entry per requested
/// bucket, `error_code` only on failure, `high_watermark` and `records` always set on a
/// successful fetch entry, `offset` on a successful ListOffsets entry.
///
/// Lifecycle: construct, Register() before the server starts. Thread: the reactor.
/// Ownership: borrows the replica manager and the store (writer ids), which outlive it.
class TabletService {
 public:
  /// Longest a FetchLog may wait when it sets min_bytes but no max_wait_ms (Fluss
  /// DEFAULT_MAX_WAIT_MS_WHEN_MIN_BYTES_ENABLE).
  static constexpr int32_t kDefaultMaxWaitMs = 100;
  /// Cap on any FetchLog wait, whatever the client asks.
  static constexpr int32_t kMaxWaitCapMs = 30000;

  TabletService(replica::ReplicaManager& replicas, metadata::MetadataStore& store);

  void Register(rpc::Dispatcher& dispatcher);

  Task<Result<proto::ProduceLogResponse>> ProduceLog(proto::ProduceLogRequest req);
  Task<Result<proto::FetchLogResponse>> FetchLog(proto::FetchLogRequest req);
  Task<Result<proto::ListOffsetsResponse>> ListOffsets(proto::ListOffsetsRequest req);
  Task<Result<proto::InitWriterResponse>> InitWriter(proto::InitWriterRequest req);
  Task<Result<proto::LimitScanResponse>> LimitScan(proto::LimitScanRequest req);
  Task<Result<proto::GetTableStatsResponse>> GetTableStats(proto::GetTableStatsRequest req);

  /// Most bytes one LimitScan returns (at least one whole batch is always returned).
  static constexpr int64_t kLimitScanMaxBytes = 16 << 20;

 private:
  /// One pass over every requested bucket; returns the bytes read.
  int64_t ReadOnce(const proto::FetchLogRequest& req, proto::FetchLogResponse* resp,
                   bool* critical_error);

  replica::ReplicaManager& replicas_;
  metadata::MetadataStore& store_;
};

}  // namespace strom::tablet
