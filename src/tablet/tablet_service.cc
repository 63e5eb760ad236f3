#include "tablet/tablet_service.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "common/logging.h"
#include "log/fs/file_system.h"
#include "proto/fetch_log_view.h"
#include "proto/messages.h"
#include "record/arrow/arrow_projection.h"
#include "record/arrow/compression.h"
#include "record/log_record_batch.h"
#include "record/value_record.h"
#include "tablet/key_only_batch.h"
#include "tablet/projected_slice.h"

namespace strom::tablet {
namespace {

using metadata::TableBucket;

template <typename PbBucket>
void SetError(const Status& status, PbBucket* out) {
  Status wire = status.ok() ? Status(ErrorCode::kUnknownServerError, "no error") : status;
  out->set_error_code(static_cast<int32_t>(wire.code()));
  if (!wire.message().empty()) out->set_error_message(wire.message());
}

/// Echoes a request bucket's id (and partition) into its response bucket and returns the
/// TableBucket it names.
template <typename PbReqBucket, typename PbRespBucket>
TableBucket EchoBucket(int64_t table_id, const PbReqBucket& req, PbRespBucket* out) {
  out->set_bucket_id(req.bucket_id());
  std::optional<PartitionId> partition;
  if (req.has_partition_id()) {
    partition = PartitionId(req.partition_id());
    out->set_partition_id(req.partition_id());
  }
  return TableBucket{TableId(table_id), partition, BucketId(req.bucket_id())};
}

bool IsNonCriticalFetchError(ErrorCode code) {
  return code == ErrorCode::kNotLeaderOrFollower || code == ErrorCode::kUnknownTableOrBucket;
}

Result<record::arrow::ArrowCompression> TableCompression(const metadata::TableInfo& table) {
  record::arrow::ArrowCompression compression = record::arrow::ArrowCompression::Zstd(3);
  if (const std::string* type = table.descriptor.Property("table.log.arrow.compression.type")) {
    STROM_ASSIGN_OR_RETURN(compression.codec, record::arrow::ParseCompressionCodec(*type));
  }
  if (const std::string* level =
          table.descriptor.Property("table.log.arrow.compression.zstd.level")) {
    compression.zstd_level = std::atoi(level->c_str());
  }
  return compression;
}

}  // namespace

TabletService::TabletService(replica::ReplicaManager& replicas, metadata::MetadataStore& store)
    : replicas_(replicas), store_(store) {}

void TabletService::Register(rpc::Dispatcher& d) {
  using proto::ApiKey;
  // ProduceLog is read in place: its records go from the request payload to the log without
  // being copied into a generated message first.
  d.RegisterRaw(ApiKey::kProduceLog, [this](rpc::RequestContext context, ByteBuffer payload) {
    return ProduceLogPayload(std::move(context), std::move(payload));
  });
  d.RegisterBody(ApiKey::kFetchLog, [this](rpc::RequestContext context, ByteBuffer payload) {
    return FetchLogBody(std::move(context), std::move(payload));
  });
  d.Handle<ApiKey::kListOffsets>([this](rpc::RequestContext, proto::ListOffsetsRequest r) {
    return ListOffsets(std::move(r));
  });
  d.Handle<ApiKey::kInitWriter>(
      [this](rpc::RequestContext, proto::InitWriterRequest r) { return InitWriter(std::move(r)); });
  d.Handle<ApiKey::kLimitScan>(
      [this](rpc::RequestContext, proto::LimitScanRequest r) { return LimitScan(std::move(r)); });
  d.Handle<ApiKey::kGetTableStats>([this](rpc::RequestContext, proto::GetTableStatsRequest r) {
    return GetTableStats(std::move(r));
  });
  d.Handle<ApiKey::kPutKv>(
      [this](rpc::RequestContext, proto::PutKvRequest r) { return PutKv(std::move(r)); });
  d.Handle<ApiKey::kLookup>(
      [this](rpc::RequestContext, proto::LookupRequest r) { return Lookup(std::move(r)); });
  d.Handle<ApiKey::kPrefixLookup>([this](rpc::RequestContext, proto::PrefixLookupRequest r) {
    return PrefixLookup(std::move(r));
  });
  d.Handle<ApiKey::kScanKv>(
      [this](rpc::RequestContext, proto::ScanKvRequest r) { return ScanKv(std::move(r)); });
}

Task<Result<ByteBuffer>> TabletService::ProduceLogPayload(rpc::RequestContext context,
                                                         ByteBuffer payload) {
  proto::ProduceLogRequestView req;
  Status parsed =
      proto::ParseProduceLogRequest(std::span<char>(payload.data(), payload.size()), &req);
  if (!parsed.ok()) co_return parsed;
  // `req` borrows `payload`, which this frame keeps alive until the response is built.
  Result<proto::ProduceLogResponse> resp = co_await ProduceLog(std::move(req));
  if (!resp.ok()) co_return std::move(resp).status();
  ByteBuffer out;
  Status encoded = proto::AppendMessage(*resp, &out);
  if (!encoded.ok()) {
    STROM_LOG_ERROR("tablet", "ProduceLog request {} from {}: cannot encode the response: {}",
                    context.request_id, context.peer_address, encoded.ToString());
    co_return Status(ErrorCode::kUnknownServerError,
                     "internal error: the server built an invalid response: " + encoded.message());
  }
  co_return out;
}

Task<Result<proto::ProduceLogResponse>> TabletService::ProduceLog(proto::ProduceLogRequest req) {
  proto::ProduceLogRequestView view;
  view.acks = req.acks();
  view.table_id = req.table_id();
  view.timeout_ms = req.timeout_ms();
  for (proto::PbProduceLogReqForBucket& bucket_req : *req.mutable_buckets_req()) {
    proto::ProduceLogRequestView::Bucket& bucket = view.buckets.emplace_back();
    if (bucket_req.has_partition_id()) bucket.partition_id = bucket_req.partition_id();
    bucket.bucket_id = bucket_req.bucket_id();
    std::string* records = bucket_req.mutable_records();
    bucket.records = std::span<char>(records->data(), records->size());
  }
  co_return co_await ProduceLog(std::move(view));
}

Task<Result<proto::ProduceLogResponse>> TabletService::ProduceLog(
    proto::ProduceLogRequestView req) {
  if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    co_return MakeError(ErrorCode::kInvalidRequiredAcks, "Invalid required acks: {}", req.acks);
  }
  const auto deadline =
      SteadyClock::now() + std::chrono::milliseconds(std::max(0, req.timeout_ms));
  proto::ProduceLogResponse resp;
  // acks=-1: every bucket is appended first, then the request waits (Fluss DelayedWrite)
  // until each bucket's high watermark passes its batch, or the request timeout.
  std::vector<std::pair<int, LogOffset>> waits;
  for (const proto::ProduceLogRequestView::Bucket& bucket_req : req.buckets) {
    proto::PbProduceLogRespForBucket* out = resp.add_buckets_resp();
    out->set_bucket_id(bucket_req.bucket_id);
    std::optional<PartitionId> partition;
    if (bucket_req.partition_id) {
      partition = PartitionId(*bucket_req.partition_id);
      out->set_partition_id(*bucket_req.partition_id);
    }
    TableBucket bucket{TableId(req.table_id), partition, BucketId(bucket_req.bucket_id)};
    auto appended = replicas_.AppendRecordsToLeader(bucket, bucket_req.records, req.acks);
    if (appended.ok()) {
      out->set_base_offset(appended->first_offset.value());
      if (req.acks == -1 && appended->last_offset.value() >= 0) {
        waits.emplace_back(resp.buckets_resp_size() - 1, appended->last_offset + 1);
      }
    } else {
      SetError(appended.status(), out);
    }
  }
  for (const auto& [index, required] : waits) {
    proto::PbProduceLogRespForBucket* out = resp.mutable_buckets_resp(index);
    std::optional<PartitionId> partition;
    if (out->has_partition_id()) partition = PartitionId(out->partition_id());
    TableBucket bucket{TableId(req.table_id), partition, BucketId(out->bucket_id())};
    Status replicated = co_await replicas_.WaitForReplication(bucket, required, deadline);
    if (!replicated.ok()) {
      out->clear_base_offset();
      SetError(replicated, out);
    }
  }
  co_return resp;
}

