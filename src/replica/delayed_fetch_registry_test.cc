#include "replica/delayed_fetch_registry.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "testutil/run_task.h"

namespace strom::replica {
namespace {

using namespace std::chrono_literals;
using metadata::TableBucket;

TableBucket Bucket(int32_t b) { return TableBucket{TableId(1), std::nullopt, BucketId(b)}; }

/// Waits on `buckets` for at most `wait`, while `notify` (if any) fires after 20 ms; returns
/// whether the wait happened and how long it took.
Task<std::pair<bool, SteadyClock::duration>> WaitAndMaybeNotify(
    DelayedFetchRegistry* registry, std::vector<TableBucket> buckets,
    std::optional<TableBucket> notify, SteadyClock::duration wait) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  auto start = SteadyClock::now();
  auto waiter = registry->Wait(std::move(buckets), start + wait);
  auto notifier = [](DelayedFetchRegistry* r, std::optional<TableBucket> b) -> Task<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
    co_await t.async_wait(kAwaitTuple);
    if (b) r->Notify(*b);
  };
  auto notify_task = notifier(registry, notify);
  bool waited = co_await (std::move(waiter) && std::move(notify_task));
  co_return std::make_pair(waited, SteadyClock::now() - start);
}

TEST(DelayedFetchRegistryTest, AppendWakesOnlyFetchesOfThatBucket) {
  asio::io_context io;
  DelayedFetchRegistry registry(io.get_executor(), 10);
  auto [waited, took] = testutil::RunTask(
      io, WaitAndMaybeNotify(&registry, {Bucket(0), Bucket(1)}, Bucket(1), 5s));
  EXPECT_TRUE(waited);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(registry.waiting(), 0u);

  auto [waited2, took2] =
      testutil::RunTask(io, WaitAndMaybeNotify(&registry, {Bucket(0)}, Bucket(2), 200ms));
  EXPECT_TRUE(waited2);
  EXPECT_GE(took2, 190ms) << "a notify on another bucket does not wake it";
}

TEST(DelayedFetchRegistryTest, BoundedAndStoppable) {
  asio::io_context io;
  DelayedFetchRegistry full(io.get_executor(), 0);
  auto [waited, took] =
      testutil::RunTask(io, WaitAndMaybeNotify(&full, {Bucket(0)}, std::nullopt, 5s));
  EXPECT_FALSE(waited) << "over the bound a fetch does not wait";
  EXPECT_LT(took, 2s);

  DelayedFetchRegistry registry(io.get_executor(), 10);
  registry.Stop();
  auto [after_stop, took2] =
      testutil::RunTask(io, WaitAndMaybeNotify(&registry, {Bucket(0)}, std::nullopt, 5s));
  EXPECT_FALSE(after_stop);
  EXPECT_LT(took2, 2s);
}

}  // namespace
}  // namespace strom::replica
