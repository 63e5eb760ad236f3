#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "kv/kv_tablet.h"
#include "kv/kv_test_util.h"
#include "log/fs/posix_file_system.h"
#include "testutil/seed.h"

namespace strom::kv {
namespace {

using record::DataType;
using record::Datum;
using record::GenericRow;
using testing::KvHarness;
using testing::KvOp;

using testing::two_columns::Key;
using testing::two_columns::Row;
using testing::two_columns::TwoColumns;

std::map<int32_t, std::string> Decode(const std::map<ByteBuffer, GenericRow>& state) {
  std::map<int32_t, std::string> out;
  for (const auto& [key, row] : state) out[row[0].as<int32_t>()] = row[1].as<std::string>();
  return out;
}

TEST(KvRecoveryTest, CheckpointPlusChangelogTail) {
  KvHarness h(TwoColumns(), {});
  STROM_ASSERT_OK(h.Open());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h.Put({KvOp::Upsert(Row(i, "a" + std::to_string(i)))}).ok());
  }
  auto checkpoint = h.kv().TakeCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->metadata.log_offset, LogOffset(5));
  EXPECT_EQ(checkpoint->metadata.row_count, 5);
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "b1")), KvOp::Delete(Key(2))}).ok());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(7, "b7"))}).ok());
  auto before = h.State();
  h.Crash();

  STROM_ASSERT_OK(h.Open());
  EXPECT_EQ(h.State(), before);
  // Only the tail after the checkpoint was replayed: -U/+U, -D, +I.
  EXPECT_EQ(h.kv().recovered_record_count(), 4);
  EXPECT_EQ(*h.kv().RowCount(), 5);
  EXPECT_EQ(h.kv().flushed_log_offset(), h.log().log_end_offset());
  // New writes continue normally after recovery.
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(7, "c7"))}).ok());
  EXPECT_EQ((*h.Get(Key(7)))[1], Datum("c7"));
}

TEST(KvRecoveryTest, NoCheckpointReplaysWholeChangelogAndCleanCloseReplaysNothing) {
  KvHarness h(TwoColumns(), {{"table.log.format", "COMPACTED"}});
  STROM_ASSERT_OK(h.Open());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "x")), KvOp::Upsert(Row(2, "y"))}).ok());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "z"))}).ok());
  auto before = h.State();
  h.Crash();
  STROM_ASSERT_OK(h.Open());
  EXPECT_EQ(h.State(), before);
  EXPECT_EQ(h.kv().recovered_record_count(), 4);
  EXPECT_EQ(*h.kv().RowCount(), 2);
  ASSERT_TRUE(h.Close().ok());
  STROM_ASSERT_OK(h.Open());
  EXPECT_EQ(h.State(), before);
  EXPECT_EQ(h.kv().recovered_record_count(), 0);
}

TEST(KvRecoveryTest, UncommittedTailReturnsToPreWriteBuffer) {
  KvHarness h(TwoColumns(), {});
  STROM_ASSERT_OK(h.Open());
  ASSERT_TRUE(h.Put({KvOp::Upsert(Row(1, "committed"))}).ok());
  const LogOffset committed = h.log().high_watermark();
  ASSERT_TRUE(h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "pending"))})).ok());
  h.Crash();
  // The replica layer restores the high watermark it had checkpointed.
  STROM_ASSERT_OK(h.Open(committed));
  EXPECT_EQ((*h.Get(Key(1)))[1], Datum("committed"));
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 1u);
  // Writes merge against the buffered tail.
  ASSERT_TRUE(h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "later"))})).ok());
  EXPECT_THAT(testing::Render(h.Changelog(committed)),
              ::testing::ElementsAre("-U(1, committed)", "+U(1, pending)", "-U(1, pending)",
                                     "+U(1, later)"));
  ASSERT_TRUE(h.Commit().ok());
  EXPECT_EQ((*h.Get(Key(1)))[1], Datum("later"));
}

TEST(KvRecoveryTest, KeepsNumRetainedCheckpointsAndLetsTheLogGo) {
  KvHarness h(TwoColumns(), {});
  h.options().num_retained_checkpoints = 2;
  STROM_ASSERT_OK(h.Open());
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(h.Put({KvOp::Upsert(Row(i, "v"))}).ok());
    auto c = h.kv().TakeCheckpoint();
    ASSERT_TRUE(c.ok());
    ids.push_back(c->metadata.checkpoint_id);
  }
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 4}));
  KvCheckpointStore store(h.root() + "/kv-0/checkpoints", log::PosixFileSystem::Default());
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].checkpoint_id, 3);
  EXPECT_EQ((*list)[0].log_offset, LogOffset(3));
  // A half-written checkpoint (crash before its rename) is ignored and removed.
  std::filesystem::create_directories(h.root() +
                                      "/kv-0/checkpoints/chk-00000000000000000009.tmp/db");
  h.Crash();
  STROM_ASSERT_OK(h.Open());
  EXPECT_FALSE(
      std::filesystem::exists(h.root() + "/kv-0/checkpoints/chk-00000000000000000009.tmp"));
  EXPECT_EQ(h.kv().recovered_record_count(), 0);
  EXPECT_EQ(h.State().size(), 4u);
  auto next = h.kv().TakeCheckpoint();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->metadata.checkpoint_id, 5);
}

