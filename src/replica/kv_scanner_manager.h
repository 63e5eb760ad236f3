#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "common/ids.h"
#include "common/result.h"
#include "kv/kv_tablet.h"
#include "metadata/table_bucket.h"

namespace strom::replica {

/// Limits of SCAN_KV sessions (Fluss main's `kv.scanner.*` options and defaults).
struct KvScannerOptions {
  /// `kv.scanner.ttl`: an idle session is closed after this long.
  std::chrono::milliseconds ttl = std::chrono::minutes(10);
  /// `kv.scanner.expiration-interval`: how often idle sessions are looked for.
  std::chrono::milliseconds expiration_interval = std::chrono::seconds(30);
  /// `kv.scanner.max-per-bucket` and `kv.scanner.max-per-server`: open sessions at once.
  int32_t max_per_bucket = 8;
  int32_t max_per_server = 200;
  /// `kv.scanner.max-batch-size`: cap on the record bytes of one response.
  int64_t max_batch_bytes = 10LL * 1024 * 1024;
};

/// One SCAN_KV session: a cursor over a bucket's state at one point in time.
struct KvScanner {
  std::string id;
  metadata::TableBucket bucket;
  kv::KvSnapshotScan scan;
  /// Rows still allowed by the request's limit; -1 = no limit.
  int64_t remaining = -1;
  /// The call_seq_id of the last request served; the next must be one more.
  int32_t call_seq_id = -1;
  std::chrono::steady_clock::time_point last_access;

  /// True while there is a row to return.
  bool HasMore() const { return remaining != 0 && scan.cursor->Valid(); }
};

/// The open SCAN_KV sessions of a tablet server (Fluss main's ScannerManager): ids, per-bucket
/// and per-server limits, idle expiry, and a memory of recently expired ids so a late
/// continuation gets SCANNER_EXPIRED rather than UNKNOWN_SCANNER_ID.
///
/// Thread: the reactor only, no locks (requests on one session are therefore serial).
/// Ownership: owns every session and so every snapshot cursor; the ReplicaManager closes a
/// bucket's sessions before it closes or drops the bucket's KvTablet. The clock is injectable
/// so tests drive expiry without waiting.
class KvScannerManager {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit KvScannerManager(KvScannerOptions options, Clock clock = nullptr);

  /// TOO_MANY_SCANNERS when the bucket or the server has no free session slot.
  Status CheckLimits(const metadata::TableBucket& bucket) const;
  /// Registers a new session over `scan` (after CheckLimits); `limit` <= 0 means no limit.
  Result<KvScanner*> Register(const metadata::TableBucket& bucket, kv::KvSnapshotScan scan,
                              int64_t limit);
  /// The session of `id`, or null. Does not refresh its idle time.
  KvScanner* Find(std::string_view id);
  /// True when `id` belonged to a session closed by expiry or by its bucket going away
  /// within the last two TTLs.
  bool RecentlyExpired(std::string_view id) const;
  /// Marks a session used now.
  void Touch(KvScanner* scanner);
  /// Closes one session (no-op for an unknown id).
  void Remove(std::string_view id);
  /// Closes every session of a bucket / of a table (remembered as expired).
  void CloseBucket(const metadata::TableBucket& bucket);
  void CloseTable(TableId table_id);
  /// Closes every session.
  void CloseAll();
  /// Closes sessions idle for longer than the TTL and forgets old expired ids; returns how
  /// many sessions it closed.
  size_t EvictExpired();

  const KvScannerOptions& options() const { return options_; }
  size_t size() const { return scanners_.size(); }
  size_t CountForBucket(const metadata::TableBucket& bucket) const;

 private:
  std::string NewId();
  void Expire(std::unordered_map<std::string, std::unique_ptr<KvScanner>>::iterator it,
              std::chrono::steady_clock::time_point now);

  KvScannerOptions options_;
  Clock clock_;
  std::mt19937_64 random_;
  std::unordered_map<std::string, std::unique_ptr<KvScanner>> scanners_;
  std::unordered_map<metadata::TableBucket, int32_t> per_bucket_;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> recently_expired_;
};

}  // namespace strom::replica
