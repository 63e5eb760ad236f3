#include "common/async.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "testutil/run_task.h"

namespace strom {
namespace {

using namespace std::chrono_literals;
using testutil::RunTask;

struct ThreadIds {
  std::thread::id before;
  std::thread::id inside;
  std::thread::id after;
};

Task<ThreadIds> HopToPoolAndBack(asio::thread_pool& pool) {
  ThreadIds ids;
  ids.before = std::this_thread::get_id();
  ids.inside = co_await RunBlocking(pool, [] { return std::this_thread::get_id(); });
  ids.after = std::this_thread::get_id();
  co_return ids;
}

TEST(AsyncTest, RunBlockingRunsOnThePoolAndResumesOnTheCallersThread) {
  asio::io_context io;
  asio::thread_pool pool(2);
  ThreadIds ids = RunTask(io, HopToPoolAndBack(pool));
  EXPECT_EQ(ids.before, std::this_thread::get_id());
  EXPECT_NE(ids.inside, ids.before);
  EXPECT_EQ(ids.after, ids.before);
  pool.join();
}

Task<int> SumOnPool(asio::thread_pool& pool) {
  int total = 0;
  for (int i = 1; i <= 10; ++i) {
    total += co_await RunBlocking(pool, [i] { return i * i; });
  }
  co_await RunBlocking(pool, [] {});  // void results work too
  co_return total;
}

TEST(AsyncTest, RunBlockingReturnsValuesAndSupportsVoid) {
  asio::io_context io;
  asio::thread_pool pool(1);
  EXPECT_EQ(RunTask(io, SumOnPool(pool)), 385);
  pool.join();
}

Task<Result<int>> FailOnPool(asio::thread_pool& pool) {
  co_return co_await RunBlocking(
      pool, []() -> Result<int> { return Status(ErrorCode::kStorage, "disk full"); });
}

TEST(AsyncTest, RunBlockingCarriesErrorsAsValuesAndRethrowsExceptions) {
  asio::io_context io;
  asio::thread_pool pool(1);
  Result<int> failed = RunTask(io, FailOnPool(pool));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kStorage);
  auto throwing = [](asio::thread_pool& p) -> Task<int> {
    co_return co_await RunBlocking(p, []() -> int { throw std::runtime_error("boom"); });
  };
  EXPECT_THROW(RunTask(io, throwing(pool)), std::runtime_error);
  pool.join();
}

Task<void> SleepFor(SteadyClock::duration d, int* finished) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(kAwaitTuple);
  ++*finished;
}

Task<size_t> CloseAfterTasks(Gate& gate, int* finished) {
  Executor ex = co_await asio::this_coro::executor;
  EXPECT_TRUE(SpawnBackground(ex, gate, "short", SleepFor(5ms, finished)));
  EXPECT_TRUE(SpawnBackground(ex, gate, "longer", SleepFor(30ms, finished)));
  EXPECT_EQ(gate.count(), 2u);
  co_await gate.Close();
  // A closed gate admits nothing.
  EXPECT_FALSE(SpawnBackground(ex, gate, "late", SleepFor(1ms, finished)));
  co_return gate.count();
}

TEST(AsyncTest, GateCloseWaitsForEveryEnteredTask) {
  asio::io_context io;
  Gate gate;
  int finished = 0;
  EXPECT_EQ(RunTask(io, CloseAfterTasks(gate, &finished)), 0u);
  EXPECT_EQ(finished, 2);
  EXPECT_TRUE(gate.is_closed());
}

TEST(AsyncTest, GateCloseOnAnEmptyGateCompletesAtOnce) {
  asio::io_context io;
  Gate gate;
  RunTask(io, gate.Close());
  EXPECT_TRUE(gate.is_closed());
  EXPECT_FALSE(gate.TryEnter());
}

TEST(AsyncTest, GateHoldersReleasedOnOtherThreadsWakeTheCloser) {
  asio::io_context io;
  asio::thread_pool pool(2);
  Gate gate;
  std::atomic<int> done{0};
  for (int i = 0; i < 8; ++i) {
    asio::post(pool, [holder = gate.TryEnter(), &done]() mutable {
      std::this_thread::sleep_for(2ms);
      ++done;
      holder.Release();
    });
  }
  RunTask(io, gate.Close());
  EXPECT_EQ(done.load(), 8);
  pool.join();
}

Task<void> Throws() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("escaped");
}

TEST(AsyncTest, SpawnBackgroundSurvivesAnEscapedExceptionAndReleasesTheGate) {
  asio::io_context io;
  Gate gate;
  EXPECT_TRUE(SpawnBackground(io.get_executor(), gate, "thrower", Throws()));
  RunTask(io, gate.Close());  // would hang if the holder leaked
  EXPECT_EQ(gate.count(), 0u);
}