namespace {

/// The offset after the last complete batch among the first `size` bytes of `records`.
std::optional<LogOffset> NextOffsetAfter(ByteView records) {
  record::LogRecordBatchIterator it(records);
  std::optional<LogOffset> next;
  while (true) {
    auto batch = it.Next();
    if (!batch.ok() || !batch->has_value()) break;
    next = (*batch)->next_offset();
  }
  return next;
}

/// True when `records` starts with a complete batch.
bool StartsWithCompleteBatch(ByteView records) {
  record::LogRecordBatchIterator it(records);
  auto batch = it.Next();
  return batch.ok() && batch->has_value();
}

// Bounds on the extra segment reads one projected bucket fetch may make.
constexpr int kMaxProjectedReads = 8;
constexpr int64_t kMaxProjectedReadBytes = 32LL * 1024 * 1024;

// The output room of projection round `round`, `produced` bytes into a bucket's `budget`. The
// first read may exceed the budget by one batch when min_one_batch was set; its projection is
// never larger than it, so it goes out whole.
size_t ProjectionRoom(int round, bool min_one_batch, int64_t budget, size_t produced) {
  if (round == 0 && min_one_batch) return SIZE_MAX;
  return static_cast<size_t>(std::max<int64_t>(0, budget - static_cast<int64_t>(produced)));
}

// The stored bytes the next read of a projected fetch asks for: the budget `left`, scaled by
// the ratio of stored to projected bytes seen so far, within the per-read bound.
int64_t NextProjectedRead(int64_t left, int64_t stored_total, size_t produced) {
  const double ratio = produced == 0 ? 1.0
                                     : static_cast<double>(stored_total) /
                                           static_cast<double>(produced);
  return std::clamp<int64_t>(static_cast<int64_t>(left * ratio), left, kMaxProjectedReadBytes);
}

}  // namespace

