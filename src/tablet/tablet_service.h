#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/result.h"
#include "metadata/metadata_store.h"
#include "proto/FlussApi.pb.h"
#include "proto/produce_log_view.h"
#include "record/arrow/arrow_projection.h"
#include "replica/replica_manager.h"
#include "rpc/dispatcher.h"
#include "rpc/response_body.h"

namespace strom::tablet {

/// The tablet server's data-path handlers (Fluss `TabletService`): ProduceLog, FetchLog
/// (with long poll and ARROW column projection), ListOffsets, InitWriter; PutKv, Lookup,
/// PrefixLookup and ScanKv (SCAN_KV, Fluss main) for primary-key tables; LimitScan (log
/// table: the last `limit` offsets below the high watermark; primary-key table: the first
/// `limit` values as a ValueRecordBatch) and GetTableStats (log table: high watermark - log
/// start; primary-key table: live keys).
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

  /// The wire handler: parses the payload in place (proto::ProduceLogRequestView) and
  /// answers the encoded response.
  Task<Result<ByteBuffer>> ProduceLogPayload(rpc::RequestContext context, ByteBuffer payload);
  Task<Result<proto::ProduceLogResponse>> ProduceLog(proto::ProduceLogRequest req);
  /// `req`'s records must stay valid until the returned task completes.
  Task<Result<proto::ProduceLogResponse>> ProduceLog(proto::ProduceLogRequestView req);
  /// The wire handler of FetchLog. Records that need no projection stay in their segment
  /// files and go to the socket with sendfile; the protobuf envelope is encoded around them
  /// (proto::EncodeFetchLogResponseAround), so the bytes on the wire are those FetchLog()'s
  /// message would serialize to.
  Task<Result<rpc::ResponseBody>> FetchLogBody(rpc::RequestContext context, ByteBuffer payload);
  Task<Result<proto::FetchLogResponse>> FetchLog(proto::FetchLogRequest req);
  Task<Result<proto::ListOffsetsResponse>> ListOffsets(proto::ListOffsetsRequest req);
  Task<Result<proto::InitWriterResponse>> InitWriter(proto::InitWriterRequest req);
  Task<Result<proto::LimitScanResponse>> LimitScan(proto::LimitScanRequest req);
  Task<Result<proto::GetTableStatsResponse>> GetTableStats(proto::GetTableStatsRequest req);
  Task<Result<proto::PutKvResponse>> PutKv(proto::PutKvRequest req);
  Task<Result<proto::LookupResponse>> Lookup(proto::LookupRequest req);
  Task<Result<proto::PrefixLookupResponse>> PrefixLookup(proto::PrefixLookupRequest req);
  Task<Result<proto::ScanKvResponse>> ScanKv(proto::ScanKvRequest req);

  /// Most bytes one LimitScan returns (at least one whole batch is always returned).
  static constexpr int64_t kLimitScanMaxBytes = 16 << 20;

 private:
  /// Projects a bucket's stored records, reading further batches until the projected bytes
  /// fill `budget` or the high watermark is reached.
  Result<ByteBuffer> ProjectWithinBudget(const metadata::TableBucket& bucket,
                                         record::arrow::ArrowProjection& projection,
                                         ByteBuffer stored, LogOffset high_watermark,
                                         int64_t budget, bool min_one_batch);
  /// Projects a bucket's records left in their segment file (zero-copy read) into response
  /// pieces (SliceProjector): the kept column buffers stay in the file. Reads further slices
  /// until the projected bytes fill `budget` or the high watermark is reached, as
  /// ProjectWithinBudget.
  Result<rpc::ResponseBody> ProjectSliceWithinBudget(const metadata::TableBucket& bucket,
                                                     record::arrow::ArrowProjection& projection,
                                                     log::FileSlice slice,
                                                     LogOffset high_watermark, int64_t budget,
                                                     bool min_one_batch);
  /// The records of a bucket of a FetchLog answer that are sent from their segment file:
  /// `tables_resp(table_index).buckets_resp(bucket_index)`, whose `records` field is unset.
  /// `records` is the field's content: one file region (as stored), or the bytes and file
  /// regions of projected batches.
  struct SlicedRecords {
    size_t table_index = 0;
    size_t bucket_index = 0;
    rpc::ResponseBody records;
  };
  struct FetchResult {
    proto::FetchLogResponse resp;
    std::vector<SlicedRecords> slices;  // in message order
  };
  /// FetchLog with its long poll; with `zero_copy`, records may be left in their files
  /// (FetchResult::slices): whole when unprojected, their kept columns when projected.
  Task<FetchResult> Fetch(const proto::FetchLogRequest& req, bool zero_copy);
  /// One pass over every requested bucket; returns the bytes read. `slices` (may be null:
  /// read every bucket's bytes) receives the buckets whose records stayed in their files.
  int64_t ReadOnce(const proto::FetchLogRequest& req, proto::FetchLogResponse* resp,
                   bool* critical_error, std::vector<SlicedRecords>* slices);
  /// One ScanKv request; errors close the session (as Fluss does).
  Status ScanKvOnce(const proto::ScanKvRequest& req, proto::ScanKvResponse* resp,
                    std::optional<std::string>* session_to_close);

  replica::ReplicaManager& replicas_;
  metadata::MetadataStore& store_;
};

}  // namespace strom::tablet
