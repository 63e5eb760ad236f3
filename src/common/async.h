#pragma once

// The asynchronous foundation (STYLE.md §3.6, docs/decisions/0003-async-model.md):
// standalone Asio 1.22 with C++20 coroutines. Only files that declare or run coroutines
// include this header; it pulls in a good part of Asio.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace strom {

/// A coroutine returning T. Signatures read `Task<Result<FetchResult>>`.
template <typename T = void>
using Task = asio::awaitable<T>;

/// The type-erased executor every Task runs on.
using Executor = asio::any_io_executor;

/// The clock of every deadline and timeout.
using SteadyClock = std::chrono::steady_clock;

/// Completion token that makes an awaited Asio operation return its error code as part of a
/// tuple instead of throwing: `auto [ec, n] = co_await socket.async_read_some(buf, kAwaitTuple);`
/// Routine network errors are values (STYLE §3.6 rule 5).
inline constexpr auto kAwaitTuple = asio::experimental::as_tuple(asio::use_awaitable);

namespace detail {
template <typename Fn>
using BlockingResult = std::invoke_result_t<Fn&>;

template <typename Fn>
Task<BlockingResult<Fn>> RunOnPool(asio::thread_pool::executor_type pool, Fn fn) {
  using R = BlockingResult<Fn>;
  // The lambdas are handed to co_spawn, which keeps them alive in the spawned frame; they
  // are never invoked on the spot (STYLE §3.6 rule 3).
  // The job lambdas are named locals, not temporaries of the co_await expression: GCC 12
  // destroys a class temporary created inside a co_await expression twice, which
  // double-frees any capture with a destructor (a moved buffer, a string).
  if constexpr (std::is_void_v<R>) {
    auto job = [fn = std::move(fn)]() mutable -> Task<void> {
      fn();
      co_return;
    };
    co_await asio::co_spawn(pool, std::move(job), asio::use_awaitable);
  } else {
    // co_spawn default-constructs its result type on failure; Result<T> has no default
    // constructor, so the value travels inside an optional.
    auto job = [fn = std::move(fn)]() mutable -> Task<std::optional<R>> {
      co_return std::optional<R>(fn());
    };
    std::optional<R> result = co_await asio::co_spawn(pool, std::move(job), asio::use_awaitable);
    co_return std::move(*result);
  }
}
}  // namespace detail

/// Runs `fn()` on a thread of `pool` and resumes the awaiting coroutine on its own executor
/// (the reactor), returning fn's result. The only gateway from the reactor to blocking work
/// (fsync, RocksDB, big compressions).
///
/// `fn` is moved onto the pool: it must own what it touches (moved buffers, shared_ptr to
/// immutable data), never references to reactor-owned mutable state, because the reactor
/// keeps running other coroutines meanwhile. An exception thrown by fn is rethrown in the
/// awaiting coroutine; project code returns Status/Result instead. `pool` must outlive the
/// returned task.
///
/// Pass a named closure (`auto job = [buf = std::move(buf)] {...}; co_await
/// RunBlocking(pool, std::move(job));`), not a lambda written inside the co_await expression:
/// GCC 12 destroys such a temporary twice, double-freeing captures that own memory.
template <typename Fn>
Task<detail::BlockingResult<Fn>> RunBlocking(asio::thread_pool& pool, Fn fn) {
  return detail::RunOnPool(pool.get_executor(), std::move(fn));
}

/// Counts running tasks and lets their owner wait until every one has finished
/// (Seastar's gate, reduced).
///
/// Lifecycle: open at construction; TryEnter() hands out Holders until Close() starts;
/// Close() completes once the last Holder is gone. Closing is final.
/// Threads: TryEnter and Holder release may happen on any thread (internally locked).
/// Close() must be awaited on a single-threaded executor (an io_context run by one thread,
/// or a strand); several Close() calls may wait at once.
/// Ownership: the counter lives in shared state that every Holder co-owns, so a Holder may
/// outlive the Gate object (a task that owns the object holding its gate releases the
/// Holder after the object is gone).
class Gate {
  struct State;

 public:
  /// Keeps the gate from closing while alive. Move-only; empty when TryEnter failed.
  class Holder {
   public:
    Holder() = default;
    Holder(Holder&& other) noexcept = default;
    Holder& operator=(Holder&& other) noexcept;
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    ~Holder() { Release(); }

    explicit operator bool() const { return state_ != nullptr; }
    /// Leaves the gate now instead of at destruction.
    void Release();

   private:
    friend class Gate;
    explicit Holder(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

  Gate();
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  /// A Holder counting one task, or an empty one once Close() has started.
  Holder TryEnter();

  /// Refuses new entries and completes when no Holder is left. If the awaiting coroutine
  /// is cancelled, it stops waiting (the gate stays closed).
  Task<void> Close();

  bool is_closed() const;
  /// Tasks currently inside.
  size_t count() const;

 private:
  std::shared_ptr<State> state_;
};

/// Starts `task` on `executor` as a background task counted by `gate`, and logs (under the
/// component logger "async", with `name`) any exception that escapes it. The replacement of
/// bare asio::detached, which drops exceptions silently (STYLE §3.6 rule 4).
///
/// Returns false, without starting the task, when the gate is already closed. When
/// `cancel` is given, emitting it (on the task's executor) cancels what the task awaits;
/// the signal is kept alive until the task has completed, so emitting it late is harmless.
bool SpawnBackground(Executor executor, Gate& gate, std::string name, Task<void> task,
                     std::shared_ptr<asio::cancellation_signal> cancel = nullptr);

/// A level-triggered wake-up for coroutines on one executor.
///
/// Notify() wakes every coroutine waiting in Wait(), or, when nobody waits, makes the next
/// Wait() return at once. Waiters must re-check their condition after waking: Wait() also
/// returns when the waiting coroutine is cancelled.
/// Threads: not thread-safe; use it from the executor it was built with.
class Notifier {
 public:
  explicit Notifier(Executor executor);

  void Notify();
  Task<void> Wait();

 private:
  asio::steady_timer timer_;
  bool pending_ = false;
};

/// Status returned by WithTimeout when the deadline passes first.
Status TimeoutStatus(SteadyClock::duration timeout);

/// Races `op` against a steady_timer of `timeout` (awaitable operator ||). When the timer
/// wins, `op` is cancelled and awaited, and the result is a kRequestTimeOut status. `op`
/// must honour cancellation (Asio operations and the waits of this file do), or the
/// timeout only returns once `op` has finished anyway.
template <typename T>
Task<Result<T>> WithTimeout(Task<Result<T>> op, SteadyClock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto winner = co_await (std::move(op) || timer.async_wait(kAwaitTuple));
  if (winner.index() == 0) co_return std::move(std::get<0>(winner));
  co_return TimeoutStatus(timeout);
}

/// WithTimeout for operations that return a bare Status.
Task<Status> WithTimeout(Task<Status> op, SteadyClock::duration timeout);

/// WithTimeout for operations without a result: true when `op` finished in time.
Task<bool> WithTimeout(Task<void> op, SteadyClock::duration timeout);

}  // namespace strom
