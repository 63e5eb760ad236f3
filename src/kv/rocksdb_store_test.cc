#include "kv/rocksdb_store.h"

#include <gtest/gtest.h>

#include "common/config/options.h"
#include "log/log_test_util.h"

namespace strom::kv {
namespace {

TEST(RocksDbStoreTest, PutGetMultiGetScanAndCheckpoint) {
  log::testing::TempDir dir;
  auto store = RocksDbStore::Open(dir.Sub("db"), RocksDbOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RocksDbWriteBatch batch;
  batch.Put("a1", "x");
  batch.Put("a2", "y");
  batch.Put("b1", "z");
  batch.Put(ByteView("\xff\xff", 2), "top");
  batch.Delete("a2");
  EXPECT_EQ(batch.count(), 5);
  ASSERT_TRUE((*store)->Write(&batch).ok());
  EXPECT_TRUE(batch.empty());

  EXPECT_EQ(*(*store)->Get("a1"), std::optional<ByteBuffer>("x"));
  EXPECT_FALSE((*store)->Get("a2")->has_value());
  std::vector<ByteView> keys = {"b1", "nope", "a1"};
  auto got = (*store)->MultiGet(keys);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::optional<ByteBuffer>("z"));
  EXPECT_FALSE((*got)[1].has_value());
  EXPECT_EQ((*got)[2], std::optional<ByteBuffer>("x"));

  std::vector<std::string> seen;
  ASSERT_TRUE((*store)
                  ->ScanPrefix("a",
                               [&](ByteView k, ByteView) {
                                 seen.emplace_back(k);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen, std::vector<std::string>({"a1"}));
  seen.clear();
  ASSERT_TRUE((*store)
                  ->ScanPrefix(ByteView("\xff", 1),
                               [&](ByteView k, ByteView) {
                                 seen.emplace_back(k);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen.size(), 1u);
  seen.clear();
  ASSERT_TRUE((*store)
                  ->ScanAll([&](ByteView k, ByteView) {
                    seen.emplace_back(k);
                    return seen.size() < 2;
                  })
                  .ok());
  EXPECT_EQ(seen, std::vector<std::string>({"a1", "b1"}));

  ASSERT_TRUE((*store)->CreateCheckpoint(dir.Sub("chk")).ok());
  batch.Put("c", "after");
  ASSERT_TRUE((*store)->Write(&batch).ok());
  ASSERT_TRUE((*store)->Close().ok());
  EXPECT_EQ((*store)->Get("a1").status().code(), ErrorCode::kKvStorage);

  // The checkpoint opens as a database with the state at checkpoint time.
  auto copy = RocksDbStore::Open(dir.Sub("chk"), RocksDbOptions{});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*(*copy)->Get("b1"), std::optional<ByteBuffer>("z"));
  EXPECT_FALSE((*copy)->Get("c")->has_value());
}

TEST(RocksDbStoreTest, OptionsFromConfiguration) {
  config::Configuration conf;
  ASSERT_TRUE(conf.Set("kv.rocksdb.writebuffer.size", "8mb").ok());
  ASSERT_TRUE(conf.Set("kv.rocksdb.compression.per.level", "no, lz4,ZSTD").ok());
  auto options = RocksDbOptions::FromConfiguration(conf);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->write_buffer_size, 8 << 20);
  EXPECT_EQ(options->compression_per_level,
            (std::vector<KvCompression>{KvCompression::kNone, KvCompression::kLz4,
                                        KvCompression::kZstd}));
  EXPECT_TRUE(options->use_bloom_filter);
  ASSERT_TRUE(conf.Set("kv.rocksdb.compression.per.level", "LZ4,BROTLI").ok());
  EXPECT_EQ(RocksDbOptions::FromConfiguration(conf).status().code(), ErrorCode::kInvalidConfig);
}

TEST(RocksDbStoreTest, OpenFailureIsKvStorage) {
  log::testing::TempDir dir;
  auto store = RocksDbStore::Open("/proc/strom-no-such-dir/db", RocksDbOptions{});
  EXPECT_EQ(store.status().code(), ErrorCode::kKvStorage);
}

TEST(RocksDbStoreTest, SnapshotCursorSeesTheStateWhenItWasOpened) {
  log::testing::TempDir dir;
  auto store = RocksDbStore::Open(dir.Sub("db"), RocksDbOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RocksDbWriteBatch batch;
  batch.Put("k1", "v1");
  batch.Put("k2", "v2");
  batch.Put("k3", "v3");
  ASSERT_TRUE((*store)->Write(&batch).ok());

  auto cursor = (*store)->NewSnapshotCursor();
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  // Later writes, deletes and flushes are invisible to the cursor.
  batch.Delete("k2");
  batch.Put("k4", "v4");
  batch.Put("k1", "changed");
  ASSERT_TRUE((*store)->Write(&batch).ok());
  ASSERT_TRUE((*store)->Flush().ok());

  std::vector<std::pair<std::string, std::string>> seen;
  for (; (*cursor)->Valid(); (*cursor)->Next()) {
    seen.emplace_back(std::string((*cursor)->key()), std::string((*cursor)->value()));
  }
  EXPECT_TRUE((*cursor)->status().ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"k1", "v1"}, {"k2", "v2"}, {"k3", "v3"}}));

  // A cursor still open when the store closes is detached, not left dangling.
  auto open_cursor = (*store)->NewSnapshotCursor();
  ASSERT_TRUE(open_cursor.ok());
  EXPECT_TRUE((*open_cursor)->Valid());
  ASSERT_TRUE((*store)->Close().ok());
  EXPECT_FALSE((*open_cursor)->Valid());
  EXPECT_EQ((*open_cursor)->status().code(), ErrorCode::kKvStorage);
  EXPECT_FALSE((*store)->NewSnapshotCursor().ok());
}

}  // namespace
}  // namespace strom::kv
