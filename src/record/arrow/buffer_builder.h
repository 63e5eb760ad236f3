#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "common/bytes.h"

namespace strom::record::arrow {

/// A growable byte buffer for column builders: appends without zero-filling, amortised
/// doubling growth, and Clear() keeps the capacity so a reused writer stops allocating.
///
/// Owns its memory (malloc/realloc). Move-only. Not thread-safe.
class BufferBuilder {
 public:
  BufferBuilder() = default;
  ~BufferBuilder() { std::free(data_); }
  BufferBuilder(BufferBuilder&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  BufferBuilder& operator=(BufferBuilder&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    return *this;
  }
  BufferBuilder(const BufferBuilder&) = delete;
  BufferBuilder& operator=(const BufferBuilder&) = delete;

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  ByteView view() const { return ByteView(data_, size_); }

  /// Makes room for `additional` more bytes.
  void Reserve(size_t additional) {
    if (__builtin_expect(size_ + additional > capacity_, 0)) Grow(size_ + additional);
  }

  /// Appends a trivially copyable value; the caller has reserved room for it.
  template <typename T>
  void UnsafeAppend(T value) {
    std::memcpy(data_ + size_, &value, sizeof(T));
    size_ += sizeof(T);
  }
  template <typename T>
  void Append(T value) {
    Reserve(sizeof(T));
    UnsafeAppend(value);
  }
  void AppendBytes(const void* bytes, size_t n) {
    if (n == 0) return;
    Reserve(n);
    std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }
  void AppendZeros(size_t n) {
    Reserve(n);
    if (n != 0) std::memset(data_ + size_, 0, n);
    size_ += n;
  }

  /// Loads the T stored at byte offset `pos`.
  template <typename T>
  T Load(size_t pos) const {
    T v;
    std::memcpy(&v, data_ + pos, sizeof(T));
    return v;
  }

  /// Drops bytes past `size` (size <= size()).
  void Truncate(size_t size) { size_ = size; }
  void Clear() { size_ = 0; }

 private:
  void Grow(size_t min_capacity) {
    size_t capacity = capacity_ < 64 ? 64 : capacity_;
    while (capacity < min_capacity) capacity *= 2;
    void* p = std::realloc(data_, capacity);
    if (p == nullptr) throw std::bad_alloc();  // allocation failure terminates (STYLE §3.5)
    data_ = static_cast<char*>(p);
    capacity_ = capacity;
  }

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

/// An LSB-first bitmap under construction (Arrow validity and boolean buffers), counting the
/// zero bits it holds.
///
/// Bits past length() in the last byte are always zero. Not thread-safe.
class BitmapBuilder {
 public:
  int64_t length() const { return length_; }
  int64_t zero_count() const { return zero_count_; }
  /// Bytes that hold length() bits.
  size_t byte_size() const { return static_cast<size_t>((length_ + 7) / 8); }
  const char* data() const { return bytes_.data(); }
  ByteView view() const { return ByteView(bytes_.data(), byte_size()); }

  void Append(bool bit) {
    if ((length_ & 7) == 0) bytes_.Append<uint8_t>(0);
    if (bit) {
      bytes_.data()[length_ >> 3] |= static_cast<char>(1u << (length_ & 7));
    } else {
      ++zero_count_;
    }
    ++length_;
  }

  /// Appends `n` one bits.
  void AppendOnes(int64_t n) {
    for (int64_t i = 0; i < n; ++i) Append(true);
  }

  bool Get(int64_t i) const { return (static_cast<uint8_t>(bytes_.data()[i >> 3]) >> (i & 7)) & 1; }

  /// Drops bits past `length` (length <= length()).
  void Truncate(int64_t length) {
    for (int64_t i = length; i < length_; ++i) {
      if (!Get(i)) --zero_count_;
    }
    length_ = length;
    bytes_.Truncate(byte_size());
    if ((length_ & 7) != 0) {
      bytes_.data()[length_ >> 3] &= static_cast<char>((1u << (length_ & 7)) - 1);
    }
  }

  void Clear() {
    bytes_.Clear();
    length_ = 0;
    zero_count_ = 0;
  }

 private:
  BufferBuilder bytes_;
  int64_t length_ = 0;
  int64_t zero_count_ = 0;
};

}  // namespace strom::record::arrow
