// A follower's KvTablet as hot standby: it applies the leader's replicated changelog up to
// its high watermark, takes over as leader without replaying the changelog, hands back, and
// rebuilds from an older checkpoint when its log is cut below its state.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kv/kv_tablet.h"
#include "kv/kv_test_util.h"
#include "log/fs/posix_file_system.h"

namespace strom::kv {
namespace {

using record::Datum;
using record::GenericRow;
using testing::KvHarness;
using testing::KvOp;

using testing::two_columns::Key;
using testing::two_columns::Row;
using testing::two_columns::TwoColumns;

using State = std::map<ByteBuffer, ByteBuffer>;
using testing::StoredState;

/// A second replica of the harness's bucket: its own log (filled with the leader's batches
/// as a fetcher would) and a KvTablet opened with OpenStorage, as the replica manager does.
class Follower {
 public:
  explicit Follower(KvHarness& leader) : leader_(leader) {}

  Status OpenLog() {
    log::LogTabletOptions options;
    options.dir = dir_.path() + "/log-0";
    options.config = log::testing::SmallConfig();
    options.config.segment_file_size = 64 * 1024;
    options.is_changelog = true;
    STROM_ASSIGN_OR_RETURN(log_, log::LogTablet::Open(options));
    return Status::OK();
  }
  Status OpenKv() {
    KvTabletOptions options = leader_.options();
    options.dir = dir_.path() + "/kv-0";
    options.log = log_.get();
    STROM_ASSIGN_OR_RETURN(kv_, KvTablet::OpenStorage(options, log_->log_start_offset(),
                                                      log_->log_end_offset()));
    return Status::OK();
  }
  /// Copies the leader's batches this log lacks.
  Status Fetch() {
    ByteBuffer raw;
    log::testing::ReadAllBatches(leader_.log(), log_->log_end_offset(),
                                 log::FetchIsolation::kLogEnd, &raw);
    if (raw.empty()) return Status::OK();
    return log_->AppendAsFollower(raw).status();
  }
  /// Applies up to `hw` in steps of `step_bytes`; returns the number of calls.
  Result<int> ApplyTo(LogOffset hw, int64_t step_bytes) {
    STROM_RETURN_IF_ERROR(log_->UpdateHighWatermark(hw));
    int calls = 0;
    while (true) {
      ++calls;
      STROM_ASSIGN_OR_RETURN(bool done, kv_->ApplyCommittedChangelog(log_->high_watermark(),
                                                                     step_bytes));
      if (done) return calls;
    }
  }

  log::LogTablet& log() { return *log_; }
  KvTablet& kv() { return *kv_; }
  std::unique_ptr<KvTablet>& kv_ptr() { return kv_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  KvHarness& leader_;
  log::testing::TempDir dir_;
  std::unique_ptr<log::LogTablet> log_;
  std::unique_ptr<KvTablet> kv_;
};

TEST(KvStandbyTest, FollowerAppliesOnlyTheCommittedChangelog) {
  KvHarness leader(TwoColumns(), {});
  STROM_ASSERT_OK(leader.Open());
  // Several batches, so that stepwise application stops between them.
  std::vector<LogOffset> ends;
  std::vector<State> states;
  for (int round = 0; round < 20; ++round) {
    std::vector<KvOp> ops;
    for (int i = 0; i < 50; ++i) {
      ops.push_back(KvOp::Upsert(Row((round * 37 + i) % 300, "r" + std::to_string(round))));
    }
    if (round % 3 == 2) ops.push_back(KvOp::Delete(Key(round)));
    ASSERT_TRUE(leader.Put(ops).ok());
    ends.push_back(leader.log().log_end_offset());
    states.push_back(StoredState(leader.kv()));
  }
  Follower follower(leader);
  STROM_ASSERT_OK(follower.OpenLog());
  STROM_ASSERT_OK(follower.OpenKv());
  EXPECT_FALSE(follower.kv().is_leader());
  STROM_ASSERT_OK(follower.Fetch());
  ASSERT_EQ(follower.log().log_end_offset(), leader.log().log_end_offset());

  // The high watermark bounds what is applied, even when the log holds more.
  auto calls = follower.ApplyTo(ends[6], /*step_bytes=*/512);
  ASSERT_TRUE(calls.ok()) << calls.status().ToString();
  EXPECT_GT(*calls, 1);
  EXPECT_EQ(follower.kv().flushed_log_offset(), ends[6]);
  EXPECT_EQ(StoredState(follower.kv()), states[6]);

  calls = follower.ApplyTo(ends.back(), /*step_bytes=*/0);
  ASSERT_TRUE(calls.ok()) << calls.status().ToString();
  EXPECT_EQ(*calls, 1);
  EXPECT_EQ(StoredState(follower.kv()), states.back());
  EXPECT_EQ(*follower.kv().RowCount(), *leader.kv().RowCount());
  EXPECT_EQ(follower.kv().applied_record_count(), leader.log().log_end_offset().value());
  EXPECT_EQ(follower.kv().recovered_record_count(), 0);
  // A follower neither writes nor flushes a buffer.
  EXPECT_EQ(follower.kv().PutAsLeader(leader.Batch({KvOp::Upsert(Row(1, "x"))})).status().code(),
            ErrorCode::kNotLeaderOrFollower);
  EXPECT_FALSE(follower.kv().FlushUpTo(follower.log().log_end_offset()).ok());
}

TEST(KvStandbyTest, CaughtUpFollowerBecomesLeaderWithoutReplay) {
  KvHarness leader(TwoColumns(), {});
  STROM_ASSERT_OK(leader.Open());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(leader.Put({KvOp::Upsert(Row(i, "a" + std::to_string(i)))}).ok());
  }
  const LogOffset committed = leader.log().log_end_offset();
  // An uncommitted write the follower fetched but did not apply.
  ASSERT_TRUE(leader.kv().PutAsLeader(leader.Batch({KvOp::Upsert(Row(5, "pending"))})).ok());
  Follower follower(leader);
  STROM_ASSERT_OK(follower.OpenLog());
  STROM_ASSERT_OK(follower.OpenKv());
  STROM_ASSERT_OK(follower.Fetch());
  ASSERT_TRUE(follower.ApplyTo(committed, 4096).ok());
  // The leader's RocksDB holds the committed state only, as the follower's does.
  EXPECT_EQ(StoredState(follower.kv()), StoredState(leader.kv()));

