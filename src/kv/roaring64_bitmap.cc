#include "kv/roaring64_bitmap.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

namespace strom::kv {

namespace {

// Node kinds: the ordinals of Java's org.roaringbitmap.art.NodeType.
constexpr uint8_t kNode4 = 0;
constexpr uint8_t kNode16 = 1;
constexpr uint8_t kNode48 = 2;
constexpr uint8_t kNode256 = 3;
constexpr uint8_t kLeaf = 4;
// Container kinds as Java's art.Containers numbers them.
constexpr uint8_t kRunContainer = 0;
constexpr uint8_t kBitmapContainer = 1;
constexpr uint8_t kArrayContainer = 2;
// The tree is over the high 48 bits of a value: 6 key bytes, most significant first.
constexpr int kKeyBytes = 6;
constexpr uint32_t kMaxArrayCardinality = 4096;
constexpr uint32_t kBitmapBytes = 8192;
constexpr size_t kBitmapWords = kBitmapBytes / 8;
// Java's Containers writes this before each first-level array (it never trims them).
constexpr uint8_t kNotTrimmedMark = 0xFE;

// The low 16 bits of the values under one 48-bit key: sorted, distinct, never empty once
// built. `had_run` remembers that an input held the key as a run container (it decides the
// array/run tie when writing, see ChooseKind).
struct Container {
  std::vector<uint16_t> lows;
  bool had_run = false;
};
using Bitmap = std::map<uint64_t, Container>;  // unsigned order, as the tree's byte order

uint8_t KeyByte(uint64_t key, int i) {
  return static_cast<uint8_t>(key >> (8 * (kKeyBytes - 1 - i)));
}

class Parser {
 public:
  explicit Parser(ByteView bytes) : bytes_(bytes), r_(bytes) {}

  Result<Bitmap> Parse() {
    uint8_t tag = r_.U8();
    if (!r_.ok()) return Corrupt("no bytes");
    if (tag == 0) {
      if (!r_.AtEnd()) return Corrupt("bytes after the empty tag");
      return Bitmap{};
    }
    if (tag != 1) return Corrupt("unknown tag");
    r_.I64LE();  // Key count: Java keeps it for equals(); the leaves are what counts.
    STROM_RETURN_IF_ERROR(ParseNode(0));
    STROM_ASSIGN_OR_RETURN(auto slots, ParseContainers());
    r_.I64LE();  // Container count and the last (first-level, slot) index used: only
    r_.I32LE();  // where Java would add its next container.
    r_.I32LE();
    if (!r_.ok()) return Corrupt("truncated");
    if (!r_.AtEnd()) return Corrupt("bytes after the container table");

    Bitmap out;
    for (const auto& [key, index] : leaves_) {
      const uint64_t first = index >> 32;
      const uint64_t slot = index & 0xffffffffu;
      if (first >= slots.size() || slot >= slots[first].size() || !slots[first][slot]) {
        return Corrupt("a leaf names a container that is not there");
      }
      Container& c = *slots[first][slot];
      if (c.lows.empty()) continue;
      if (!out.emplace(key, c).second) return Corrupt("a key appears twice");
    }
    return out;
  }

 private:
  Status Corrupt(std::string_view why) const {
    return MakeError(ErrorCode::kCorruptRecord,
                     "Unable to deserialize roaring bitmap: {} bytes are not a serialized "
                     "64-bit Roaring64Bitmap ({})",
                     bytes_.size(), why);
  }

