#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace strom::record {

/// DECIMAL(p, s) value: the unscaled integer (value = unscaled * 10^-scale). Fluss allows
/// precision up to 38, which always fits 128 bits.
struct DecimalValue {
  __int128 unscaled = 0;
  friend bool operator==(const DecimalValue&, const DecimalValue&) = default;
};

/// TIMESTAMP / TIMESTAMP_LTZ value as Fluss holds it: epoch milliseconds plus the
/// nanoseconds within that millisecond (0..999999).
struct TimestampValue {
  int64_t millis = 0;
  int32_t nanos_of_milli = 0;
  friend bool operator==(const TimestampValue&, const TimestampValue&) = default;
};

struct Datum;

/// ARRAY value (elements may be null).
struct ArrayValue {
  std::vector<Datum> elements;
  friend bool operator==(const ArrayValue&, const ArrayValue&);
};

/// MAP value: entries in insertion order.
struct MapValue {
  std::vector<std::pair<Datum, Datum>> entries;
  friend bool operator==(const MapValue&, const MapValue&);
};

/// Nested ROW value.
struct RowValue {
  std::vector<Datum> fields;
  friend bool operator==(const RowValue&, const RowValue&);
};

/// One typed value of any Fluss type, or null. Which alternative holds which type:
///   null            -> std::monostate
///   BOOLEAN         -> bool
///   TINYINT         -> int8_t
///   SMALLINT        -> int16_t
///   INT, DATE, TIME -> int32_t (DATE: days since epoch; TIME: milliseconds of day)
///   BIGINT          -> int64_t
///   FLOAT / DOUBLE  -> float / double
///   CHAR, STRING, BINARY, BYTES -> std::string (UTF-8 text or raw bytes)
///   DECIMAL         -> DecimalValue
///   TIMESTAMP, TIMESTAMP_LTZ -> TimestampValue
///   ARRAY / MAP / ROW -> ArrayValue / MapValue / RowValue
struct Datum {
  using Variant = std::variant<std::monostate, bool, int8_t, int16_t, int32_t, int64_t, float,
                               double, std::string, DecimalValue, TimestampValue, ArrayValue,
                               MapValue, RowValue>;
  Variant v;

  Datum() = default;
  template <typename T,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<T>, Datum> &&
                                        std::is_constructible_v<Variant, T&&>>>
  Datum(T&& value) : v(std::forward<T>(value)) {}  // NOLINT: implicit by design

  static Datum Null() { return Datum(); }

  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(v);
  }
  template <typename T>
  const T& as() const {
    return std::get<T>(v);
  }

  /// Float and double compare by bit pattern (so NaN payloads round-trip checks work).
  friend bool operator==(const Datum& a, const Datum& b);
};

/// A row of values in column order: the form rows take between the client API, the CLI and
/// the encoders. Encoders check each value against the schema's type.
using GenericRow = std::vector<Datum>;

}  // namespace strom::record
