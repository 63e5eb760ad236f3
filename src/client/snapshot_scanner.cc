// SnapshotScanner: a primary-key table's current rows through SCAN_KV (1061).

#include "strom/snapshot_scanner.h"

#include <asio/steady_timer.hpp>

#include "client/client_context.h"
#include "client/lookup_client.h"
#include "proto/messages.h"
#include "record/value_record.h"
#include "strom/table.h"

namespace strom::client {

namespace {

// TOO_MANY_SCANNERS and leader moves before a bucket's first batch are retried this often,
// 100 ms x 2^n apart (as the Java client's KvBatchScanner).
constexpr int kMaxOpenRetries = 3;
constexpr std::chrono::milliseconds kOpenBackoff(100);

}  // namespace

/// The state behind a SnapshotScanner: the buckets left, the open server-side session of
/// the current bucket (leader, scanner id, call sequence), and the decoder of stored values.
/// Used by one user thread at a time; requests run on the network thread through RunSync.
class SnapshotScannerImpl {
 public:
  SnapshotScannerImpl(std::shared_ptr<ClientContext> context, TableInfo info,
                      std::optional<std::vector<size_t>> projection, std::vector<BucketId> buckets,
                      std::shared_ptr<const ValueDecoder> decoder)
      : context_(std::move(context)),
        info_(std::move(info)),
        projection_(std::move(projection)),
        buckets_(std::move(buckets)),
        decoder_(std::move(decoder)) {
    const std::vector<std::string> names = info_.schema().ColumnNames();
    const std::vector<DataType> types = info_.schema().FieldTypes();
    if (projection_) {
      for (size_t index : *projection_) {
        names_.push_back(names[index]);
        types_.push_back(types[index]);
      }
    } else {
      names_ = names;
      types_ = types;
    }
  }

  ~SnapshotScannerImpl() {
    if (!session_) return;
    // Best effort: the server also drops idle sessions after its TTL.
    proto::ScanKvRequest request;
    request.set_scanner_id(session_->scanner_id);
    request.set_close_scanner(true);
    context_->RunSync(Call(session_->leader, std::move(request))).status().IgnoreError();
  }

  Result<std::optional<SnapshotBatch>> Next() {
    if (next_bucket_ >= buckets_.size()) return std::optional<SnapshotBatch>();
    const BucketId bucket = buckets_[next_bucket_];
    Result<proto::ScanKvResponse> response = session_ ? Continue() : Open(bucket);
    if (!response.ok()) {
      session_.reset();
      next_bucket_ = buckets_.size();  // a failed scan stays failed
      return response.status();
    }
    if (response->has_log_offset()) log_offsets_[bucket] = response->log_offset();
    SnapshotBatch batch;
    batch.bucket = bucket;
    if (response->has_records() && !response->records().empty()) {
      STROM_RETURN_IF_ERROR(DecodeRecords(response->records(), &batch.rows));
    }
    if (response->has_has_more_results() && response->has_more_results()) {
      if (!session_) {
        if (!response->has_scanner_id()) {
          next_bucket_ = buckets_.size();
          return MakeError(ErrorCode::kUnknownServerError,
                           "SCAN_KV of {} bucket {} has more rows but no scanner id",
                           info_.path.ToString(), bucket);
        }
        session_ = Session{opened_leader_, response->scanner_id(), 0};
      }
    } else {
      session_.reset();
      ++next_bucket_;
    }
    return std::optional<SnapshotBatch>(std::move(batch));
  }

  const std::map<BucketId, int64_t>& log_offsets() const { return log_offsets_; }
  const std::vector<std::string>& column_names() const { return names_; }
  const std::vector<DataType>& column_types() const { return types_; }

 private:
  struct Session {
    ServerNode leader;
    std::string scanner_id;
    int32_t call_seq_id = 0;
  };

  int32_t BatchBytes() const { return context_->config().scanner_fetch_max_bytes_for_bucket; }

  Task<Result<proto::ScanKvResponse>> Call(ServerNode node, proto::ScanKvRequest request) {
    auto response = co_await context_->CallNode<proto::ApiKey::kScanKv>(node, std::move(request));
    if (!response.ok()) co_return std::move(response).status();
    if (response->has_error_code() && response->error_code() != 0) {
      co_return Status(ErrorCodeFromWire(response->error_code()), response->error_message());
    }
    co_return std::move(*response);
  }

  // Opens the scan of `bucket` at its leader (refreshing the metadata first when the leader
  // is unknown), retrying a moved leader or a full server a few times.
  Task<Result<proto::ScanKvResponse>> OpenTask(BucketId bucket) {
    const TableBucket table_bucket(info_.table_id, bucket);
    Status last;
    for (int attempt = 0; attempt <= kMaxOpenRetries; ++attempt) {
      if (attempt > 0) {
        asio::steady_timer timer(context_->executor(), kOpenBackoff * (1 << (attempt - 1)));
        co_await timer.async_wait(kAwaitTuple);
      }
      std::optional<ServerNode> leader = context_->metadata().Get()->Leader(table_bucket);
      if (!leader) {
        STROM_CO_RETURN_IF_ERROR(co_await context_->UpdateMetadata(OneTable(info_.path)));
        leader = context_->metadata().Get()->Leader(table_bucket);
      }
      if (!leader) {
        last = MakeError(ErrorCode::kLeaderNotAvailable, "{} bucket {} has no leader",
                         info_.path.ToString(), bucket);
        continue;
      }
      proto::ScanKvRequest request;
      auto* scan = request.mutable_bucket_scan_req();
      scan->set_table_id(info_.table_id.value());
      scan->set_bucket_id(bucket.value());
      request.set_call_seq_id(0);
      request.set_batch_size_bytes(BatchBytes());
      Result<proto::ScanKvResponse> response = co_await Call(*leader, std::move(request));
      if (response.ok()) {
        opened_leader_ = *leader;
        co_return response;
      }
      last = response.status();
      if (InvalidatesMetadata(last.code())) {
        context_->InvalidateLeaders(info_.table_id);
        continue;
      }
      if (last.code() != ErrorCode::kTooManyScanners) break;
    }
    co_return last;
  }

