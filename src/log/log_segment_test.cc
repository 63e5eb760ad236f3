#include "log/log_segment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "log/fs/posix_file_system.h"
#include "log/log_file_names.h"
#include "log/log_test_util.h"
#include "record/log_record_batch.h"

namespace strom::log {
namespace {

using testing::TempDir;

// A batch as the leader stores it: offsets and commit timestamp assigned.
ByteBuffer StoredBatch(LogOffset base, TimestampMs ts, int records = 1, int row_bytes = 16) {
  ByteBuffer bytes = testing::MakeBatch(records, row_bytes, static_cast<uint32_t>(base.value()));
  auto batch = record::MutableLogRecordBatch::Parse(std::span<char>(bytes.data(), bytes.size()));
  EXPECT_TRUE(batch.ok());
  batch->SetBaseOffset(base);
  batch->SetCommitTimestamp(ts);
  return bytes;
}

class LogSegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::SmallConfig();
    config_.segment_file_size = 1 << 20;
    auto segment = LogSegment::Create(fs_, dir_.path(), LogOffset(0), config_);
    ASSERT_TRUE(segment.ok()) << segment.status().ToString();
    segment_ = std::move(*segment);
  }

  // Appends single-record batches for offsets [from, to) with timestamp 1000 + offset.
  void AppendRange(int from, int to) {
    for (int o = from; o < to; ++o) {
      ByteBuffer b = StoredBatch(LogOffset(o), TimestampMs(1000 + o));
      ASSERT_TRUE(segment_->Append(LogOffset(o), TimestampMs(1000 + o), LogOffset(o), b).ok());
    }
  }

  ByteBuffer FileBytes(const std::string& path) {
    auto bytes = fs_->ReadFile(path);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? *bytes : ByteBuffer();
  }

  TempDir dir_;
  FileSystem* fs_ = PosixFileSystem::Default();
  LogConfig config_;
  std::unique_ptr<LogSegment> segment_;
};

constexpr int kBatchSize = 48 + 4 + 1 + 16;  // header + one record of a 16-byte row

TEST_F(LogSegmentTest, FileNamesArePaddedBaseOffsets) {
  EXPECT_EQ(OffsetFileName(LogOffset(0), kLogFileSuffix), "00000000000000000000.log");
  EXPECT_EQ(OffsetFileName(LogOffset(1234567), kTimeIndexFileSuffix),
            "00000000000001234567.timeindex");
  EXPECT_EQ(ParseOffsetFileName("00000000000001234567.index", kIndexFileSuffix),
            LogOffset(1234567));
  EXPECT_EQ(ParseOffsetFileName("0000000000001234567.index", kIndexFileSuffix), std::nullopt);
  EXPECT_EQ(ParseOffsetFileName("00000000000001234567.log", kIndexFileSuffix), std::nullopt);
  EXPECT_EQ(ParseOffsetFileName("0000000000000123456x.log", kLogFileSuffix), std::nullopt);
  EXPECT_EQ(segment_->log_path(), dir_.Sub("00000000000000000000.log"));
}

TEST_F(LogSegmentTest, IndexEntryEveryIntervalBytesByteExact) {
  ASSERT_EQ(StoredBatch(LogOffset(0), TimestampMs(0)).size(), static_cast<size_t>(kBatchSize));
  AppendRange(0, 13);
  // 256-byte interval, 69-byte appends: an entry is added when an append starts with more
  // than 256 bytes since the last one, i.e. at offsets 4, 8 and 12, pointing at their start.
  auto offsets = segment_->offset_index();
  ASSERT_TRUE(offsets.ok());
  ASSERT_EQ((*offsets)->entries(), 3u);
  ASSERT_TRUE(segment_->Close().ok());
  EXPECT_EQ(ToHex(FileBytes(segment_->offset_index_path())),
            "0000000400000114"    // offset 4 -> position 276
            "0000000800000228"    // offset 8 -> position 552
            "0000000c0000033c");  // offset 12 -> position 828
  // Time index: the largest timestamp so far (1000 + offset) and the batch that has it.
  EXPECT_EQ(ToHex(FileBytes(segment_->time_index_path())),
            "00000000000003ec00000004"    // 1004 -> offset 4
            "00000000000003f000000008"    // 1008 -> offset 8
            "00000000000003f40000000c");  // 1012 -> offset 12
  EXPECT_EQ(FileBytes(segment_->log_path()).size(), 13u * kBatchSize);
}