Result<ByteBuffer> TabletService::ProjectWithinBudget(const TableBucket& bucket,
                                                     record::arrow::ArrowProjection& projection,
                                                     ByteBuffer stored, LogOffset high_watermark,
                                                     int64_t budget, bool min_one_batch) {
  // The bucket's budget counts projected bytes, as in Fluss: a projection keeps a fraction of
  // each stored batch, so after projecting the first read, read on (scaled by the ratio seen
  // so far) until the projected output fills the budget or the log ends at the high watermark.
  ByteBuffer out;
  int64_t stored_total = 0;
  for (int round = 0;; ++round) {
    const size_t room = ProjectionRoom(round, min_one_batch, budget, out.size());
    STROM_ASSIGN_OR_RETURN(size_t consumed, projection.ProjectLogRecords(stored, room, &out));
    stored_total += static_cast<int64_t>(consumed);
    ByteView rest(stored.data() + consumed, stored.size() - consumed);
    // A complete batch left over means the output is full.
    if (consumed == 0 || StartsWithCompleteBatch(rest)) break;
    const int64_t left = budget - static_cast<int64_t>(out.size());
    if (round + 1 >= kMaxProjectedReads || left <= 0) break;
    std::optional<LogOffset> next = NextOffsetAfter(ByteView(stored.data(), consumed));
    if (!next || *next >= high_watermark) break;
    auto more = replicas_.Read(bucket, *next, NextProjectedRead(left, stored_total, out.size()),
                               /*min_one_batch=*/false);
    if (!more.ok() || more->records.empty()) break;  // what was projected so far stands
    stored = std::move(more->records);
  }
  return out;
}

Result<rpc::ResponseBody> TabletService::ProjectSliceWithinBudget(
    const TableBucket& bucket, record::arrow::ArrowProjection& projection, log::FileSlice slice,
    LogOffset high_watermark, int64_t budget, bool min_one_batch) {
  // The same rounds as ProjectWithinBudget; only the batch heads are read from the file.
  rpc::ResponseBody out;
  SliceProjector projector(&projection);
  int64_t stored_total = 0;
  for (int round = 0;; ++round) {
    const size_t room = ProjectionRoom(round, min_one_batch, budget, out.size());
    STROM_ASSIGN_OR_RETURN(SliceProjector::Outcome walked, projector.Project(slice, room, &out));
    stored_total += static_cast<int64_t>(walked.consumed);
    if (walked.consumed == 0 || walked.full) break;
    const int64_t left = budget - static_cast<int64_t>(out.size());
    if (round + 1 >= kMaxProjectedReads || left <= 0) break;
    if (!walked.next_offset || *walked.next_offset >= high_watermark) break;
    auto more = replicas_.Read(bucket, *walked.next_offset,
                               NextProjectedRead(left, stored_total, out.size()),
                               /*min_one_batch=*/false, ServerId(-1), /*zero_copy=*/true);
    // What was projected so far stands.
    if (!more.ok() || !more->slice || more->slice->size == 0) break;
    slice = std::move(*more->slice);
  }
  return out;
}

int64_t TabletService::ReadOnce(const proto::FetchLogRequest& req, proto::FetchLogResponse* resp,
                                bool* critical_error, std::vector<SlicedRecords>* slices) {
  int64_t remaining = req.max_bytes() > 0 ? req.max_bytes() : 0;
  int64_t total = 0;
  bool min_one_batch = true;
  for (const proto::PbFetchLogReqForTable& table_req : req.tables_req()) {
    proto::PbFetchLogRespForTable* table_resp = resp->add_tables_resp();
    table_resp->set_table_id(table_req.table_id());
    std::optional<record::arrow::ArrowProjection> projection;
    Status projection_error;
    bool projection_planned = false;
    for (const proto::PbFetchLogReqForBucket& bucket_req : table_req.buckets_req()) {
      proto::PbFetchLogRespForBucket* out = table_resp->add_buckets_resp();
      TableBucket bucket = EchoBucket(table_req.table_id(), bucket_req, out);
      auto fail = [&](const Status& s) {
        SetError(s, out);
        if (!IsNonCriticalFetchError(s.code())) *critical_error = true;
      };
      replica::Replica* replica = replicas_.Find(bucket);
      if (replica == nullptr) {
        fail(MakeError(ErrorCode::kUnknownTableOrBucket,
                       "Unknown table or bucket: {} is not hosted by this server.", bucket));
        continue;
      }
      if (table_req.projection_pushdown_enabled() && !projection_planned) {
        projection_planned = true;
        const metadata::TableInfo& table = *replica->table;
        if (table.log_format() != metadata::LogFormat::kArrow) {
          projection_error = MakeError(
              ErrorCode::kInvalidColumnProjection,
              "Column projection is only supported for ARROW format, but the table {} is not.",
              table.path);
        } else {
          auto compression = TableCompression(table);
          std::vector<int32_t> fields(table_req.projected_fields().begin(),
                                      table_req.projected_fields().end());
          if (!compression.ok()) {
            projection_error = compression.status();
          } else {
            auto created = record::arrow::ArrowProjection::Create(table.schema().RowType(),
                                                                  fields, *compression);
            if (created.ok()) {
              projection.emplace(std::move(created).value());
            } else {
              projection_error = created.status();
            }
          }
        }
      }
      if (!projection_error.ok()) {
        fail(projection_error);
        continue;
      }
      int64_t budget = std::min<int64_t>(remaining, std::max(0, bucket_req.max_fetch_bytes()));
      // Records may stay in their file (sendfile): whole when they go out as stored; when
      // projected, the kept column buffers, with the rewritten batch heads from memory.
      const bool zero_copy = slices != nullptr;
      auto read = replicas_.Read(bucket, LogOffset(bucket_req.fetch_offset()), budget,
                                 min_one_batch, ServerId(req.follower_server_id()), zero_copy);
      if (!read.ok()) {
        fail(read.status());
        continue;
      }
      // Counts the bucket's records against the response's budget and gives its offsets.
      auto account = [&](int64_t size) {
        if (size > 0) min_one_batch = false;
        remaining = std::max<int64_t>(0, remaining - size);
        total += size;
        out->set_high_watermark(read->high_watermark.value());
        out->set_log_start_offset(read->log_start_offset.value());
      };
      if (read->slice) {
        rpc::ResponseBody records;
        if (!projection) {
          const int fd = read->slice->file->fd();
          records.Append(rpc::FileRegion{std::move(read->slice->file), fd, read->slice->position,
                                         read->slice->size});
        } else if (read->slice->size > 0) {
          auto projected =
              ProjectSliceWithinBudget(bucket, *projection, std::move(*read->slice),
                                       read->high_watermark, budget, min_one_batch);
          if (!projected.ok()) {
            fail(projected.status());
            continue;
          }
          records = std::move(projected).value();
        }
        account(static_cast<int64_t>(records.size()));
        slices->push_back(SlicedRecords{static_cast<size_t>(resp->tables_resp_size() - 1),
                                        static_cast<size_t>(table_resp->buckets_resp_size() - 1),
                                        std::move(records)});
        continue;
      }
      ByteBuffer records = std::move(read->records);
      if (projection && !records.empty()) {
        auto projected = ProjectWithinBudget(bucket, *projection, std::move(records),
                                             read->high_watermark, budget, min_one_batch);
        if (!projected.ok()) {
          fail(projected.status());
          continue;
        }
        records = std::move(projected).value();
      }
      account(static_cast<int64_t>(records.size()));
      out->set_records(std::move(records));
    }
  }
  return total;
}