Task<void> WaitForCancel(bool* cancelled) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 10s);
  auto [ec] = co_await timer.async_wait(kAwaitTuple);
  *cancelled = ec == asio::error::operation_aborted;
}

TEST(AsyncTest, SpawnBackgroundCancellationSignalReachesTheTask) {
  asio::io_context io;
  Gate gate;
  bool cancelled = false;
  auto signal = std::make_shared<asio::cancellation_signal>();
  EXPECT_TRUE(
      SpawnBackground(io.get_executor(), gate, "waiter", WaitForCancel(&cancelled), signal));
  io.poll();  // let it start waiting
  signal->emit(asio::cancellation_type::terminal);
  signal.reset();  // the task keeps its own reference
  RunTask(io, gate.Close());
  EXPECT_TRUE(cancelled);
}

Task<Result<int>> AnswerAfter(SteadyClock::duration d, int value) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
  co_return value;
}

TEST(AsyncTest, WithTimeoutReturnsTheResultWhenInTime) {
  asio::io_context io;
  Result<int> r = RunTask(io, WithTimeout(AnswerAfter(1ms, 7), 5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
}

TEST(AsyncTest, WithTimeoutCancelsASlowOperation) {
  asio::io_context io;
  auto start = SteadyClock::now();
  Result<int> r = RunTask(io, WithTimeout(AnswerAfter(10s, 7), 20ms));
  EXPECT_LT(SteadyClock::now() - start, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kRequestTimeOut);
}

Task<Status> StatusAfter(SteadyClock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
  co_return Status(ErrorCode::kTableNotExist, "t");
}

TEST(AsyncTest, WithTimeoutForStatusAndVoid) {
  asio::io_context io;
  EXPECT_EQ(RunTask(io, WithTimeout(StatusAfter(1ms), 5s)).code(), ErrorCode::kTableNotExist);
  EXPECT_EQ(RunTask(io, WithTimeout(StatusAfter(10s), 10ms)).code(), ErrorCode::kRequestTimeOut);
  int finished = 0;
  EXPECT_TRUE(RunTask(io, WithTimeout(SleepFor(1ms, &finished), 5s)));
  EXPECT_FALSE(RunTask(io, WithTimeout(SleepFor(10s, &finished), 10ms)));
  EXPECT_EQ(finished, 2);  // the cancelled sleep still ran to its end, early
}

Task<int> NotifyRoundTrip() {
  Notifier notifier(co_await asio::this_coro::executor);
  notifier.Notify();
  co_await notifier.Wait();  // pending notification: returns at once
  int woken = 0;
  auto waiter = [](Notifier* n, int* w) -> Task<void> {
    co_await n->Wait();
    ++*w;
  };
  Gate gate;
  SpawnBackground(co_await asio::this_coro::executor, gate, "waiter", waiter(&notifier, &woken));
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  EXPECT_EQ(woken, 0);
  notifier.Notify();
  co_await gate.Close();
  co_return woken;
}

TEST(AsyncTest, NotifierWakesAWaiterOrLatchesForTheNextWait) {
  asio::io_context io;
  EXPECT_EQ(RunTask(io, NotifyRoundTrip()), 1);
}

Task<int> WakeSeveralWaiters() {
  Executor ex = co_await asio::this_coro::executor;
  Notifier notifier(ex);
  bool go = false;
  int woken = 0;
  int spurious = 0;
  // Each waiter loops until `go`, as real waiters re-check their condition; a new waiter
  // must not wake the ones already waiting.
  auto waiter = [](Notifier* n, bool* flag, int* w, int* s) -> Task<void> {
    while (!*flag) {
      co_await n->Wait();
      if (!*flag) ++*s;
    }
    ++*w;
  };
  Gate gate;
  for (int i = 0; i < 3; ++i) {
    SpawnBackground(ex, gate, "waiter", waiter(&notifier, &go, &woken, &spurious));
  }
  co_await asio::post(ex, asio::use_awaitable);
  EXPECT_EQ(woken, 0);
  go = true;
  notifier.Notify();
  co_await gate.Close();
  EXPECT_EQ(spurious, 0);
  co_return woken;
}

TEST(AsyncTest, NotifierWakesEveryWaiterAndOnlyOnNotify) {
  asio::io_context io;
  EXPECT_EQ(RunTask(io, WakeSeveralWaiters()), 3);
}

TEST(AsyncTest, GateCloseRacedWithATimeoutGivesUpWithoutHanging) {
  asio::io_context io;
  Gate gate;
  Gate::Holder holder = gate.TryEnter();
  EXPECT_FALSE(RunTask(io, WithTimeout(gate.Close(), 10ms)));
  holder.Release();
  RunTask(io, gate.Close());
  EXPECT_EQ(gate.count(), 0u);
}

}  // namespace
}  // namespace strom