  // One node and, for an inner node, its children. `level` counts the inner nodes above; a
  // key has 6 bytes and each inner node consumes at least one, so deeper trees are corrupt
  // (which also bounds the recursion).
  Status ParseNode(int level) {
    if (level > kKeyBytes) return Corrupt("tree deeper than a 48-bit key");
    const uint8_t kind = r_.U8();
    const int16_t count = r_.I16LE();
    const int8_t prefix_length = r_.I8();
    if (!r_.ok()) return Corrupt("truncated node");
    if (prefix_length < 0 || prefix_length > kKeyBytes) return Corrupt("bad prefix length");
    r_.Skip(static_cast<size_t>(prefix_length));
    int max_children = 0;
    switch (kind) {
      case kLeaf: {
        ByteView key_bytes = r_.Bytes(kKeyBytes);
        const int64_t index = r_.I64LE();
        if (!r_.ok()) return Corrupt("truncated leaf");
        uint64_t key = 0;
        for (char b : key_bytes) key = (key << 8) | static_cast<uint8_t>(b);
        leaves_.emplace_back(key, static_cast<uint64_t>(index));
        return Status::OK();
      }
      case kNode4:
        max_children = 4;
        r_.Skip(4);
        break;
      case kNode16:
        max_children = 16;
        r_.Skip(16);
        break;
      case kNode48: {
        max_children = 48;
        // 256 child slots (0xFF = none): Java places exactly `count` children by them.
        ByteView slots = r_.Bytes(256);
        int used = 0;
        for (char s : slots) used += static_cast<uint8_t>(s) != 0xFF ? 1 : 0;
        if (r_.ok() && used != count) return Corrupt("Node48 slots disagree with its count");
        break;
      }
      case kNode256: {
        max_children = 256;
        int used = 0;
        for (int i = 0; i < 4; ++i) used += std::popcount(static_cast<uint64_t>(r_.I64LE()));
        if (r_.ok() && used != count) return Corrupt("Node256 mask disagrees with its count");
        break;
      }
      default:
        return Corrupt("unknown node kind");
    }
    if (!r_.ok()) return Corrupt("truncated node");
    if (count < 1 || count > max_children) return Corrupt("bad child count");
    for (int i = 0; i < count; ++i) STROM_RETURN_IF_ERROR(ParseNode(level + 1));
    return Status::OK();
  }

  Result<std::vector<std::vector<std::optional<Container>>>> ParseContainers() {
    std::vector<std::vector<std::optional<Container>>> out;
    const int32_t first_levels = r_.I32LE();
    // Every first level takes at least 5 bytes, every slot at least 1: sizes beyond what is
    // left are corrupt (and never allocated).
    if (!r_.ok() || first_levels < 0 ||
        static_cast<size_t>(first_levels) > r_.remaining() / 5) {
      return Corrupt("bad container table size");
    }
    out.resize(static_cast<size_t>(first_levels));
    for (auto& level : out) {
      r_.U8();  // Trim mark; Java ignores it when reading.
      const int32_t slots = r_.I32LE();
      if (!r_.ok() || slots < 0 || static_cast<size_t>(slots) > r_.remaining()) {
        return Corrupt("bad container array size");
      }
      level.resize(static_cast<size_t>(slots));
      for (auto& slot : level) {
        const uint8_t mark = r_.U8();
        if (!r_.ok()) return Corrupt("truncated container table");
        if (mark == 0) continue;
        if (mark != 1) return Corrupt("bad container mark");
        STROM_ASSIGN_OR_RETURN(slot, ParseContainer());
      }
    }
    return out;
  }

  Result<Container> ParseContainer() {
    Container c;
    const uint8_t kind = r_.U8();
    const int32_t cardinality = r_.I32LE();
    if (!r_.ok()) return Corrupt("truncated container");
    switch (kind) {
      case kRunContainer: {
        c.had_run = true;
        const uint16_t runs = static_cast<uint16_t>(r_.I16LE());
        if (!r_.ok() || size_t{runs} * 4 > r_.remaining()) return Corrupt("truncated runs");
        int32_t next_free = 0;  // Runs are ascending and disjoint in every RunContainer.
        for (uint16_t i = 0; i < runs; ++i) {
          const int32_t start = static_cast<uint16_t>(r_.I16LE());
          const int32_t last = start + static_cast<uint16_t>(r_.I16LE());
          if (start < next_free || last > 0xFFFF) return Corrupt("bad run");
          for (int32_t v = start; v <= last; ++v) c.lows.push_back(static_cast<uint16_t>(v));
          next_free = last + 1;
        }
        break;
      }
      case kBitmapContainer: {
        if (r_.remaining() < kBitmapBytes) return Corrupt("truncated bitmap container");
        for (size_t w = 0; w < kBitmapWords; ++w) {
          uint64_t word = static_cast<uint64_t>(r_.I64LE());
          while (word != 0) {
            c.lows.push_back(static_cast<uint16_t>(w * 64 + std::countr_zero(word)));
            word &= word - 1;
          }
        }
        break;
      }
      case kArrayContainer: {
        if (cardinality < 0 || cardinality > 0x10000 ||
            static_cast<size_t>(cardinality) * 2 > r_.remaining()) {
          return Corrupt("bad array container cardinality");
        }
        c.lows.reserve(static_cast<size_t>(cardinality));
        for (int32_t i = 0; i < cardinality; ++i) {
          const uint16_t v = static_cast<uint16_t>(r_.I16LE());
          if (!c.lows.empty() && v <= c.lows.back()) return Corrupt("unsorted array container");
          c.lows.push_back(v);
        }
        break;
      }
      default:
        return Corrupt("unknown container kind");
    }
    return c;
  }

