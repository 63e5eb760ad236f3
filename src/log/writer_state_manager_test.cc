#include "log/writer_state_manager.h"

#include <gtest/gtest.h>

#include <limits>

#include "log/fs/posix_file_system.h"
#include "log/log_file_names.h"
#include "log/log_test_util.h"

namespace strom::log {
namespace {

using testing::TempDir;

constexpr int32_t kMaxSeq = std::numeric_limits<int32_t>::max();

bool InSeq(int32_t last, int32_t next, bool expired = false, bool leader = true) {
  return WriterAppendInfo::InSequence(BatchSequence(last), BatchSequence(next), expired, leader);
}

TEST(LogWriterStateTest, InSequenceRules) {
  EXPECT_TRUE(InSeq(-1, 0));
  EXPECT_FALSE(InSeq(-1, 1));
  EXPECT_TRUE(InSeq(-1, 7, /*expired=*/true));
  EXPECT_TRUE(InSeq(-1, 7, false, /*leader=*/false));
  EXPECT_TRUE(InSeq(4, 5));
  EXPECT_FALSE(InSeq(4, 6));
  EXPECT_FALSE(InSeq(4, 4));
  EXPECT_FALSE(InSeq(4, 6, true, false));  // the lenient cases only apply without state
  EXPECT_TRUE(InSeq(kMaxSeq, 0));
  EXPECT_FALSE(InSeq(kMaxSeq, 1));
  EXPECT_TRUE(InSeq(kMaxSeq - 1, kMaxSeq));
}

TEST(LogWriterStateTest, EntryKeepsTheLastFiveBatches) {
  WriterStateEntry entry(WriterId(9));
  EXPECT_TRUE(entry.empty());
  EXPECT_EQ(entry.last_batch_sequence(), kNoBatchSequence);
  for (int i = 0; i < 7; ++i) {
    entry.AddBatch(BatchMetadata{BatchSequence(i), LogOffset(10 * i + 2), 2, TimestampMs(100 + i)});
  }
  EXPECT_EQ(entry.batches().size(), kNumBatchesToRetain);
  EXPECT_EQ(entry.first_batch_sequence(), BatchSequence(2));
  EXPECT_EQ(entry.last_batch_sequence(), BatchSequence(6));
  EXPECT_EQ(entry.last_batch_timestamp(), TimestampMs(106));
  EXPECT_FALSE(entry.FindDuplicateBatch(BatchSequence(1)).has_value());
  auto dup = entry.FindDuplicateBatch(BatchSequence(3));
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->first_offset(), LogOffset(30));
  EXPECT_EQ(dup->last_offset, LogOffset(32));
}

TEST(LogWriterStateTest, AppendInfoValidatesAgainstStateAndItself) {
  WriterStateEntry current(WriterId(1));
  current.AddBatch(BatchMetadata{BatchSequence(3), LogOffset(5), 0, TimestampMs(1)});
  WriterAppendInfo info(WriterId(1), &current);
  EXPECT_TRUE(
      info.Append(BatchSequence(4), LogOffset(6), LogOffset(6), TimestampMs(2), false, true).ok());
  EXPECT_TRUE(
      info.Append(BatchSequence(5), LogOffset(7), LogOffset(8), TimestampMs(2), false, true).ok());
  Status st =
      info.Append(BatchSequence(7), LogOffset(9), LogOffset(9), TimestampMs(2), false, true);
  EXPECT_EQ(st.code(), ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(info.updated_entry().batches().size(), 2u);
}

TEST(LogWriterStateTest, SnapshotJsonMatchesFlussLayout) {
  std::unordered_map<WriterId, WriterStateEntry> writers;
  WriterStateEntry a(WriterId(7));
  a.AddBatch(BatchMetadata{BatchSequence(2), LogOffset(40), 0, TimestampMs(900)});
  a.AddBatch(BatchMetadata{BatchSequence(3), LogOffset(44), 2, TimestampMs(1000)});
  writers.emplace(WriterId(7), a);
  WriterStateEntry b(WriterId(3));
  b.AddBatch(BatchMetadata{BatchSequence(0), LogOffset(1), 1, TimestampMs(5)});
  writers.emplace(WriterId(3), b);
  // The "last_batch_base_offset" field carries the last offset, as Fluss writes it.
  EXPECT_EQ(
      WriterStateManager::EncodeSnapshot(writers),
      R"({"version":1,"writer_id_entries":[)"
      R"({"writer_id":3,"last_batch_sequence":0,"last_batch_base_offset":1,"offset_delta":1,"last_batch_timestamp":5},)"
      R"({"writer_id":7,"last_batch_sequence":3,"last_batch_base_offset":44,"offset_delta":2,"last_batch_timestamp":1000}]})");
  auto decoded = WriterStateManager::DecodeSnapshot(WriterStateManager::EncodeSnapshot(writers));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), 2u);
  const WriterStateEntry& e = (*decoded)[1];
  EXPECT_EQ(e.writer_id(), WriterId(7));
  EXPECT_EQ(e.last_batch_sequence(), BatchSequence(3));
  EXPECT_EQ(e.last_data_offset(), LogOffset(44));
  EXPECT_EQ(e.batches().back().first_offset(), LogOffset(42));
  EXPECT_EQ(e.last_batch_timestamp(), TimestampMs(1000));
}

TEST(LogWriterStateTest, DecodeRejectsMalformedSnapshots) {
  for (
      const char* bad :
      {"", "[]", "{", R"({"version":1})", R"({"version":2,"writer_id_entries":[]})",
       R"({"version":1,"writer_id_entries":[{"writer_id":1}]})",
       R"({"version":1,"writer_id_entries":[{"writer_id":1,"last_batch_sequence":"x","last_batch_base_offset":1,"offset_delta":0,"last_batch_timestamp":1}]})",
       R"({"version":1,"writer_id_entries":[{"writer_id":1,"last_batch_sequence":4294967296,"last_batch_base_offset":1,"offset_delta":0,"last_batch_timestamp":1}]})"}) {
    EXPECT_EQ(WriterStateManager::DecodeSnapshot(bad).status().code(), ErrorCode::kCorruptMessage)
        << bad;
  }
}

