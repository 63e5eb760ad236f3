#include "log/offset_index.h"

#include <gtest/gtest.h>

#include "log/fs/posix_file_system.h"
#include "log/log_test_util.h"
#include "log/time_index.h"

namespace strom::log {
namespace {

using testing::TempDir;

ByteBuffer FileBytes(const std::string& path) {
  auto bytes = PosixFileSystem::Default()->ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : ByteBuffer();
}

TEST(OffsetIndexTest, PreallocatesAndWritesBigEndianEntries) {
  TempDir dir;
  std::string path = dir.Sub("00000000000000000100.index");
  auto index = OffsetIndex::Open(PosixFileSystem::Default(), path, LogOffset(100), 100);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  OffsetIndex& idx = **index;
  // 100 bytes round down to 12 entries of 8 bytes.
  EXPECT_EQ(*PosixFileSystem::Default()->FileSize(path), 96u);
  EXPECT_EQ(idx.max_entries(), 12u);
  EXPECT_EQ(idx.entries(), 0u);
  ASSERT_TRUE(idx.Append(LogOffset(105), 100).ok());
  ASSERT_TRUE(idx.Append(LogOffset(100 + 0x01020304), 0x0a0b0c0d).ok());
  ASSERT_TRUE(idx.TrimToValidSize().ok());
  EXPECT_EQ(ToHex(FileBytes(path)),
            "0000000500000064"
            "010203040a0b0c0d");
}

TEST(OffsetIndexTest, LookupFindsLargestLowerBound) {
  TempDir dir;
  auto index =
      OffsetIndex::Open(PosixFileSystem::Default(), dir.Sub("x.index"), LogOffset(50), 1024);
  ASSERT_TRUE(index.ok());
  OffsetIndex& idx = **index;
  EXPECT_EQ(idx.Lookup(LogOffset(70)), (OffsetPosition{LogOffset(50), 0}));
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(idx.Append(LogOffset(50 + i * 10), i * 1000).ok());
  EXPECT_EQ(idx.Lookup(LogOffset(50)), (OffsetPosition{LogOffset(50), 0}));
  EXPECT_EQ(idx.Lookup(LogOffset(59)), (OffsetPosition{LogOffset(50), 0}));
  EXPECT_EQ(idx.Lookup(LogOffset(60)), (OffsetPosition{LogOffset(60), 1000}));
  EXPECT_EQ(idx.Lookup(LogOffset(61)), (OffsetPosition{LogOffset(60), 1000}));
  EXPECT_EQ(idx.Lookup(LogOffset(155)), (OffsetPosition{LogOffset(150), 10000}));
  EXPECT_EQ(idx.Lookup(LogOffset(250)), (OffsetPosition{LogOffset(250), 20000}));
  EXPECT_EQ(idx.Lookup(LogOffset(99999)), (OffsetPosition{LogOffset(250), 20000}));
  EXPECT_EQ(idx.last_offset(), LogOffset(250));
}

TEST(OffsetIndexTest, RejectsBadAppendsAndFillsUp) {
  TempDir dir;
  auto index = OffsetIndex::Open(PosixFileSystem::Default(), dir.Sub("x.index"), LogOffset(0), 24);
  ASSERT_TRUE(index.ok());
  OffsetIndex& idx = **index;
  ASSERT_TRUE(idx.Append(LogOffset(5), 10).ok());
  EXPECT_FALSE(idx.Append(LogOffset(5), 20).ok());                 // not increasing
  EXPECT_FALSE(idx.Append(LogOffset(int64_t{1} << 32), 20).ok());  // relative overflow
  EXPECT_FALSE(idx.CanAppendOffset(LogOffset(int64_t{1} << 32)));
  ASSERT_TRUE(idx.Append(LogOffset(6), 20).ok());
  EXPECT_FALSE(idx.IsFull());
  ASSERT_TRUE(idx.Append(LogOffset(7), 30).ok());
  EXPECT_TRUE(idx.IsFull());
  EXPECT_FALSE(idx.Append(LogOffset(8), 40).ok());
}

TEST(OffsetIndexTest, TruncateAndReopen) {
  TempDir dir;
  std::string path = dir.Sub("x.index");
  {
    auto index = OffsetIndex::Open(PosixFileSystem::Default(), path, LogOffset(0), 1024);
    ASSERT_TRUE(index.ok());
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE((*index)->Append(LogOffset(i * 10), i * 100).ok());
    (*index)->TruncateTo(LogOffset(30));  // drops 30, 40, 50
    EXPECT_EQ((*index)->entries(), 2u);
    (*index)->TruncateTo(LogOffset(25));  // no entry at or above 25 besides none: keeps 10, 20
    EXPECT_EQ((*index)->entries(), 2u);
    ASSERT_TRUE((*index)->Append(LogOffset(35), 350).ok());
    ASSERT_TRUE((*index)->Close().ok());  // trims
  }
  EXPECT_EQ(*PosixFileSystem::Default()->FileSize(path), 24u);
  auto index = OffsetIndex::Open(PosixFileSystem::Default(), path, LogOffset(0), 1024);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->entries(), 3u);
  EXPECT_EQ((*index)->Entry(2), (OffsetPosition{LogOffset(35), 350}));
  EXPECT_TRUE((*index)->SanityCheck(1000).ok());
  EXPECT_FALSE((*index)->SanityCheck(300).ok());  // position 350 is past a 300-byte log
  ASSERT_TRUE((*index)->Reset().ok());
  EXPECT_EQ((*index)->entries(), 0u);
  EXPECT_EQ((*index)->max_entries(), 128u);
}

TEST(OffsetIndexTest, SanityCheckCatchesZeroFilledTail) {
  TempDir dir;
  std::string path = dir.Sub("x.index");
  {
    auto index = OffsetIndex::Open(PosixFileSystem::Default(), path, LogOffset(0), 64);
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE((*index)->Append(LogOffset(3), 100).ok());
    // Dropped without Close(): the preallocated zeros stay, as after a crash.
  }
  auto index = OffsetIndex::Open(PosixFileSystem::Default(), path, LogOffset(0), 64);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->entries(), 8u);
  EXPECT_EQ((*index)->SanityCheck(1000).code(), ErrorCode::kCorruptMessage);
}

