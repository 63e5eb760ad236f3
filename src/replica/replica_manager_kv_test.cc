// ReplicaManager with a primary-key table: KV tablets next to the logs, PutKv flushed at the
// high watermark, checkpoints only for tablets that moved, recovery after a crash.

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <filesystem>

#include "log/log_test_util.h"
#include "metadata/embedded_metadata_store.h"
#include "replica/replica_manager.h"
#include "server/server_kv_test_util.h"
#include "testutil/run_task.h"

namespace strom::replica {
namespace {

namespace fs = std::filesystem;
using server::testing::EncodeKvKey;
using server::testing::KvBatch;
using server::testing::KvOp;
using server::testing::KvRow;

class ReplicaManagerKvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = metadata::EmbeddedMetadataStore::Open(dir_.Sub("meta"), pool_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto descriptor = record::TableDescriptor::FromJson(server::testing::PkTableJson(2));
    ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
    auto reg = metadata::TableRegistration::ForNewTable(TableId(5), *descriptor, TimestampMs(1));
    auto info = metadata::TableInfo::Make(metadata::TablePath{"db", "t"}, reg, SchemaId(1),
                                          descriptor->schema());
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    table_ = std::make_shared<const metadata::TableInfo>(std::move(*info));
    assignment_.buckets[BucketId(0)] = {ServerId(0)};
    assignment_.buckets[BucketId(1)] = {ServerId(0)};
  }
  void TearDown() override { pool_.join(); }

  std::unique_ptr<ReplicaManager> NewManager() {
    ReplicaManagerOptions options;
    options.data_dir = dir_.Sub("data");
    options.server_id = ServerId(0);
    options.rocksdb.write_buffer_size = 1 << 20;
    options.rocksdb.block_cache_size = 1 << 20;
    return std::make_unique<ReplicaManager>(io_.get_executor(), options, *store_);
  }

  static metadata::TableBucket Bucket(int32_t b) {
    return metadata::TableBucket{TableId(5), std::nullopt, BucketId(b)};
  }

  log::testing::TempDir dir_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  std::unique_ptr<metadata::EmbeddedMetadataStore> store_;
  std::shared_ptr<const metadata::TableInfo> table_;
  metadata::TableAssignment assignment_;
};

TEST_F(ReplicaManagerKvTest, PutFlushCheckpointAndRecover) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->CreateTableBuckets(table_, assignment_).ok());
  EXPECT_TRUE(fs::is_directory(manager->KvTabletDir(*table_, BucketId(1))));
  EXPECT_EQ(manager->KvTabletDir(*table_, BucketId(1)), manager->TableDir(*table_) + "/kv-1");

  auto put = manager->PutKv(Bucket(0), KvBatch({KvOp{KvRow(1, "a", 1), false}}), {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  Replica* replica = *manager->FindKv(Bucket(0));
  // Acknowledged means committed and visible: high watermark at the log end, flushed.
  EXPECT_EQ(replica->log->high_watermark(), replica->log->log_end_offset());
  EXPECT_EQ(replica->kv->flushed_log_offset(), replica->log->log_end_offset());
  ByteBuffer key = EncodeKvKey(KvRow(1, std::nullopt, std::nullopt));
  std::vector<ByteView> keys = {key};
  EXPECT_TRUE((*replica->kv->Lookup(keys))[0].has_value());

  // Only the bucket that moved is checkpointed, and only once.
  EXPECT_EQ(manager->CheckpointKvTablets(), 1u);
  EXPECT_EQ(manager->CheckpointKvTablets(), 0u);
  ASSERT_TRUE(manager->PutKv(Bucket(1), KvBatch({KvOp{KvRow(2, "b", 2), false}}), {}).ok());
  ASSERT_TRUE(manager->PutKv(Bucket(0), KvBatch({KvOp{KvRow(3, "c", 3), false}}), {}).ok());
  EXPECT_EQ(manager->CheckpointKvTablets(), 2u);
  ASSERT_TRUE(manager->PutKv(Bucket(0), KvBatch({KvOp{KvRow(4, "d", 4), false}}), {}).ok());

  // A crash (no Stop): the new manager restores the checkpoint and replays the tail.
  manager.reset();
  manager = NewManager();
  ASSERT_TRUE(manager->CreateTableBuckets(table_, assignment_).ok());
  replica = *manager->FindKv(Bucket(0));
  EXPECT_EQ(replica->kv->recovered_record_count(), 1);
  EXPECT_EQ(*replica->kv->RowCount(), 3);
  EXPECT_EQ(*(*manager->FindKv(Bucket(1)))->kv->RowCount(), 1);
  EXPECT_EQ(
      manager->FindKv(metadata::TableBucket{TableId(9), std::nullopt, BucketId(0)}).status().code(),
      ErrorCode::kUnknownTableOrBucket);
  testutil::RunTask(io_, manager->Stop());
}

// With the flush on the worker thread (the default once started): the high watermark never
// passes what the KV tablet holds, an acknowledgement waits for it, and then lookups see the
// write. Many batches in a row, so that flushes overlap with the next puts.
TEST_F(ReplicaManagerKvTest, TheHighWatermarkWaitsForAFlushOffTheReactor) {
  auto manager = NewManager();
  ASSERT_TRUE(testutil::RunTask(io_, manager->Start()).ok());
  ASSERT_TRUE(manager->CreateTableBuckets(table_, assignment_).ok());
  Replica* replica = *manager->FindKv(Bucket(0));
  bool overlapped = false;
  for (int32_t id = 1; id <= 200; ++id) {
    auto put = manager->PutKv(Bucket(0), KvBatch({KvOp{KvRow(id, "v", id), false}}), {});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_LE(replica->log->high_watermark(), replica->kv->flushed_log_offset());
    overlapped |= replica->kv->flush_in_flight();
    if (id % 20 != 0) continue;
    // Every 20th put waits for its acknowledgement, as an acks=all PutKv does.
    Status acked = testutil::RunTask(
        io_, manager->WaitForReplication(Bucket(0), put->append.last_offset + 1,
                                         SteadyClock::now() + std::chrono::seconds(10)));
    ASSERT_TRUE(acked.ok()) << acked.ToString();
    EXPECT_GE(replica->kv->flushed_log_offset(), put->append.last_offset + 1);
    ByteBuffer key = EncodeKvKey(KvRow(id, std::nullopt, std::nullopt));
    std::vector<ByteView> keys = {key};
    EXPECT_TRUE((*replica->kv->Lookup(keys))[0].has_value()) << id;
  }
  EXPECT_TRUE(overlapped);
  // Stop settles what is in flight and checkpoints: the restart replays nothing.
  testutil::RunTask(io_, manager->Stop());
  manager = NewManager();
  ASSERT_TRUE(manager->CreateTableBuckets(table_, assignment_).ok());
  replica = *manager->FindKv(Bucket(0));
  EXPECT_EQ(*replica->kv->RowCount(), 200);
  EXPECT_EQ(replica->kv->recovered_record_count(), 0);
  testutil::RunTask(io_, manager->Stop());
}

}  // namespace
}  // namespace strom::replica
