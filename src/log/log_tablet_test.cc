#include "log/log_tablet.h"

#include <gtest/gtest.h>

#include <limits>

#include "common/config/options.h"
#include "common/crc32c.h"
#include "log/fs/fault_injection_file_system.h"
#include "log/fs/posix_file_system.h"
#include "log/log_file_names.h"
#include "log/log_test_util.h"

namespace strom::log {
namespace {

using testing::MakeBatch;
using testing::MakeWriterBatch;
using testing::ParseBatches;
using testing::ReadAllBatches;
using testing::TempDir;

constexpr int64_t kStart = 1'700'000'000'000;

class LogTabletTest : public ::testing::Test {
 protected:
  LogTabletTest() : clock_(TimestampMs(kStart)), fs_(PosixFileSystem::Default()) {
    config_ = testing::SmallConfig();
    // Crash simulation does not need real fsyncs; PosixFileSystem's are tested on their own.
    fs_.SetRealSyncs(false);
  }

  void Open() {
    tablet_.reset();
    LogTabletOptions options;
    options.dir = dir_.Sub("db/t-1/log-0");
    options.config = config_;
    options.fs = &fs_;
    options.clock = &clock_;
    auto tablet = LogTablet::Open(options);
    ASSERT_TRUE(tablet.ok()) << tablet.status().ToString();
    tablet_ = std::move(*tablet);
  }

  LogAppendInfo Append(ByteBuffer records) {
    auto info = tablet_->AppendAsLeader(std::span<char>(records.data(), records.size()));
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : LogAppendInfo{};
  }
  Status AppendStatus(ByteBuffer records) {
    return tablet_->AppendAsLeader(std::span<char>(records.data(), records.size())).status();
  }
  // Appends `n` single-record batches, moving the clock 1 ms before each.
  void AppendMany(int n, int row_bytes = 16) {
    for (int i = 0; i < n; ++i) {
      clock_.AdvanceMs(1);
      Append(MakeBatch(1, row_bytes, static_cast<uint32_t>(i)));
    }
  }

  std::string Dir() const { return dir_.Sub("db/t-1/log-0"); }

  TempDir dir_;
  ManualClock clock_;
  FaultInjectionFileSystem fs_;
  LogConfig config_;
  std::unique_ptr<LogTablet> tablet_;
};

TEST_F(LogTabletTest, AppendAssignsOffsetsAndOneCommitTimestampInPlace) {
  Open();
  EXPECT_EQ(tablet_->log_start_offset(), LogOffset(0));
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(0));
  ByteBuffer records = MakeBatch(2) + MakeBatch(1) + MakeBatch(3);
  auto info = tablet_->AppendAsLeader(std::span<char>(records.data(), records.size()));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->first_offset, LogOffset(0));
  EXPECT_EQ(info->last_offset, LogOffset(5));
  EXPECT_EQ(info->batch_count, 3);
  EXPECT_EQ(info->max_timestamp, TimestampMs(kStart));
  EXPECT_EQ(info->append_size, static_cast<int64_t>(records.size()));
  EXPECT_FALSE(info->duplicate);
  // The caller's bytes now carry the offsets and the timestamp, CRCs still valid.
  auto batches = ParseBatches(records);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1].base_offset, LogOffset(2));
  EXPECT_EQ(batches[2].base_offset, LogOffset(3));
  EXPECT_EQ(batches[2].last_offset, LogOffset(5));
  for (const auto& b : batches) {
    EXPECT_EQ(b.commit_timestamp, TimestampMs(kStart));
    EXPECT_TRUE(b.crc_ok);
  }
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(6));

  // The commit timestamp never goes back, even when the clock does.
  clock_.AdvanceMs(-500);
  LogAppendInfo second = Append(MakeBatch(1));
  EXPECT_EQ(second.first_offset, LogOffset(6));
  EXPECT_EQ(second.max_timestamp, TimestampMs(kStart));
  clock_.AdvanceMs(1000);
  EXPECT_EQ(Append(MakeBatch(1)).max_timestamp, TimestampMs(kStart + 500));
}

