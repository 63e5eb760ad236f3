#include <gtest/gtest.h>

#include <filesystem>

#include "log/fs/fault_injection_file_system.h"
#include "log/fs/posix_file_system.h"
#include "log/log_file_names.h"
#include "log/log_tablet.h"
#include "log/log_test_util.h"

namespace strom::log {
namespace {

using testing::MakeBatch;
using testing::MakeWriterBatch;
using testing::ParseBatches;
using testing::ReadAllBatches;
using testing::TempDir;

constexpr int64_t kStart = 1'700'000'000'000;

class LogRecoveryTest : public ::testing::Test {
 protected:
  LogRecoveryTest() : clock_(TimestampMs(kStart)), fs_(PosixFileSystem::Default()) {
    config_ = testing::SmallConfig();
    // Crash simulation does not need real fsyncs; PosixFileSystem's are tested on their own.
    fs_.SetRealSyncs(false);
  }

  std::unique_ptr<LogTablet> OpenTablet(const std::string& sub = "log-0",
                                        std::optional<LogOffset> recovery_point = std::nullopt) {
    LogTabletOptions options;
    options.dir = dir_.Sub(sub);
    options.config = config_;
    options.fs = &fs_;
    options.clock = &clock_;
    options.recovery_point = recovery_point;
    auto tablet = LogTablet::Open(options);
    EXPECT_TRUE(tablet.ok()) << tablet.status().ToString();
    return tablet.ok() ? std::move(*tablet) : nullptr;
  }

  static LogAppendInfo Append(LogTablet& tablet, ByteBuffer records) {
    auto info = tablet.AppendAsLeader(std::span<char>(records.data(), records.size()));
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : LogAppendInfo{};
  }

  std::string LogFile(const std::string& sub, int64_t base) {
    return JoinPath(dir_.Sub(sub), OffsetFileName(LogOffset(base), kLogFileSuffix));
  }

  void TruncateFile(const std::string& path, uint64_t size) {
    auto file = PosixFileSystem::Default()->Open(path, OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Truncate(size).ok());
  }

