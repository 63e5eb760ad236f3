#pragma once

#include <fmt/core.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/error_code.h"

namespace strom {

/// The outcome of an operation: OK, or an ErrorCode (a Fluss wire code) with a message.
///
/// OK is represented by a null pointer, so returning and copying a success costs one word.
/// Internal conditions without a wire code of their own use the nearest Fluss code:
/// corrupt bytes -> kCorruptMessage / kCorruptRecord, disk failures -> kStorage, bugs ->
/// kUnknownServerError.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(ErrorCode code, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  ErrorCode code() const { return state_ ? state_->code : ErrorCode::kNone; }
  /// The message without the code name; empty for OK.
  const std::string& message() const;
  bool IsRetriable() const { return strom::IsRetriable(code()); }

  /// "OK", or "TABLE_NOT_EXIST: table db.t does not exist".
  std::string ToString() const;

  /// Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  /// Explicitly drops a status whose failure does not matter here.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    ErrorCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

/// Builds a failed Status with a fmt-formatted message.
template <typename... Args>
Status MakeError(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}

/// Shorthands for the codes the storage and format layers use most.
template <typename... Args>
Status Corruption(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kCorruptMessage, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
Status InvalidArgument(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace strom

#define STROM_STATUS_CONCAT_INNER(a, b) a##b
#define STROM_STATUS_CONCAT(a, b) STROM_STATUS_CONCAT_INNER(a, b)

/// Returns the status from the enclosing function when it is not OK.
#define STROM_RETURN_IF_ERROR(expr)                                            \
  do {                                                                         \
    ::strom::Status STROM_STATUS_CONCAT(_strom_st_, __LINE__) = (expr);        \
    if (!STROM_STATUS_CONCAT(_strom_st_, __LINE__).ok())                       \
      return STROM_STATUS_CONCAT(_strom_st_, __LINE__);                        \
  } while (0)

/// Coroutine flavour of STROM_RETURN_IF_ERROR.
#define STROM_CO_RETURN_IF_ERROR(expr)                                         \
  do {                                                                         \
    ::strom::Status STROM_STATUS_CONCAT(_strom_st_, __LINE__) = (expr);        \
    if (!STROM_STATUS_CONCAT(_strom_st_, __LINE__).ok())                       \
      co_return STROM_STATUS_CONCAT(_strom_st_, __LINE__);                     \
  } while (0)
