#pragma once

// Protobuf wire format read from bytes the reader does not own, for the hand-written parsers
// that leave large `bytes` fields where they lie (ProduceLog requests, FetchLog responses).
// Written by hand: the generated parsers copy every bytes field out of the buffer.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace strom::proto::wire {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

/// A cursor over `Bytes` (`std::string_view` or `std::span<char>`; length-delimited fields
/// come back as the same type, aliasing the input). Every method returns false on malformed
/// input (a truncated varint or field, a bad wire type) and never reads out of bounds.
template <typename Bytes>
class WireReader {
 public:
  explicit WireReader(Bytes bytes) : bytes_(bytes) {}

  bool done() const { return pos_ == bytes_.size(); }

  bool Varint(uint64_t* value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == bytes_.size()) return false;
      const auto byte = static_cast<uint8_t>(bytes_[pos_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }

  /// A tag as protobuf reads one: at most 5 bytes, the value taken modulo 2^32; field 0 is
  /// malformed.
  bool Tag(uint32_t* field, uint32_t* wire_type) {
    uint32_t tag = 0;
    for (int i = 0; i < 5; ++i) {
      if (pos_ == bytes_.size()) return false;
      const auto byte = static_cast<uint8_t>(bytes_[pos_++]);
      tag |= static_cast<uint32_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        *field = tag >> 3;
        *wire_type = tag & 7;
        return *field != 0;
      }
    }
    return false;
  }

  bool LengthDelimited(Bytes* out) {
    uint64_t length = 0;
    if (!Varint(&length) || length > bytes_.size() - pos_) return false;
    *out = Bytes(bytes_.data() + pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return true;
  }

  bool Skip(size_t n) {
    if (n > bytes_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  /// Skips the value of a field of `wire_type` whose tag was just read (`field` names the
  /// group a start-group tag opens).
  bool SkipField(uint32_t field, uint32_t wire_type, int depth = 0) {
    uint64_t ignored = 0;
    Bytes ignored_bytes;
    switch (wire_type) {
      case kVarint: return Varint(&ignored);
      case kFixed64: return Skip(8);
      case kLengthDelimited: return LengthDelimited(&ignored_bytes);
      case kFixed32: return Skip(4);
      case kStartGroup: {
        if (depth >= 100) return false;  // protobuf's default recursion limit
        for (;;) {
          uint32_t inner = 0;
          uint32_t inner_type = 0;
          if (!Tag(&inner, &inner_type)) return false;
          if (inner_type == kEndGroup) return inner == field;
          if (!SkipField(inner, inner_type, depth + 1)) return false;
        }
      }
      default: return false;  // an end-group tag outside its group, or wire types 6 and 7
    }
  }

 private:
  Bytes bytes_;
  size_t pos_ = 0;
};

}  // namespace strom::proto::wire