  Result<proto::ScanKvResponse> Open(BucketId bucket) {
    return context_->RunSync(OpenTask(bucket));
  }

  Result<proto::ScanKvResponse> Continue() {
    proto::ScanKvRequest request;
    request.set_scanner_id(session_->scanner_id);
    request.set_call_seq_id(++session_->call_seq_id);
    request.set_batch_size_bytes(BatchBytes());
    return context_->RunSync(Call(session_->leader, std::move(request)));
  }

  Status DecodeRecords(const std::string& bytes, std::vector<GenericRow>* rows) {
    STROM_ASSIGN_OR_RETURN(record::ValueRecordBatch batch,
                           record::ValueRecordBatch::Parse(ByteView(bytes)));
    record::ValueRecordIterator it(batch);
    for (;;) {
      STROM_ASSIGN_OR_RETURN(std::optional<record::ValueView> value, it.Next());
      if (!value) break;
      STROM_ASSIGN_OR_RETURN(GenericRow row, decoder_->DecodeRow(value->schema_id, value->row));
      if (!projection_) {
        rows->push_back(std::move(row));
        continue;
      }
      GenericRow projected(projection_->size());
      for (size_t i = 0; i < projection_->size(); ++i)
        projected[i] = std::move(row[(*projection_)[i]]);
      rows->push_back(std::move(projected));
    }
    return Status::OK();
  }

  std::shared_ptr<ClientContext> context_;
  const TableInfo info_;
  const std::optional<std::vector<size_t>> projection_;
  const std::vector<BucketId> buckets_;
  std::shared_ptr<const ValueDecoder> decoder_;
  std::vector<std::string> names_;
  std::vector<DataType> types_;
  size_t next_bucket_ = 0;
  std::optional<Session> session_;
  ServerNode opened_leader_;
  std::map<BucketId, int64_t> log_offsets_;
};

}  // namespace strom::client

namespace strom {

SnapshotScanner::SnapshotScanner(std::unique_ptr<client::SnapshotScannerImpl> impl)
    : impl_(std::move(impl)) {}
SnapshotScanner::~SnapshotScanner() = default;

Result<std::optional<SnapshotBatch>> SnapshotScanner::Next() { return impl_->Next(); }
const std::map<BucketId, int64_t>& SnapshotScanner::log_offsets() const {
  return impl_->log_offsets();
}
const std::vector<std::string>& SnapshotScanner::column_names() const {
  return impl_->column_names();
}
const std::vector<DataType>& SnapshotScanner::column_types() const { return impl_->column_types(); }

Result<std::unique_ptr<SnapshotScanner>> TableScan::CreateSnapshotScanner(
    std::vector<BucketId> buckets) {
  if (!info_.HasPrimaryKey()) {
    return MakeError(ErrorCode::kNonPrimaryKeyTable,
                     "table {} is a log table: it has no key-value state to scan (scan its log)",
                     info_.path.ToString());
  }
  if (info_.IsPartitioned()) {
    return MakeError(ErrorCode::kInvalidTable,
                     "table {} is partitioned; this client scans non-partitioned tables",
                     info_.path.ToString());
  }
  STROM_ASSIGN_OR_RETURN(std::optional<std::vector<size_t>> projection, ResolveProjection());
  if (projection) {
    if (projection->empty()) {
      return MakeError(ErrorCode::kInvalidColumnProjection, "the projection is empty");
    }
    std::vector<bool> seen(info_.schema().column_count(), false);
    for (size_t index : *projection) {
      if (index >= seen.size() || seen[index]) {
        return MakeError(ErrorCode::kInvalidColumnProjection,
                         "column index {} is out of range or repeated", index);
      }
      seen[index] = true;
    }
  }
  for (BucketId bucket : buckets) {
    if (bucket.value() < 0 || bucket.value() >= info_.num_buckets()) {
      return MakeError(ErrorCode::kUnknownTableOrBucket, "table {} has no bucket {} (it has {})",
                       info_.path.ToString(), bucket, info_.num_buckets());
    }
  }
  if (buckets.empty()) {
    for (int32_t b = 0; b < info_.num_buckets(); ++b) buckets.emplace_back(b);
  }
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  STROM_ASSIGN_OR_RETURN(KvFormat kv_format, info_.kv_format());
  auto decoder = std::make_shared<const client::ValueDecoder>(
      info_.schema(), info_.schema_id, kv_format, client::MakeSchemaFetcher(context_, info_.path));
  auto impl = std::make_unique<client::SnapshotScannerImpl>(context_, info_, std::move(projection),
                                                            std::move(buckets), std::move(decoder));
  return std::unique_ptr<SnapshotScanner>(new SnapshotScanner(std::move(impl)));
}

}  // namespace strom