TEST_F(LogTabletTest, EmptyBatchOccupiesOneOffset) {
  Open();
  LogAppendInfo a = Append(MakeBatch(0));
  EXPECT_EQ(a.first_offset, LogOffset(0));
  EXPECT_EQ(a.last_offset, LogOffset(0));
  LogAppendInfo b = Append(MakeBatch(0) + MakeBatch(2));
  EXPECT_EQ(b.first_offset, LogOffset(1));
  EXPECT_EQ(b.last_offset, LogOffset(3));
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(4));
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(4)).ok());
  auto batches = ReadAllBatches(*tablet_, LogOffset(0));
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].record_count, 0);
  EXPECT_EQ(batches[1].base_offset, LogOffset(1));
  EXPECT_EQ(batches[1].record_count, 0);
  EXPECT_EQ(batches[2].base_offset, LogOffset(2));
}

TEST_F(LogTabletTest, RejectsCorruptBatchesAndAppendsNothing) {
  Open();
  Append(MakeBatch(1));
  int64_t size = tablet_->size_in_bytes();

  ByteBuffer bad_crc = MakeBatch(2);
  bad_crc[bad_crc.size() - 1] ^= 0x01;
  EXPECT_EQ(AppendStatus(MakeBatch(1) + bad_crc).code(), ErrorCode::kCorruptRecord);

  ByteBuffer partial = MakeBatch(1) + MakeBatch(1);
  partial.resize(partial.size() - 3);
  EXPECT_EQ(AppendStatus(partial).code(), ErrorCode::kCorruptRecord);

  ByteBuffer bad_magic = MakeBatch(1);
  bad_magic[record::kLogMagicOffset] = 7;
  EXPECT_EQ(AppendStatus(bad_magic).code(), ErrorCode::kCorruptRecord);

  // A last offset delta that disagrees with the record count (CRC recomputed to match).
  ByteBuffer bad_delta = MakeBatch(3);
  StoreI32LE(bad_delta.data() + record::kLogLayoutV0.last_offset_delta, 7);
  uint32_t crc = crc32c::Value(bad_delta.data() + record::kLogLayoutV0.schema_id,
                               bad_delta.size() - record::kLogLayoutV0.schema_id);
  StoreI32LE(bad_delta.data() + record::kLogLayoutV0.crc, static_cast<int32_t>(crc));
  EXPECT_EQ(AppendStatus(bad_delta).code(), ErrorCode::kCorruptRecord);

  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(1));
  EXPECT_EQ(tablet_->size_in_bytes(), size);

  // No batch at all: nothing happens.
  auto empty = tablet_->AppendAsLeader(std::span<char>());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->batch_count, 0);
  EXPECT_EQ(empty->first_offset, LogOffset(-1));
}

TEST_F(LogTabletTest, AcceptsMagicOneBatches) {
  Open();
  testing::BatchSpec spec;
  spec.magic = record::kLogMagicV1;
  spec.records = 2;
  LogAppendInfo info = Append(testing::MakeBatch(spec));
  EXPECT_EQ(info.last_offset, LogOffset(1));
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(2)).ok());
  auto batches = ReadAllBatches(*tablet_, LogOffset(0), FetchIsolation::kHighWatermark);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(batches[0].crc_ok);
}

