#pragma once

#include <fmt/core.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <variant>

#include "common/bytes.h"
#include "common/status.h"
#include "record/data_type.h"
#include "record/datum.h"

// Helpers shared by the row, array and key codecs of strom::record. Not a public API.
namespace strom::record::detail {

/// Failure for bytes that do not decode.
template <typename... Args>
Status CorruptRow(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kCorruptRecord, fmt::format(format, std::forward<Args>(args)...));
}

/// Failure for a value that does not fit the type it is written as.
Status ValueMismatch(const DataType& type, const Datum& value, size_t position);

/// The value of `datum` as T, or null when it holds another alternative.
template <typename T>
const T* As(const Datum& datum) {
  return std::get_if<T>(&datum.v);
}

/// True when `type` is stored as its int32 in Datum (INT, DATE, TIME).
inline bool IsInt32Root(TypeRoot root) {
  return root == TypeRoot::kInt || root == TypeRoot::kDate || root == TypeRoot::kTime;
}

inline bool FitsInt64(__int128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}

/// Length of Java's `BigInteger.toByteArray()` for `v`: minimal big-endian two's complement.
int DecimalByteLength(__int128 v);
/// Writes those bytes to `dst` (DecimalByteLength(v) bytes).
void StoreDecimalBytes(__int128 v, char* dst);
/// Reads 1..16 big-endian two's complement bytes; false for any other length.
bool LoadDecimalBytes(ByteView bytes, __int128* v);

/// NaN with the payload Java's Float.NaN / Double.NaN carry.
inline float CanonicalNan(float v) {
  return std::isnan(v) ? std::numeric_limits<float>::quiet_NaN() : v;
}
inline double CanonicalNan(double v) {
  return std::isnan(v) ? std::numeric_limits<double>::quiet_NaN() : v;
}

inline void AppendVarint32(uint32_t v, ByteBuffer* out) {
  char buf[5];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline void AppendVarint64(uint64_t v, ByteBuffer* out) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

template <typename T>
inline void AppendFixed(T v, ByteBuffer* out) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // Supported hosts are little-endian, as the format is.
  out->append(buf, sizeof(T));
}

template <typename T>
inline void StoreFixed(T v, char* dst) {
  std::memcpy(dst, &v, sizeof(T));
}

template <typename T>
inline T LoadFixed(const char* src) {
  T v;
  std::memcpy(&v, src, sizeof(T));
  return v;
}

/// A bounds-checked read position over borrowed bytes. Every read returns false instead of
/// going past the end; the position then stays where it was.
class Cursor {
 public:
  explicit Cursor(ByteView bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }

  bool Take(size_t n, const char** out) {
    if (remaining() < n) return false;
    *out = p_;
    p_ += n;
    return true;
  }

  template <typename T>
  bool ReadFixed(T* v) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }

  /// Up to 5 bytes; like Java, bits above 32 in the fifth byte are dropped, but a fifth byte
  /// that asks for a sixth is refused.
  bool ReadVarint32(uint32_t* v) {
    uint32_t result = 0;
    const char* p = p_;
    for (int shift = 0; shift < 35; shift += 7) {
      if (p == end_) return false;
      auto b = static_cast<uint8_t>(*p++);
      result |= static_cast<uint32_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        p_ = p;
        *v = result;
        return true;
      }
    }
    return false;
  }

  /// Up to 10 bytes; a tenth byte that asks for an eleventh is refused.
  bool ReadVarint64(uint64_t* v) {
    uint64_t result = 0;
    const char* p = p_;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p == end_) return false;
      auto b = static_cast<uint8_t>(*p++);
      result |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        p_ = p;
        *v = result;
        return true;
      }
    }
    return false;
  }

  /// A varint length prefix: a non-negative int32 that fits the remaining bytes.
  bool ReadLength(uint32_t* length) {
    uint32_t v;
    if (!ReadVarint32(&v)) return false;
    if (v > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()) || v > remaining()) {
      return false;
    }
    *length = v;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

/// Null-bit helpers over a bitset that starts at `bits`.
inline bool BitGet(const char* bits, size_t index) {
  return (static_cast<uint8_t>(bits[index >> 3]) >> (index & 7)) & 1;
}
inline void BitSet(char* bits, size_t index) {
  bits[index >> 3] = static_cast<char>(static_cast<uint8_t>(bits[index >> 3]) | (1u << (index & 7)));
}

}  // namespace strom::record::detail
