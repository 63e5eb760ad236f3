#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "common/check.h"
#include "common/status.h"

namespace strom {

/// Holds either a value of type T or a failed Status (never an OK status).
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> makes no sense");

 public:
  // Implicit on purpose: `return value;` and `return status;` both work.
  Result(T value) : value_(std::move(value)) {}  // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    STROM_CHECK(!status_.ok(), "a Result cannot hold an OK status without a value");
  }
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result<T>> &&
                                        !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  const T& value() const& {
    STROM_CHECK(ok(), "value() on a failed Result: {}", status_.ToString());
    return *value_;
  }
  T& value() & {
    STROM_CHECK(ok(), "value() on a failed Result: {}", status_.ToString());
    return *value_;
  }
  T&& value() && {
    STROM_CHECK(ok(), "value() on a failed Result: {}", status_.ToString());
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace strom

/// `STROM_ASSIGN_OR_RETURN(auto x, Compute());` binds the value or returns the error.
#define STROM_ASSIGN_OR_RETURN(lhs, expr) \
  STROM_ASSIGN_OR_RETURN_IMPL(STROM_STATUS_CONCAT(_strom_res_, __LINE__), lhs, expr, return)
/// Coroutine flavour of STROM_ASSIGN_OR_RETURN.
#define STROM_CO_ASSIGN_OR_RETURN(lhs, expr) \
  STROM_ASSIGN_OR_RETURN_IMPL(STROM_STATUS_CONCAT(_strom_res_, __LINE__), lhs, expr, co_return)
#define STROM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ret) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) ret std::move(tmp).status();            \
  lhs = std::move(tmp).value()