  void FlipByte(const std::string& path, uint64_t pos) {
    auto file = PosixFileSystem::Default()->Open(path, OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    char c;
    ASSERT_TRUE((*file)->ReadFully(pos, 1, &c).ok());
    c = static_cast<char>(c ^ 0x5a);
    ASSERT_TRUE((*file)->WriteAt(pos, ByteView(&c, 1)).ok());
  }

  TempDir dir_;
  ManualClock clock_;
  FaultInjectionFileSystem fs_;
  LogConfig config_;
};

TEST_F(LogRecoveryTest, CleanCloseKeepsEverything) {
  config_.segment_file_size = 1000;
  ByteBuffer before;
  std::vector<LogOffset> bases;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 40; ++i) {
      clock_.AdvanceMs(1);
      Append(*tablet, MakeBatch(1 + i % 3, 20, static_cast<uint32_t>(i)));
    }
    Append(*tablet, MakeWriterBatch(11, 0));
    ReadAllBatches(*tablet, LogOffset(0), FetchIsolation::kLogEnd, &before);
    bases = tablet->segment_base_offsets();
    ASSERT_TRUE(tablet->Close().ok());
  }
  EXPECT_TRUE(*fs_.Exists(JoinPath(dir_.Sub("log-0"), kCleanShutdownFileName)));
  auto tablet = OpenTablet();
  EXPECT_TRUE(tablet->opened_after_clean_shutdown());
  EXPECT_EQ(tablet->recovery_truncated_bytes(), 0);
  EXPECT_FALSE(*fs_.Exists(JoinPath(dir_.Sub("log-0"), kCleanShutdownFileName)));
  EXPECT_EQ(tablet->segment_base_offsets(), bases);
  ByteBuffer after;
  ReadAllBatches(*tablet, LogOffset(0), FetchIsolation::kLogEnd, &after);
  EXPECT_EQ(after, before);
  EXPECT_EQ(tablet->max_timestamp(), TimestampMs(kStart + 40));
  EXPECT_EQ(tablet->recovery_point(), tablet->log_end_offset());
  // The writer state came back from the snapshot taken at close.
  EXPECT_TRUE(Append(*tablet, MakeWriterBatch(11, 0)).duplicate);
  LogOffset end = tablet->log_end_offset();
  EXPECT_EQ(Append(*tablet, MakeBatch(1)).first_offset, end);
}

TEST_F(LogRecoveryTest, TornTailAtEveryByteRecoversToThePreviousBatch) {
  // The reference log: 12 batches of different sizes, then the last one, left without
  // Close() so every open below sees an unclean shutdown.
  uint64_t last_start = 0;
  uint64_t last_end = 0;
  {
    auto tablet = OpenTablet("reference");
    for (int i = 0; i < 12; ++i) Append(*tablet, MakeBatch(1 + i % 4, 10 + i, i));
    last_start = static_cast<uint64_t>(tablet->size_in_bytes());
    Append(*tablet, MakeBatch(2, 4, 99));  // 66 bytes: one reopen per byte
    last_end = static_cast<uint64_t>(tablet->size_in_bytes());
  }
  std::vector<testing::ParsedBatch> reference;
  ByteBuffer reference_bytes;
  {
    // Read from a copy so the reference stays exactly as written.
    std::filesystem::copy(dir_.Sub("reference"), dir_.Sub("reference-copy"));
    auto tablet = OpenTablet("reference-copy");
    reference = ReadAllBatches(*tablet, LogOffset(0), FetchIsolation::kLogEnd, &reference_bytes);
    ASSERT_EQ(reference.size(), 13u);
  }
  const LogOffset previous_end = reference[11].last_offset + 1;
  for (uint64_t cut = last_start; cut < last_end; ++cut) {
    SCOPED_TRACE(cut);
    std::string sub = "cut-" + std::to_string(cut);
    std::filesystem::copy(dir_.Sub("reference"), dir_.Sub(sub));
    TruncateFile(LogFile(sub, 0), cut);
    auto tablet = OpenTablet(sub);
    ASSERT_NE(tablet, nullptr);
    EXPECT_FALSE(tablet->opened_after_clean_shutdown());
    EXPECT_EQ(tablet->recovery_truncated_bytes(), static_cast<int64_t>(cut - last_start));
    EXPECT_EQ(tablet->log_end_offset(), previous_end);
    EXPECT_EQ(tablet->size_in_bytes(), static_cast<int64_t>(last_start));
    ByteBuffer bytes;
    auto batches = ReadAllBatches(*tablet, LogOffset(0), FetchIsolation::kLogEnd, &bytes);
    ASSERT_EQ(batches.size(), 12u);
    EXPECT_EQ(bytes, reference_bytes.substr(0, last_start));
    // The log goes on from there.
    EXPECT_EQ(Append(*tablet, MakeBatch(1)).first_offset, previous_end);
    tablet.reset();
    std::filesystem::remove_all(dir_.Sub(sub));
  }
}

TEST_F(LogRecoveryTest, TornTailAfterACleanCloseIsStillCut) {
  uint64_t last_start = 0;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 20; ++i) Append(*tablet, MakeBatch(2, 20, i));
    last_start = static_cast<uint64_t>(tablet->size_in_bytes());
    Append(*tablet, MakeBatch(2, 20, 20));
    ASSERT_TRUE(tablet->Close().ok());
  }
  TruncateFile(LogFile("log-0", 0), last_start + 17);
  auto tablet = OpenTablet();
  EXPECT_TRUE(tablet->opened_after_clean_shutdown());
  EXPECT_EQ(tablet->recovery_truncated_bytes(), 17);
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(40));
  EXPECT_EQ(ReadAllBatches(*tablet, LogOffset(0)).size(), 20u);
}