TEST_F(LogTabletTest, ReadsAcrossSegmentsOneSegmentPerRead) {
  config_.segment_file_size = 700;  // ten 69-byte batches per segment
  Open();
  AppendMany(35);
  EXPECT_EQ(tablet_->segment_count(), 4u);
  EXPECT_EQ(tablet_->segment_base_offsets(),
            (std::vector<LogOffset>{LogOffset(0), LogOffset(10), LogOffset(20), LogOffset(30)}));
  ASSERT_TRUE(tablet_->UpdateHighWatermark(tablet_->log_end_offset()).ok());

  ReadParams params;
  params.fetch_offset = LogOffset(7);
  params.max_bytes = 1 << 20;
  auto read = tablet_->Read(params);
  ASSERT_TRUE(read.ok());
  auto batches = ParseBatches(read->records);
  ASSERT_EQ(batches.size(), 3u);  // stops at the end of the first segment
  EXPECT_EQ(batches.front().base_offset, LogOffset(7));
  EXPECT_EQ(read->fetch_offset_metadata.segment_base_offset, LogOffset(0));
  EXPECT_EQ(read->fetch_offset_metadata.position, 7 * 69);

  for (int from = 0; from < 35; ++from) {
    auto all = ReadAllBatches(*tablet_, LogOffset(from), FetchIsolation::kHighWatermark);
    ASSERT_EQ(all.size(), static_cast<size_t>(35 - from));
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].base_offset, LogOffset(from + static_cast<int64_t>(i)));
      EXPECT_TRUE(all[i].crc_ok);
    }
  }

  params.fetch_offset = kEarliestOffset;
  read = tablet_->Read(params);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(ParseBatches(read->records).front().base_offset, LogOffset(0));

  params.fetch_offset = LogOffset(35);  // the log end: empty
  read = tablet_->Read(params);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());
  params.fetch_offset = LogOffset(36);
  EXPECT_EQ(tablet_->Read(params).status().code(), ErrorCode::kLogOffsetOutOfRange);
  params.fetch_offset = LogOffset(-1);
  EXPECT_EQ(tablet_->Read(params).status().code(), ErrorCode::kLogOffsetOutOfRange);
}

TEST_F(LogTabletTest, ReadStopsAtTheHighWatermark) {
  Open();
  AppendMany(10);
  ReadParams params;
  params.fetch_offset = LogOffset(0);
  auto read = tablet_->Read(params);  // high watermark still 0
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(4)).ok());
  EXPECT_EQ(ReadAllBatches(*tablet_, LogOffset(0), FetchIsolation::kHighWatermark).size(), 4u);
  read = tablet_->Read(params);
  EXPECT_EQ(ParseBatches(read->records).size(), 4u);
  params.fetch_offset = LogOffset(6);  // past the high watermark but inside the log
  read = tablet_->Read(params);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());
  params.isolation = FetchIsolation::kLogEnd;
  EXPECT_EQ(ParseBatches(tablet_->Read(params)->records).size(), 4u);

  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(100)).ok());  // capped at the end
  EXPECT_EQ(tablet_->high_watermark(), LogOffset(10));
  EXPECT_FALSE(*tablet_->MaybeIncrementHighWatermark(LogOffset(9)));
  EXPECT_FALSE(tablet_->MaybeIncrementHighWatermark(LogOffset(11)).ok());
}

TEST_F(LogTabletTest, ReadBudgetAndMinOneBatch) {
  Open();
  Append(MakeBatch(10, 100));  // one 1098-byte batch
  Append(MakeBatch(1));
  ASSERT_TRUE(tablet_->UpdateHighWatermark(tablet_->log_end_offset()).ok());
  ReadParams params;
  params.fetch_offset = LogOffset(3);  // inside the first batch
  params.max_bytes = 100;
  params.min_one_batch = true;
  auto read = tablet_->Read(params);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->records.size(), 1098u);
  EXPECT_EQ(ParseBatches(read->records)[0].base_offset, LogOffset(0));
  params.min_one_batch = false;
  read = tablet_->Read(params);
  EXPECT_EQ(read->records.size(), 100u);  // a cut batch, as Fluss returns it
}

TEST_F(LogTabletTest, ZeroCopyReadFallsBackToBytesWhenTheFileCannotBeShared) {
  Open();  // FaultInjectionFileSystem's files have no descriptor to share
  AppendMany(5);
  ASSERT_TRUE(tablet_->UpdateHighWatermark(tablet_->log_end_offset()).ok());
  ReadParams params;
  params.fetch_offset = LogOffset(0);
  params.zero_copy = true;
  auto read = tablet_->Read(params);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->slice.has_value());
  EXPECT_EQ(ParseBatches(read->records).size(), 5u);
  EXPECT_EQ(read->size(), read->records.size());
}

