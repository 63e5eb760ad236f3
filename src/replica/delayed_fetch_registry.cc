#include "replica/delayed_fetch_registry.h"

#include <algorithm>

namespace strom::replica {

Task<bool> DelayedFetchRegistry::Wait(std::vector<metadata::TableBucket> buckets,
                                      SteadyClock::time_point deadline) {
  if (stopped_ || waiting_ >= max_waiting_ || buckets.empty()) co_return false;
  Waiter waiter(executor_);
  waiter.timer.expires_at(deadline);
  std::vector<std::pair<metadata::TableBucket, std::list<Waiter*>::iterator>> entries;
  entries.reserve(buckets.size());
  for (const metadata::TableBucket& bucket : buckets) {
    auto& list = by_bucket_[bucket];
    entries.emplace_back(bucket, list.insert(list.end(), &waiter));
  }
  ++waiting_;
  // Woken by expiry (deadline), by cancel() (an append or Stop), or by cancellation of the
  // awaiting coroutine; all three end the wait.
  co_await waiter.timer.async_wait(kAwaitTuple);
  --waiting_;
  for (auto& [bucket, it] : entries) {
    auto found = by_bucket_.find(bucket);
    if (found == by_bucket_.end()) continue;
    found->second.erase(it);
    if (found->second.empty()) by_bucket_.erase(found);
  }
  co_return true;
}

void DelayedFetchRegistry::Notify(const metadata::TableBucket& bucket) {
  auto found = by_bucket_.find(bucket);
  if (found == by_bucket_.end()) return;
  for (Waiter* waiter : found->second) waiter->timer.cancel();
}

void DelayedFetchRegistry::Stop() {
  stopped_ = true;
  for (auto& [bucket, waiters] : by_bucket_) {
    for (Waiter* waiter : waiters) waiter->timer.cancel();
  }
}

}  // namespace strom::replica