Task<Result<rpc::ResponseBody>> TabletService::FetchLogBody(rpc::RequestContext context,
                                                            ByteBuffer payload) {
  proto::FetchLogRequest req;
  Status parsed = proto::ParseMessage(payload, &req);
  if (!parsed.ok()) co_return parsed;
  ByteBuffer().swap(payload);  // the request owns copies of its fields now
  FetchResult result = co_await Fetch(req, /*zero_copy=*/true);
  Status encoded;
  rpc::ResponseBody body;
  if (result.slices.empty()) {
    ByteBuffer bytes;
    encoded = proto::AppendMessage(result.resp, &bytes);
    body = rpc::ResponseBody(std::move(bytes));
  } else {
    std::vector<proto::ExternalRecords> external;
    external.reserve(result.slices.size());
    for (const SlicedRecords& s : result.slices) {
      external.push_back({s.table_index, s.bucket_index, s.records.size()});
    }
    auto runs = proto::EncodeFetchLogResponseAround(result.resp, external);
    if (runs.ok()) {
      for (size_t i = 0; i < result.slices.size(); ++i) {
        body.Append(std::move((*runs)[i]));
        body.Append(std::move(result.slices[i].records));
      }
      body.Append(std::move(runs->back()));
    } else {
      encoded = runs.status();
    }
  }
  if (!encoded.ok()) {
    STROM_LOG_ERROR("tablet", "FetchLog request {} from {}: cannot encode the response: {}",
                    context.request_id, context.peer_address, encoded.ToString());
    co_return Status(ErrorCode::kUnknownServerError,
                     "internal error: the server built an invalid response: " + encoded.message());
  }
  co_return body;
}

Task<Result<proto::FetchLogResponse>> TabletService::FetchLog(proto::FetchLogRequest req) {
  FetchResult result = co_await Fetch(req, /*zero_copy=*/false);
  co_return std::move(result.resp);
}

Task<TabletService::FetchResult> TabletService::Fetch(const proto::FetchLogRequest& req,
                                                      bool zero_copy) {
  // Without min_bytes a fetch answers at once (Fluss FetchParams without minBytes).
  const int64_t min_bytes = req.has_min_bytes() ? req.min_bytes() : 0;
  int32_t max_wait_ms = 0;
  if (req.has_min_bytes()) max_wait_ms = req.has_max_wait_ms() ? req.max_wait_ms() : kDefaultMaxWaitMs;
  max_wait_ms = std::clamp(max_wait_ms, 0, kMaxWaitCapMs);
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(max_wait_ms);
  while (true) {
    FetchResult result;
    bool critical_error = false;
    int64_t bytes =
        ReadOnce(req, &result.resp, &critical_error, zero_copy ? &result.slices : nullptr);
    if (bytes >= min_bytes || max_wait_ms <= 0 || critical_error ||
        SteadyClock::now() >= deadline) {
      co_return result;
    }
    std::vector<TableBucket> waiting;
    for (const proto::PbFetchLogRespForTable& t : result.resp.tables_resp()) {
      for (const proto::PbFetchLogRespForBucket& b : t.buckets_resp()) {
        if (b.has_error_code()) continue;
        std::optional<PartitionId> partition;
        if (b.has_partition_id()) partition = PartitionId(b.partition_id());
        waiting.push_back(TableBucket{TableId(t.table_id()), partition, BucketId(b.bucket_id())});
      }
    }
    bool waited = co_await replicas_.delayed_fetches().Wait(std::move(waiting), deadline);
    if (!waited) co_return result;
  }
}

