#pragma once

#include <asio/cancellation_signal.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "client/client_context.h"
#include "client/scan_decoder.h"
#include "client/write_batch.h"
#include "common/async.h"
#include "strom/log_scanner.h"

namespace strom::client {

/// The implementation behind LogScanner (Fluss `LogScannerImpl` + `LogFetcher`).
///
/// A fetch loop on the network thread keeps one FetchLog in flight per leader server for
/// the subscribed buckets that have no undelivered data buffered, long-polling with the
/// configured min bytes / max wait. Each answer is parsed only far enough (batch headers)
/// to know the next fetch offset, then buffered as a CompletedFetch; Poll() / PollBatches()
/// hand the buffered fetches to the caller's thread, which decodes them (ScanDecoder) into
/// ScanBatches while the network thread already fetches the next range; Poll() turns the
/// batches' rows into ScanRecords, PollBatches() returns the batches. Retriable errors back
/// off and, when they mean stale metadata, refresh it; other errors (offset out of range,
/// corrupt data) stop that bucket and are reported by the next poll.
///
/// Every (re)subscription bumps the bucket's epoch; answers for an older epoch are dropped.
///
/// Lifecycle: Create() starts the fetch loop; the destructor cancels in-flight fetches and
/// waits for the loop. Threads: the public methods from one user thread at a time; the
/// subscription table and the buffered fetches are shared with the network thread under
/// `mu_`; `pending_` and decoding are the user thread's. Ownership: owned by the
/// LogScanner; holds the ClientContext.
class LogScannerImpl {
 public:
  /// `projection`: output column indexes in output order (nullopt = every column).
  static Result<std::unique_ptr<LogScannerImpl>> Create(std::shared_ptr<ClientContext> context,
                                                        TableInfo info,
                                                        std::optional<std::vector<size_t>> projection);
  ~LogScannerImpl();

  Status Subscribe(BucketId bucket, int64_t offset);
  Status Subscribe(BucketId bucket, const OffsetSpec& spec);
  Status SubscribeAll(const OffsetSpec& spec);
  Status Unsubscribe(BucketId bucket);
  Result<ScanRecords> Poll(std::chrono::milliseconds timeout);
  Result<ScanBatches> PollBatches(std::chrono::milliseconds timeout);
  std::map<BucketId, LogOffset> Positions() const;

  const std::vector<std::string>& column_names() const { return decoder_->column_names(); }
  const std::vector<DataType>& column_types() const { return decoder_->column_types(); }

 private:
  struct BucketState {
    int64_t fetch_offset = kEarliestOffsetValue;
    int64_t epoch = 0;
    bool inflight = false;
    bool buffered = false;
    bool failed = false;
    BatchClock::time_point retry_after{};
    // A server may cut the first batch of a bucket that is not first in the request (only the
    // first bucket is promised one whole batch). Then the bucket goes first in the next
    // request, with a budget that fits the batch its header announced.
    int32_t fetch_bytes_hint = 0;
    int32_t incomplete_rounds = 0;
  };
  struct FetchTarget {
    BucketId bucket;
    int64_t offset;
    int64_t epoch;
    int32_t max_bytes;
  };
  struct Waker {
    explicit Waker(Executor executor) : notifier(std::move(executor)) {}
    Notifier notifier;
    std::atomic<bool> pending{false};
  };

  LogScannerImpl(std::shared_ptr<ClientContext> context, TableInfo info,
                 std::unique_ptr<ScanDecoder> decoder);

  Status CheckBucket(BucketId bucket) const;
  /// Decodes buffered fetches until pending_ holds records, the deadline passes (OK, nothing
  /// pending) or a bucket fails.
  Status AwaitPending(std::chrono::steady_clock::time_point deadline);
  Result<Schema> FetchSchema(SchemaId id);
  void Wake();
  Task<void> FetchLoop();
  /// Sends one FetchLog and returns its raw response payload (parsed in place by Fetch).
  Task<Result<std::shared_ptr<const ByteBuffer>>> CallFetchLog(rpc::Connection& conn,
                                                               proto::FetchLogRequest request);
  /// `no_wait`: answer at once instead of long-polling (some buckets of this leader are left
  /// out because their data waits to be polled; they must not wait behind a long poll).
  Task<void> Fetch(ServerNode leader, std::vector<FetchTarget> targets, bool no_wait);
  Task<void> RefreshMetadata();
  Task<Status> Stop();
  void DropBucketData(BucketId bucket);

  std::shared_ptr<ClientContext> context_;
  const TableInfo info_;
  const ClientConfig& config_;
  std::unique_ptr<ScanDecoder> decoder_;
  std::shared_ptr<Waker> waker_;

  // ---- shared with the network thread ----
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<BucketId, BucketState> buckets_;
  std::deque<CompletedFetch> completed_;
  std::deque<Status> errors_;
  int64_t next_epoch_ = 1;

  // ---- user thread ----
  std::deque<ScanBatch> pending_;  // decoded, not yet returned
  std::map<BucketId, int64_t> decoded_end_;

  // ---- network thread ----
  std::map<ServerId, bool> leader_busy_;
  /// The last fetch to the leader was a no-wait fetch that brought nothing: fetch from it
  /// again only once its buffered buckets are polled (and then with a long poll), not in a
  /// busy loop.
  std::map<ServerId, bool> idle_until_drained_;
  // Cancels the fetch in flight to each leader (at most one per leader), for Stop().
  std::map<ServerId, std::shared_ptr<asio::cancellation_signal>> cancels_;
  bool refreshing_ = false;
  bool stopping_ = false;
  Gate gate_;
};

}  // namespace strom::client