TEST_F(LogTabletTest, RollsBySizeTimeAndFullIndex) {
  config_.segment_file_size = 1 << 20;
  config_.segment_roll_time = std::chrono::milliseconds(60'000);
  Open();
  AppendMany(3);  // the first batch has timestamp kStart + 1
  EXPECT_EQ(tablet_->segment_count(), 1u);
  clock_.Set(TimestampMs(kStart + 1 + 60'000));  // exactly the roll time: not yet
  Append(MakeBatch(1));
  EXPECT_EQ(tablet_->segment_count(), 1u);
  clock_.AdvanceMs(1);
  Append(MakeBatch(1));
  EXPECT_EQ(tablet_->segment_base_offsets(), (std::vector<LogOffset>{LogOffset(0), LogOffset(4)}));
}

TEST_F(LogTabletTest, RollsWhenAnIndexIsFull) {
  // 24-byte index files hold 3 offset and 2 time entries; the time index counts as full
  // one entry early, so at 1. With a zero interval every append but a segment's first adds
  // an entry: each segment takes two appends.
  config_.index_file_size = 24;
  config_.index_interval_size = 0;
  Open();
  AppendMany(6);
  EXPECT_EQ(tablet_->segment_base_offsets(),
            (std::vector<LogOffset>{LogOffset(0), LogOffset(2), LogOffset(4)}));
}

TEST_F(LogTabletTest, ExplicitRollTrimsIndexesAndSnapshotsWriters) {
  Open();
  AppendMany(8);
  ASSERT_TRUE(tablet_->Roll().ok());
  EXPECT_EQ(tablet_->segment_base_offsets(), (std::vector<LogOffset>{LogOffset(0), LogOffset(8)}));
  EXPECT_EQ(tablet_->recovery_point(), LogOffset(8));
  // The sealed segment's indexes are trimmed to their entries (one here, at offset 4).
  EXPECT_EQ(*fs_.FileSize(JoinPath(Dir(), OffsetFileName(LogOffset(0), kIndexFileSuffix))), 8u);
  EXPECT_EQ(*fs_.FileSize(JoinPath(Dir(), OffsetFileName(LogOffset(0), kTimeIndexFileSuffix))),
            12u);
  // The new one is preallocated.
  EXPECT_EQ(*fs_.FileSize(JoinPath(Dir(), OffsetFileName(LogOffset(8), kIndexFileSuffix))), 1024u);
  EXPECT_TRUE(
      *fs_.Exists(JoinPath(Dir(), OffsetFileName(LogOffset(8), kWriterSnapshotFileSuffix))));
  // Rolling an empty active segment again starts it over in place.
  ASSERT_TRUE(tablet_->Roll().ok());
  EXPECT_EQ(tablet_->segment_count(), 2u);
}

TEST_F(LogTabletTest, ListOffsetsByTypeAndTimestamp) {
  config_.segment_file_size = 700;
  Open();
  for (int i = 0; i < 30; ++i) {
    clock_.AdvanceMs(10);  // batch i has timestamp kStart + 10 * (i + 1)
    Append(MakeBatch(1));
  }
  clock_.AdvanceMs(100);
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(25)).ok());
  EXPECT_EQ(*tablet_->ListOffset(OffsetSpec::kEarliest), LogOffset(0));
  EXPECT_EQ(*tablet_->ListOffset(OffsetSpec::kLatest), LogOffset(25));
  EXPECT_EQ(*tablet_->ListOffset(OffsetSpec::kLatest, TimestampMs(-1), true), LogOffset(30));
  auto by_ts = [&](int64_t ts) {
    auto r = tablet_->ListOffset(OffsetSpec::kTimestamp, TimestampMs(ts));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->value() : -1;
  };
  EXPECT_EQ(by_ts(0), 0);
  EXPECT_EQ(by_ts(kStart + 10), 0);
  EXPECT_EQ(by_ts(kStart + 11), 1);
  EXPECT_EQ(by_ts(kStart + 150), 14);
  EXPECT_EQ(by_ts(kStart + 151), 15);
  EXPECT_EQ(by_ts(kStart + 300), 29);
  EXPECT_EQ(by_ts(kStart + 301), 25);  // newer than every batch, not in the future: latest
  EXPECT_EQ(tablet_->ListOffset(OffsetSpec::kTimestamp, TimestampMs(kStart + 301)).value(),
            LogOffset(25));
  EXPECT_EQ(by_ts(kStart + 400), 25);  // now
  EXPECT_EQ(tablet_->ListOffset(OffsetSpec::kTimestamp, TimestampMs(kStart + 401)).status().code(),
            ErrorCode::kInvalidTimestamp);
  EXPECT_EQ(tablet_->LookupOffsetForTimestamp(TimestampMs(kStart + 301)).status().code(),
            ErrorCode::kInvalidTimestamp);
}

TEST_F(LogTabletTest, RetentionByTtlDeletesOldSealedSegments) {
  config_.segment_file_size = 700;
  config_.ttl = std::chrono::milliseconds(1000);
  Open();
  AppendMany(10);  // segment 0: timestamps up to kStart + 10
  clock_.AdvanceMs(500);
  AppendMany(10);  // segment 10: up to kStart + 520
  clock_.AdvanceMs(500);
  AppendMany(5);  // active segment 20
  ASSERT_EQ(tablet_->segment_count(), 3u);
  ASSERT_TRUE(tablet_->UpdateHighWatermark(tablet_->log_end_offset()).ok());

  clock_.Set(TimestampMs(kStart + 10 + 1000));  // exactly the TTL: kept
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 0);
  clock_.AdvanceMs(1);
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 1);
  EXPECT_EQ(tablet_->log_start_offset(), LogOffset(10));
  ReadParams params;
  params.fetch_offset = LogOffset(5);
  EXPECT_EQ(tablet_->Read(params).status().code(), ErrorCode::kLogOffsetOutOfRange);
  params.fetch_offset = kEarliestOffset;
  EXPECT_EQ(ParseBatches(tablet_->Read(params)->records).front().base_offset, LogOffset(10));
  EXPECT_FALSE(*fs_.Exists(JoinPath(Dir(), OffsetFileName(LogOffset(0), kLogFileSuffix))));
  EXPECT_FALSE(*fs_.Exists(JoinPath(Dir(), OffsetFileName(LogOffset(0), kIndexFileSuffix))));

  // The active segment is never deleted, however old.
  clock_.AdvanceMs(1'000'000);
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 1);
  EXPECT_EQ(tablet_->segment_base_offsets(), std::vector<LogOffset>{LogOffset(20)});
  EXPECT_EQ(*tablet_->ListOffset(OffsetSpec::kEarliest), LogOffset(20));
}