Task<Result<proto::ListOffsetsResponse>> TabletService::ListOffsets(
    proto::ListOffsetsRequest req) {
  std::optional<log::OffsetSpec> spec;
  switch (req.offset_type()) {
    case 0: spec = log::OffsetSpec::kEarliest; break;
    case 1: spec = log::OffsetSpec::kLatest; break;
    case 2: spec = log::OffsetSpec::kTimestamp; break;
    default: break;
  }
  // Type 3 (LEADER_END_OFFSET_SNAPSHOT) is asked by followers (ReplicaFetcher).
  const bool leader_end_snapshot = req.offset_type() == 3;
  proto::ListOffsetsResponse resp;
  for (int32_t bucket_id : req.bucket_id()) {
    proto::PbListOffsetsRespForBucket* out = resp.add_buckets_resp();
    out->set_bucket_id(bucket_id);
    if (!spec && !leader_end_snapshot) {
      SetError(MakeError(ErrorCode::kUnknownServerError, "Unknown offset type {}.",
                         req.offset_type()),
               out);
      continue;
    }
    if (spec && *spec == log::OffsetSpec::kTimestamp && !req.has_starttimestamp()) {
      SetError(Status(ErrorCode::kInvalidTimestamp,
                      "ListOffsets by timestamp needs startTimestamp."),
               out);
      continue;
    }
    std::optional<PartitionId> partition;
    if (req.has_partition_id()) partition = PartitionId(req.partition_id());
    TableBucket bucket{TableId(req.table_id()), partition, BucketId(bucket_id)};
    auto offset =
        leader_end_snapshot
            ? replicas_.LeaderEndOffsetSnapshot(bucket)
            : replicas_.ListOffset(bucket, *spec,
                                   TimestampMs(req.has_starttimestamp() ? req.starttimestamp() : -1),
                                   ServerId(req.follower_server_id()));
    if (offset.ok()) {
      out->set_offset(offset->value());
    } else {
      SetError(offset.status(), out);
    }
  }
  co_return resp;
}

Task<Result<proto::InitWriterResponse>> TabletService::InitWriter(proto::InitWriterRequest req) {
  STROM_CO_ASSIGN_OR_RETURN(WriterId id, co_await store_.NextWriterId());
  proto::InitWriterResponse resp;
  resp.set_writer_id(id.value());
  co_return resp;
}

Task<Result<proto::LimitScanResponse>> TabletService::LimitScan(proto::LimitScanRequest req) {
  std::optional<PartitionId> partition;
  if (req.has_partition_id()) partition = PartitionId(req.partition_id());
  TableBucket bucket{TableId(req.table_id()), partition, BucketId(req.bucket_id())};
  proto::LimitScanResponse resp;
  replica::Replica* replica = replicas_.Find(bucket);
  if (replica == nullptr) {
    SetError(MakeError(ErrorCode::kUnknownTableOrBucket,
                       "Unknown table or bucket: {} is not hosted by this server.", bucket),
             &resp);
    co_return resp;
  }
  if (req.limit() <= 0) {
    SetError(MakeError(ErrorCode::kInvalidConfig, "limit must be positive, got {}", req.limit()),
             &resp);
    co_return resp;
  }
  if (replica->table->HasPrimaryKey()) {
    // Primary-key table: the first `limit` current values in key order, from the leader's
    // tablet (a follower's is a standby).
    auto leader = replicas_.FindKv(bucket);
    if (!leader.ok()) {
      SetError(leader.status(), &resp);
      co_return resp;
    }
    auto values = (*leader)->kv->LimitScan(req.limit());
    if (!values.ok()) {
      SetError(values.status(), &resp);
      co_return resp;
    }
    resp.set_is_log_table(false);
    resp.set_records(std::move(values).value());
    co_return resp;
  }
  // As Fluss: whole batches from max(log start, high watermark - limit) up to the high
  // watermark.
  LogOffset hw = replica->log->high_watermark();
  LogOffset from = std::max(replica->log->log_start_offset(), hw - req.limit());
  auto read = replicas_.Read(bucket, from, kLimitScanMaxBytes, /*min_one_batch=*/true);
  if (!read.ok()) {
    SetError(read.status(), &resp);
    co_return resp;
  }
  resp.set_is_log_table(true);
  resp.set_records(std::move(read->records));
  co_return resp;
}

