#include "common/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace strom::crc32c {
namespace {

// All the arithmetic below works on the raw CRC register: the value after the initial
// inversion and before the final one. The register update is linear over GF(2) in both the
// register and the data, which is what lets independent streams be merged.

constexpr uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, bit-reflected.

// Slicing tables: kSlices[k][b] is the register after feeding byte b into a zero register
// and then k zero bytes. Eight of them fold eight input bytes in one step.
struct SliceTables {
  uint32_t t[8][256];
};

constexpr SliceTables MakeSliceTables() {
  SliceTables s{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t reg = b;
    for (int bit = 0; bit < 8; ++bit) reg = (reg >> 1) ^ ((reg & 1) ? kPolynomial : 0);
    s.t[0][b] = reg;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t prev = s.t[k - 1][b];
      s.t[k][b] = (prev >> 8) ^ s.t[0][prev & 0xff];
    }
  }
  return s;
}

constexpr SliceTables kSlices = MakeSliceTables();

inline uint32_t StepByte(uint32_t reg, uint8_t byte) {
  return kSlices.t[0][(reg ^ byte) & 0xff] ^ (reg >> 8);
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // Little-endian hosts only (x86-64, aarch64).
}

uint32_t PortableRaw(uint32_t reg, const uint8_t* p, size_t n) {
  // Feed single bytes until the pointer is 8-byte aligned, then eight at a time.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    reg = StepByte(reg, *p++);
    --n;
  }
  const auto& t = kSlices.t;
  while (n >= 8) {
    uint64_t x = Load64(p) ^ reg;
    reg = t[7][x & 0xff] ^ t[6][(x >> 8) & 0xff] ^ t[5][(x >> 16) & 0xff] ^ t[4][(x >> 24) & 0xff] ^
          t[3][(x >> 32) & 0xff] ^ t[2][(x >> 40) & 0xff] ^ t[1][(x >> 48) & 0xff] ^ t[0][x >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    reg = StepByte(reg, *p++);
    --n;
  }
  return reg;
}

#if defined(__x86_64__)

// Zero-extension operators. Appending n zero bytes to a message maps the register through a
// fixed linear map Z_n; merging stream A (register a) with stream B (register b, started
// from zero) gives the register of A || B as Z_|B|(a) ^ b. Z_n is built at compile time as
// a 32x32 bit matrix (column i = image of bit i) by repeated squaring of the one-bit shift,
// then tabulated per register byte so applying it costs four lookups.
using BitMatrix = std::array<uint32_t, 32>;

constexpr uint32_t Apply(const BitMatrix& m, uint32_t v) {
  uint32_t out = 0;
  for (int i = 0; v != 0; ++i, v >>= 1) {
    if (v & 1) out ^= m[i];
  }
  return out;
}

constexpr BitMatrix Compose(const BitMatrix& outer, const BitMatrix& inner) {
  BitMatrix r{};
  for (int i = 0; i < 32; ++i) r[i] = Apply(outer, inner[i]);
  return r;
}

constexpr BitMatrix ZeroBytesOperator(size_t n) {
  // One zero bit: shift right, folding the polynomial in when the low bit falls out.
  BitMatrix bit{};
  bit[0] = kPolynomial;
  for (int i = 1; i < 32; ++i) bit[i] = 1u << (i - 1);
  BitMatrix byte = Compose(bit, bit);  // 2 bits
  byte = Compose(byte, byte);          // 4 bits
  byte = Compose(byte, byte);          // 8 bits
  BitMatrix result{};
  for (int i = 0; i < 32; ++i) result[i] = 1u << i;  // identity
  BitMatrix power = byte;
  while (n != 0) {
    if (n & 1) result = Compose(power, result);
    power = Compose(power, power);
    n >>= 1;
  }
  return result;
}

struct ShiftTable {
  uint32_t t[4][256];
};

constexpr ShiftTable MakeShiftTable(size_t n) {
  BitMatrix op = ZeroBytesOperator(n);
  ShiftTable s{};
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) s.t[k][b] = Apply(op, b << (8 * k));
  }
  return s;
}

inline uint32_t Shift(const ShiftTable& s, uint32_t reg) {
  return s.t[0][reg & 0xff] ^ s.t[1][(reg >> 8) & 0xff] ^ s.t[2][(reg >> 16) & 0xff] ^
         s.t[3][reg >> 24];
}

// Block sizes for the three-stream loops. The crc32 instruction has a latency of about three
// cycles but can start one per cycle, so three independent streams keep it busy. Large
// inputs use long blocks to make the merge cost negligible; medium ones use short blocks.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;
constexpr ShiftTable kLongShift = MakeShiftTable(kLongBlock);
constexpr ShiftTable kShortShift = MakeShiftTable(kShortBlock);

template <size_t kBlock>
__attribute__((target("sse4.2"), always_inline)) inline uint32_t ThreeStreams(
    uint32_t reg, const uint8_t* p, const ShiftTable& shift) {
  uint64_t a = reg;
  uint64_t b = 0;
  uint64_t c = 0;
  for (size_t i = 0; i < kBlock; i += 8) {
    a = _mm_crc32_u64(a, Load64(p + i));
    b = _mm_crc32_u64(b, Load64(p + kBlock + i));
    c = _mm_crc32_u64(c, Load64(p + 2 * kBlock + i));
  }
  uint32_t merged = Shift(shift, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
  return Shift(shift, merged) ^ static_cast<uint32_t>(c);
}

__attribute__((target("sse4.2"))) uint32_t HardwareRaw(uint32_t reg, const uint8_t* p, size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    reg = _mm_crc32_u8(reg, *p++);
    --n;
  }
  while (n >= 3 * kLongBlock) {
    reg = ThreeStreams<kLongBlock>(reg, p, kLongShift);
    p += 3 * kLongBlock;
    n -= 3 * kLongBlock;
  }
  while (n >= 3 * kShortBlock) {
    reg = ThreeStreams<kShortBlock>(reg, p, kShortShift);
    p += 3 * kShortBlock;
    n -= 3 * kShortBlock;
  }
  uint64_t r64 = reg;
  while (n >= 8) {
    r64 = _mm_crc32_u64(r64, Load64(p));
    p += 8;
    n -= 8;
  }
  reg = static_cast<uint32_t>(r64);
  while (n > 0) {
    reg = _mm_crc32_u8(reg, *p++);
    --n;
  }
  return reg;
}

#endif  // __x86_64__

}  // namespace

namespace detail {

uint32_t ExtendPortable(uint32_t crc, const uint8_t* data, size_t n) {
  return ~PortableRaw(~crc, data, n);
}

uint32_t ExtendHardware(uint32_t crc, const uint8_t* data, size_t n) {
#if defined(__x86_64__)
  return ~HardwareRaw(~crc, data, n);
#else
  return ExtendPortable(crc, data, n);
#endif
}

bool HardwareAvailable() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace detail

bool IsHardwareAccelerated() {
  static const bool kHardware = detail::HardwareAvailable();
  return kHardware;
}

uint32_t Extend(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  return IsHardwareAccelerated() ? detail::ExtendHardware(crc, p, n)
                                 : detail::ExtendPortable(crc, p, n);
}

}  // namespace strom::crc32c