  STROM_ASSERT_OK(follower.kv().BecomeLeader());
  EXPECT_TRUE(follower.kv().is_leader());
  // Only the uncommitted tail (-U/+U of key 5) was read, into the buffer.
  EXPECT_EQ(follower.kv().recovered_record_count(), 2);
  EXPECT_EQ(follower.kv().pre_write_buffer().entry_count(), 1u);
  EXPECT_EQ(follower.kv().flushed_log_offset(), committed);
  // A write merges against the buffered tail, and commits like any leader's.
  auto put = follower.kv().PutAsLeader(leader.Batch({KvOp::Upsert(Row(5, "new"))}));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->append.first_offset, leader.log().log_end_offset());
  STROM_ASSERT_OK(follower.log().UpdateHighWatermark(follower.log().log_end_offset()));
  STROM_ASSERT_OK(follower.kv().FlushUpTo(follower.log().high_watermark()));
  EXPECT_EQ(*follower.kv().RowCount(), 200);
  ByteBuffer key = leader.Key(Key(5));
  ByteView view = key;
  auto found = follower.kv().Lookup(std::span<const ByteView>(&view, 1));
  ASSERT_TRUE(found.ok() && (*found)[0]);
  EXPECT_EQ(leader.DecodeValue(*(*found)[0])[1], Datum("new"));
}

TEST(KvStandbyTest, LeaderFollowerLeaderCycle) {
  KvHarness h(TwoColumns(), {});
  STROM_ASSERT_OK(h.Open());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "a")), KvOp::Upsert(Row(2, "b"))}).ok());
  const LogOffset committed = h.log().log_end_offset();
  ASSERT_TRUE(h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "lost"))})).ok());
  const State state = StoredState(h.kv());

  // Leader to follower: the uncommitted change goes with the buffer, and the next leader
  // cuts it off the log.
  h.kv().BecomeFollower();
  EXPECT_FALSE(h.kv().is_leader());
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
  ASSERT_TRUE(h.log().TruncateTo(committed).ok());
  // The new leader's writes arrive by replication.
  KvHarness other(TwoColumns(), {});
  STROM_ASSERT_OK(other.Open());
  ByteBuffer raw;
  log::testing::ReadAllBatches(h.log(), LogOffset(0), log::FetchIsolation::kLogEnd, &raw);
  ASSERT_TRUE(other.log().AppendAsFollower(raw).ok());
  other.Crash();
  STROM_ASSERT_OK(other.Open());
  ASSERT_TRUE(other.Put({KvOp::Upsert(Row(2, "c")), KvOp::Upsert(Row(3, "d"))}).ok());
  raw.clear();
  log::testing::ReadAllBatches(other.log(), committed, log::FetchIsolation::kLogEnd, &raw);
  ASSERT_TRUE(h.log().AppendAsFollower(raw).ok());
  STROM_ASSERT_OK(h.log().UpdateHighWatermark(h.log().log_end_offset()));
  auto applied = h.kv().ApplyCommittedChangelog(h.log().high_watermark(), 0);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(StoredState(h.kv()), StoredState(other.kv()));
  EXPECT_NE(StoredState(h.kv()), state);

  // And leader again, without reopening.
  STROM_ASSERT_OK(h.kv().BecomeLeader());
  EXPECT_EQ(h.kv().recovered_record_count(), 0);
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "e"))}).ok());
  EXPECT_EQ((*h.Get(Key(1)))[1], Datum("e"));
  EXPECT_EQ((*h.Get(Key(2)))[1], Datum("c"));
  EXPECT_EQ(*h.kv().RowCount(), 3);
}

