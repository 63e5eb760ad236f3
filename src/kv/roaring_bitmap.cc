#include "kv/roaring_bitmap.h"

#include <roaring/roaring.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

namespace strom::kv {

namespace {

// Portable format constants (RoaringFormatSpec).
constexpr uint32_t kCookieNoRuns = 12346;
constexpr uint32_t kCookieWithRuns = 12347;
constexpr size_t kNoOffsetThreshold = 4;
constexpr uint32_t kMaxArrayCardinality = 4096;
constexpr uint32_t kBitmapBytes = 8192;

struct BitmapDeleter {
  void operator()(roaring_bitmap_t* b) const { roaring_bitmap_free(b); }
};
using BitmapPtr = std::unique_ptr<roaring_bitmap_t, BitmapDeleter>;

Status NotABitmap(size_t size) {
  return MakeError(ErrorCode::kCorruptRecord,
                   "Unable to deserialize roaring bitmap: {} bytes are not a portable 32-bit "
                   "RoaringBitmap",
                   size);
}

Result<BitmapPtr> Deserialize(ByteView bytes) {
  // The safe variant never reads past `maxbytes` and returns null on malformed input.
  roaring_bitmap_t* b = roaring_bitmap_portable_deserialize_safe(bytes.data(), bytes.size());
  if (b == nullptr) return NotABitmap(bytes.size());
  return BitmapPtr(b);
}

// The keys (high 16 bits) whose container is a run container in a serialized bitmap.
Result<std::set<uint16_t>> RunContainerKeys(ByteView bytes) {
  ByteReader r(bytes);
  uint32_t cookie = r.U32LE();
  std::set<uint16_t> keys;
  if ((cookie & 0xffff) != kCookieWithRuns) {
    if (!r.ok() || cookie != kCookieNoRuns) return NotABitmap(bytes.size());
    return keys;
  }
  uint32_t n = (cookie >> 16) + 1;
  ByteView run_bits = r.Bytes((n + 7) / 8);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    uint16_t key = static_cast<uint16_t>(r.I16LE());
    r.I16LE();  // cardinality - 1
    if ((static_cast<uint8_t>(run_bits[i / 8]) >> (i % 8)) & 1) keys.insert(key);
  }
  if (!r.ok()) return NotABitmap(bytes.size());
  return keys;
}

// Writes a bitmap in the portable format, choosing each container's kind as Java's
// RoaringBitmap 1.3 `or` followed by `runOptimize` would (see src/kv/README.md): a run
// container when it serializes smaller than the array or bitmap, where Java keeps an array
// on a tie unless one of the inputs held a run container for the key (its `or` favours
// runs on a tie).
class PortableWriter {
 public:
  explicit PortableWriter(const std::set<uint16_t>* run_inputs) : run_inputs_(run_inputs) {}

  static bool Visit(uint32_t value, void* self) {
    static_cast<PortableWriter*>(self)->Add(value);
    return true;
  }

  void Add(uint32_t value) {
    uint16_t key = static_cast<uint16_t>(value >> 16);
    if (!lows_.empty() && key != current_key_) FinishContainer();
    current_key_ = key;
    lows_.push_back(static_cast<uint16_t>(value));
  }

  ByteBuffer Finish() {
    if (!lows_.empty()) FinishContainer();
    bool has_runs = false;
    for (const auto& c : containers_) has_runs |= c.is_run;
    const size_t n = containers_.size();
    ByteBuffer out;
    ByteWriter w(&out);
    if (has_runs) {
      w.U32LE(kCookieWithRuns | (static_cast<uint32_t>(n - 1) << 16));
      ByteBuffer bits((n + 7) / 8, '\0');
      for (size_t i = 0; i < n; ++i) {
        if (containers_[i].is_run) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
      }
      w.Bytes(bits);
    } else {
      w.U32LE(kCookieNoRuns);
      w.U32LE(static_cast<uint32_t>(n));
    }
    for (const auto& c : containers_) {
      w.I16LE(static_cast<int16_t>(c.key));
      w.I16LE(static_cast<int16_t>(c.cardinality - 1));
    }
    if (!has_runs || n >= kNoOffsetThreshold) {
      uint32_t offset = static_cast<uint32_t>(out.size() + 4 * n);
      for (const auto& c : containers_) {
        w.U32LE(offset);
        offset += static_cast<uint32_t>(c.bytes.size());
      }
    }
    for (const auto& c : containers_) w.Bytes(c.bytes);
    return out;
  }

