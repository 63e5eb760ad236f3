#include "common/bytes.h"

namespace strom {

uint32_t ByteReader::Varint32() {
  uint32_t result = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b = U8();
    if (!ok()) return 0;
    result |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return result;
  }
  Fail();  // More than 5 bytes: not a 32-bit varint.
  return 0;
}

uint64_t ByteReader::Varint64() {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = U8();
    if (!ok()) return 0;
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return result;
  }
  Fail();  // More than 10 bytes: not a 64-bit varint.
  return 0;
}

void ByteWriter::Varint32(uint32_t v) {
  while (v >= 0x80) {
    U8(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  U8(static_cast<uint8_t>(v));
}

void ByteWriter::Varint64(uint64_t v) {
  while (v >= 0x80) {
    U8(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  U8(static_cast<uint8_t>(v));
}

int VarintSize32(uint32_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

int VarintSize64(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::string ToHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool FromHex(std::string_view hex, ByteBuffer* out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string compact;
  compact.reserve(hex.size());
  for (char c : hex) {
    if (c != ' ' && c != '\n' && c != '\t') compact.push_back(c);
  }
  if (compact.size() % 2 != 0) return false;
  out->clear();
  out->reserve(compact.size() / 2);
  for (size_t i = 0; i < compact.size(); i += 2) {
    int hi = nibble(compact[i]);
    int lo = nibble(compact[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

}  // namespace strom