TEST(KvStandbyTest, TruncationBelowTheStateRebuildsFromAnOlderCheckpoint) {
  KvHarness leader(TwoColumns(), {});
  STROM_ASSERT_OK(leader.Open());
  Follower follower(leader);
  STROM_ASSERT_OK(follower.OpenLog());
  STROM_ASSERT_OK(follower.OpenKv());
  std::vector<LogOffset> ends;
  std::vector<State> states;
  for (int round = 0; round < 6; ++round) {
    ASSERT_TRUE(leader.Put({KvOp::Upsert(Row(round % 4, "r" + std::to_string(round))),
                            KvOp::Upsert(Row(10 + round, "x"))})
                    .ok());
    ends.push_back(leader.log().log_end_offset());
    states.push_back(StoredState(leader.kv()));
    STROM_ASSERT_OK(follower.Fetch());
    ASSERT_TRUE(follower.ApplyTo(follower.log().log_end_offset(), 0).ok());
    // Checkpoints after rounds 1 and 4 (both kept).
    if (round == 1 || round == 4) {
      ASSERT_TRUE(follower.kv().TakeCheckpoint().ok());
    }
  }
  EXPECT_EQ(StoredState(follower.kv()), states.back());

  // The log is cut to the end of round 2, below what RocksDB holds.
  const LogOffset cut = ends[2];
  ASSERT_TRUE(follower.log().TruncateTo(cut).ok());
  auto applied = follower.kv().ApplyCommittedChangelog(follower.log().high_watermark(), 0);
  EXPECT_EQ(applied.status().code(), ErrorCode::kKvStorage);
  EXPECT_EQ(follower.kv().BecomeLeader().code(), ErrorCode::kKvStorage);

  // The replica layer drops the tablet, discards the checkpoint of round 4 and reopens.
  follower.kv_ptr().reset();
  auto discarded = KvTablet::DiscardCheckpointsAbove(follower.dir() + "/kv-0", nullptr, cut);
  ASSERT_TRUE(discarded.ok()) << discarded.status().ToString();
  EXPECT_EQ(*discarded, 1);
  STROM_ASSERT_OK(follower.OpenKv());
  EXPECT_EQ(follower.kv().flushed_log_offset(), ends[1]);
  ASSERT_TRUE(follower.ApplyTo(follower.log().log_end_offset(), 0).ok());
  EXPECT_EQ(StoredState(follower.kv()), states[2]);
  EXPECT_EQ(follower.kv().applied_record_count(), cut.value() - ends[1].value());
}

TEST(KvStandbyTest, OpenDiscardsCheckpointsBeyondTheLogEnd) {
  KvHarness h(TwoColumns(), {});
  STROM_ASSERT_OK(h.Open());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "a"))}).ok());
  ASSERT_TRUE(h.kv().TakeCheckpoint().ok());
  const LogOffset first = h.log().log_end_offset();
  const State state = StoredState(h.kv());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "b")), KvOp::Upsert(Row(2, "c"))}).ok());
  ASSERT_TRUE(h.kv().TakeCheckpoint().ok());
  // A crash after the log was cut back and before the newer checkpoint went with it.
  h.Crash();
  {
    log::LogTabletOptions options;
    options.dir = h.root() + "/log-0";
    options.config = log::testing::SmallConfig();
    options.config.segment_file_size = 64 * 1024;
    options.is_changelog = true;
    auto log = log::LogTablet::Open(options);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->TruncateTo(first).ok());
    STROM_ASSERT_OK((*log)->Close());
  }
  STROM_ASSERT_OK(h.Open());
  EXPECT_EQ(StoredState(h.kv()), state);
  EXPECT_EQ(h.kv().recovered_record_count(), 0);
  KvCheckpointStore store(h.root() + "/kv-0/checkpoints", log::PosixFileSystem::Default());
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().log_offset, first);
}

}  // namespace
}  // namespace strom::kv
