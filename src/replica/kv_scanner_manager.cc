#include "replica/kv_scanner_manager.h"

#include <fmt/format.h>

namespace strom::replica {

KvScannerManager::KvScannerManager(KvScannerOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)), random_(std::random_device{}()) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

Status KvScannerManager::CheckLimits(const metadata::TableBucket& bucket) const {
  if (static_cast<int64_t>(scanners_.size()) >= options_.max_per_server) {
    return MakeError(ErrorCode::kTooManyScanners,
                     "Cannot create scanner for bucket {}: server-wide limit of {} reached.",
                     bucket, options_.max_per_server);
  }
  if (CountForBucket(bucket) >= static_cast<size_t>(std::max(0, options_.max_per_bucket))) {
    return MakeError(ErrorCode::kTooManyScanners,
                     "Cannot create scanner for bucket {}: per-bucket limit of {} reached.", bucket,
                     options_.max_per_bucket);
  }
  return Status::OK();
}

std::string KvScannerManager::NewId() {
  // 128 random bits as 32 hex digits (the shape of Fluss's dash-less UUIDs).
  while (true) {
    std::string id = fmt::format("{:016x}{:016x}", random_(), random_());
    if (scanners_.count(id) == 0 && recently_expired_.count(id) == 0) return id;
  }
}

Result<KvScanner*> KvScannerManager::Register(const metadata::TableBucket& bucket,
                                              kv::KvSnapshotScan scan, int64_t limit) {
  STROM_RETURN_IF_ERROR(CheckLimits(bucket));
  auto scanner = std::make_unique<KvScanner>();
  scanner->id = NewId();
  scanner->bucket = bucket;
  scanner->scan = std::move(scan);
  scanner->remaining = limit > 0 ? limit : -1;
  scanner->last_access = clock_();
  KvScanner* raw = scanner.get();
  ++per_bucket_[bucket];
  scanners_.emplace(raw->id, std::move(scanner));
  return raw;
}

KvScanner* KvScannerManager::Find(std::string_view id) {
  auto it = scanners_.find(std::string(id));
  return it == scanners_.end() ? nullptr : it->second.get();
}

bool KvScannerManager::RecentlyExpired(std::string_view id) const {
  return recently_expired_.find(id) != recently_expired_.end();
}

void KvScannerManager::Touch(KvScanner* scanner) { scanner->last_access = clock_(); }

size_t KvScannerManager::CountForBucket(const metadata::TableBucket& bucket) const {
  auto it = per_bucket_.find(bucket);
  return it == per_bucket_.end() ? 0 : static_cast<size_t>(it->second);
}

void KvScannerManager::Remove(std::string_view id) {
  auto it = scanners_.find(std::string(id));
  if (it == scanners_.end()) return;
  auto count = per_bucket_.find(it->second->bucket);
  if (count != per_bucket_.end() && --count->second <= 0) per_bucket_.erase(count);
  scanners_.erase(it);
}

void KvScannerManager::Expire(
    std::unordered_map<std::string, std::unique_ptr<KvScanner>>::iterator it,
    std::chrono::steady_clock::time_point now) {
  recently_expired_[it->first] = now;
  Remove(std::string(it->first));
}

void KvScannerManager::CloseBucket(const metadata::TableBucket& bucket) {
  const auto now = clock_();
  for (auto it = scanners_.begin(); it != scanners_.end();) {
    auto current = it++;
    if (current->second->bucket == bucket) Expire(current, now);
  }
}

void KvScannerManager::CloseTable(TableId table_id) {
  const auto now = clock_();
  for (auto it = scanners_.begin(); it != scanners_.end();) {
    auto current = it++;
    if (current->second->bucket.table_id == table_id) Expire(current, now);
  }
}

void KvScannerManager::CloseAll() {
  scanners_.clear();
  per_bucket_.clear();
  recently_expired_.clear();
}

size_t KvScannerManager::EvictExpired() {
  const auto now = clock_();
  for (auto it = recently_expired_.begin(); it != recently_expired_.end();) {
    if (now - it->second > 2 * options_.ttl) {
      it = recently_expired_.erase(it);
    } else {
      ++it;
    }
  }
  size_t evicted = 0;
  for (auto it = scanners_.begin(); it != scanners_.end();) {
    auto current = it++;
    if (now - current->second->last_access > options_.ttl) {
      Expire(current, now);
      ++evicted;
    }
  }
  return evicted;
}

}  // namespace strom::replica
