#include "kv/field_aggregator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "kv/roaring64_bitmap.h"
#include "kv/roaring_bitmap.h"

namespace strom::kv {

namespace {

using record::AggFunctionType;
using record::DataType;
using record::Datum;
using record::DecimalValue;
using record::TimestampValue;
using record::TypeRoot;
using u128 = unsigned __int128;

// 10^n for n in [0, 38].
__int128 Pow10(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

u128 Magnitude(__int128 v) {
  return v < 0 ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
}

// A decimal result that must fit DECIMAL(precision, _): the value, or null when it has more
// digits than the precision allows (Java's Decimal.fromBigDecimal returns null then).
Datum FitDecimal(bool negative, u128 magnitude, int precision) {
  if (magnitude >= static_cast<u128>(Pow10(precision))) return Datum::Null();
  __int128 v = static_cast<__int128>(magnitude);
  return DecimalValue{negative ? -v : v};
}

// Java's BigDecimal multiply then setScale(scale, HALF_UP): |a * b| / 10^scale, rounded half
// away from zero, computed on 256 bits (two 38-digit values overflow 128).
Datum MultiplyDecimals(__int128 a, __int128 b, int precision, int scale) {
  bool negative = (a < 0) != (b < 0);
  u128 x = Magnitude(a);
  u128 y = Magnitude(b);
  // limbs[0] is the least significant 64 bits.
  std::array<uint64_t, 4> limbs{};
  uint64_t xs[2] = {static_cast<uint64_t>(x), static_cast<uint64_t>(x >> 64)};
  uint64_t ys[2] = {static_cast<uint64_t>(y), static_cast<uint64_t>(y >> 64)};
  for (int i = 0; i < 2; ++i) {
    u128 carry = 0;
    for (int j = 0; j < 2; ++j) {
      u128 cur = static_cast<u128>(xs[i]) * ys[j] + limbs[i + j] + carry;
      limbs[i + j] = static_cast<uint64_t>(cur);
      carry = cur >> 64;
    }
    int k = i + 2;
    while (carry != 0 && k < 4) {
      u128 cur = static_cast<u128>(limbs[k]) + carry;
      limbs[k] = static_cast<uint64_t>(cur);
      carry = cur >> 64;
      ++k;
    }
  }
  // Divide by 10 `scale` times; the last remainder is the most significant dropped digit.
  uint64_t last_digit = 0;
  for (int s = 0; s < scale; ++s) {
    u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      u128 cur = (rem << 64) | limbs[i];
      limbs[i] = static_cast<uint64_t>(cur / 10);
      rem = cur % 10;
    }
    last_digit = static_cast<uint64_t>(rem);
  }
  if (limbs[2] != 0 || limbs[3] != 0) return Datum::Null();
  u128 q = (static_cast<u128>(limbs[1]) << 64) | limbs[0];
  if (scale > 0 && last_digit >= 5) q += 1;
  if (q >> 127) return Datum::Null();
  return FitDecimal(negative, q, precision);
}

template <typename T>
T WrapAdd(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <typename T>
T WrapMul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  // Promote to at least unsigned int so that uint8/uint16 products do not turn signed.
  using W = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;
  return static_cast<T>(
      static_cast<U>(static_cast<W>(static_cast<U>(a)) * static_cast<W>(static_cast<U>(b))));
}

// Java's Float.compare / Double.compare: -0.0 < 0.0, NaN above everything, NaN == NaN.
template <typename F>
int CompareFloating(F a, F b) {
  if (a < b) return -1;
  if (a > b) return 1;
  bool a_nan = a != a;
  bool b_nan = b != b;
  if (a_nan || b_nan) return a_nan == b_nan ? 0 : (a_nan ? 1 : -1);
  bool a_neg = std::signbit(a);
  bool b_neg = std::signbit(b);
  if (a_neg == b_neg) return 0;
  return a_neg ? -1 : 1;
}

int CompareBytes(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);  // memcmp compares unsigned bytes
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// InternalRowUtils.compare for the roots max/min accept.
int CompareDatums(TypeRoot root, const Datum& a, const Datum& b) {
  switch (root) {
    case TypeRoot::kTinyInt:
      return Cmp(a.as<int8_t>(), b.as<int8_t>());
    case TypeRoot::kSmallInt:
      return Cmp(a.as<int16_t>(), b.as<int16_t>());
    case TypeRoot::kInt:
    case TypeRoot::kDate:
    case TypeRoot::kTime:
      return Cmp(a.as<int32_t>(), b.as<int32_t>());
    case TypeRoot::kBigInt:
      return Cmp(a.as<int64_t>(), b.as<int64_t>());
    case TypeRoot::kFloat:
      return CompareFloating(a.as<float>(), b.as<float>());
    case TypeRoot::kDouble:
      return CompareFloating(a.as<double>(), b.as<double>());
    case TypeRoot::kDecimal:
      return Cmp(a.as<DecimalValue>().unscaled, b.as<DecimalValue>().unscaled);
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      const auto& x = a.as<TimestampValue>();
      const auto& y = b.as<TimestampValue>();
      if (x.millis != y.millis) return Cmp(x.millis, y.millis);
      return Cmp(x.nanos_of_milli, y.nanos_of_milli);
    }
    default:
      return CompareBytes(a.as<std::string>(), b.as<std::string>());
  }
}

// Functions that keep the non-null side when either side is null.
bool NullShortcut(const Datum& acc, const Datum& in, Datum* out) {
  if (acc.is_null() || in.is_null()) {
    *out = acc.is_null() ? in : acc;
    return true;
  }
  return false;
}

class SumAgg final : public FieldAggregator {
 public:
  SumAgg(DataType type, bool product) : type_(std::move(type)), product_(product) {}

  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    Datum out;
    if (NullShortcut(acc, in, &out)) return out;
    switch (type_.root()) {
      case TypeRoot::kTinyInt:
        return Datum(Op(acc.as<int8_t>(), in.as<int8_t>()));
      case TypeRoot::kSmallInt:
        return Datum(Op(acc.as<int16_t>(), in.as<int16_t>()));
      case TypeRoot::kInt:
        return Datum(Op(acc.as<int32_t>(), in.as<int32_t>()));
      case TypeRoot::kBigInt:
        return Datum(Op(acc.as<int64_t>(), in.as<int64_t>()));
      case TypeRoot::kFloat:
        return Datum(product_ ? acc.as<float>() * in.as<float>()
                              : acc.as<float>() + in.as<float>());
      case TypeRoot::kDouble:
        return Datum(product_ ? acc.as<double>() * in.as<double>()
                              : acc.as<double>() + in.as<double>());
      case TypeRoot::kDecimal: {
        __int128 a = acc.as<DecimalValue>().unscaled;
        __int128 b = in.as<DecimalValue>().unscaled;
        if (product_) return MultiplyDecimals(a, b, type_.precision(), type_.scale());
        __int128 sum;
        if (__builtin_add_overflow(a, b, &sum)) return Datum::Null();
        return FitDecimal(sum < 0, Magnitude(sum), type_.precision());
      }
      default:
        return MakeError(ErrorCode::kUnknownServerError, "type {} not supported by sum/product",
                         type_.ToString());
    }
  }

