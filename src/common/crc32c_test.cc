#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "testutil/golden.h"
#include "testutil/seed.h"

namespace strom::crc32c {
namespace {

uint32_t Portable(ByteView s) {
  return detail::ExtendPortable(0, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

uint32_t Hardware(ByteView s) {
  return detail::ExtendHardware(0, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Bit-at-a-time reference, independent of both table layouts.
uint32_t Reference(ByteView s) {
  uint32_t reg = 0xFFFFFFFF;
  for (unsigned char c : s) {
    reg ^= c;
    for (int i = 0; i < 8; ++i) reg = (reg >> 1) ^ ((reg & 1) ? 0x82F63B78u : 0u);
  }
  return ~reg;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

TEST(Crc32cTest, GoldenVectorsAllPaths) {
  nlohmann::json golden = testutil::LoadGolden("crc32c.json");
  ASSERT_FALSE(golden.is_null());
  ASSERT_GE(golden["entries"].size(), 14u);
  for (const auto& e : golden["entries"]) {
    SCOPED_TRACE(e["description"].get<std::string>());
    ByteBuffer input = testutil::Hex(e["input_hex"].get<std::string>());
    uint32_t want = e["crc32c"].get<uint32_t>();
    EXPECT_EQ(Value(input), want);
    EXPECT_EQ(Portable(input), want);
    EXPECT_EQ(Reference(input), want);
    if (detail::HardwareAvailable()) {
      EXPECT_EQ(Hardware(input), want);
    }
  }
}

TEST(Crc32cTest, FlussCrc32cTestValues) {
  // fluss-formats §8.4 (Fluss Crc32CTest).
  EXPECT_EQ(Value(ByteView("Some String")), 608512271u);
  EXPECT_EQ(Value(ByteView("hello")), 2591144780u);
  EXPECT_EQ(Value(ByteView("fluss")), 2355313305u);
  EXPECT_EQ(Extend(Value(ByteView("hello")), ByteView("world")), 1456190592u);
  EXPECT_EQ(Value(ByteView("checksum")), 2474969539u);
  EXPECT_EQ(Value(ByteView("123456789")), 0xE3069283u);
  EXPECT_EQ(Value(ByteView()), 0u);
}

TEST(Crc32cTest, ExtendChainsAtEverySplit) {
  std::mt19937_64 rng(testutil::TestSeed());
  std::string data = RandomBytes(rng, 1000);
  uint32_t whole = Value(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    ByteView v(data);
    ASSERT_EQ(Extend(Value(v.substr(0, split)), v.substr(split)), whole) << "split " << split;
    ASSERT_EQ(detail::ExtendPortable(Portable(v.substr(0, split)),
                                     reinterpret_cast<const uint8_t*>(data.data()) + split,
                                     data.size() - split),
              whole);
  }
}

// Runs both paths over every length 0..300 at every start alignment 0..15, against the
// bit-level reference, with random contents and a random starting CRC.
TEST(Crc32cTest, PathsAgreeForSmallLengthsAndAlignments) {
  std::mt19937_64 rng(testutil::TestSeed());
  bool hw = detail::HardwareAvailable();
  std::string buffer = RandomBytes(rng, 300 + 16);
  for (size_t align = 0; align < 16; ++align) {
    for (size_t len = 0; len <= 300; ++len) {
      ByteView v = ByteView(buffer).substr(align, len);
      const auto* p = reinterpret_cast<const uint8_t*>(v.data());
      uint32_t init = static_cast<uint32_t>(rng());
      uint32_t want = Reference(v);
      ASSERT_EQ(Portable(v), want) << "align " << align << " len " << len;
      // The prefix CRC `init` stands for some earlier message; both paths must extend it alike.
      uint32_t port = detail::ExtendPortable(init, p, len);
      if (hw) {
        ASSERT_EQ(Hardware(v), want) << "align " << align << " len " << len;
        ASSERT_EQ(detail::ExtendHardware(init, p, len), port) << "align " << align;
      }
    }
  }
}

// Lengths around the three-stream block boundaries (3 x 256 and 3 x 8192) and well past them,
// at random alignments.
TEST(Crc32cTest, PathsAgreeOnLargeBuffers) {
  std::mt19937_64 rng(testutil::TestSeed());
  std::string buffer = RandomBytes(rng, (3 << 20) + 64);
  std::vector<size_t> lengths = {767,          768,      769,          1000,
                                 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 3 * 256 + 7,
                                 65536,        1 << 20,  (3 << 20) + 1};
  for (int i = 0; i < 20; ++i) lengths.push_back(rng() % (1 << 20));
  for (size_t len : lengths) {
    size_t align = rng() % 64;
    if (align + len > buffer.size()) align = buffer.size() - len;
    ByteView v = ByteView(buffer).substr(align, len);
    uint32_t want = Portable(v);
    if (len <= 100000) {
      ASSERT_EQ(Reference(v), want) << "len " << len;
    }
    ASSERT_EQ(Value(v), want) << "len " << len;
    if (detail::HardwareAvailable()) {
      ASSERT_EQ(Hardware(v), want) << "len " << len << " align " << align;
    }
  }
}

TEST(Crc32cTest, AllZerosAndAllOnes) {
  // Zero-heavy input exercises the merge tables (a zero stream must contribute nothing).
  std::string zeros(3 * 8192 * 2 + 5, '\0');
  std::string ones(3 * 8192 * 2 + 5, '\xff');
  EXPECT_EQ(Value(zeros), Portable(zeros));
  EXPECT_EQ(Value(ones), Portable(ones));
  EXPECT_EQ(Portable(ByteView(zeros).substr(0, 32)), 0x8A9136AAu);
  EXPECT_EQ(Portable(ByteView(ones).substr(0, 32)), 0x62A8AB43u);
}

TEST(Crc32cTest, DispatchMatchesCpu) {
  EXPECT_EQ(IsHardwareAccelerated(), detail::HardwareAvailable());
#if defined(__x86_64__)
  // Every x86-64 host this project targets has SSE4.2; make a silent fallback visible.
  EXPECT_TRUE(IsHardwareAccelerated());
#endif
}

}  // namespace
}  // namespace strom::crc32c