  ByteView bytes_;
  ByteReader r_;
  std::vector<std::pair<uint64_t, uint64_t>> leaves_;  // 48-bit key, container index
};

// A container's kind and bytes as Java's `runOptimize` leaves it; the same rule as rbm32
// (roaring_bitmap.cc): a run container when it serializes smaller, keeping an input's run on
// a tie.
struct EncodedContainer {
  uint8_t kind;
  ByteBuffer bytes;
};

EncodedContainer Encode(const Container& c) {
  std::vector<std::pair<uint16_t, uint16_t>> runs;  // start, length - 1
  for (uint16_t v : c.lows) {
    if (!runs.empty() && uint32_t{runs.back().first} + runs.back().second + 1 == v) {
      ++runs.back().second;
    } else {
      runs.emplace_back(v, 0);
    }
  }
  const uint32_t cardinality = static_cast<uint32_t>(c.lows.size());
  const uint32_t run_size = 2 + 4 * static_cast<uint32_t>(runs.size());
  const uint32_t array_size = 2 * cardinality;
  bool is_run;
  if (c.had_run) {
    is_run = run_size <= std::min(kBitmapBytes, array_size + 2);
  } else if (cardinality <= kMaxArrayCardinality) {
    is_run = run_size < array_size;
  } else {
    is_run = run_size < kBitmapBytes;
  }
  EncodedContainer out;
  ByteWriter w(&out.bytes);
  if (is_run) {
    out.kind = kRunContainer;
    w.I16LE(static_cast<int16_t>(runs.size()));
    for (const auto& [start, length] : runs) {
      w.I16LE(static_cast<int16_t>(start));
      w.I16LE(static_cast<int16_t>(length));
    }
  } else if (cardinality <= kMaxArrayCardinality) {
    out.kind = kArrayContainer;
    for (uint16_t v : c.lows) w.I16LE(static_cast<int16_t>(v));
  } else {
    out.kind = kBitmapContainer;
    std::vector<uint64_t> words(kBitmapWords, 0);
    for (uint16_t v : c.lows) words[v >> 6] |= uint64_t{1} << (v & 63);
    for (uint64_t word : words) w.I64LE(static_cast<int64_t>(word));
  }
  return out;
}

// Writes the tree Java's Art.insert builds for these sorted distinct keys: a leaf for a lone
// key, else an inner node holding the keys' common bytes from `depth` as its prefix and one
// child per distinct next byte, of the smallest kind that holds that many children. Leaf i
// points at container slot i of the single first-level array.
void WriteNode(const std::vector<uint64_t>& keys, size_t begin, size_t end, int depth,
               ByteWriter& w) {
  const uint64_t first = keys[begin];
  if (end - begin == 1) {
    w.U8(kLeaf);
    w.I16LE(0);
    w.I8(0);
    for (int i = 0; i < kKeyBytes; ++i) w.U8(KeyByte(first, i));
    w.I64LE(static_cast<int64_t>(begin));
    return;
  }
  const uint64_t last = keys[end - 1];
  int prefix = 0;
  while (KeyByte(first, depth + prefix) == KeyByte(last, depth + prefix)) ++prefix;
  const int branch = depth + prefix;
  std::vector<std::pair<uint8_t, size_t>> children;  // key byte, first key index
  for (size_t i = begin; i < end; ++i) {
    uint8_t b = KeyByte(keys[i], branch);
    if (children.empty() || children.back().first != b) children.emplace_back(b, i);
  }
  const size_t n = children.size();
  const uint8_t kind = n <= 4 ? kNode4 : n <= 16 ? kNode16 : n <= 48 ? kNode48 : kNode256;
  w.U8(kind);
  w.I16LE(static_cast<int16_t>(n));
  w.I8(static_cast<int8_t>(prefix));
  for (int i = depth; i < branch; ++i) w.U8(KeyByte(first, i));
  switch (kind) {
    case kNode4: {
      // Java packs child i's byte at bits (3 - i) * 8 of an int written little-endian.
      uint32_t packed = 0;
      for (size_t i = 0; i < n; ++i) packed |= uint32_t{children[i].first} << ((3 - i) * 8);
      w.U32LE(packed);
      break;
    }
    case kNode16: {
      // Two longs, child i's byte at bits (7 - i % 8) * 8 of long i / 8.
      uint64_t packed[2] = {0, 0};
      for (size_t i = 0; i < n; ++i) {
        packed[i / 8] |= uint64_t{children[i].first} << ((7 - i % 8) * 8);
      }
      w.I64LE(static_cast<int64_t>(packed[0]));
      w.I64LE(static_cast<int64_t>(packed[1]));
      break;
    }
    case kNode48: {
      // 32 longs; the slot of key byte b at bits (7 - b % 8) * 8 of long b / 8; 0xFF = none.
      uint64_t slots[32];
      std::fill(std::begin(slots), std::end(slots), ~uint64_t{0});
      for (size_t i = 0; i < n; ++i) {
        const uint8_t b = children[i].first;
        const int shift = (7 - b % 8) * 8;
        slots[b / 8] = (slots[b / 8] & ~(uint64_t{0xFF} << shift)) | (uint64_t{i} << shift);
      }
      for (uint64_t s : slots) w.I64LE(static_cast<int64_t>(s));
      break;
    }
    default: {
      // Node256: a 256-bit mask, bit b % 64 of long b / 64.
      uint64_t mask[4] = {0, 0, 0, 0};
      for (const auto& child : children) mask[child.first / 64] |= uint64_t{1} << (child.first % 64);
      for (uint64_t m : mask) w.I64LE(static_cast<int64_t>(m));
      break;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t child_end = i + 1 < n ? children[i + 1].second : end;
    WriteNode(keys, children[i].second, child_end, branch + 1, w);
  }
}

ByteBuffer Serialize(const Bitmap& bitmap) {
  std::vector<uint64_t> keys;
  std::vector<const Container*> containers;
  for (const auto& [key, c] : bitmap) {
    if (c.lows.empty()) continue;
    keys.push_back(key);
    containers.push_back(&c);
  }
  ByteBuffer out;
  ByteWriter w(&out);
  if (keys.empty()) {
    w.U8(0);
    return out;
  }
  const size_t n = keys.size();
  w.U8(1);
  w.I64LE(static_cast<int64_t>(n));
  WriteNode(keys, 0, n, 0, w);
  w.I32LE(1);
  w.U8(kNotTrimmedMark);
  w.I32LE(static_cast<int32_t>(n));
  for (const Container* c : containers) {
    EncodedContainer e = Encode(*c);
    w.U8(1);
    w.U8(e.kind);
    w.I32LE(static_cast<int32_t>(c->lows.size()));
    w.Bytes(e.bytes);
  }
  w.I64LE(static_cast<int64_t>(n));
  w.I32LE(0);
  w.I32LE(static_cast<int32_t>(n - 1));
  return out;
}

}  // namespace

Result<ByteBuffer> RoaringBitmap64Union(ByteView accumulator, ByteView input) {
  STROM_ASSIGN_OR_RETURN(Bitmap acc, Parser(accumulator).Parse());
  STROM_ASSIGN_OR_RETURN(Bitmap in, Parser(input).Parse());
  for (auto& [key, c] : in) {
    auto [it, inserted] = acc.try_emplace(key, std::move(c));
    if (inserted) continue;
    Container& mine = it->second;
    std::vector<uint16_t> merged;
    merged.reserve(mine.lows.size() + c.lows.size());
    std::set_union(mine.lows.begin(), mine.lows.end(), c.lows.begin(), c.lows.end(),
                   std::back_inserter(merged));
    mine.lows = std::move(merged);
    mine.had_run = mine.had_run || c.had_run;
  }
  return Serialize(acc);
}

ByteBuffer RoaringBitmap64Serialize(std::span<const uint64_t> values) {
  std::vector<uint64_t> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  Bitmap bitmap;
  for (uint64_t v : sorted) bitmap[v >> 16].lows.push_back(static_cast<uint16_t>(v));
  return Serialize(bitmap);
}

Result<std::vector<uint64_t>> RoaringBitmap64Values(ByteView serialized) {
  STROM_ASSIGN_OR_RETURN(Bitmap bitmap, Parser(serialized).Parse());
  std::vector<uint64_t> out;
  for (const auto& [key, c] : bitmap) {
    for (uint16_t low : c.lows) out.push_back((key << 16) | low);
  }
  return out;
}

}  // namespace strom::kv
