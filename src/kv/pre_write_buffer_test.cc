#include "kv/pre_write_buffer.h"

#include <gtest/gtest.h>

#include <thread>

#include "log/log_test_util.h"

namespace strom::kv {
namespace {

std::optional<std::string> ValueOf(const KvPreWriteBuffer& b, ByteView key) {
  const auto* e = b.Get(key);
  if (e == nullptr) return std::string("<none>");
  return e->value;
}

TEST(KvPreWriteBufferTest, GetSeesNewestAndTruncateRestoresPrevious) {
  KvPreWriteBuffer b;
  b.Insert("k", "v1", LogOffset(0));
  b.Update("k", "v2", LogOffset(2));
  b.Delete("k", LogOffset(3));
  b.Insert("j", "w", LogOffset(4));
  EXPECT_EQ(ValueOf(b, "k"), std::nullopt);  // deleted
  b.TruncateTo(LogOffset(3));
  EXPECT_EQ(ValueOf(b, "k"), "v2");
  EXPECT_EQ(ValueOf(b, "j"), "<none>");
  b.TruncateTo(LogOffset(1));
  EXPECT_EQ(ValueOf(b, "k"), "v1");
  b.TruncateTo(LogOffset(0));
  EXPECT_EQ(ValueOf(b, "k"), "<none>");
  EXPECT_EQ(b.entry_count(), 0u);
  EXPECT_EQ(b.size_in_bytes(), 0u);
}

TEST(KvPreWriteBufferTest, FlushWritesCommittedPrefixAndCountsRows) {
  log::testing::TempDir dir;
  auto store = RocksDbStore::Open(dir.Sub("db"), RocksDbOptions{});
  ASSERT_TRUE(store.ok());
  KvPreWriteBuffer b;
  b.Insert("a", "1", LogOffset(0));
  b.Insert("b", "2", LogOffset(1));
  b.Update("a", "3", LogOffset(3));
  b.Delete("b", LogOffset(4));
  auto diff = b.FlushUpTo(LogOffset(2), store->get());
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff, 2);
  EXPECT_EQ(*(*store)->Get("a"), std::optional<ByteBuffer>("1"));
  EXPECT_EQ(b.entry_count(), 2u);
  // The flushed entry of "a" is gone; truncating its later update falls back to RocksDB.
  b.TruncateTo(LogOffset(3));
  EXPECT_EQ(ValueOf(b, "a"), "<none>");
  EXPECT_EQ(b.key_count(), 0u);
  b.Update("a", "5", LogOffset(3));
  b.Delete("b", LogOffset(4));
  diff = b.FlushUpTo(LogOffset(10), store->get());
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff, -1);
  EXPECT_EQ(*(*store)->Get("a"), std::optional<ByteBuffer>("5"));
  EXPECT_FALSE((*store)->Get("b")->has_value());
  EXPECT_EQ(b.entry_count(), 0u);
  EXPECT_EQ(b.max_lsn(), LogOffset(-1));
}


TEST(KvPreWriteBufferTest, FlushWritesNewestChangeBelowTheOffsetOfEachKey) {
  log::testing::TempDir dir;
  auto store = RocksDbStore::Open(dir.Sub("db"), RocksDbOptions{});
  ASSERT_TRUE(store.ok());
  KvPreWriteBuffer b;
  // Keys arrive out of key order, some changed several times, one deleted and re-inserted.
  b.Insert("z", "z1", LogOffset(0));
  b.Insert("m", "m1", LogOffset(1));
  b.Update("z", "z2", LogOffset(2));
  b.Insert("a", "a1", LogOffset(3));
  b.Delete("m", LogOffset(4));
  b.Update("a", "a2", LogOffset(5));
  b.Insert("m", "m2", LogOffset(6));
  b.Update("z", "z3", LogOffset(7));
  // Up to 6: "a" ends at a2, "m" is deleted (m2 is not committed), "z" at z2 (z3 is not).
  auto diff = b.FlushUpTo(LogOffset(6), store->get());
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff, 2);  // inserts z, m, a; delete m
  EXPECT_EQ(*(*store)->Get("a"), std::optional<ByteBuffer>("a2"));
  EXPECT_FALSE((*store)->Get("m")->has_value());
  EXPECT_EQ(*(*store)->Get("z"), std::optional<ByteBuffer>("z2"));
  EXPECT_EQ(ValueOf(b, "m"), "m2");
  EXPECT_EQ(ValueOf(b, "z"), "z3");
  EXPECT_EQ(ValueOf(b, "a"), "<none>");
  // Dropping the uncommitted tail falls back to what RocksDB now holds.
  b.TruncateTo(LogOffset(6));
  EXPECT_EQ(b.entry_count(), 0u);
  EXPECT_EQ(b.key_count(), 0u);
  b.Update("z", "z4", LogOffset(6));
  diff = b.FlushUpTo(LogOffset(7), store->get());
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff, 0);
  EXPECT_EQ(*(*store)->Get("z"), std::optional<ByteBuffer>("z4"));
  EXPECT_EQ(b.size_in_bytes(), 0u);
}

