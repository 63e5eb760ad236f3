#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace strom {

/// Owned bytes. std::string is used as a byte buffer (as LevelDB does) because protobuf
/// `bytes` fields are std::string too, so payloads move into messages without a copy.
using ByteBuffer = std::string;
/// A borrowed byte range.
using ByteView = std::string_view;

/// Reads fixed-width integers and varints from a borrowed range, never past its end.
///
/// Errors are sticky: a read past the end returns zero and marks the reader failed, so a
/// decoder can read a whole structure and check `ok()` once. Nothing here throws or aborts.
class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  bool ok() const { return !failed_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return failed_ ? 0 : data_.size() - pos_; }
  bool AtEnd() const { return remaining() == 0; }
  ByteView data() const { return data_; }

  /// Marks the reader failed (for decoders that find a bad value).
  void Fail() { failed_ = true; }

  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(data_[pos_++]);
  }
  int8_t I8() { return static_cast<int8_t>(U8()); }
  int16_t I16LE() { return static_cast<int16_t>(FixedLE<uint16_t>()); }
  int32_t I32LE() { return static_cast<int32_t>(FixedLE<uint32_t>()); }
  uint32_t U32LE() { return FixedLE<uint32_t>(); }
  int64_t I64LE() { return static_cast<int64_t>(FixedLE<uint64_t>()); }
  int16_t I16BE() { return static_cast<int16_t>(__builtin_bswap16(FixedLE<uint16_t>())); }
  int32_t I32BE() { return static_cast<int32_t>(__builtin_bswap32(FixedLE<uint32_t>())); }
  int64_t I64BE() { return static_cast<int64_t>(__builtin_bswap64(FixedLE<uint64_t>())); }
  float F32LE() {
    uint32_t bits = FixedLE<uint32_t>();
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  double F64LE() {
    uint64_t bits = FixedLE<uint64_t>();
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }

  /// Unsigned LEB128 of at most 5 bytes (the 32-bit pattern; no zig-zag).
  uint32_t Varint32();
  /// Unsigned LEB128 of at most 10 bytes (the 64-bit pattern; no zig-zag).
  uint64_t Varint64();

  /// Borrows the next `n` bytes.
  ByteView Bytes(size_t n) {
    if (!Need(n)) return {};
    ByteView out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  void Skip(size_t n) {
    if (Need(n)) pos_ += n;
  }

 private:
  bool Need(size_t n) {
    if (failed_ || data_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  template <typename U>
  U FixedLE() {
    if (!Need(sizeof(U))) return 0;
    U v;
    std::memcpy(&v, data_.data() + pos_, sizeof(U));
    pos_ += sizeof(U);
    return v;  // x86-64 and aarch64 (the supported hosts) are little-endian.
  }

  ByteView data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

/// Appends fixed-width integers and varints to a ByteBuffer it does not own.
class ByteWriter {
 public:
  explicit ByteWriter(ByteBuffer* out) : out_(out) {}

  size_t size() const { return out_->size(); }
  ByteBuffer* buffer() { return out_; }

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void I8(int8_t v) { U8(static_cast<uint8_t>(v)); }
  void I16LE(int16_t v) { FixedLE(static_cast<uint16_t>(v)); }
  void I32LE(int32_t v) { FixedLE(static_cast<uint32_t>(v)); }
  void U32LE(uint32_t v) { FixedLE(v); }
  void I64LE(int64_t v) { FixedLE(static_cast<uint64_t>(v)); }
  void I32BE(int32_t v) { FixedLE(__builtin_bswap32(static_cast<uint32_t>(v))); }
  void I16BE(int16_t v) { FixedLE(__builtin_bswap16(static_cast<uint16_t>(v))); }
  void I64BE(int64_t v) { FixedLE(__builtin_bswap64(static_cast<uint64_t>(v))); }
  void F32LE(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    FixedLE(bits);
  }
  void F64LE(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    FixedLE(bits);
  }
  void Varint32(uint32_t v);
  void Varint64(uint64_t v);
  void Bytes(ByteView v) { out_->append(v.data(), v.size()); }
  void Zeros(size_t n) { out_->append(n, '\0'); }

  /// Overwrites 4 bytes at `pos` (which must already be written).
  void PatchI32LE(size_t pos, int32_t v) {
    uint32_t u = static_cast<uint32_t>(v);
    std::memcpy(out_->data() + pos, &u, 4);
  }

 private:
  template <typename U>
  void FixedLE(U v) {
    char buf[sizeof(U)];
    std::memcpy(buf, &v, sizeof(U));
    out_->append(buf, sizeof(U));
  }

  ByteBuffer* out_;
};

/// Number of bytes the unsigned LEB128 encoding of `v` takes.
int VarintSize32(uint32_t v);
int VarintSize64(uint64_t v);

/// Little-endian loads and stores on raw memory (for in-place header patches).
inline int32_t LoadI32LE(const char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline int64_t LoadI64LE(const char* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void StoreI32LE(char* p, int32_t v) { std::memcpy(p, &v, 4); }
inline void StoreI64LE(char* p, int64_t v) { std::memcpy(p, &v, 8); }

/// Lowercase hex of the bytes, and its inverse (returns false on bad input).
std::string ToHex(ByteView bytes);
bool FromHex(std::string_view hex, ByteBuffer* out);

}  // namespace strom