TEST(TimeIndexTest, BigEndianEntriesAndLookup) {
  TempDir dir;
  std::string path = dir.Sub("00000000000000000010.timeindex");
  auto index = TimeIndex::Open(PosixFileSystem::Default(), path, LogOffset(10), 1000);
  ASSERT_TRUE(index.ok());
  TimeIndex& idx = **index;
  EXPECT_EQ(*PosixFileSystem::Default()->FileSize(path), 996u);  // 83 entries of 12
  EXPECT_EQ(idx.last_entry(), (TimestampOffset{TimestampMs(-1), LogOffset(10)}));
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(0x0102030405060708), LogOffset(12)).ok());
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(0x0102030405060708), LogOffset(13)).ok());  // no-op
  EXPECT_EQ(idx.entries(), 1u);
  EXPECT_FALSE(idx.MaybeAppend(TimestampMs(5), LogOffset(14)).ok());  // older timestamp
  EXPECT_FALSE(idx.MaybeAppend(TimestampMs(0x0102030405060709), LogOffset(11)).ok());
  ASSERT_TRUE(idx.TrimToValidSize().ok());
  EXPECT_EQ(ToHex(FileBytes(path)), "010203040506070800000002");
}

TEST(TimeIndexTest, LookupAndTruncate) {
  TempDir dir;
  auto index =
      TimeIndex::Open(PosixFileSystem::Default(), dir.Sub("x.timeindex"), LogOffset(0), 1024);
  ASSERT_TRUE(index.ok());
  TimeIndex& idx = **index;
  EXPECT_EQ(idx.Lookup(TimestampMs(5)), (TimestampOffset{TimestampMs(-1), LogOffset(0)}));
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(100), LogOffset(3)).ok());
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(200), LogOffset(8)).ok());
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(300), LogOffset(8)).ok());
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(400), LogOffset(20)).ok());
  EXPECT_EQ(idx.Lookup(TimestampMs(99)), (TimestampOffset{TimestampMs(-1), LogOffset(0)}));
  EXPECT_EQ(idx.Lookup(TimestampMs(100)), (TimestampOffset{TimestampMs(100), LogOffset(3)}));
  EXPECT_EQ(idx.Lookup(TimestampMs(299)), (TimestampOffset{TimestampMs(200), LogOffset(8)}));
  EXPECT_EQ(idx.Lookup(TimestampMs(1000)), (TimestampOffset{TimestampMs(400), LogOffset(20)}));
  idx.TruncateTo(LogOffset(8));
  EXPECT_EQ(idx.entries(), 1u);
  EXPECT_EQ(idx.last_entry(), (TimestampOffset{TimestampMs(100), LogOffset(3)}));
  EXPECT_TRUE(idx.SanityCheck().ok());
}

TEST(TimeIndexTest, FullOneEntryEarly) {
  TempDir dir;
  auto index =
      TimeIndex::Open(PosixFileSystem::Default(), dir.Sub("x.timeindex"), LogOffset(0), 36);
  ASSERT_TRUE(index.ok());
  TimeIndex& idx = **index;
  EXPECT_EQ(idx.max_entries(), 3u);
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(1), LogOffset(1)).ok());
  EXPECT_FALSE(idx.IsFull());
  ASSERT_TRUE(idx.MaybeAppend(TimestampMs(2), LogOffset(2)).ok());
  EXPECT_TRUE(idx.IsFull());
  EXPECT_FALSE(idx.MaybeAppend(TimestampMs(3), LogOffset(3)).ok());
  EXPECT_TRUE(idx.MaybeAppend(TimestampMs(3), LogOffset(3), /*skip_full_check=*/true).ok());
}

}  // namespace
}  // namespace strom::log
