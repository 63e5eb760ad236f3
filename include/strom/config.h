#pragma once

// Client configuration. Field defaults equal the Fluss Java client's defaults; every field
// can also be set from Fluss's own option keys (`client.writer.batch-size`, ...) through
// ClientConfig::FromProperties, so an existing Fluss client configuration carries over.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strom/status.h"

namespace strom {

/// How rows of a table without a bucket key are spread over buckets
/// (`client.writer.bucket.no-key-assigner`).
enum class NoKeyAssigner : uint8_t {
  /// Keep one bucket until a batch for it fills up, then move to another random bucket
  /// (the default: fewer, fuller batches).
  kSticky,
  /// Move to the next bucket on every row.
  kRoundRobin,
};

/// Everything a Connection and the writers and scanners it creates can be tuned with.
struct ClientConfig {
  /// `bootstrap.servers`: comma-separated `host:port` list. The client asks the first one
  /// that answers for the cluster metadata and talks to the servers it names afterwards.
  std::string bootstrap_servers = "127.0.0.1:9123";

  /// `client.request-timeout`: deadline of one request (also the ProduceLog `timeout_ms`).
  std::chrono::milliseconds request_timeout{30000};
  /// `client.connect-timeout`: deadline of one TCP connect + handshake.
  std::chrono::milliseconds connect_timeout{120000};

  // ---- writer (AppendWriter) ----

  /// `client.writer.acks`: -1 ("all": every in-sync replica), 0 or 1 (the leader).
  /// Idempotence requires -1.
  int32_t writer_acks = -1;
  /// `client.writer.retries`: how often a batch is re-sent after a retriable error.
  int32_t writer_retries = INT32_MAX;
  /// `client.writer.retry-backoff` (Strom): pause before a batch is re-sent.
  std::chrono::milliseconds writer_retry_backoff{100};
  /// `client.writer.delivery-timeout` (Strom): a batch not acknowledged this long after it
  /// was opened fails with REQUEST_TIME_OUT instead of being retried again (also when it
  /// waits for a leader or a writer id). 0, the default, retries as long as `writer_retries`
  /// allows, as the Fluss Java client does.
  std::chrono::milliseconds writer_delivery_timeout{0};
  /// `client.writer.batch-size`: a bucket's batch is sent once it holds this many bytes.
  int64_t writer_batch_size = 2 * 1024 * 1024;
  /// `client.writer.batch-timeout`: the longest a non-full batch waits for more rows.
  std::chrono::milliseconds writer_batch_timeout{100};
  /// `client.writer.buffer.memory-size`: bytes of unacknowledged rows a writer may hold;
  /// Append() blocks while the bound is reached.
  int64_t writer_buffer_memory = 64 * 1024 * 1024;
  /// `client.writer.request-max-size`: upper bound of one ProduceLog request.
  int64_t writer_request_max_size = 10 * 1024 * 1024;
  /// `client.writer.enable-idempotence`: writer id + per-bucket batch sequences, so that
  /// retries never duplicate rows.
  bool writer_enable_idempotence = true;
  /// `client.writer.max-inflight-requests-per-bucket` (at most 5 with idempotence).
  int32_t writer_max_inflight_requests_per_bucket = 5;
  /// `client.writer.bucket.no-key-assigner`.
  NoKeyAssigner writer_no_key_assigner = NoKeyAssigner::kSticky;

  // ---- scanner (LogScanner) ----

  /// `client.scanner.log.fetch.max-bytes`: budget of one FetchLog response.
  int32_t scanner_fetch_max_bytes = 16 * 1024 * 1024;
  /// `client.scanner.log.fetch.max-bytes-for-bucket`: budget per bucket.
  int32_t scanner_fetch_max_bytes_for_bucket = 1024 * 1024;
  /// `client.scanner.log.fetch.min-bytes`: the server holds a fetch until this many bytes
  /// are available or `scanner_fetch_wait_max_time` passed (long poll).
  int32_t scanner_fetch_min_bytes = 1;
  /// `client.scanner.log.fetch.wait-max-time`.
  std::chrono::milliseconds scanner_fetch_wait_max_time{500};
  /// `client.scanner.log.check-crc`: verify batch CRCs (skipped for projected reads,
  /// whose CRC the server leaves stale).
  bool scanner_check_crc = true;
  /// `client.scanner.log.max-poll-records`: most records one Poll() returns.
  int32_t scanner_max_poll_records = 500;

  // ---- lookups (Lookuper) ----

  /// `client.lookup.queue-size`: lookups waiting to be sent; Lookup() blocks while it is full.
  int32_t lookup_queue_size = 25600;
  /// `client.lookup.max-batch-size`: most keys in one Lookup / PrefixLookup request.
  int32_t lookup_max_batch_size = 128;
  /// `client.lookup.max-inflight-requests`: most lookup requests of one Lookuper awaiting an
  /// answer. A lookup is sent as soon as a request may go out; lookups arriving meanwhile
  /// are batched into the next request to the same leader.
  int32_t lookup_max_inflight_requests = 128;
  /// `client.lookup.max-retries`: how often a lookup is re-sent after a retriable error.
  int32_t lookup_max_retries = INT32_MAX;

  /// Applies Fluss option keys on top of the defaults, e.g.
  /// {{"bootstrap.servers", "host:9123"}, {"client.writer.batch-size", "4mb"},
  /// {"client.writer.acks", "all"}}. Durations take Fluss's syntax ("100 ms", "30s"),
  /// sizes "2mb" / "64 kb" / bytes. Unknown keys and bad values are kInvalidConfig.
  static Result<ClientConfig> FromProperties(
      const std::vector<std::pair<std::string, std::string>>& properties);

  /// Checks ranges and combinations (e.g. idempotence needs acks -1 and at most 5 requests
  /// in flight per bucket). kInvalidConfig naming the offending option.
  Status Validate() const;

  /// The `host:port` entries of bootstrap_servers; kInvalidConfig for a malformed entry.
  Result<std::vector<std::pair<std::string, uint16_t>>> BootstrapAddresses() const;
};

}  // namespace strom