TEST_F(LogRecoveryTest, CorruptByteInTheActiveSegmentCutsTheLogThere) {
  const int kBatch = 48 + 21;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 30; ++i) Append(*tablet, MakeBatch(1, 16, i));
  }
  FlipByte(LogFile("log-0", 0), 17 * kBatch + 50);  // inside batch 17's records
  auto tablet = OpenTablet();
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(17));
  EXPECT_EQ(tablet->recovery_truncated_bytes(), 13 * kBatch);
  auto batches = ReadAllBatches(*tablet, LogOffset(0));
  ASSERT_EQ(batches.size(), 17u);
  for (const auto& b : batches) EXPECT_TRUE(b.crc_ok);
}

TEST_F(LogRecoveryTest, FullRecoveryFromARecoveryPointDropsSegmentsAfterCorruption) {
  config_.segment_file_size = 700;
  const int kBatch = 48 + 21;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 35; ++i) Append(*tablet, MakeBatch(1, 16, i));
    ASSERT_EQ(tablet->segment_count(), 4u);
  }
  FlipByte(LogFile("log-0", 10), 3 * kBatch + 50);  // batch 13, in a sealed segment
  // With the default recovery point only the last segment is scanned, and the sealed one is
  // trusted: the corrupt batch is served as stored (readers check CRCs).
  {
    auto tablet = OpenTablet();
    EXPECT_EQ(tablet->log_end_offset(), LogOffset(35));
    auto batches = ReadAllBatches(*tablet, LogOffset(0));
    ASSERT_EQ(batches.size(), 35u);
    EXPECT_FALSE(batches[13].crc_ok);
  }
  // A recovery point from a checkpoint makes every segment after it be scanned.
  auto tablet = OpenTablet("log-0", LogOffset(5));
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(13));
  EXPECT_EQ(tablet->segment_base_offsets(), (std::vector<LogOffset>{LogOffset(0), LogOffset(10)}));
  EXPECT_FALSE(*fs_.Exists(LogFile("log-0", 20)));
  EXPECT_EQ(ReadAllBatches(*tablet, LogOffset(0)).size(), 13u);
}

TEST_F(LogRecoveryTest, MissingOrDamagedIndexesAreRebuilt) {
  config_.segment_file_size = 700;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 25; ++i) Append(*tablet, MakeBatch(1, 16, i));
    ASSERT_TRUE(tablet->Close().ok());
  }
  std::string dir = dir_.Sub("log-0");
  ASSERT_TRUE(fs_.Delete(JoinPath(dir, OffsetFileName(LogOffset(0), kIndexFileSuffix))).ok());
  TruncateFile(JoinPath(dir, OffsetFileName(LogOffset(10), kTimeIndexFileSuffix)), 5);
  // An index without a log file is removed.
  ASSERT_TRUE(
      fs_.WriteFileAtomically(JoinPath(dir, OffsetFileName(LogOffset(99), kIndexFileSuffix)), "x")
          .ok());
  auto tablet = OpenTablet();
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(25));
  EXPECT_FALSE(*fs_.Exists(JoinPath(dir, OffsetFileName(LogOffset(99), kIndexFileSuffix))));
  EXPECT_EQ(*fs_.FileSize(JoinPath(dir, OffsetFileName(LogOffset(0), kIndexFileSuffix))), 16u);
  EXPECT_EQ(ReadAllBatches(*tablet, LogOffset(3)).size(), 22u);
  EXPECT_EQ(*tablet->LookupOffsetForTimestamp(TimestampMs(kStart)), LogOffset(0));
}

