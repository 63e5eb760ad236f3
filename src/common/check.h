#pragma once

#include <fmt/core.h>

#include <string>

namespace strom::detail {
/// Logs the failed invariant with its location and a backtrace, then aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);
}  // namespace strom::detail

/// Always-on invariant: use where continuing could corrupt data. Bad input bytes are
/// never a CHECK; they return a corruption Status.
#define STROM_CHECK(cond, ...)                                                       \
  do {                                                                               \
    if (__builtin_expect(!(cond), 0)) {                                              \
      ::strom::detail::CheckFailed(__FILE__, __LINE__, #cond,                        \
                                   ::fmt::format("" __VA_ARGS__));                   \
    }                                                                                \
  } while (0)

/// Debug-only sanity check for cheap internal assumptions.
#ifdef NDEBUG
#define STROM_DCHECK(cond, ...) \
  do {                          \
    (void)sizeof(cond);         \
  } while (0)
#else
#define STROM_DCHECK(cond, ...) STROM_CHECK(cond, __VA_ARGS__)
#endif