Task<Result<proto::GetTableStatsResponse>> TabletService::GetTableStats(
    proto::GetTableStatsRequest req) {
  proto::GetTableStatsResponse resp;
  for (const proto::PbTableStatsReqForBucket& bucket_req : req.buckets_req()) {
    proto::PbTableStatsRespForBucket* out = resp.add_buckets_resp();
    TableBucket bucket = EchoBucket(req.table_id(), bucket_req, out);
    replica::Replica* replica = replicas_.Find(bucket);
    if (replica == nullptr) {
      SetError(MakeError(ErrorCode::kUnknownTableOrBucket,
                         "Unknown table or bucket: {} is not hosted by this server.", bucket),
               out);
      continue;
    }
    if (replica->table->HasPrimaryKey()) {
      // The leader's count (a follower's standby tablet lags it).
      auto leader = replicas_.FindKv(bucket);
      if (!leader.ok()) {
        SetError(leader.status(), out);
        continue;
      }
      auto rows = (*leader)->kv->RowCount();
      if (rows.ok()) {
        out->set_row_count(*rows);
      } else {
        SetError(rows.status(), out);
      }
      continue;
    }
    out->set_row_count(replica->log->high_watermark() - replica->log->log_start_offset());
  }
  co_return resp;
}

// ---- primary-key tables ----

Task<Result<proto::PutKvResponse>> TabletService::PutKv(proto::PutKvRequest req) {
  if (req.acks() != 0 && req.acks() != 1 && req.acks() != -1) {
    co_return MakeError(ErrorCode::kInvalidRequiredAcks, "Invalid required acks: {}",
                        req.acks());
  }
  kv::PutKvParams params;
  if (req.has_agg_mode()) {
    switch (req.agg_mode()) {
      case 0: params.merge_mode = kv::MergeMode::kDefault; break;
      case 1: params.merge_mode = kv::MergeMode::kOverwrite; break;
      default:
        // Fluss's MergeMode.fromValue throws IllegalArgumentException: an unknown server error.
        co_return MakeError(ErrorCode::kUnknownServerError, "Unknown merge mode value: {}",
                            req.agg_mode());
    }
  }
  if (req.target_columns_size() > 0) {
    params.target_columns.emplace(req.target_columns().begin(), req.target_columns().end());
  }
  const auto deadline =
      SteadyClock::now() + std::chrono::milliseconds(std::max(0, req.timeout_ms()));
  proto::PutKvResponse resp;
  std::vector<std::pair<int, LogOffset>> waits;
  for (const proto::PbPutKvReqForBucket& bucket_req : req.buckets_req()) {
    proto::PbPutKvRespForBucket* out = resp.add_buckets_resp();
    TableBucket bucket = EchoBucket(req.table_id(), bucket_req, out);
    auto put = replicas_.PutKv(bucket, bucket_req.records(), params, req.acks());
    if (!put.ok()) {
      SetError(put.status(), out);
      continue;
    }
    // The changelog's end after this write (the original batch's for a duplicate).
    out->set_log_end_offset(put->append.last_offset.value() + 1);
    // acks=1 on a leader without in-sync followers waits too: its high watermark then waits
    // only for the KV flush off the reactor, and a lookup right after the answer must see
    // the write, as Fluss's inline flush guarantees.
    const bool wait =
        req.acks() == -1 || (req.acks() == 1 && replicas_.IsSoleInSyncReplica(bucket));
    if (wait && put->append.last_offset.value() >= 0) {
      waits.emplace_back(resp.buckets_resp_size() - 1, put->append.last_offset + 1);
    }
  }
  // acks=-1: answered once the ISR has each bucket's changelog (Fluss DelayedWrite).
  for (const auto& [index, required] : waits) {
    proto::PbPutKvRespForBucket* out = resp.mutable_buckets_resp(index);
    std::optional<PartitionId> partition;
    if (out->has_partition_id()) partition = PartitionId(out->partition_id());
    TableBucket bucket{TableId(req.table_id()), partition, BucketId(out->bucket_id())};
    Status replicated = co_await replicas_.WaitForReplication(bucket, required, deadline);
    if (!replicated.ok()) {
      out->clear_log_end_offset();
      SetError(replicated, out);
    }
  }
  co_return resp;
}