TEST_F(LogSegmentTest, IndexEntryNamesLargestOffsetOfAnAppend) {
  AppendRange(0, 4);  // 276 bytes since the start
  // One append of three batches (offsets 4..6): the entry names offset 6 at the append's start.
  ByteBuffer multi;
  for (int o = 4; o < 7; ++o) multi += StoredBatch(LogOffset(o), TimestampMs(2000));
  ASSERT_TRUE(segment_->Append(LogOffset(6), TimestampMs(2000), LogOffset(4), multi).ok());
  auto offsets = segment_->offset_index();
  ASSERT_EQ((*offsets)->entries(), 1u);
  EXPECT_EQ((*offsets)->Entry(0), (OffsetPosition{LogOffset(6), 4 * kBatchSize}));
  auto times = segment_->time_index();
  EXPECT_EQ((*times)->Entry(0), (TimestampOffset{TimestampMs(2000), LogOffset(4)}));
}

TEST_F(LogSegmentTest, ReadStartsAtTheBatchHoldingTheOffset) {
  // Batches of 3 records: offsets 0-2, 3-5, ...
  for (int i = 0; i < 10; ++i) {
    ByteBuffer b = StoredBatch(LogOffset(i * 3), TimestampMs(1000 + i), 3);
    ASSERT_TRUE(
        segment_->Append(LogOffset(i * 3 + 2), TimestampMs(1000 + i), LogOffset(i * 3), b).ok());
  }
  const int64_t batch = 48 + 3 * 21;
  auto read = segment_->Read(LogOffset(7), 1 << 20, segment_->size(), false);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->fetch_offset_metadata.position, 2 * batch);
  auto batches = testing::ParseBatches((*read)->records);
  ASSERT_EQ(batches.size(), 8u);
  EXPECT_EQ(batches[0].base_offset, LogOffset(6));
  EXPECT_TRUE(batches[0].crc_ok);

  // A budget that ends inside a batch returns the cut bytes.
  read = segment_->Read(LogOffset(7), batch + 10, segment_->size(), false);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->records.size(), static_cast<size_t>(batch + 10));
  bool truncated = false;
  EXPECT_EQ(testing::ParseBatches((*read)->records, &truncated).size(), 1u);
  EXPECT_TRUE(truncated);

  // A budget below the header size returns nothing, unless min-one-batch.
  read = segment_->Read(LogOffset(7), 48, segment_->size(), false);
  EXPECT_TRUE((*read)->records.empty());
  read = segment_->Read(LogOffset(7), 10, segment_->size(), true);
  EXPECT_EQ((*read)->records.size(), static_cast<size_t>(batch));

  // max_position stops the read.
  read = segment_->Read(LogOffset(0), 1 << 20, 3 * batch, false);
  EXPECT_EQ((*read)->records.size(), static_cast<size_t>(3 * batch));

  // Past the last batch: nothing in this segment.
  read = segment_->Read(LogOffset(30), 1 << 20, segment_->size(), false);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
}

