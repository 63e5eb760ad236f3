#include "kv/roaring64_bitmap.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

namespace strom::kv {
namespace {

// One bitmap of src/kv/testdata/rbm64_java.txt: bytes Java's Roaring64Bitmap wrote, with
// Java's cardinality and (wrapping) sum of its values.
struct JavaBitmap {
  uint64_t cardinality = 0;
  uint64_t sum = 0;
  ByteBuffer bytes;
};

ByteBuffer FromHex(const std::string& hex) {
  ByteBuffer out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// case name -> "a" / "b" / "or" -> bitmap.
std::map<std::string, std::map<std::string, JavaBitmap>> LoadGolden() {
  std::map<std::string, std::map<std::string, JavaBitmap>> cases;
  std::ifstream in(std::string(STROM_SOURCE_DIR) + "/src/kv/testdata/rbm64_java.txt");
  EXPECT_TRUE(in.good()) << "missing src/kv/testdata/rbm64_java.txt";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, hex;
    int64_t cardinality = 0, sum = 0;
    fields >> name >> cardinality >> sum >> hex;
    size_t dot = name.rfind('.');
    JavaBitmap& b = cases[name.substr(0, dot)][name.substr(dot + 1)];
    b.cardinality = static_cast<uint64_t>(cardinality);
    b.sum = static_cast<uint64_t>(sum);
    b.bytes = FromHex(hex);
  }
  return cases;
}

void ExpectMatchesJava(const std::vector<uint64_t>& values, const JavaBitmap& java,
                       const std::string& what) {
  uint64_t sum = 0;
  for (uint64_t v : values) sum += v;
  EXPECT_EQ(values.size(), java.cardinality) << what;
  EXPECT_EQ(sum, java.sum) << what;
  EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << what;
  EXPECT_EQ(std::adjacent_find(values.begin(), values.end()), values.end()) << what;
}

TEST(Roaring64BitmapTest, ReadsJavaBytesAndUnionsThemAsJavaDoes) {
  auto cases = LoadGolden();
  ASSERT_EQ(cases.size(), 12u);
  for (auto& [name, bitmaps] : cases) {
    const JavaBitmap& a = bitmaps["a"];
    const JavaBitmap& b = bitmaps["b"];
    const JavaBitmap& java_or = bitmaps["or"];
    auto va = RoaringBitmap64Values(a.bytes);
    auto vb = RoaringBitmap64Values(b.bytes);
    auto vor = RoaringBitmap64Values(java_or.bytes);
    ASSERT_TRUE(va.ok() && vb.ok() && vor.ok()) << name;
    ExpectMatchesJava(*va, a, name + ".a");
    ExpectMatchesJava(*vb, b, name + ".b");
    ExpectMatchesJava(*vor, java_or, name + ".or");

    auto merged = RoaringBitmap64Union(a.bytes, b.bytes);
    ASSERT_TRUE(merged.ok()) << name << ": " << merged.status().ToString();
    auto vmerged = RoaringBitmap64Values(*merged);
    ASSERT_TRUE(vmerged.ok()) << name;
    EXPECT_EQ(*vmerged, *vor) << name;
    // Our own bytes of Java's union read back the same, as do Java's bytes re-unioned with
    // ours (an accumulator written by Strom, an input written by Java).
    EXPECT_EQ(*RoaringBitmap64Values(RoaringBitmap64Serialize(*vor)), *vor) << name;
    auto again = RoaringBitmap64Union(*merged, a.bytes);
    ASSERT_TRUE(again.ok()) << name;
    EXPECT_EQ(*again, *merged) << name;
    // One container: Java's tree is a single leaf and its container table has one slot, so
    // the bytes are the same as Java's (container kinds included).
    if (java_or.cardinality > 0 && vor->front() >> 16 == vor->back() >> 16) {
      EXPECT_EQ(*merged, java_or.bytes) << name;
    }
  }
}

TEST(Roaring64BitmapTest, SerializesTheEmptyBitmapAsOneTag) {
  EXPECT_EQ(RoaringBitmap64Serialize({}), ByteBuffer(1, '\0'));
  EXPECT_TRUE(RoaringBitmap64Values(ByteBuffer(1, '\0'))->empty());
  // Java's {1, 2, 3}: tag, key count 1, a leaf (kind 4, no children, no prefix, key 0,
  // container 0), one first level of one slot (array of 3), then count 1, indexes (0, 0).
  const std::vector<uint64_t> small = {3, 1, 2, 2};
  EXPECT_EQ(RoaringBitmap64Serialize(small),
            FromHex("01" "0100000000000000" "04" "0000" "00" "000000000000" "0000000000000000"
                    "01000000" "fe" "01000000" "01" "02" "03000000" "010002000300"
                    "0100000000000000" "00000000" "00000000"));
}

TEST(Roaring64BitmapTest, WritesEveryNodeKindAndReadsItBack) {
  std::mt19937_64 rng(7);
  for (size_t keys : {1u, 2u, 4u, 5u, 16u, 17u, 48u, 49u, 255u, 256u, 3000u}) {
    std::set<uint64_t> values;
    // Keys that share bytes at several depths, and fully random ones.
    for (size_t i = 0; i < keys; ++i) {
      values.insert((uint64_t{i % 256} << 16) | (i * 31 % 65536));
      values.insert((uint64_t{0xAB} << 56) | (uint64_t{i} << 24) | i);
      values.insert(rng());
    }
    std::vector<uint64_t> v(values.begin(), values.end());
    auto back = RoaringBitmap64Values(RoaringBitmap64Serialize(v));
    ASSERT_TRUE(back.ok()) << keys;
    EXPECT_EQ(*back, v) << keys;
  }
  // Dense, run and array containers in one bitmap.
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < 65536; i += 2) v.push_back(i);            // bitmap
  for (uint64_t i = 0; i < 40000; ++i) v.push_back((1u << 20) + i);  // run
  v.push_back(uint64_t{1} << 50);                                    // array
  EXPECT_EQ(*RoaringBitmap64Values(RoaringBitmap64Serialize(v)), v);
}

TEST(Roaring64BitmapTest, BadBytesAreErrorsNeverCrashes) {
  auto cases = LoadGolden();
  const ByteBuffer good = cases["with_removals"]["a"].bytes;
  const ByteBuffer nodes = cases["node_kinds"]["or"].bytes;
  for (const ByteBuffer& bytes : {good, nodes}) {
    // Truncations are refused (every length in the tree, then a sample of the containers).
    for (size_t n = 0; n < bytes.size(); n += n < 512 ? 1 : 13) {
      auto r = RoaringBitmap64Values(ByteView(bytes).substr(0, n));
      EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << n;
    }
    // Trailing bytes are refused.
    EXPECT_FALSE(RoaringBitmap64Values(bytes + "x").ok());
    // Flipped bytes never crash (most are refused; a flip inside a container's values can
    // still be a valid bitmap).
    std::mt19937 rng(11);
    for (int i = 0; i < 400; ++i) {
      ByteBuffer broken = bytes;
      broken[rng() % broken.size()] ^= static_cast<char>(1 + rng() % 255);
      auto r = RoaringBitmap64Union(broken, good);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord);
      }
    }
  }
  EXPECT_FALSE(RoaringBitmap64Values("").ok());
  EXPECT_FALSE(RoaringBitmap64Values(ByteBuffer(1, '\2')).ok());
  EXPECT_FALSE(RoaringBitmap64Union("garbage", RoaringBitmap64Serialize({})).ok());
  // A leaf naming a container slot that does not exist.
  ByteBuffer small = RoaringBitmap64Serialize(std::vector<uint64_t>{1});
  small[19] = 5;  // The leaf's container index (after tag, count, header, key).
  EXPECT_EQ(RoaringBitmap64Values(small).status().code(), ErrorCode::kCorruptRecord);
}

}  // namespace
}  // namespace strom::kv