 private:
  template <typename T>
  T Op(T a, T b) const {
    return product_ ? WrapMul(a, b) : WrapAdd(a, b);
  }

  DataType type_;
  bool product_;
};

class MaxMinAgg final : public FieldAggregator {
 public:
  MaxMinAgg(TypeRoot root, bool max) : root_(root), max_(max) {}
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    Datum out;
    if (NullShortcut(acc, in, &out)) return out;
    bool acc_smaller = CompareDatums(root_, acc, in) < 0;
    if (max_) return acc_smaller ? in : acc;
    return acc_smaller ? acc : in;
  }

 private:
  TypeRoot root_;
  bool max_;
};

class LastValueAgg final : public FieldAggregator {
 public:
  explicit LastValueAgg(bool ignore_nulls) : ignore_nulls_(ignore_nulls) {}
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    if (ignore_nulls_ && in.is_null()) return acc;
    return in;
  }

 private:
  bool ignore_nulls_;
};

// first_value and first_value_ignore_nulls share this code in Fluss 0.9.1.
class FirstValueAgg final : public FieldAggregator {
 public:
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    return acc.is_null() ? in : acc;
  }
};

class ListAgg final : public FieldAggregator {
 public:
  explicit ListAgg(std::string delimiter) : delimiter_(std::move(delimiter)) {}
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    Datum out;
    if (NullShortcut(acc, in, &out)) return out;
    std::string joined = acc.as<std::string>();
    joined += delimiter_;
    joined += in.as<std::string>();
    return Datum(std::move(joined));
  }

 private:
  std::string delimiter_;
};