Task<Result<proto::LookupResponse>> TabletService::Lookup(proto::LookupRequest req) {
  // With insert_if_not_exists (Fluss's lookup-or-insert, used with auto-increment columns),
  // the keys found absent are inserted as rows of their key columns only (BuildKeyOnlyBatch)
  // by one ordinary PutKv with the primary key as target columns (so the auto-increment column
  // gets its next id and the changelog its +I), then looked up again once the write is
  // acknowledged. A bucket whose insert fails answers that error instead of values.
  const bool insert = req.insert_if_not_exists();
  if (insert && (!req.has_acks() || !req.has_timeout_ms())) {
    // Fluss's ReplicaManager.lookups: checkArgument, an unknown server error.
    co_return MakeError(ErrorCode::kUnknownServerError, "timeoutMs and requiredAcks must be set");
  }
  proto::LookupResponse resp;
  proto::PutKvRequest put;
  std::vector<std::pair<int, std::vector<int>>> absent;  // response bucket, key positions
  for (int b = 0; b < req.buckets_req_size(); ++b) {
    const proto::PbLookupReqForBucket& bucket_req = req.buckets_req(b);
    proto::PbLookupRespForBucket* out = resp.add_buckets_resp();
    TableBucket bucket = EchoBucket(req.table_id(), bucket_req, out);
    auto replica = replicas_.FindKv(bucket);
    if (!replica.ok()) {
      SetError(replica.status(), out);
      continue;
    }
    std::vector<ByteView> keys(bucket_req.keys().begin(), bucket_req.keys().end());
    auto values = (*replica)->kv->Lookup(keys);
    if (!values.ok()) {
      SetError(values.status(), out);
      continue;
    }
    std::vector<int> missing;
    std::vector<ByteView> missing_keys;
    for (size_t k = 0; k < values->size(); ++k) {
      proto::PbValue* pb = out->add_values();
      if ((*values)[k]) {
        pb->set_values(std::move(*(*values)[k]));
      } else if (insert) {
        missing.push_back(static_cast<int>(k));
        missing_keys.push_back(keys[k]);
      }
    }
    if (missing.empty()) continue;
    auto batch = BuildKeyOnlyBatch(*(*replica)->table, (*replica)->kv->config(), missing_keys);
    if (!batch.ok()) {
      out->clear_values();
      SetError(batch.status(), out);
      continue;
    }
    if (put.target_columns_size() == 0) {
      for (size_t index : (*replica)->table->schema().PrimaryKeyIndexes()) {
        put.add_target_columns(static_cast<int32_t>(index));
      }
    }
    proto::PbPutKvReqForBucket* put_bucket = put.add_buckets_req();
    put_bucket->set_bucket_id(bucket_req.bucket_id());
    if (bucket_req.has_partition_id()) put_bucket->set_partition_id(bucket_req.partition_id());
    put_bucket->set_records(std::move(*batch));
    absent.emplace_back(b, std::move(missing));
  }
  if (absent.empty()) co_return resp;

  put.set_table_id(req.table_id());
  put.set_acks(req.acks());
  put.set_timeout_ms(req.timeout_ms());
  STROM_CO_ASSIGN_OR_RETURN(proto::PutKvResponse put_resp, co_await PutKv(std::move(put)));
  for (size_t i = 0; i < absent.size(); ++i) {
    const auto& [b, missing] = absent[i];
    proto::PbLookupRespForBucket* out = resp.mutable_buckets_resp(b);
    const proto::PbPutKvRespForBucket& put_out = put_resp.buckets_resp(static_cast<int>(i));
    if (put_out.has_error_code() && put_out.error_code() != 0) {
      out->clear_values();
      out->set_error_code(put_out.error_code());
      if (put_out.has_error_message()) out->set_error_message(put_out.error_message());
      continue;
    }
    const proto::PbLookupReqForBucket& bucket_req = req.buckets_req(b);
    std::optional<PartitionId> partition;
    if (bucket_req.has_partition_id()) partition = PartitionId(bucket_req.partition_id());
    auto replica = replicas_.FindKv(
        TableBucket{TableId(req.table_id()), partition, BucketId(bucket_req.bucket_id())});
    std::vector<ByteView> keys;
    for (int k : missing) keys.push_back(bucket_req.keys(k));
    auto values = replica.ok() ? (*replica)->kv->Lookup(keys)
                               : Result<std::vector<std::optional<ByteBuffer>>>(replica.status());
    if (!values.ok()) {
      out->clear_values();
      SetError(values.status(), out);
      continue;
    }
    for (size_t k = 0; k < missing.size(); ++k) {
      if ((*values)[k]) out->mutable_values(missing[k])->set_values(std::move(*(*values)[k]));
    }
  }
  co_return resp;
}

Task<Result<proto::PrefixLookupResponse>> TabletService::PrefixLookup(
    proto::PrefixLookupRequest req) {
  proto::PrefixLookupResponse resp;
  for (const proto::PbPrefixLookupReqForBucket& bucket_req : req.buckets_req()) {
    proto::PbPrefixLookupRespForBucket* out = resp.add_buckets_resp();
    TableBucket bucket = EchoBucket(req.table_id(), bucket_req, out);
    auto replica = replicas_.FindKv(bucket);
    if (!replica.ok()) {
      SetError(replica.status(), out);
      continue;
    }
    Status failed;
    proto::PbPrefixLookupRespForBucket answer;
    for (const std::string& prefix : bucket_req.keys()) {
      auto values = (*replica)->kv->PrefixLookup(prefix);
      if (!values.ok()) {
        failed = values.status();
        break;
      }
      proto::PbValueList* list = answer.add_value_lists();
      for (ByteBuffer& value : *values) list->add_values(std::move(value));
    }
    if (!failed.ok()) {
      SetError(failed, out);
      continue;
    }
    out->mutable_value_lists()->Swap(answer.mutable_value_lists());
  }
  co_return resp;
}

Task<Result<proto::ScanKvResponse>> TabletService::ScanKv(proto::ScanKvRequest req) {
  proto::ScanKvResponse resp;
  std::optional<std::string> session_to_close;
  Status status = ScanKvOnce(req, &resp, &session_to_close);
  if (!status.ok()) {
    proto::ScanKvResponse error;
    SetError(status, &error);
    resp = std::move(error);
  }
  if (session_to_close) replicas_.kv_scanners().Remove(*session_to_close);
  co_return resp;
}

