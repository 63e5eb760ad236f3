#include "record/detail/row_codec_util.h"

#include <iterator>

namespace strom::record::detail {
namespace {

const char* DatumKind(const Datum& value) {
  static constexpr const char* kNames[] = {
      "null",   "bool",   "int8",         "int16",          "int32", "int64", "float",
      "double", "string", "DecimalValue", "TimestampValue", "array", "map",   "row"};
  static_assert(std::variant_size_v<Datum::Variant> == std::size(kNames));
  return kNames[value.v.index()];
}

}  // namespace

Status ValueMismatch(const DataType& type, const Datum& value, size_t position) {
  if (value.is_null()) {
    return CorruptRow("null value in NOT NULL position {} of type {}", position, type.ToString());
  }
  return CorruptRow("value at position {} is {} but the type is {}", position, DatumKind(value),
                    type.ToString());
}

int DecimalByteLength(__int128 v) {
  // Bits needed without the sign bit, as Java's BigInteger.bitLength() counts them.
  unsigned __int128 magnitude = v < 0 ? ~static_cast<unsigned __int128>(v)
                                      : static_cast<unsigned __int128>(v);
  int bits = 0;
  while (magnitude != 0) {
    ++bits;
    magnitude >>= 1;
  }
  return bits / 8 + 1;
}

void StoreDecimalBytes(__int128 v, char* dst) {
  int n = DecimalByteLength(v);
  auto u = static_cast<unsigned __int128>(v);
  for (int i = n - 1; i >= 0; --i) {
    dst[i] = static_cast<char>(static_cast<uint8_t>(u & 0xFF));
    u >>= 8;
  }
}

bool LoadDecimalBytes(ByteView bytes, __int128* v) {
  if (bytes.empty() || bytes.size() > 16) return false;
  // Sign-extend from the first byte, then shift the rest in.
  unsigned __int128 u = static_cast<int8_t>(bytes[0]) < 0 ? ~static_cast<unsigned __int128>(0) : 0;
  for (char c : bytes) u = (u << 8) | static_cast<uint8_t>(c);
  *v = static_cast<__int128>(u);
  return true;
}

}  // namespace strom::record::detail
