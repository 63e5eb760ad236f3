// FollowerState's in-sync rules (Fluss FollowerReplicaState) and the leader-epoch file.

#include "replica/replica_state.h"

#include <gtest/gtest.h>

#include "log/fs/posix_file_system.h"
#include "log/log_test_util.h"

namespace strom::replica {
namespace {

using std::chrono::milliseconds;

TEST(FollowerStateTest, CaughtUpWhenItHadTheLeadersLogWithinTheMaxLag) {
  FollowerState f;
  // First fetch at the leader's log end: caught up now.
  f.UpdateFetchState(LogOffset(10), TimestampMs(1000), LogOffset(10));
  EXPECT_EQ(f.last_caught_up_time, TimestampMs(1000));
  EXPECT_TRUE(f.IsCaughtUp(LogOffset(10), TimestampMs(99999), milliseconds(100)));
  // The leader moves on; the follower still has what the leader had at its previous fetch,
  // so it was caught up at that previous fetch time.
  f.UpdateFetchState(LogOffset(10), TimestampMs(1500), LogOffset(20));
  EXPECT_EQ(f.last_caught_up_time, TimestampMs(1000));
  f.UpdateFetchState(LogOffset(20), TimestampMs(1600), LogOffset(30));
  EXPECT_EQ(f.last_caught_up_time, TimestampMs(1500));
  EXPECT_TRUE(f.IsCaughtUp(LogOffset(30), TimestampMs(1600), milliseconds(100)));
  // Behind for longer than the max lag: out of sync, unless it has the whole log.
  EXPECT_FALSE(f.IsCaughtUp(LogOffset(30), TimestampMs(1601), milliseconds(100)));
  EXPECT_TRUE(f.IsCaughtUp(LogOffset(20), TimestampMs(5000), milliseconds(100)));
  // Falling behind what the leader had at the previous fetch does not count as caught up.
  f.UpdateFetchState(LogOffset(21), TimestampMs(1700), LogOffset(40));
  EXPECT_EQ(f.last_caught_up_time, TimestampMs(1500));
  EXPECT_EQ(f.log_end_offset, LogOffset(21));
}

TEST(ReplicationStateTest, MaximalIsrCountsAPendingExpansionOnly) {
  ReplicationState s;
  s.isr = {ServerId(1), ServerId(2)};
  EXPECT_EQ(s.maximal_isr().size(), 2u);
  s.pending_isr = std::vector<ServerId>{ServerId(1), ServerId(2), ServerId(3)};
  s.pending_expand = true;
  EXPECT_EQ(s.maximal_isr().size(), 3u);
  s.pending_isr = std::vector<ServerId>{ServerId(1)};
  s.pending_expand = false;
  EXPECT_EQ(s.maximal_isr().size(), 2u);
  EXPECT_TRUE(s.isr_inflight());
}

TEST(EpochStartTest, FileRoundTripAndCorruption) {
  log::testing::TempDir dir;
  const std::string d = dir.Sub("t");
  log::FileSystem* fs = log::PosixFileSystem::Default();
  ASSERT_TRUE(fs->CreateDirs(d).ok());
  auto none = ReadEpochStart(fs, d);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(WriteEpochStart(fs, d, EpochStart{LeaderEpoch(7), LogOffset(1234)}).ok());
  auto read = ReadEpochStart(fs, d);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->epoch, LeaderEpoch(7));
  EXPECT_EQ((*read)->start_offset, LogOffset(1234));
  std::string junk = "strom-leader-epoch 1 x 5\n";
  ASSERT_TRUE(
      fs->WriteFileAtomically(d + "/leader-epoch-checkpoint", ByteView(junk.data(), junk.size()))
          .ok());
  EXPECT_EQ(ReadEpochStart(fs, d).status().code(), ErrorCode::kStorage);
}

}  // namespace
}  // namespace strom::replica