Status TabletService::ScanKvOnce(const proto::ScanKvRequest& req, proto::ScanKvResponse* resp,
                                 std::optional<std::string>* session_to_close) {
  replica::KvScannerManager& scanners = replicas_.kv_scanners();
  if (req.has_bucket_scan_req() && req.has_scanner_id()) {
    return Status(ErrorCode::kInvalidScanRequest,
                  "ScanKvRequest must not set both bucket_scan_req and scanner_id.");
  }
  const bool close = req.has_close_scanner() && req.close_scanner();
  if (req.has_bucket_scan_req() && close) {
    return Status(ErrorCode::kInvalidScanRequest,
                  "ScanKvRequest must not set close_scanner together with bucket_scan_req.");
  }
  if (!req.has_bucket_scan_req() && !req.has_scanner_id()) {
    return Status(ErrorCode::kInvalidScanRequest,
                  "ScanKvRequest needs bucket_scan_req (a new scan) or scanner_id (a "
                  "continuation).");
  }
  int64_t batch_bytes = 0;
  if (!close) {
    if (!req.has_batch_size_bytes()) {
      return Status(ErrorCode::kInvalidScanRequest,
                    "batch_size_bytes is required for data-fetching scan requests.");
    }
    if (req.batch_size_bytes() <= 0) {
      return Status(ErrorCode::kInvalidScanRequest, "batch_size_bytes must be greater than 0.");
    }
    batch_bytes = std::min<int64_t>(req.batch_size_bytes(), scanners.options().max_batch_bytes);
  }

  replica::KvScanner* scanner = nullptr;
  bool new_scan = false;
  if (req.has_bucket_scan_req()) {
    const proto::PbScanReqForBucket& bucket_req = req.bucket_scan_req();
    std::optional<PartitionId> partition;
    if (bucket_req.has_partition_id()) partition = PartitionId(bucket_req.partition_id());
    TableBucket bucket{TableId(bucket_req.table_id()), partition, BucketId(bucket_req.bucket_id())};
    STROM_ASSIGN_OR_RETURN(replica::Replica * replica, replicas_.FindKv(bucket));
    STROM_RETURN_IF_ERROR(scanners.CheckLimits(bucket));
    STROM_ASSIGN_OR_RETURN(kv::KvSnapshotScan scan, replica->kv->OpenSnapshotScan());
    if (!scan.cursor->Valid()) {
      // An empty bucket: no session, only the offset the (empty) state covers.
      STROM_RETURN_IF_ERROR(scan.cursor->status());
      resp->set_has_more_results(false);
      resp->set_log_offset(scan.log_offset.value());
      return Status::OK();
    }
    STROM_ASSIGN_OR_RETURN(scanner, scanners.Register(bucket, std::move(scan),
                                                      bucket_req.has_limit() ? bucket_req.limit()
                                                                             : -1));
    new_scan = true;
  } else {
    scanner = scanners.Find(req.scanner_id());
    if (scanner == nullptr) {
      if (close) {
        resp->set_scanner_id(req.scanner_id());
        resp->set_has_more_results(false);
        return Status::OK();
      }
      if (scanners.RecentlyExpired(req.scanner_id())) {
        return Status(ErrorCode::kScannerExpired,
                      "Scanner session has expired due to inactivity. Please start a new scan.");
      }
      return Status(ErrorCode::kUnknownScannerId,
                    "Unknown scanner ID. The session may have expired or never existed.");
    }
  }
  // From here on the session ends with an error, an explicit close or the end of the data.
  *session_to_close = scanner->id;
  if (close) {
    resp->set_scanner_id(scanner->id);
    resp->set_has_more_results(false);
    return Status::OK();
  }
  if (!req.has_call_seq_id()) {
    return Status(ErrorCode::kInvalidScanRequest,
                  "call_seq_id is required for ScanKV requests to ensure in-order processing.");
  }
  if (req.call_seq_id() != scanner->call_seq_id + 1) {
    return MakeError(ErrorCode::kInvalidScanRequest,
                     "Out-of-order scan request: expected callSeqId={} but got {}.",
                     scanner->call_seq_id + 1, req.call_seq_id());
  }
  scanners.Touch(scanner);

  // At least one record, then whole records while the batch is below the byte budget.
  ByteBuffer records;
  record::ValueRecordBatchBuilder builder(&records);
  bool appended = false;
  while (scanner->HasMore() &&
         (!appended || static_cast<int64_t>(builder.size_in_bytes()) < batch_bytes)) {
    STROM_RETURN_IF_ERROR(builder.AppendEncoded(scanner->scan.cursor->value()));
    scanner->scan.cursor->Next();
    if (scanner->remaining > 0) --scanner->remaining;
    appended = true;
  }
  const bool has_more = scanner->HasMore();
  if (!has_more) STROM_RETURN_IF_ERROR(scanner->scan.cursor->status());
  builder.Finish();

  resp->set_scanner_id(scanner->id);
  resp->set_has_more_results(has_more);
  if (appended) resp->set_records(std::move(records));
  if (new_scan) resp->set_log_offset(scanner->scan.log_offset.value());
  scanner->call_seq_id = req.call_seq_id();
  if (has_more) session_to_close->reset();
  return Status::OK();
}

}  // namespace strom::tablet