TEST_F(LogTabletTest, RetentionStaysBelowTheHighWatermarkAndMinRetainOffset) {
  config_.segment_file_size = 700;
  config_.ttl = std::chrono::milliseconds(1000);
  Open();
  AppendMany(25);
  clock_.AdvanceMs(10'000);
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(15)).ok());
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 1);  // segment 10..19 is not wholly committed
  EXPECT_EQ(tablet_->log_start_offset(), LogOffset(10));
}

TEST_F(LogTabletTest, ChangelogKeepsSegmentsUntilMinRetainOffset) {
  config_.segment_file_size = 700;
  config_.ttl = std::chrono::milliseconds(1000);
  tablet_.reset();
  LogTabletOptions options;
  options.dir = Dir();
  options.config = config_;
  options.fs = &fs_;
  options.clock = &clock_;
  options.is_changelog = true;
  tablet_ = std::move(*LogTablet::Open(options));
  AppendMany(25);
  clock_.AdvanceMs(10'000);
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(25)).ok());
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 0);
  tablet_->SetMinRetainOffset(LogOffset(12));
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 1);
  tablet_->SetMinRetainOffset(LogOffset(5));  // never lowered
  tablet_->SetMinRetainOffset(LogOffset(20));
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 1);
}

TEST_F(LogTabletTest, RetentionBySize) {
  config_.segment_file_size = 700;  // 690 bytes per full segment
  config_.retention_bytes = 1500;
  Open();
  AppendMany(45);  // segments 0, 10, 20, 30 (690 each) and 40 (345)
  ASSERT_TRUE(tablet_->UpdateHighWatermark(tablet_->log_end_offset()).ok());
  EXPECT_EQ(tablet_->size_in_bytes(), 45 * 69);
  // 3105 bytes; deleting two full segments leaves 1725 >= 1500, a third would leave 1035.
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 2);
  EXPECT_EQ(tablet_->log_start_offset(), LogOffset(20));
  EXPECT_EQ(tablet_->size_in_bytes(), 25 * 69);
  EXPECT_EQ(*tablet_->DeleteExpiredSegments(), 0);
  ASSERT_TRUE(tablet_->Maintain().ok());
  EXPECT_EQ(tablet_->segment_count(), 3u);
}

