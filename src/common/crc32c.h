#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

/// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final xor
/// 0xFFFFFFFF. This is the checksum of `java.util.zip.CRC32C`, which Fluss uses for log and
/// KV record batches.
///
/// Values are the finished checksums, so they chain: for any split of a message M = A || B,
/// `Extend(Value(A), B) == Value(M)`.
///
/// `Extend` picks the SSE4.2 `crc32` instruction when the CPU has it (checked once at first
/// use) and a slicing-by-8 table otherwise. Both are pure functions, safe from any thread.
namespace strom::crc32c {

/// Returns the CRC-32C of the message whose checksum is `crc` followed by `n` bytes at `data`.
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Extend(uint32_t crc, ByteView data) {
  return Extend(crc, data.data(), data.size());
}

/// Returns the CRC-32C of `n` bytes at `data`.
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

inline uint32_t Value(ByteView data) { return Extend(0, data.data(), data.size()); }

/// True when `Extend` runs on the hardware instruction on this machine.
bool IsHardwareAccelerated();

namespace detail {

/// The table path (slicing-by-8). Works on every CPU.
uint32_t ExtendPortable(uint32_t crc, const uint8_t* data, size_t n);

/// The SSE4.2 path: three interleaved instruction streams for large inputs. Must only be
/// called when `HardwareAvailable()` is true; on other architectures it is the table path.
uint32_t ExtendHardware(uint32_t crc, const uint8_t* data, size_t n);

/// Whether this CPU supports the SSE4.2 crc32 instruction.
bool HardwareAvailable();

}  // namespace detail
}  // namespace strom::crc32c