class BoolAgg final : public FieldAggregator {
 public:
  explicit BoolAgg(bool is_and) : is_and_(is_and) {}
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    Datum out;
    if (NullShortcut(acc, in, &out)) return out;
    return Datum(is_and_ ? (acc.as<bool>() && in.as<bool>()) : (acc.as<bool>() || in.as<bool>()));
  }

 private:
  bool is_and_;
};

// Bad bitmap bytes fail the write with what Fluss answers (its rbm aggregators throw a
// RuntimeException: UNKNOWN_SERVER_ERROR), not with the codecs' CORRUPT_RECORD, which clients
// retry until their delivery timeout.
Result<Datum> BitmapResult(Result<ByteBuffer> merged) {
  if (!merged.ok()) return Status(ErrorCode::kUnknownServerError, merged.status().message());
  return Datum(std::move(merged).value());
}

class Rbm32Agg final : public FieldAggregator {
 public:
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    Datum out;
    if (NullShortcut(acc, in, &out)) return out;
    return BitmapResult(RoaringBitmap32Union(acc.as<std::string>(), in.as<std::string>()));
  }
};

// Java's Roaring64Bitmap bytes (roaring64_bitmap.h).
class Rbm64Agg final : public FieldAggregator {
 public:
  Result<Datum> Agg(const Datum& acc, const Datum& in) const override {
    Datum out;
    if (NullShortcut(acc, in, &out)) return out;
    return BitmapResult(RoaringBitmap64Union(acc.as<std::string>(), in.as<std::string>()));
  }
};

}  // namespace

Result<std::unique_ptr<FieldAggregator>> FieldAggregator::Create(
    const record::AggFunction& function, const DataType& type) {
  TypeRoot root = type.root();
  auto unsupported = [&]() {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Data type for {} column must be supported by the function but was '{}'.",
                     record::AggFunctionTypeName(function.type), type.ToString());
  };
  switch (function.type) {
    case AggFunctionType::kSum:
    case AggFunctionType::kProduct:
      if (root != TypeRoot::kTinyInt && root != TypeRoot::kSmallInt && root != TypeRoot::kInt &&
          root != TypeRoot::kBigInt && root != TypeRoot::kFloat && root != TypeRoot::kDouble &&
          root != TypeRoot::kDecimal) {
        return unsupported();
      }
      return std::unique_ptr<FieldAggregator>(
          new SumAgg(type, function.type == AggFunctionType::kProduct));
    case AggFunctionType::kMax:
    case AggFunctionType::kMin:
      if (root == TypeRoot::kBoolean || root == TypeRoot::kArray || root == TypeRoot::kMap ||
          root == TypeRoot::kRow) {
        return unsupported();
      }
      return std::unique_ptr<FieldAggregator>(
          new MaxMinAgg(root, function.type == AggFunctionType::kMax));
    case AggFunctionType::kLastValue:
      return std::unique_ptr<FieldAggregator>(new LastValueAgg(false));
    case AggFunctionType::kLastValueIgnoreNulls:
      return std::unique_ptr<FieldAggregator>(new LastValueAgg(true));
    case AggFunctionType::kFirstValue:
    case AggFunctionType::kFirstValueIgnoreNulls:
      return std::unique_ptr<FieldAggregator>(new FirstValueAgg());
    case AggFunctionType::kListAgg:
    case AggFunctionType::kStringAgg: {
      if (root != TypeRoot::kString && root != TypeRoot::kChar) return unsupported();
      std::string delimiter = ",";
      for (const auto& [name, value] : function.parameters) {
        if (name == "delimiter") delimiter = value;
      }
      return std::unique_ptr<FieldAggregator>(new ListAgg(std::move(delimiter)));
    }
    case AggFunctionType::kBoolAnd:
    case AggFunctionType::kBoolOr:
      if (root != TypeRoot::kBoolean) return unsupported();
      return std::unique_ptr<FieldAggregator>(
          new BoolAgg(function.type == AggFunctionType::kBoolAnd));
    case AggFunctionType::kRbm32:
      if (root != TypeRoot::kBytes) return unsupported();
      return std::unique_ptr<FieldAggregator>(new Rbm32Agg());
    case AggFunctionType::kRbm64:
      if (root != TypeRoot::kBytes) return unsupported();
      return std::unique_ptr<FieldAggregator>(new Rbm64Agg());
  }
  return unsupported();
}

}  // namespace strom::kv
