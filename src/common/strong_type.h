#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <ostream>

namespace strom {

/// A number with a name: `using TableId = StrongInt<int64_t, struct TableIdTag>;`.
/// Distinct ids cannot be mixed up across an API, yet each costs no more than its integer.
template <typename T, typename Tag>
class StrongInt {
 public:
  using ValueType = T;

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(T value) : value_(value) {}

  constexpr T value() const { return value_; }
  constexpr explicit operator T() const { return value_; }

  constexpr auto operator<=>(const StrongInt&) const = default;

  constexpr StrongInt& operator++() {
    ++value_;
    return *this;
  }
  constexpr StrongInt operator+(T delta) const { return StrongInt(value_ + delta); }
  constexpr StrongInt operator-(T delta) const { return StrongInt(value_ - delta); }
  constexpr StrongInt& operator+=(T delta) {
    value_ += delta;
    return *this;
  }
  /// Distance between two values of the same kind.
  constexpr T operator-(StrongInt other) const { return value_ - other.value_; }

  friend std::ostream& operator<<(std::ostream& os, StrongInt v) { return os << v.value_; }

 private:
  T value_{};
};

}  // namespace strom

template <typename T, typename Tag>
struct std::hash<strom::StrongInt<T, Tag>> {
  size_t operator()(strom::StrongInt<T, Tag> v) const noexcept { return std::hash<T>()(v.value()); }
};

template <typename T, typename Tag>
struct fmt::formatter<strom::StrongInt<T, Tag>> : fmt::formatter<T> {
  auto format(strom::StrongInt<T, Tag> v, fmt::format_context& ctx) const {
    return fmt::formatter<T>::format(v.value(), ctx);
  }
};
