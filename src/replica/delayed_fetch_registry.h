#pragma once

#include <asio/steady_timer.hpp>
#include <cstddef>
#include <list>
#include <unordered_map>
#include <vector>

#include "common/async.h"
#include "metadata/table_bucket.h"

namespace strom::replica {

/// Fetches waiting for data (FetchLog long polls), keyed by the buckets they read.
///
/// A waiting fetch registers for its buckets and sleeps until its deadline; an append to any
/// of them (Notify) or Stop() wakes it early, and it then reads again. The number of waiting
/// fetches is bounded: past `max_waiting`, Wait() returns at once (the fetch answers with
/// what it has, which clients accept).
///
/// Lifecycle: construct on the reactor; Stop() wakes everyone and makes later waits return
/// at once. Thread: the reactor only. Ownership: owns the wait entries; each waiting
/// coroutine owns its timer and removes its own entries when it wakes.
class DelayedFetchRegistry {
 public:
  DelayedFetchRegistry(Executor executor, size_t max_waiting)
      : executor_(std::move(executor)), max_waiting_(max_waiting) {}

  /// Returns when one of `buckets` is appended to, at `deadline`, at Stop(), or when the
  /// awaiting coroutine is cancelled. Returns false without waiting when the registry is
  /// full or stopped.
  Task<bool> Wait(std::vector<metadata::TableBucket> buckets, SteadyClock::time_point deadline);

  /// Wakes every fetch waiting on `bucket`.
  void Notify(const metadata::TableBucket& bucket);

  /// Wakes every waiting fetch; later waits return at once.
  void Stop();

  size_t waiting() const { return waiting_; }

 private:
  struct Waiter {
    explicit Waiter(Executor executor) : timer(std::move(executor)) {}
    asio::steady_timer timer;
  };

  Executor executor_;
  size_t max_waiting_;
  size_t waiting_ = 0;
  bool stopped_ = false;
  std::unordered_map<metadata::TableBucket, std::list<Waiter*>> by_bucket_;
};

}  // namespace strom::replica
