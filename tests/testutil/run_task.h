#pragma once

#include <asio/io_context.hpp>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/async.h"

namespace strom::testutil {

/// Drives `task` to completion on `io` from the calling thread (which becomes the reactor
/// for the duration) and returns its value; an exception escaping the task is rethrown.
/// Other work queued on `io` (servers, background loops) runs meanwhile and stays queued
/// when the task is done, so several RunTask calls can share one io_context.
template <typename T>
T RunTask(asio::io_context& io, Task<T> task) {
  std::exception_ptr error;
  bool done = false;
  if constexpr (std::is_void_v<T>) {
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    io.restart();
    while (!done) io.run_one();
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<T> value;
    // co_spawn hands a default-constructed T with an exception; Result<T> has none, so the
    // value travels through a wrapper coroutine that stores it.
    auto wrapper = [](Task<T> inner, std::optional<T>* out) -> Task<void> {
      out->emplace(co_await std::move(inner));
    };
    asio::co_spawn(io, wrapper(std::move(task), &value), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    io.restart();
    while (!done) io.run_one();
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
}

}  // namespace strom::testutil