TEST(KvPreWriteBufferTest, FlushSetTakenApartLetsPutsAndTruncationsGoOnMeanwhile) {
  log::testing::TempDir dir;
  auto store = RocksDbStore::Open(dir.Sub("db"), RocksDbOptions{});
  ASSERT_TRUE(store.ok());
  KvPreWriteBuffer b;
  b.Insert("a", "1", LogOffset(0));
  b.Insert("b", "2", LogOffset(1));
  b.Update("a", "3", LogOffset(2));
  KvPreWriteBuffer::FlushSet set = b.CollectFlush(LogOffset(3));
  EXPECT_EQ(set.entry_count, 3u);
  EXPECT_EQ(set.row_count_diff, 2);
  EXPECT_EQ(set.newest.size(), 2u);
  // While the set is out: a later change of a key in it, a new key, and a truncation of
  // changes beyond the set.
  b.Update("a", "4", LogOffset(3));
  b.Insert("c", "5", LogOffset(4));
  b.Delete("b", LogOffset(5));
  b.TruncateTo(LogOffset(5));
  EXPECT_EQ(ValueOf(b, "b"), "2");
  // The write runs on another thread, as KvTablet's flush worker does.
  RocksDbWriteBatch batch;
  Status written;
  std::thread writer([&] { written = KvPreWriteBuffer::WriteFlush(&set, store->get(), &batch); });
  b.Update("c", "6", LogOffset(5));
  writer.join();
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(*(*store)->Get("a"), std::optional<ByteBuffer>("3"));
  EXPECT_EQ(*(*store)->Get("b"), std::optional<ByteBuffer>("2"));
  EXPECT_FALSE((*store)->Get("c")->has_value());
  b.ForgetFlushed(set);
  EXPECT_EQ(b.entry_count(), 3u);
  EXPECT_EQ(ValueOf(b, "a"), "4");
  EXPECT_EQ(ValueOf(b, "b"), "<none>");  // RocksDB has it now
  EXPECT_EQ(ValueOf(b, "c"), "6");
  // Truncating the later change of "a" falls back to RocksDB, which holds the flushed one.
  b.TruncateTo(LogOffset(3));
  EXPECT_EQ(ValueOf(b, "a"), "<none>");
  EXPECT_EQ(b.key_count(), 0u);
  EXPECT_EQ(b.size_in_bytes(), 0u);
}

TEST(KvPreWriteBufferTest, AbandonedFlushSetKeepsEveryChange) {
  KvPreWriteBuffer b;
  b.Insert("a", "1", LogOffset(0));
  KvPreWriteBuffer::FlushSet set = b.CollectFlush(LogOffset(1));
  EXPECT_EQ(set.entry_count, 1u);
  // Changes in the set cannot be dropped while it is out.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(b.TruncateTo(LogOffset(0)), "under a flush up to 1");
  b.AbandonFlush();
  EXPECT_EQ(ValueOf(b, "a"), "1");
  // A new set may be taken, and the buffer truncated anywhere again.
  set = b.CollectFlush(LogOffset(1));
  b.AbandonFlush();
  b.TruncateTo(LogOffset(0));
  EXPECT_EQ(b.entry_count(), 0u);
}

}  // namespace
}  // namespace strom::kv