TEST_F(LogTabletTest, IdempotentDuplicatesReturnOriginalOffsets) {
  Open();
  Append(MakeBatch(2));  // offsets 0-1, no writer
  LogAppendInfo s0 = Append(MakeWriterBatch(77, 0, 3));
  LogAppendInfo s1 = Append(MakeWriterBatch(77, 1, 1));
  EXPECT_EQ(s0.first_offset, LogOffset(2));
  EXPECT_EQ(s1.first_offset, LogOffset(5));
  int64_t size = tablet_->size_in_bytes();

  clock_.AdvanceMs(100);
  LogAppendInfo dup = Append(MakeWriterBatch(77, 0, 3));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.first_offset, LogOffset(2));
  EXPECT_EQ(dup.last_offset, LogOffset(4));
  EXPECT_EQ(dup.max_timestamp, s0.max_timestamp);
  EXPECT_EQ(dup.append_size, 0);
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(6));
  EXPECT_EQ(tablet_->size_in_bytes(), size);

  EXPECT_FALSE(Append(MakeWriterBatch(77, 2)).duplicate);
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(7));
}

TEST_F(LogTabletTest, OutOfOrderSequencesAreRejected) {
  Open();
  EXPECT_EQ(AppendStatus(MakeWriterBatch(5, 1)).code(), ErrorCode::kOutOfOrderSequence);
  Append(MakeWriterBatch(5, 0));
  EXPECT_EQ(AppendStatus(MakeWriterBatch(5, 2)).code(), ErrorCode::kOutOfOrderSequence);
  // Within one append the sequence must also advance batch by batch.
  EXPECT_EQ(AppendStatus(MakeWriterBatch(5, 1) + MakeWriterBatch(5, 3)).code(),
            ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(1));
  LogAppendInfo two = Append(MakeWriterBatch(5, 1) + MakeWriterBatch(5, 2));
  EXPECT_EQ(two.last_offset, LogOffset(2));
  // Other writers are independent.
  Append(MakeWriterBatch(6, 0));
  EXPECT_EQ(tablet_->writer_state().writer_count(), 2u);

  // Only five batches are remembered: sequence 1 is no longer a duplicate but a gap.
  for (int s = 3; s <= 7; ++s) Append(MakeWriterBatch(5, s));
  EXPECT_EQ(AppendStatus(MakeWriterBatch(5, 2)).code(), ErrorCode::kOutOfOrderSequence);
  EXPECT_TRUE(Append(MakeWriterBatch(5, 3)).duplicate);
}

TEST_F(LogTabletTest, SequenceWrapsFromIntMaxToZero) {
  Open();
  // A follower append installs state ending at INT32_MAX - 1 (followers accept any first
  // sequence from an unknown writer).
  ByteBuffer start = MakeWriterBatch(9, std::numeric_limits<int32_t>::max() - 1);
  ASSERT_TRUE(tablet_->AppendAsFollower(start).ok());
  Append(MakeWriterBatch(9, std::numeric_limits<int32_t>::max()));
  LogAppendInfo wrapped = Append(MakeWriterBatch(9, 0));
  EXPECT_FALSE(wrapped.duplicate);
  EXPECT_EQ(wrapped.first_offset, LogOffset(2));
}

