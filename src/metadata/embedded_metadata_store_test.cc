#include "metadata/embedded_metadata_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "metadata/detail/durable_file.h"
#include "metadata/testing/metadata_store_conformance.h"
#include "testutil/run_task.h"

namespace strom::metadata {
namespace {

namespace fs = std::filesystem;
using testutil::RunTask;

/// The shared MetadataStore behaviour (metadata/testing/metadata_store_conformance.h) on a
/// temp directory: every Open() loads the store again from its file.
class EmbeddedHarness final : public testing::StoreHarness {
 public:
  EmbeddedHarness()
      : dir_(fs::temp_directory_path() /
             fmt::format("strom-metadata-conformance-{}-{}", ::getpid(), counter_++)) {
    fs::remove_all(dir_);
  }
  ~EmbeddedHarness() override { fs::remove_all(dir_); }

  std::unique_ptr<MetadataStore> Open() override {
    auto store = EmbeddedMetadataStore::Open(dir_.string(), pool_);
    if (!store.ok()) {
      ADD_FAILURE() << store.status().ToString();
      return nullptr;
    }
    return std::move(store).value();
  }
  asio::io_context& io() override { return io_; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
};

using testing::MetadataStoreConformanceTest;
INSTANTIATE_TEST_SUITE_P(Embedded, MetadataStoreConformanceTest,
                         ::testing::Values(testing::StoreFactory{
                             "Embedded", [] { return std::make_unique<EmbeddedHarness>(); }}),
                         testing::StoreFactoryName);

record::Schema TestSchema() {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", record::DataType::Int())
                    .AddColumn("name", record::DataType::String())
                    .Build();
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return std::move(schema).value();
}

TableRegistration TestTable(TableId id, int32_t buckets = 3) {
  TableRegistration reg;
  reg.table_id = id;
  reg.bucket_count = buckets;
  reg.properties = {{"table.replication.factor", "1"}};
  reg.created_time = TimestampMs(1000);
  reg.modified_time = TimestampMs(1000);
  return reg;
}

TableAssignment SingleNode(int32_t buckets) {
  TableAssignment a;
  for (int32_t b = 0; b < buckets; ++b) a.buckets[BucketId(b)] = {ServerId(0)};
  return a;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class EmbeddedMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("strom-metadata-test-{}-{}", ::getpid(), counter_++);
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<EmbeddedMetadataStore> OpenStore() {
    auto store = EmbeddedMetadataStore::Open(dir_.string(), pool_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  template <typename T>
  T Run(Task<T> task) {
    return RunTask(io_, std::move(task));
  }

  std::string FilePath() const { return (dir_ / "metadata").string(); }

  /// Creates db "db" and table db.t (id from the counter) and returns the table id.
  TableId CreateSampleTable(EmbeddedMetadataStore& store) {
    EXPECT_TRUE(Run(store.CreateDatabase("db", {record::DatabaseDescriptor(), TimestampMs(1),
                                                TimestampMs(1)}))
                    .ok());
    auto id = Run(store.NextTableId());
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(Run(store.CreateTable({"db", "t"}, TestTable(*id), TestSchema(), SingleNode(3)))
                    .ok());
    return *id;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
};

TEST_F(EmbeddedMetadataStoreTest, ReadingCreatesNoFiles) {
  auto store = OpenStore();
  auto dbs = Run(store->ListDatabases());
  ASSERT_TRUE(dbs.ok());
  EXPECT_TRUE(dbs->empty());
  EXPECT_FALSE(fs::exists(FilePath())) << "reading must not create files";
}

TEST_F(EmbeddedMetadataStoreTest, WriterIdsAreUniqueAcrossRestartsAndRarelyWritten) {
  std::set<int64_t> seen;
  for (int round = 0; round < 3; ++round) {
    auto store = OpenStore();
    for (int i = 0; i < 50; ++i) {
      auto id = Run(store->NextWriterId());
      ASSERT_TRUE(id.ok());
      EXPECT_GE(id->value(), 0);
      EXPECT_TRUE(seen.insert(id->value()).second) << "writer id reused: " << *id;
    }
    auto mtime = fs::last_write_time(FilePath());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(Run(store->NextWriterId()).ok());
    EXPECT_EQ(fs::last_write_time(FilePath()), mtime) << "a block serves many ids";
  }
}

TEST_F(EmbeddedMetadataStoreTest, TornTempFileFromACrashIsIgnored) {
  {
    auto store = OpenStore();
    CreateSampleTable(*store);
  }
  const std::string committed = ReadAll(FilePath());
  // A crash while the next snapshot was being written leaves a prefix of it in .tmp.
  {
    auto store = OpenStore();
    ASSERT_TRUE(Run(store->DeleteTable({"db", "t"})).ok());
  }
  const std::string next = ReadAll(FilePath());
  for (size_t cut : {size_t{0}, size_t{5}, detail::kDurableFileHeaderSize, next.size() / 2,
                     next.size() - 1, next.size()}) {
    WriteAll(FilePath(), committed);
    WriteAll(FilePath() + ".tmp", next.substr(0, cut));
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(Run(store->GetTable({"db", "t"}))->has_value()) << "cut at " << cut;
    EXPECT_FALSE(fs::exists(FilePath() + ".tmp"));
  }
}

TEST_F(EmbeddedMetadataStoreTest, DamagedSnapshotIsRefusedNeverHalfLoaded) {
  {
    auto store = OpenStore();
    CreateSampleTable(*store);
  }
  const std::string good = ReadAll(FilePath());
  // Every truncation point and a flipped byte at many places must be detected.
  for (size_t cut = 0; cut < good.size(); cut += std::max<size_t>(1, good.size() / 97)) {
    WriteAll(FilePath(), good.substr(0, cut));
    auto store = EmbeddedMetadataStore::Open(dir_.string(), pool_);
    ASSERT_FALSE(store.ok()) << "truncated at " << cut;
    EXPECT_EQ(store.status().code(), ErrorCode::kCorruptMessage);
  }
  for (size_t pos = 0; pos < good.size(); pos += std::max<size_t>(1, good.size() / 89)) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
    WriteAll(FilePath(), bad);
    auto store = EmbeddedMetadataStore::Open(dir_.string(), pool_);
    ASSERT_FALSE(store.ok()) << "flipped byte " << pos;
    EXPECT_EQ(store.status().code(), ErrorCode::kCorruptMessage);
  }
  WriteAll(FilePath(), good);
  EXPECT_NE(OpenStore(), nullptr);
}

TEST_F(EmbeddedMetadataStoreTest, FailedWriteMakesStoreReadOnly) {
  auto store = OpenStore();
  ASSERT_TRUE(Run(store->CreateDatabase("db", {record::DatabaseDescriptor(), TimestampMs(1),
                                               TimestampMs(1)}))
                  .ok());
  // A directory where the temp file should go makes the next write fail.
  fs::create_directory(FilePath() + ".tmp");
  fs::create_directory(FilePath() + ".tmp/x");
  Status s = Run(store->CreateDatabase(
      "db2", {record::DatabaseDescriptor(), TimestampMs(1), TimestampMs(1)}));
  EXPECT_EQ(s.code(), ErrorCode::kStorage);
  EXPECT_EQ(Run(store->DeleteDatabase("db")).code(), ErrorCode::kStorage);
  EXPECT_EQ(Run(store->NextWriterId()).status().code(), ErrorCode::kStorage);
  // Reads still work.
  EXPECT_TRUE(Run(store->GetDatabase("db"))->has_value());
  store.reset();
  fs::remove_all(FilePath() + ".tmp");
  store = OpenStore();
  EXPECT_EQ(*Run(store->ListDatabases()), std::vector<std::string>{"db"});
}

}  // namespace
}  // namespace strom::metadata
