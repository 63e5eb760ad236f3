#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>

#include "common/async.h"

namespace strom::rpc::detail {

/// The server-wide count of bytes held for requests being handled and responses waiting to be
/// written (`strom.server.max-queued-bytes`), shared by every connection of one Server.
///
/// Connections charge a request's payload when they start it (a frame larger than the read
/// chunk: when they begin receiving its body) and release it when its handler returns; they charge a response when it is queued and release it once written (or
/// dropped). While the total is at or over the limit, a connection that holds any of it
/// stops reading its socket and parks its wake-up notifier here; every release that brings
/// the total under the limit wakes the parked connections. A connection holding nothing may
/// always start one request, so a slow reader that pins the budget slows the others to one
/// request at a time but never stalls them, and server memory stays within the limit plus
/// one request (and its response) per connection.
///
/// Threads: the server's reactor only.
class QueueBudget {
 public:
  /// `limit` 0: unlimited (the bytes are still counted).
  explicit QueueBudget(size_t limit) : limit_(limit) {}
  QueueBudget(const QueueBudget&) = delete;
  QueueBudget& operator=(const QueueBudget&) = delete;

  size_t limit() const { return limit_; }
  size_t used() const { return used_; }
  size_t peak() const { return peak_; }
  bool exhausted() const { return limit_ > 0 && used_ >= limit_; }

  void Charge(size_t bytes) {
    used_ += bytes;
    if (used_ > peak_) peak_ = used_;
  }

  void Release(size_t bytes) {
    used_ = bytes > used_ ? 0 : used_ - bytes;
    if (!exhausted() && !parked_.empty()) {
      auto parked = std::move(parked_);
      parked_.clear();
      for (auto& [id, notifier] : parked) notifier->Notify();
    }
  }

  /// Wakes `notifier` once the total is under the limit again. `id` keys the entry, so a
  /// connection parks at most once; it must Unpark before its notifier goes away.
  void Park(uint64_t id, Notifier* notifier) { parked_[id] = notifier; }
  void Unpark(uint64_t id) { parked_.erase(id); }

 private:
  const size_t limit_;
  size_t used_ = 0;
  size_t peak_ = 0;
  std::unordered_map<uint64_t, Notifier*> parked_;
};

}  // namespace strom::rpc::detail