TEST_F(LogTabletTest, ExpiredWritersAreForgotten) {
  config_.writer_id_expiration_time = std::chrono::milliseconds(10'000);
  config_.writer_id_expiration_check_interval = std::chrono::milliseconds(1000);
  Open();
  Append(MakeWriterBatch(3, 0));
  Append(MakeWriterBatch(3, 1));
  clock_.AdvanceMs(10'001);
  ASSERT_TRUE(tablet_->Maintain().ok());
  EXPECT_EQ(tablet_->writer_state().writer_count(), 0u);
  // As in Fluss, a leader only accepts sequence 0 from a writer it does not know.
  EXPECT_EQ(AppendStatus(MakeWriterBatch(3, 2)).code(), ErrorCode::kOutOfOrderSequence);
  EXPECT_FALSE(Append(MakeWriterBatch(3, 0)).duplicate);
}

TEST_F(LogTabletTest, FollowerAppendKeepsOffsetsAndTimestamps) {
  Open();
  ByteBuffer leader_bytes = MakeBatch(2) + MakeWriterBatch(4, 0);
  {
    // Stamp the bytes as a leader would: offsets 0-2, timestamp 1234.
    size_t pos = 0;
    int64_t next = 0;
    while (pos < leader_bytes.size()) {
      auto b = record::MutableLogRecordBatch::Parse(
          std::span<char>(leader_bytes.data() + pos, leader_bytes.size() - pos));
      ASSERT_TRUE(b.ok());
      b->SetBaseOffset(LogOffset(next));
      b->SetCommitTimestamp(TimestampMs(1234));
      next = b->view().next_offset().value();
      pos += b->view().size_in_bytes();
    }
  }
  auto info = tablet_->AppendAsFollower(leader_bytes);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->first_offset, LogOffset(0));
  EXPECT_EQ(info->last_offset, LogOffset(2));
  EXPECT_EQ(info->max_timestamp, TimestampMs(1234));
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(3));
  EXPECT_EQ(tablet_->max_timestamp(), TimestampMs(1234));
  // Replaying the same bytes: offsets behind the log end.
  EXPECT_FALSE(tablet_->AppendAsFollower(leader_bytes).ok());
  // A repeated idempotent batch at a new offset is a duplicate.
  ByteBuffer again = MakeWriterBatch(4, 0);
  auto b = record::MutableLogRecordBatch::Parse(std::span<char>(again.data(), again.size()));
  b->SetBaseOffset(LogOffset(3));
  EXPECT_EQ(tablet_->AppendAsFollower(again).status().code(), ErrorCode::kDuplicateSequence);
}