TEST_F(LogSegmentTest, FindOffsetByTimestampUsesTheFirstBatchAtOrAfter) {
  // Timestamps 1000, 1000, 1010, 1010, ... (two batches per timestamp).
  for (int o = 0; o < 40; ++o) {
    TimestampMs ts(1000 + (o / 2) * 10);
    ByteBuffer b = StoredBatch(LogOffset(o), ts);
    ASSERT_TRUE(segment_->Append(LogOffset(o), ts, LogOffset(o), b).ok());
  }
  auto find = [&](int64_t ts) -> int64_t {
    auto r = segment_->FindOffsetByTimestamp(TimestampMs(ts), LogOffset(0));
    EXPECT_TRUE(r.ok());
    return r.ok() && r->has_value() ? (*r)->offset.value() : -1;
  };
  EXPECT_EQ(find(0), 0);
  EXPECT_EQ(find(1000), 0);
  EXPECT_EQ(find(1001), 2);
  EXPECT_EQ(find(1010), 2);
  EXPECT_EQ(find(1100), 20);
  EXPECT_EQ(find(1190), 38);
  EXPECT_EQ(find(1191), -1);
  auto max = segment_->MaxTimestamp();
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, (TimestampOffset{TimestampMs(1190), LogOffset(38)}));
}

TEST_F(LogSegmentTest, ReopenedSegmentComputesMaxTimestampAndNextOffset) {
  AppendRange(0, 20);
  ASSERT_TRUE(segment_->Close().ok());
  auto reopened = LogSegment::Open(fs_, dir_.path(), LogOffset(0), config_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), 20 * kBatchSize);
  EXPECT_EQ(*(*reopened)->ReadNextOffset(), LogOffset(20));
  EXPECT_EQ(*(*reopened)->MaxTimestamp(), (TimestampOffset{TimestampMs(1019), LogOffset(19)}));
  EXPECT_TRUE((*reopened)->SanityCheck().ok());
}

TEST_F(LogSegmentTest, TruncateToRemovesTheBatchHoldingTheOffset) {
  for (int i = 0; i < 10; ++i) {
    ByteBuffer b = StoredBatch(LogOffset(i * 2), TimestampMs(1000 + i), 2);
    ASSERT_TRUE(
        segment_->Append(LogOffset(i * 2 + 1), TimestampMs(1000 + i), LogOffset(i * 2), b).ok());
  }
  const int64_t batch = 48 + 2 * 21;
  auto removed = segment_->TruncateTo(LogOffset(9));  // batch 8-9 and everything after goes
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 6 * batch);
  EXPECT_EQ(segment_->size(), 4 * batch);
  EXPECT_EQ(*segment_->ReadNextOffset(), LogOffset(8));
  EXPECT_EQ(*segment_->MaxTimestamp(), (TimestampOffset{TimestampMs(1003), LogOffset(6)}));
  auto offsets = segment_->offset_index();
  EXPECT_LT((*offsets)->last_offset(), LogOffset(8));
  // Appends continue after the cut.
  ByteBuffer b = StoredBatch(LogOffset(8), TimestampMs(2000));
  ASSERT_TRUE(segment_->Append(LogOffset(8), TimestampMs(2000), LogOffset(8), b).ok());
  EXPECT_EQ(*segment_->ReadNextOffset(), LogOffset(9));
}