TEST_F(LogRecoveryTest, FailedWriteLeavesTheLogConsistent) {
  auto tablet = OpenTablet();
  for (int i = 0; i < 10; ++i) Append(*tablet, MakeBatch(1, 16, i));
  int64_t size = tablet->size_in_bytes();
  for (WriteFault fault : {WriteFault::kFail, WriteFault::kShortWrite}) {
    fs_.InjectWriteFault(0, fault, ".log");
    ByteBuffer records = MakeBatch(2);
    auto info = tablet->AppendAsLeader(std::span<char>(records.data(), records.size()));
    EXPECT_TRUE(fs_.write_fault_fired());
    EXPECT_EQ(info.status().code(), ErrorCode::kLogStorage);
    EXPECT_EQ(tablet->log_end_offset(), LogOffset(10));
    EXPECT_EQ(tablet->size_in_bytes(), size);
    EXPECT_EQ(*fs_.FileSize(LogFile("log-0", 0)), static_cast<uint64_t>(size));
    EXPECT_TRUE(tablet->failure().ok());
  }
  // A failed index write undoes the log write too.
  fs_.InjectWriteFault(0, WriteFault::kFail, ".index");
  int appended = 0;
  while (!fs_.write_fault_fired() && appended < 20) {
    ByteBuffer records = MakeBatch(1, 16, 100 + appended);
    auto info = tablet->AppendAsLeader(std::span<char>(records.data(), records.size()));
    if (fs_.write_fault_fired()) {
      EXPECT_EQ(info.status().code(), ErrorCode::kLogStorage);
    } else {
      ASSERT_TRUE(info.ok());
      ++appended;
    }
  }
  ASSERT_TRUE(fs_.write_fault_fired());
  LogOffset end = tablet->log_end_offset();
  EXPECT_EQ(end, LogOffset(10 + appended));
  // Later appends carry on at the same offsets, and everything reads back whole.
  EXPECT_EQ(Append(*tablet, MakeBatch(1)).first_offset, end);
  auto batches = ReadAllBatches(*tablet, LogOffset(0));
  ASSERT_EQ(batches.size(), static_cast<size_t>(11 + appended));
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].base_offset, LogOffset(static_cast<int64_t>(i)));
    EXPECT_TRUE(batches[i].crc_ok);
  }
  tablet.reset();
  tablet = OpenTablet();
  EXPECT_EQ(tablet->log_end_offset(), end + 1);
}

TEST_F(LogRecoveryTest, FailedFsyncTakesTheTabletOffline) {
  auto tablet = OpenTablet();
  Append(*tablet, MakeBatch(1));
  fs_.SetFailSync(true);
  EXPECT_EQ(tablet->Flush().code(), ErrorCode::kLogStorage);
  EXPECT_FALSE(tablet->failure().ok());
  ByteBuffer records = MakeBatch(1);
  EXPECT_EQ(tablet->AppendAsLeader(std::span<char>(records.data(), records.size())).status().code(),
            ErrorCode::kLogStorage);
  fs_.SetFailSync(false);
  tablet.reset();
  tablet = OpenTablet();
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(1));
}

TEST_F(LogRecoveryTest, CrashLosesOnlyWhatWasNotFsynced) {
  config_.segment_file_size = 700;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 25; ++i) Append(*tablet, MakeBatch(1, 16, i));  // rolls at 10, 20
    ASSERT_TRUE(tablet->Flush().ok());
    for (int i = 25; i < 28; ++i) Append(*tablet, MakeBatch(1, 16, i));
  }
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  auto tablet = OpenTablet();
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(25));
  EXPECT_EQ(ReadAllBatches(*tablet, LogOffset(0)).size(), 25u);

  // Segments sealed by a roll survive a crash that forgets the unflushed active one.
  for (int i = 25; i < 33; ++i) Append(*tablet, MakeBatch(1, 16, i));  // rolls at 30
  tablet.reset();
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  tablet = OpenTablet();
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(30));
  EXPECT_EQ(ReadAllBatches(*tablet, LogOffset(0)).size(), 30u);
}