TEST_F(LogTabletTest, TruncateToRebuildsWriterState) {
  config_.segment_file_size = 700;
  Open();
  for (int s = 0; s < 25; ++s) Append(MakeWriterBatch(1, s));  // offsets = sequences
  ASSERT_TRUE(tablet_->UpdateHighWatermark(LogOffset(25)).ok());
  ASSERT_EQ(tablet_->segment_count(), 3u);
  EXPECT_FALSE(*tablet_->TruncateTo(LogOffset(25)));
  ASSERT_TRUE(*tablet_->TruncateTo(LogOffset(13)));
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(13));
  EXPECT_EQ(tablet_->high_watermark(), LogOffset(13));
  EXPECT_EQ(tablet_->segment_base_offsets(), (std::vector<LogOffset>{LogOffset(0), LogOffset(10)}));
  EXPECT_FALSE(*fs_.Exists(JoinPath(Dir(), OffsetFileName(LogOffset(20), kLogFileSuffix))));
  // Sequence 13 was cut away: it is the next one again, not a duplicate.
  LogAppendInfo next = Append(MakeWriterBatch(1, 13));
  EXPECT_FALSE(next.duplicate);
  EXPECT_EQ(next.first_offset, LogOffset(13));
  EXPECT_TRUE(Append(MakeWriterBatch(1, 12)).duplicate);
  EXPECT_EQ(ReadAllBatches(*tablet_, LogOffset(0)).size(), 14u);

  ASSERT_TRUE(tablet_->TruncateFullyAndStartAt(LogOffset(500)).ok());
  EXPECT_EQ(tablet_->log_start_offset(), LogOffset(500));
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(500));
  EXPECT_EQ(tablet_->high_watermark(), LogOffset(500));
  EXPECT_EQ(tablet_->segment_base_offsets(), std::vector<LogOffset>{LogOffset(500)});
  EXPECT_EQ(tablet_->writer_state().writer_count(), 0u);
  EXPECT_EQ(Append(MakeWriterBatch(1, 0)).first_offset, LogOffset(500));
  // Truncating below the first segment restarts the log there.
  ASSERT_TRUE(*tablet_->TruncateTo(LogOffset(100)));
  EXPECT_EQ(tablet_->log_start_offset(), LogOffset(100));
  EXPECT_EQ(tablet_->log_end_offset(), LogOffset(100));
}

TEST_F(LogTabletTest, FlushIntervalMessagesMovesTheRecoveryPoint) {
  config_.flush_interval_messages = 3;
  Open();
  AppendMany(2);
  EXPECT_EQ(tablet_->recovery_point(), LogOffset(0));
  AppendMany(1);
  EXPECT_EQ(tablet_->recovery_point(), LogOffset(3));
  AppendMany(1);
  EXPECT_EQ(tablet_->recovery_point(), LogOffset(3));
  ASSERT_TRUE(tablet_->Flush().ok());
  EXPECT_EQ(tablet_->recovery_point(), LogOffset(4));
}

TEST_F(LogTabletTest, ClosedTabletRejectsCalls) {
  Open();
  AppendMany(1);
  ASSERT_TRUE(tablet_->Close().ok());
  EXPECT_EQ(AppendStatus(MakeBatch(1)).code(), ErrorCode::kLogStorage);
  ReadParams params;
  params.fetch_offset = LogOffset(0);
  EXPECT_EQ(tablet_->Read(params).status().code(), ErrorCode::kLogStorage);
}

TEST_F(LogTabletTest, DropDeletesTheDirectory) {
  Open();
  AppendMany(3);
  ASSERT_TRUE(tablet_->Drop().ok());
  EXPECT_FALSE(*fs_.Exists(Dir()));
}

TEST_F(LogTabletTest, ConfigValidation) {
  LogConfig bad = testing::SmallConfig();
  bad.segment_file_size = int64_t{1} << 32;
  EXPECT_EQ(bad.Validate().code(), ErrorCode::kInvalidConfig);
  bad = testing::SmallConfig();
  bad.index_file_size = 12;
  EXPECT_EQ(bad.Validate().code(), ErrorCode::kInvalidConfig);
  config::Configuration conf;
  ASSERT_TRUE(conf.Set("log.segment.file-size", "2mb").ok());
  ASSERT_TRUE(conf.Set("log.index.interval-size", "8kb").ok());
  ASSERT_TRUE(conf.Set(config::kLogSegmentRollTime.key(), "1 h").ok());
  ASSERT_TRUE(conf.Set(config::kTableLogRetentionSize.key(), "1gb").ok());
  auto parsed = LogConfig::FromConfiguration(conf);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->segment_file_size, 2 << 20);
  EXPECT_EQ(parsed->index_interval_size, 8 << 10);
  EXPECT_EQ(parsed->index_file_size, 10 << 20);
  EXPECT_EQ(parsed->segment_roll_time, std::chrono::hours(1));
  EXPECT_EQ(parsed->retention_bytes, int64_t{1} << 30);
  EXPECT_EQ(parsed->ttl, std::chrono::hours(24 * 7));
  EXPECT_EQ(parsed->flush_interval_messages, std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace strom::log