 private:
  struct Container {
    uint16_t key;
    uint32_t cardinality;
    bool is_run;
    ByteBuffer bytes;
  };

  void FinishContainer() {
    Container c{current_key_, static_cast<uint32_t>(lows_.size()), false, {}};
    std::vector<std::pair<uint16_t, uint16_t>> runs;  // start, length - 1
    for (uint16_t v : lows_) {
      if (!runs.empty() && static_cast<uint32_t>(runs.back().first) + runs.back().second + 1 == v) {
        ++runs.back().second;
      } else {
        runs.emplace_back(v, 0);
      }
    }
    const uint32_t run_size = 2 + 4 * static_cast<uint32_t>(runs.size());
    const uint32_t array_size = 2 * c.cardinality;
    bool had_run = run_inputs_ != nullptr && run_inputs_->count(current_key_) > 0;
    if (had_run) {
      // RunContainer.toEfficientContainer: keep the run while it is no larger.
      c.is_run = run_size <= std::min(kBitmapBytes, array_size + 2);
    } else if (c.cardinality <= kMaxArrayCardinality) {
      c.is_run = run_size < array_size;  // ArrayContainer.runOptimize
    } else {
      c.is_run = run_size < kBitmapBytes;  // BitmapContainer.runOptimize
    }
    ByteWriter w(&c.bytes);
    if (c.is_run) {
      w.I16LE(static_cast<int16_t>(runs.size()));
      for (const auto& [start, length] : runs) {
        w.I16LE(static_cast<int16_t>(start));
        w.I16LE(static_cast<int16_t>(length));
      }
    } else if (c.cardinality <= kMaxArrayCardinality) {
      for (uint16_t v : lows_) w.I16LE(static_cast<int16_t>(v));
    } else {
      std::vector<uint64_t> words(kBitmapBytes / 8, 0);
      for (uint16_t v : lows_) words[v >> 6] |= uint64_t{1} << (v & 63);
      for (uint64_t word : words) w.I64LE(static_cast<int64_t>(word));
    }
    containers_.push_back(std::move(c));
    lows_.clear();
  }

  const std::set<uint16_t>* run_inputs_;
  uint16_t current_key_ = 0;
  std::vector<uint16_t> lows_;
  std::vector<Container> containers_;
};

ByteBuffer Serialize(const roaring_bitmap_t* b, const std::set<uint16_t>* run_inputs) {
  PortableWriter writer(run_inputs);
  roaring_iterate(b, &PortableWriter::Visit, &writer);
  return writer.Finish();
}

}  // namespace

Result<ByteBuffer> RoaringBitmap32Union(ByteView accumulator, ByteView input) {
  STROM_ASSIGN_OR_RETURN(BitmapPtr acc, Deserialize(accumulator));
  STROM_ASSIGN_OR_RETURN(BitmapPtr in, Deserialize(input));
  STROM_ASSIGN_OR_RETURN(std::set<uint16_t> run_keys, RunContainerKeys(accumulator));
  STROM_ASSIGN_OR_RETURN(std::set<uint16_t> input_run_keys, RunContainerKeys(input));
  run_keys.insert(input_run_keys.begin(), input_run_keys.end());
  roaring_bitmap_or_inplace(acc.get(), in.get());
  return Serialize(acc.get(), &run_keys);
}

ByteBuffer RoaringBitmap32Serialize(std::span<const uint32_t> values) {
  BitmapPtr b(roaring_bitmap_of_ptr(values.size(), values.data()));
  return Serialize(b.get(), nullptr);
}

Result<std::vector<uint32_t>> RoaringBitmap32Values(ByteView serialized) {
  STROM_ASSIGN_OR_RETURN(BitmapPtr b, Deserialize(serialized));
  std::vector<uint32_t> out(roaring_bitmap_get_cardinality(b.get()));
  roaring_bitmap_to_uint32_array(b.get(), out.data());
  return out;
}

}  // namespace strom::kv
