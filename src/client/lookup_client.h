#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "client/client_context.h"
#include "client/write_batch.h"
#include "common/async.h"
#include "common/bytes.h"
#include "strom/lookuper.h"
#include "strom/types.h"

namespace strom::client {

/// Decodes stored values (2-byte little-endian schema id + row in the table's kv format,
/// fluss-rpc §10.5) into rows of the table's current schema. Values of another schema id are
/// decoded with that schema (fetched once through the SchemaFetcher) and matched to the
/// current columns by name; columns they lack read as null.
///
/// Thread-safe (the per-schema plans are cached under a mutex).
class ValueDecoder {
 public:
  using SchemaFetcher = std::function<Result<Schema>(SchemaId)>;

  ValueDecoder(Schema schema, SchemaId schema_id, KvFormat format, SchemaFetcher fetch_schema);

  /// kCorruptRecord for a value shorter than its schema id or a row that does not decode.
  Result<GenericRow> Decode(ByteView value) const;
  /// Decodes `row` (row bytes, without the schema id) written under `schema_id`.
  Result<GenericRow> DecodeRow(SchemaId schema_id, ByteView row) const;

 private:
  struct Plan {
    std::vector<DataType> field_types;  // of the schema the bytes were written with
    std::vector<int32_t> output_map;    // per current column: index in those, or -1
  };
  Result<std::shared_ptr<const Plan>> PlanFor(int16_t schema_id) const;

  const Schema schema_;
  const SchemaId schema_id_;
  const KvFormat format_;
  const SchemaFetcher fetch_schema_;
  mutable std::mutex mu_;
  mutable std::map<int16_t, std::shared_ptr<const Plan>> plans_;
};

/// A SchemaFetcher asking the cluster for a schema of `path` (GetTableSchema). It blocks on
/// the network thread: call it from user threads only.
ValueDecoder::SchemaFetcher MakeSchemaFetcher(std::shared_ptr<ClientContext> context,
                                              TablePath path);

/// One queued lookup: its bucket and encoded key, and, once answered, the raw values found
/// (at most one for a point lookup). Completed exactly once; waited on by user threads.
struct LookupQuery {
  LookupQuery(TableBucket table_bucket, ByteBuffer key_bytes, bool is_prefix)
      : bucket(table_bucket), key(std::move(key_bytes)), prefix(is_prefix) {}

  const TableBucket bucket;
  const ByteBuffer key;
  const bool prefix;
  // ---- network thread only ----
  int32_t retries = 0;
  BatchClock::time_point retry_after{};

  /// Sets the outcome (ignored after the first call) and wakes waiters.
  void Complete(Result<std::vector<ByteBuffer>> values);
  Result<std::vector<ByteBuffer>> Wait();
  bool IsReady();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<std::vector<ByteBuffer>>> outcome_;
};

/// Sends the lookups of one Lookuper (Fluss `LookupClient` + `LookupSender`).
///
/// User threads Enqueue() queries; a sender coroutine on the network thread takes as many as
/// the free request slots can carry, groups them per bucket leader (point and prefix
/// lookups apart) into requests of at most `lookup_max_batch_size` keys, each key under its
/// bucket, and sends them with at most `lookup_max_inflight_requests` in flight. Lookups
/// that arrive while requests are in flight wait in the queue and form the next batch.
/// Retriable errors (and unknown leaders) put a query back after a short pause and a
/// metadata refresh, up to `lookup_max_retries` times; other errors fail it.
///
/// Lifecycle: Create() starts the sender; Close() (or the destructor) fails what is still
/// queued and waits for the sender and the requests in flight. Threads: Enqueue from any user
/// thread; the sender state lives on the network thread. Ownership: held by Lookupers by
/// shared_ptr; holds the ClientContext.
class LookupClient {
 public:
  static Result<std::shared_ptr<LookupClient>> Create(std::shared_ptr<ClientContext> context,
                                                      TableInfo info);
  ~LookupClient();
  LookupClient(const LookupClient&) = delete;
  LookupClient& operator=(const LookupClient&) = delete;

  /// Queues `query`; blocks while `lookup_queue_size` queries wait. kUnknownServerError
  /// after Close() (the query is completed with that error too).
  Status Enqueue(std::shared_ptr<LookupQuery> query);

  void Close();

 private:
  struct Waker {
    explicit Waker(Executor executor) : notifier(std::move(executor)) {}
    Notifier notifier;                 // network thread only
    std::atomic<bool> pending{false};  // a wake-up is already queued
  };

  LookupClient(std::shared_ptr<ClientContext> context, TableInfo info);

  void Wake();
  Task<void> SenderLoop();
  Task<void> Send(ServerNode leader, bool prefix,
                  std::vector<std::shared_ptr<LookupQuery>> queries);
  Task<void> RefreshMetadata();
  void Retry(std::vector<std::shared_ptr<LookupQuery>> queries, const Status& error);
  void FailPending(const Status& error);
  Task<Status> Stop();

  std::shared_ptr<ClientContext> context_;
  const TableInfo info_;
  const ClientConfig& config_;
  std::shared_ptr<Waker> waker_;

  // ---- shared with user threads ----
  std::mutex mu_;
  std::condition_variable space_cv_;
  std::deque<std::shared_ptr<LookupQuery>> queue_;
  bool closed_ = false;
  std::mutex close_mu_;
  bool stopped_ = false;

  // ---- network thread only ----
  std::deque<std::shared_ptr<LookupQuery>> retrying_;
  int32_t inflight_ = 0;
  bool refreshing_ = false;
  bool stopping_ = false;
  Gate gate_;
};

}  // namespace strom::client
