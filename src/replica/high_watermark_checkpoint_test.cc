#include "replica/high_watermark_checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "log/log_test_util.h"

namespace strom::replica {
namespace {

using metadata::TableBucket;

class HighWatermarkCheckpointTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.Sub(kHighWatermarkCheckpointFile); }
  void WriteText(const std::string& text) {
    std::ofstream out(Path(), std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::string ReadText() {
    std::ifstream in(Path(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  log::testing::TempDir dir_;
};

TEST_F(HighWatermarkCheckpointTest, MissingFileIsEmpty) {
  auto read = ReadHighWatermarks(nullptr, Path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->empty());
}

TEST_F(HighWatermarkCheckpointTest, RoundTripsInFlussLayout) {
  HighWatermarks hws;
  hws[TableBucket{TableId(150001), std::nullopt, BucketId(0)}] = LogOffset(10);
  hws[TableBucket{TableId(150001), PartitionId(20241121), BucketId(1)}] = LogOffset(5);
  ASSERT_TRUE(WriteHighWatermarks(nullptr, Path(), hws).ok());
  // Version, count, then "table bucket offset" or "table partition bucket offset".
  EXPECT_EQ(ReadText(), "0\n2\n150001 0 10\n150001 20241121 1 5\n");
  auto read = ReadHighWatermarks(nullptr, Path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, hws);

  // Rewriting replaces the whole file.
  ASSERT_TRUE(WriteHighWatermarks(nullptr, Path(), {}).ok());
  EXPECT_EQ(ReadText(), "0\n0\n");
  EXPECT_TRUE(ReadHighWatermarks(nullptr, Path())->empty());
}

TEST_F(HighWatermarkCheckpointTest, ReadsWhatFlussWrites) {
  // Extra whitespace between fields, as Fluss's reader accepts it.
  WriteText("0\n2\n7  3\t42\n7 9 1 0\n");
  auto read = ReadHighWatermarks(nullptr, Path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->at(TableBucket{TableId(7), std::nullopt, BucketId(3)}), LogOffset(42));
  EXPECT_EQ(read->at(TableBucket{TableId(7), PartitionId(9), BucketId(1)}), LogOffset(0));
}

TEST_F(HighWatermarkCheckpointTest, MalformedFilesAreStorageErrors) {
  for (const std::string text :
       {"", "1\n0\n", "0\n", "0\nx\n", "0\n2\n1 0 5\n", "0\n1\n1 0\n", "0\n1\n1 0 -5\n",
        "0\n1\n1 0 5 6 7\n", "0\n1\n1 a 5\n", "0\n1\n1 0 99999999999999999999\n"}) {
    WriteText(text);
    auto read = ReadHighWatermarks(nullptr, Path());
    ASSERT_FALSE(read.ok()) << "accepted: '" << text << "'";
    EXPECT_EQ(read.status().code(), ErrorCode::kStorage) << text;
  }
}

}  // namespace
}  // namespace strom::replica
