#include "replica/kv_scanner_manager.h"

#include <gtest/gtest.h>

#include "kv/rocksdb_store.h"
#include "log/fs/posix_file_system.h"
#include "log/log_test_util.h"
#include "replica/auto_increment_counter.h"

namespace strom::replica {
namespace {

using namespace std::chrono_literals;
using metadata::TableBucket;

class KvScannerManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = kv::RocksDbStore::Open(dir_.Sub("db"), kv::RocksDbOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    kv::RocksDbWriteBatch batch;
    batch.Put("k1", "v1");
    batch.Put("k2", "v2");
    ASSERT_TRUE(store_->Write(&batch).ok());
  }

  kv::KvSnapshotScan Scan() {
    kv::KvSnapshotScan scan;
    scan.cursor = std::move(store_->NewSnapshotCursor()).value();
    scan.log_offset = LogOffset(2);
    return scan;
  }

  KvScannerOptions Options() {
    KvScannerOptions options;
    options.ttl = 10min;
    options.max_per_bucket = 2;
    options.max_per_server = 3;
    return options;
  }

  log::testing::TempDir dir_;
  std::unique_ptr<kv::RocksDbStore> store_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
};

TEST_F(KvScannerManagerTest, LimitsPerBucketAndPerServer) {
  KvScannerManager scanners(Options(), [this] { return now_; });
  TableBucket b0{TableId(1), std::nullopt, BucketId(0)};
  TableBucket b1{TableId(1), std::nullopt, BucketId(1)};
  auto s1 = scanners.Register(b0, Scan(), -1);
  auto s2 = scanners.Register(b0, Scan(), 5);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_NE((*s1)->id, (*s2)->id);
  EXPECT_EQ((*s1)->id.size(), 32u);
  EXPECT_EQ((*s2)->remaining, 5);
  EXPECT_EQ(scanners.Register(b0, Scan(), -1).status().code(), ErrorCode::kTooManyScanners);
  ASSERT_TRUE(scanners.Register(b1, Scan(), -1).ok());
  TableBucket b2{TableId(2), std::nullopt, BucketId(0)};
  EXPECT_EQ(scanners.CheckLimits(b2).code(), ErrorCode::kTooManyScanners);
  scanners.Remove((*s1)->id);
  EXPECT_TRUE(scanners.CheckLimits(b0).ok());
  EXPECT_EQ(scanners.size(), 2u);
  EXPECT_EQ(scanners.CountForBucket(b0), 1u);
}

TEST_F(KvScannerManagerTest, IdleSessionsExpireAndAreRememberedForTwoTtls) {
  KvScannerManager scanners(Options(), [this] { return now_; });
  TableBucket bucket{TableId(1), std::nullopt, BucketId(0)};
  std::string idle = (*scanners.Register(bucket, Scan(), -1))->id;
  KvScanner* busy = *scanners.Register(bucket, Scan(), -1);
  const std::string busy_id = busy->id;
  now_ += 6min;
  scanners.Touch(busy);
  now_ += 5min;  // idle: 11 min, busy: 5 min
  EXPECT_EQ(scanners.EvictExpired(), 1u);
  EXPECT_EQ(scanners.Find(idle), nullptr);
  EXPECT_TRUE(scanners.RecentlyExpired(idle));
  EXPECT_NE(scanners.Find(busy_id), nullptr);
  EXPECT_FALSE(scanners.RecentlyExpired("never-existed"));
  now_ += 21min;
  EXPECT_EQ(scanners.EvictExpired(), 1u);  // busy is idle now too
  EXPECT_FALSE(scanners.RecentlyExpired(idle));
  EXPECT_TRUE(scanners.RecentlyExpired(busy_id));
  EXPECT_EQ(scanners.size(), 0u);
}

TEST_F(KvScannerManagerTest, ClosingABucketOrTableEndsItsSessions) {
  KvScannerManager scanners(Options(), [this] { return now_; });
  TableBucket b0{TableId(1), std::nullopt, BucketId(0)};
  TableBucket b1{TableId(1), std::nullopt, BucketId(1)};
  std::string a = (*scanners.Register(b0, Scan(), -1))->id;
  std::string b = (*scanners.Register(b1, Scan(), -1))->id;
  scanners.CloseBucket(b0);
  EXPECT_EQ(scanners.Find(a), nullptr);
  EXPECT_TRUE(scanners.RecentlyExpired(a));
  EXPECT_NE(scanners.Find(b), nullptr);
  scanners.CloseTable(TableId(1));
  EXPECT_EQ(scanners.size(), 0u);
  EXPECT_TRUE(scanners.RecentlyExpired(b));
  // Sessions hold RocksDB snapshots; they are released, so the store closes cleanly.
  EXPECT_TRUE(store_->Close().ok());
}

TEST(FileSequenceIdCounterTest, RangesSurviveReopenAndCorruptionIsReported) {
  log::testing::TempDir dir;
  const std::string path = dir.Sub("auto-increment");
  {
    auto counter = FileSequenceIdCounter::Open(path);
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    EXPECT_EQ((*counter)->value(), 0);
    EXPECT_EQ(*(*counter)->GetAndAdd(100), 0);
    EXPECT_EQ(*(*counter)->GetAndAdd(100), 100);
  }
  {
    auto counter = FileSequenceIdCounter::Open(path);
    ASSERT_TRUE(counter.ok());
    EXPECT_EQ((*counter)->value(), 200);
    EXPECT_EQ(*(*counter)->GetAndAdd(7), 200);
    EXPECT_EQ((*counter)->GetAndAdd(-1).status().code(), ErrorCode::kUnknownServerError);
  }
  ASSERT_TRUE(log::PosixFileSystem::Default()->WriteFileAtomically(path, "garbage\n").ok());
  EXPECT_EQ(FileSequenceIdCounter::Open(path).status().code(), ErrorCode::kStorage);
}

}  // namespace
}  // namespace strom::replica