TEST_F(LogRecoveryTest, WriterStateSurvivesAnUncleanRestart) {
  config_.segment_file_size = 700;
  {
    auto tablet = OpenTablet();
    for (int s = 0; s < 14; ++s) Append(*tablet, MakeWriterBatch(42, s));  // roll at 10
    Append(*tablet, MakeWriterBatch(43, 0, 2));
  }
  auto tablet = OpenTablet();
  EXPECT_FALSE(tablet->opened_after_clean_shutdown());
  // Snapshot at the roll (offset 10) plus the replayed batches 10..15.
  LogAppendInfo dup = Append(*tablet, MakeWriterBatch(42, 12));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.first_offset, LogOffset(12));
  EXPECT_TRUE(Append(*tablet, MakeWriterBatch(43, 0, 2)).duplicate);
  ByteBuffer gap = MakeWriterBatch(42, 15);
  EXPECT_EQ(tablet->AppendAsLeader(std::span<char>(gap.data(), gap.size())).status().code(),
            ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(Append(*tablet, MakeWriterBatch(42, 14)).first_offset, LogOffset(16));
  ASSERT_TRUE(tablet->Close().ok());
  tablet.reset();

  // After a clean close the snapshot at the log end holds each writer's last batch.
  tablet = OpenTablet();
  EXPECT_TRUE(tablet->opened_after_clean_shutdown());
  EXPECT_EQ(tablet->writer_state().writer_count(), 2u);
  EXPECT_TRUE(Append(*tablet, MakeWriterBatch(42, 14)).duplicate);
  EXPECT_EQ(Append(*tablet, MakeWriterBatch(42, 15)).first_offset, LogOffset(17));
  auto names = fs_.List(dir_.Sub("log-0"));
  ASSERT_TRUE(names.ok());
  EXPECT_NE(std::find(names->begin(), names->end(),
                      OffsetFileName(LogOffset(17), kWriterSnapshotFileSuffix)),
            names->end());
}

TEST_F(LogRecoveryTest, ShortReadsAreTolerated) {
  config_.segment_file_size = 700;
  {
    auto tablet = OpenTablet();
    for (int s = 0; s < 25; ++s) Append(*tablet, MakeWriterBatch(8, s, 1 + s % 3));
  }
  fs_.SetShortReads(true);
  auto tablet = OpenTablet();  // recovery, index loads and snapshot reads all read short
  ASSERT_NE(tablet, nullptr);
  EXPECT_EQ(tablet->recovery_truncated_bytes(), 0);
  auto batches = ReadAllBatches(*tablet, LogOffset(0));
  ASSERT_EQ(batches.size(), 25u);
  for (const auto& b : batches) EXPECT_TRUE(b.crc_ok);
  EXPECT_TRUE(Append(*tablet, MakeWriterBatch(8, 24, 1 + 24 % 3)).duplicate);
}

TEST_F(LogRecoveryTest, LeftOverTemporaryFilesAreRemoved) {
  {
    auto tablet = OpenTablet();
    Append(*tablet, MakeBatch(1));
    ASSERT_TRUE(tablet->Close().ok());
  }
  std::string dir = dir_.Sub("log-0");
  ASSERT_TRUE(
      fs_.WriteFileAtomically(JoinPath(dir, "00000000000000000001.writer_snapshot.tmp"), "{").ok());
  ASSERT_TRUE(fs_.WriteFileAtomically(JoinPath(dir, "00000000000000000000.log.deleted"), "").ok());
  auto tablet = OpenTablet();
  EXPECT_FALSE(*fs_.Exists(JoinPath(dir, "00000000000000000001.writer_snapshot.tmp")));
  EXPECT_FALSE(*fs_.Exists(JoinPath(dir, "00000000000000000000.log.deleted")));
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(1));
}

TEST_F(LogRecoveryTest, PreallocatedSegmentsAreTrimmedAndRecovered) {
  config_.file_preallocate = true;
  config_.segment_file_size = 700;
  {
    auto tablet = OpenTablet();
    for (int i = 0; i < 15; ++i) Append(*tablet, MakeBatch(1, 16, i));
    EXPECT_EQ(*fs_.FileSize(LogFile("log-0", 10)), 700u);  // active: preallocated
    EXPECT_EQ(*fs_.FileSize(LogFile("log-0", 0)), 690u);   // sealed: trimmed
  }
  auto tablet = OpenTablet();  // unclean: the zero tail is cut
  EXPECT_EQ(tablet->log_end_offset(), LogOffset(15));
  EXPECT_EQ(Append(*tablet, MakeBatch(1)).first_offset, LogOffset(15));
  ASSERT_TRUE(tablet->Close().ok());
  EXPECT_EQ(*fs_.FileSize(LogFile("log-0", 10)), 6u * 69);
}

}  // namespace
}  // namespace strom::log
