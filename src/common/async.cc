#include "common/async.h"

#include <algorithm>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/post.hpp>
#include <exception>
#include <limits>

#include "common/logging.h"

namespace strom {

// One waiting Close(): its timer sleeps "forever" and is cancelled, on its own executor,
// when the count reaches zero.
struct GateWaiter {
  explicit GateWaiter(Executor executor)
      : timer(std::move(executor), asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
};

struct Gate::State {
  mutable std::mutex mu;
  size_t count = 0;
  bool closed = false;
  std::vector<std::shared_ptr<GateWaiter>> waiters;
};

Gate::Holder& Gate::Holder::operator=(Holder&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

void Gate::Holder::Release() {
  if (!state_) return;
  std::vector<std::shared_ptr<GateWaiter>> wake;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (--state_->count == 0) wake = state_->waiters;
  }
  // A timer may only be touched on its own executor; the waiter's shared_ptr keeps it
  // alive until the posted cancel has run.
  for (auto& waiter : wake) {
    asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
  }
  state_.reset();
}

Gate::Gate() : state_(std::make_shared<State>()) {}

Gate::Holder Gate::TryEnter() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->closed) return Holder();
  ++state_->count;
  return Holder(state_);
}

bool Gate::is_closed() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->closed;
}

size_t Gate::count() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->count;
}

Task<void> Gate::Close() {
  std::shared_ptr<State> state = state_;
  auto waiter = std::make_shared<GateWaiter>(co_await asio::this_coro::executor);
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->closed = true;
    if (state->count == 0) co_return;
    state->waiters.push_back(waiter);
  }
  // Removes this waiter however the wait ends (woken, or cancelled by the caller).
  struct Unregister {
    State* state;
    GateWaiter* waiter;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(state->mu);
      auto& w = state->waiters;
      w.erase(
          std::remove_if(w.begin(), w.end(), [this](const auto& p) { return p.get() == waiter; }),
          w.end());
    }
  } unregister{state.get(), waiter.get()};
  // Woken either by the last Holder (the count cannot grow once closed, so zero is final)
  // or by cancellation of this coroutine, which gives up waiting.
  co_await waiter->timer.async_wait(kAwaitTuple);
}

namespace {

void LogEscapedException(const std::string& name, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    STROM_LOG_ERROR("async", "background task '{}' failed with an exception: {}", name, e.what());
  } catch (...) {
    STROM_LOG_ERROR("async", "background task '{}' failed with a non-standard exception", name);
  }
}

}  // namespace

bool SpawnBackground(Executor executor, Gate& gate, std::string name, Task<void> task,
                     std::shared_ptr<asio::cancellation_signal> cancel) {
  Gate::Holder holder = gate.TryEnter();
  if (!holder) {
    STROM_LOG_DEBUG("async", "background task '{}' not started: its gate is closed", name);
    return false;
  }
  // The completion handler owns the Holder (so the gate counts the task until it has fully
  // finished) and the cancellation signal (which must outlive the task).
  auto on_done = [holder = std::move(holder), name = std::move(name),
                  cancel](std::exception_ptr error) mutable {
    if (error) LogEscapedException(name, error);
    holder.Release();
  };
  if (cancel) {
    asio::cancellation_slot slot = cancel->slot();
    asio::co_spawn(executor, std::move(task),
                   asio::bind_cancellation_slot(slot, std::move(on_done)));
  } else {
    asio::co_spawn(executor, std::move(task), std::move(on_done));
  }
  return true;
}

Notifier::Notifier(Executor executor)
    : timer_(std::move(executor), asio::steady_timer::time_point::max()) {}

void Notifier::Notify() {
  pending_ = true;
  timer_.cancel();
}

Task<void> Notifier::Wait() {
  // The timer's expiry stays at "never" (cancel() does not move it): setting it again
  // here would cancel the waits of other coroutines.
  if (!pending_) co_await timer_.async_wait(kAwaitTuple);
  pending_ = false;
}

Status TimeoutStatus(SteadyClock::duration timeout) {
  return MakeError(ErrorCode::kRequestTimeOut, "timed out after {} ms",
                   std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
}

Task<Status> WithTimeout(Task<Status> op, SteadyClock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto winner = co_await (std::move(op) || timer.async_wait(kAwaitTuple));
  if (winner.index() == 0) co_return std::move(std::get<0>(winner));
  co_return TimeoutStatus(timeout);
}

Task<bool> WithTimeout(Task<void> op, SteadyClock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto winner = co_await (std::move(op) || timer.async_wait(kAwaitTuple));
  co_return winner.index() == 0;
}

}  // namespace strom