class LogWriterStateManagerTest : public ::testing::Test {
 protected:
  WriterStateManager NewManager() {
    WriterStateManager m(PosixFileSystem::Default(), dir_.path(), std::chrono::hours(1));
    EXPECT_TRUE(m.LoadSnapshotList().ok());
    return m;
  }
  void Add(WriterStateManager& m, int64_t writer, int32_t seq, int64_t offset, int64_t ts) {
    WriterAppendInfo info = m.PrepareUpdate(WriterId(writer));
    ASSERT_TRUE(info.Append(BatchSequence(seq), LogOffset(offset), LogOffset(offset),
                            TimestampMs(ts), false, true)
                    .ok());
    m.Update(info);
    m.UpdateMapEndOffset(LogOffset(offset + 1));
  }
  TempDir dir_;
};

TEST_F(LogWriterStateManagerTest, SnapshotsReloadAndTruncate) {
  WriterStateManager m = NewManager();
  Add(m, 1, 0, 0, 1000);
  Add(m, 2, 0, 1, 1000);
  ASSERT_TRUE(m.TakeSnapshot().ok());  // at 2
  Add(m, 1, 1, 2, 1000);
  ASSERT_TRUE(m.TakeSnapshot().ok());  // at 3
  ASSERT_TRUE(m.TakeSnapshot().ok());  // no new offset: nothing written
  EXPECT_EQ(m.snapshot_offsets(), (std::vector<LogOffset>{LogOffset(2), LogOffset(3)}));
  EXPECT_TRUE(*PosixFileSystem::Default()->Exists(
      dir_.Sub(OffsetFileName(LogOffset(3), kWriterSnapshotFileSuffix))));

  WriterStateManager reloaded = NewManager();
  ASSERT_TRUE(reloaded.TruncateAndReload(LogOffset(0), LogOffset(3), TimestampMs(2000)).ok());
  EXPECT_EQ(reloaded.map_end_offset(), LogOffset(3));
  ASSERT_NE(reloaded.LastEntry(WriterId(1)), nullptr);
  EXPECT_EQ(reloaded.LastEntry(WriterId(1))->last_batch_sequence(), BatchSequence(1));

  // Truncating to 2 drops the snapshot at 3 and reloads the one at 2.
  ASSERT_TRUE(reloaded.TruncateAndReload(LogOffset(0), LogOffset(2), TimestampMs(2000)).ok());
  EXPECT_EQ(reloaded.snapshot_offsets(), std::vector<LogOffset>{LogOffset(2)});
  EXPECT_EQ(reloaded.LastEntry(WriterId(1))->last_batch_sequence(), BatchSequence(0));

  // Writers idle past the expiration are not loaded.
  WriterStateManager late = NewManager();
  ASSERT_TRUE(
      late.TruncateAndReload(LogOffset(0), LogOffset(2), TimestampMs(1000 + 3600 * 1000 + 1)).ok());
  EXPECT_TRUE(late.empty());
}

TEST_F(LogWriterStateManagerTest, UnreadableSnapshotFallsBack) {
  WriterStateManager m = NewManager();
  Add(m, 1, 0, 0, 1000);
  ASSERT_TRUE(m.TakeSnapshot().ok());  // at 1
  Add(m, 1, 1, 1, 1000);
  ASSERT_TRUE(m.TakeSnapshot().ok());  // at 2
  ASSERT_TRUE(PosixFileSystem::Default()
                  ->WriteFileAtomically(
                      dir_.Sub(OffsetFileName(LogOffset(2), kWriterSnapshotFileSuffix)), "{garb")
                  .ok());
  WriterStateManager reloaded = NewManager();
  ASSERT_TRUE(reloaded.TruncateAndReload(LogOffset(0), LogOffset(2), TimestampMs(1000)).ok());
  EXPECT_EQ(reloaded.map_end_offset(), LogOffset(1));
  EXPECT_EQ(reloaded.snapshot_offsets(), std::vector<LogOffset>{LogOffset(1)});
  EXPECT_EQ(reloaded.LastEntry(WriterId(1))->last_batch_sequence(), BatchSequence(0));
}

TEST_F(LogWriterStateManagerTest, ExpiryAndStraySnapshots) {
  WriterStateManager m = NewManager();
  Add(m, 1, 0, 0, 1000);
  Add(m, 2, 0, 1, 5000);
  m.RemoveExpiredWriters(TimestampMs(1000 + 3600 * 1000));  // exactly the expiration: kept
  EXPECT_EQ(m.writer_count(), 2u);
  m.RemoveExpiredWriters(TimestampMs(1000 + 3600 * 1000 + 1));
  EXPECT_EQ(m.writer_count(), 1u);
  EXPECT_EQ(m.LastEntry(WriterId(1)), nullptr);

  for (int64_t o : {5, 7, 9, 12}) {
    m.UpdateMapEndOffset(LogOffset(o));
    ASSERT_TRUE(m.TakeSnapshot().ok());
  }
  // Segments at 0 and 7: 5 and 9 are strays; 12 (above every segment) is kept, 9 is not.
  ASSERT_TRUE(m.RemoveStraySnapshots({LogOffset(0), LogOffset(7)}).ok());
  EXPECT_EQ(m.snapshot_offsets(), (std::vector<LogOffset>{LogOffset(7), LogOffset(12)}));
}

}  // namespace
}  // namespace strom::log