TEST_F(LogSegmentTest, RecoverCutsAtACorruptBatchAndRebuildsIndexes) {
  AppendRange(0, 20);
  ASSERT_TRUE(segment_->Close().ok());
  // Flip a byte inside the records of batch 11 (covered by its CRC).
  {
    auto file = fs_->Open(segment_->log_path(), OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    char c;
    uint64_t pos = 11 * kBatchSize + 60;
    ASSERT_TRUE((*file)->ReadFully(pos, 1, &c).ok());
    c = static_cast<char>(c ^ 0x40);
    ASSERT_TRUE((*file)->WriteAt(pos, ByteView(&c, 1)).ok());
  }
  auto reopened = LogSegment::Open(fs_, dir_.path(), LogOffset(0), config_);
  ASSERT_TRUE(reopened.ok());
  auto truncated = (*reopened)->Recover();
  ASSERT_TRUE(truncated.ok()) << truncated.status().ToString();
  EXPECT_EQ(*truncated, 9 * kBatchSize);
  EXPECT_EQ((*reopened)->size(), 11 * kBatchSize);
  EXPECT_EQ(*(*reopened)->ReadNextOffset(), LogOffset(11));
  // Recovery indexes a batch when more than 256 bytes lie between it and the last entry:
  // batches 4 (276) and 8 (552).
  auto offsets = (*reopened)->offset_index();
  ASSERT_EQ((*offsets)->entries(), 2u);
  EXPECT_EQ((*offsets)->Entry(0), (OffsetPosition{LogOffset(4), 4 * kBatchSize}));
  EXPECT_EQ((*offsets)->Entry(1), (OffsetPosition{LogOffset(8), 8 * kBatchSize}));
  EXPECT_TRUE((*reopened)->SanityCheck().ok());
}

TEST_F(LogSegmentTest, ShouldRollBySizeIndexAndAge) {
  RollParams params;
  params.max_segment_bytes = 10 * kBatchSize;
  params.max_offset_in_messages = LogOffset(0);
  params.messages_size = kBatchSize;
  params.now = TimestampMs(5000);
  EXPECT_FALSE(*segment_->ShouldRoll(params));
  AppendRange(0, 9);
  params.max_offset_in_messages = LogOffset(9);
  EXPECT_FALSE(*segment_->ShouldRoll(params));  // 9 + 1 batches fit exactly
  params.messages_size = kBatchSize + 1;
  EXPECT_TRUE(*segment_->ShouldRoll(params));
  params.messages_size = kBatchSize;
  params.max_offset_in_messages = LogOffset(int64_t{1} << 31);  // relative offset overflow
  EXPECT_TRUE(*segment_->ShouldRoll(params));
  params.max_offset_in_messages = LogOffset(9);
  params.roll_time_ms = 4000;  // first batch has timestamp 1000
  EXPECT_FALSE(*segment_->ShouldRoll(params));
  params.now = TimestampMs(5001);
  EXPECT_TRUE(*segment_->ShouldRoll(params));
}

}  // namespace
}  // namespace strom::log

namespace strom::log {
namespace {

// pread through a zero-copy slice's own descriptor.
ByteBuffer SliceBytes(const FileSlice& slice) {
  ByteBuffer out(slice.size, '\0');
  ssize_t n = ::pread(slice.file->fd(), out.data(), out.size(), static_cast<off_t>(slice.position));
  EXPECT_EQ(n, static_cast<ssize_t>(slice.size));
  return out;
}

TEST_F(LogSegmentTest, ZeroCopyReadHandsOutTheSameBytesAsASliceOfTheFile) {
  AppendRange(0, 10);
  auto copied = segment_->Read(LogOffset(3), 3 * kBatchSize, segment_->size(), true);
  ASSERT_TRUE(copied.ok() && copied->has_value());
  auto sliced = segment_->Read(LogOffset(3), 3 * kBatchSize, segment_->size(), true,
                               /*zero_copy=*/true);
  ASSERT_TRUE(sliced.ok() && sliced->has_value());
  const FetchDataInfo& info = **sliced;
  ASSERT_TRUE(info.slice.has_value());
  EXPECT_TRUE(info.records.empty());
  EXPECT_EQ(info.size(), (*copied)->records.size());
  EXPECT_EQ(info.slice->position, static_cast<uint64_t>(3 * kBatchSize));
  EXPECT_EQ(info.fetch_offset_metadata, (*copied)->fetch_offset_metadata);
  EXPECT_TRUE(SliceBytes(*info.slice) == (*copied)->records);
  // Nothing to read: no slice either.
  auto none = segment_->Read(LogOffset(10), 1000, segment_->size(), true, true);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // The slice outlives the segment and its files.
  ASSERT_TRUE(segment_->DeleteFiles().ok());
  segment_.reset();
  EXPECT_TRUE(SliceBytes(*info.slice) == (*copied)->records);
}

}  // namespace
}  // namespace strom::log