TEST(KvRecoveryTest, AutoIncrementRangeSurvivesRecovery) {
  auto schema = *record::Schema::Builder()
                     .AddColumn("name", DataType::String())
                     .AddColumn("uid", DataType::Int())
                     .PrimaryKey({"name"})
                     .EnableAutoIncrement("uid")
                     .Build();
  KvHarness h(schema, {{"table.auto-increment.cache-size", "10"}});
  STROM_ASSERT_OK(h.Open());
  PutKvParams params;
  params.target_columns = std::vector<int32_t>{0};
  auto put = [&](const std::string& name) {
    return h.Put({KvOp::Upsert(GenericRow{Datum(name), Datum()})}, params);
  };
  ASSERT_TRUE(put("a").ok());
  ASSERT_TRUE(put("b").ok());
  ASSERT_TRUE(h.kv().TakeCheckpoint().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(put("n" + std::to_string(i)).ok());  // ids 3..12
  h.Crash();
  STROM_ASSERT_OK(h.Open());
  auto range = h.kv().auto_increment_range();
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->start, 13);
  EXPECT_EQ(range->end, 20);
  ASSERT_TRUE(put("fresh").ok());
  EXPECT_EQ((*h.Get(GenericRow{Datum("fresh"), Datum()}))[1], Datum(13));
}

// ---- crash test: a writer process killed with SIGKILL at a random moment ----

constexpr int kKeySpace = 40;

// The ops of batch `index` of the stream for `seed`: independent of the state, so the
// parent can replay the stream into a model.
std::vector<KvOp> StreamBatch(uint64_t seed, int64_t index) {
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(index));
  int n = 1 + static_cast<int>(rng() % 6);
  std::vector<KvOp> ops;
  for (int i = 0; i < n; ++i) {
    int32_t key = static_cast<int32_t>(rng() % kKeySpace);
    if (rng() % 5 == 0) {
      ops.push_back(KvOp::Delete(Key(key)));
    } else {
      ops.push_back(KvOp::Upsert(Row(key, fmt::format("b{}-{}", index, rng() % 1000))));
    }
  }
  return ops;
}

void ApplyToModel(const std::vector<KvOp>& ops, std::map<int32_t, std::string>* model) {
  for (const KvOp& op : ops) {
    int32_t key = op.row[0].as<int32_t>();
    if (op.is_delete) {
      model->erase(key);
    } else {
      (*model)[key] = op.row[1].as<std::string>();
    }
  }
}

int64_t CountBatches(log::LogTablet& log) {
  return static_cast<int64_t>(
      log::testing::ReadAllBatches(log, LogOffset(0), log::FetchIsolation::kLogEnd).size());
}

// Runs only inside the writer process the crash test starts: writes the stream, committing
// and acknowledging each batch on the pipe, until it is killed.
TEST(KvCrashTest, WriterProcess) {
  const char* dir = std::getenv("STROM_KV_CRASH_DIR");
  if (dir == nullptr) GTEST_SKIP() << "only run by KvCrashTest.RecoveredStateIsAcknowledgedHistory";
  uint64_t seed = std::strtoull(std::getenv("STROM_KV_CRASH_SEED"), nullptr, 10);
  int ack_fd = std::atoi(std::getenv("STROM_KV_CRASH_ACK_FD"));
  KvHarness h(TwoColumns(), {}, {}, dir);
  Status st = h.Open();
  if (!st.ok()) _exit(2);
  int64_t index = CountBatches(h.log());
  for (int n = 0; n < 100000; ++n, ++index) {
    if (!h.Put(StreamBatch(seed, index)).ok()) _exit(3);
    // Acknowledged: the change is committed.
    if (::write(ack_fd, &index, sizeof(index)) != sizeof(index)) _exit(4);
    if (index % 7 == 6 && !h.kv().TakeCheckpoint().ok()) _exit(5);
  }
  _exit(0);
}

TEST(KvCrashTest, RecoveredStateIsAcknowledgedHistory) {
  const uint64_t seed = strom::testutil::TestSeed();
  std::mt19937_64 rng(seed);
  log::testing::TempDir dir;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  int64_t verified_batches = 0;
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ::setenv("STROM_KV_CRASH_DIR", dir.path().c_str(), 1);
      ::setenv("STROM_KV_CRASH_SEED", std::to_string(seed).c_str(), 1);
      ::setenv("STROM_KV_CRASH_ACK_FD", std::to_string(fds[1]).c_str(), 1);
      const char* args[] = {self.c_str(), "--gtest_filter=KvCrashTest.WriterProcess", nullptr};
      ::execv(self.c_str(), const_cast<char* const*>(args));
      _exit(127);
    }
    ::close(fds[1]);
    // Kill it at a random moment while it writes.
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 900));
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer exited early with " << WEXITSTATUS(wstatus);
    int64_t last_ack = verified_batches - 1;
    int64_t value;
    while (::read(fds[0], &value, sizeof(value)) == sizeof(value)) last_ack = value;
    ::close(fds[0]);

    KvHarness h(TwoColumns(), {}, {}, dir.path());
    STROM_ASSERT_OK(h.Open());
    int64_t batches = CountBatches(h.log());
    // Every acknowledged batch survived; at most the one in flight came along.
    EXPECT_GE(batches, last_ack + 1);
    EXPECT_LE(batches, last_ack + 2);
    std::map<int32_t, std::string> model;
    for (int64_t i = 0; i < batches; ++i) ApplyToModel(StreamBatch(seed, i), &model);
    EXPECT_EQ(Decode(h.State()), model) << "round " << round << ", " << batches << " batches";
    EXPECT_EQ(*h.kv().RowCount(), static_cast<int64_t>(model.size()));
    EXPECT_GT(batches, verified_batches) << "the writer made no progress";
    verified_batches = batches;
    h.Crash();
  }
}

}  // namespace
}  // namespace strom::kv
