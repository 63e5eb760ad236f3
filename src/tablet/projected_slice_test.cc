// Projection of batches left in their segment file (SliceProjector): the pieces it describes
// are byte for byte what ArrowProjection::ProjectLogRecords writes from the same bytes in
// memory, on every codec, with nulls, change types, both header versions, empty, small and
// large batches, and under every budget.

#include "tablet/projected_slice.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "interop/arrow/random_rows.h"
#include "log/fs/file_system.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/log_record_batch.h"
#include "testutil/seed.h"

namespace strom::tablet {
namespace {

using record::ChangeType;
using record::DataType;
using record::GenericRow;
using record::LogBatchParams;
using record::arrow::ArrowCompression;
using record::arrow::ArrowProjection;
using record::arrow::testing::RandomData;

// A file holding `prefix` junk bytes followed by `blob`, shared as a sender would.
class SliceFile {
 public:
  SliceFile(const ByteBuffer& blob, size_t prefix) {
    char path[] = "/tmp/strom-projected-slice-XXXXXX";
    const int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    path_ = path;
    const ByteBuffer bytes = ByteBuffer(prefix, '\x5a') + blob;
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    handle_ = std::make_shared<log::SharedFileHandle>(fd);
    prefix_ = prefix;
  }
  ~SliceFile() { ::unlink(path_.c_str()); }

  // The slice [from, from + size) of the blob.
  log::FileSlice Slice(size_t from, size_t size) const {
    return log::FileSlice{handle_, prefix_ + from, size};
  }

 private:
  std::string path_;
  std::shared_ptr<log::SharedFileHandle> handle_;
  size_t prefix_ = 0;
};

struct Blob {
  ByteBuffer bytes;
  std::vector<size_t> ends;  // where each batch ends
  std::vector<int64_t> next_offsets;
};

// Batches of assorted sizes: tiny ones that share one read window, large ones whose columns
// go out as file regions, an empty one, one with more change types than a window holds.
Blob MakeBlob(const DataType& type, ArrowCompression codec, uint64_t seed) {
  RandomData random(seed);
  Blob blob;
  int64_t offset = 0;
  const int sizes[] = {3, 1, 2000, 40, 0, 9000, 7, 500};
  for (int i = 0; i < 8; ++i) {
    LogBatchParams params;
    params.magic = i % 3 == 2 ? record::kLogMagicV1 : record::kLogMagicV0;
    params.append_only = i % 2 == 0;
    params.base_offset = LogOffset(offset);
    std::vector<GenericRow> rows = random.Rows(type, sizes[i], 0.2);
    std::vector<ChangeType> change_types;
    for (size_t r = 0; r < rows.size(); ++r) {
      change_types.push_back(static_cast<ChangeType>(1 + r % 4));
    }
    if (sizes[i] == 0) {
      record::LogRecordBatchBuilder builder(&blob.bytes, params);
      builder.Finish();
      offset += 1;
    } else {
      auto built = record::arrow::BuildArrowLogBatch(
          &blob.bytes, params, type, rows,
          params.append_only ? std::span<const ChangeType>() : change_types, codec);
      EXPECT_TRUE(built.ok()) << built.status().ToString();
      offset += sizes[i];
    }
    blob.ends.push_back(blob.bytes.size());
    blob.next_offsets.push_back(offset);
  }
  return blob;
}

ByteBuffer Bytes(const rpc::ResponseBody& body) {
  auto bytes = body.ToBytes();
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : ByteBuffer();
}

TEST(TabletProjectedSliceTest, PiecesAreTheBytesOfTheInMemoryProjection) {
  const DataType type = record::arrow::testing::AllTypesRowType();
  const uint64_t seed = testutil::TestSeed();
  const std::vector<std::vector<int32_t>> selections = {{0}, {1, 5}, {2, 8, 30}, {3, 9, 21, 33}};
  const ArrowCompression codecs[] = {ArrowCompression::None(), ArrowCompression::Lz4Frame(),
                                     ArrowCompression::Zstd(3)};
  for (const ArrowCompression& codec : codecs) {
    const Blob blob = MakeBlob(type, codec, seed);
    SliceFile file(blob.bytes, 4096 + 3);
    for (const auto& selected : selections) {
      SCOPED_TRACE(::testing::Message() << record::arrow::CompressionCodecName(codec.codec)
                                        << " " << ::testing::PrintToString(selected));
      auto projection = ArrowProjection::Create(type, selected, codec);
      ASSERT_TRUE(projection.ok());
      ByteBuffer all;
      auto consumed_all = projection->ProjectLogRecords(blob.bytes, SIZE_MAX, &all);
      ASSERT_TRUE(consumed_all.ok()) << consumed_all.status().ToString();
      ASSERT_EQ(*consumed_all, blob.bytes.size());

      // Every budget from nothing to everything, at and around each batch boundary.
      std::vector<size_t> rooms = {0, 1, SIZE_MAX};
      {
        for (size_t end : blob.ends) {
          ByteBuffer partial;
          ASSERT_TRUE(projection->ProjectLogRecords(ByteView(blob.bytes).substr(0, end),
                                                    SIZE_MAX, &partial)
                          .ok());
          rooms.push_back(partial.size() - 1);
          rooms.push_back(partial.size());
          rooms.push_back(partial.size() + 1);
        }
      }
      for (size_t room : rooms) {
        ByteBuffer expected;
        auto consumed = projection->ProjectLogRecords(blob.bytes, room, &expected);
        ASSERT_TRUE(consumed.ok());
        SliceProjector projector(&*projection);
        rpc::ResponseBody body;
        auto walked = projector.Project(file.Slice(0, blob.bytes.size()), room, &body);
        ASSERT_TRUE(walked.ok()) << walked.status().ToString();
        EXPECT_EQ(walked->consumed, *consumed) << "room " << room;
        EXPECT_EQ(walked->full, *consumed < blob.bytes.size()) << "room " << room;
        EXPECT_TRUE(Bytes(body) == expected) << "room " << room;
        EXPECT_EQ(body.size(), expected.size());
        if (*consumed > 0) {
          size_t batch = 0;
          while (blob.ends[batch] != *consumed) ++batch;
          ASSERT_TRUE(walked->next_offset.has_value());
          EXPECT_EQ(walked->next_offset->value(), blob.next_offsets[batch]);
        } else {
          EXPECT_FALSE(walked->next_offset.has_value());
        }
      }
      // Large batches leave their kept columns in the file.
      SliceProjector projector(&*projection);
      rpc::ResponseBody body;
      ASSERT_TRUE(projector.Project(file.Slice(0, blob.bytes.size()), SIZE_MAX, &body).ok());
      EXPECT_TRUE(body.has_file_regions());
      EXPECT_LT(body.memory_bytes(), body.size());
    }
  }
}

TEST(TabletProjectedSliceTest, SlicesStartingAtABatchAndCutInsideOne) {
  const DataType type = record::arrow::testing::AllTypesRowType();
  const Blob blob = MakeBlob(type, ArrowCompression::Zstd(3), testutil::TestSeed());
  SliceFile file(blob.bytes, 0);
  auto projection = ArrowProjection::Create(type, std::vector<int32_t>{4, 30}, ArrowCompression::Zstd(3));
  ASSERT_TRUE(projection.ok());
  for (size_t first = 0; first + 1 < blob.ends.size(); ++first) {
    const size_t from = first == 0 ? 0 : blob.ends[first - 1];
    for (size_t cut : {size_t{0}, size_t{1}, size_t{11}, size_t{12}, size_t{60}, size_t{5000}}) {
      const size_t end = blob.ends[first + 1] > cut ? blob.ends[first + 1] - cut : from;
      if (end < from) continue;
      const ByteView stored = ByteView(blob.bytes).substr(from, end - from);
      ByteBuffer expected;
      auto consumed = projection->ProjectLogRecords(stored, SIZE_MAX, &expected);
      ASSERT_TRUE(consumed.ok());
      SliceProjector projector(&*projection);
      rpc::ResponseBody body;
      auto walked = projector.Project(file.Slice(from, stored.size()), SIZE_MAX, &body);
      ASSERT_TRUE(walked.ok()) << walked.status().ToString();
      EXPECT_EQ(walked->consumed, *consumed);
      EXPECT_FALSE(walked->full);
      EXPECT_TRUE(Bytes(body) == expected) << "batch " << first << " cut " << cut;
    }
  }
}

TEST(TabletProjectedSliceTest, CorruptBatchesAreErrorsNeverCrashes) {
  const DataType type = record::arrow::testing::AllTypesRowType();
  const Blob blob = MakeBlob(type, ArrowCompression::None(), testutil::TestSeed());
  auto projection = ArrowProjection::Create(type, std::vector<int32_t>{1, 9}, {});
  ASSERT_TRUE(projection.ok());
  RandomData random(testutil::TestSeed());
  for (int trial = 0; trial < 120; ++trial) {
    ByteBuffer bad = blob.bytes;
    // Mostly in the first batches' headers and metadata.
    const size_t pos = static_cast<size_t>(
        random.Uniform(0, std::min<int64_t>(static_cast<int64_t>(bad.size()) - 1, 3000)));
    bad[pos] = static_cast<char>(random.Uniform(0, 255));
    ByteBuffer expected;
    auto consumed = projection->ProjectLogRecords(bad, SIZE_MAX, &expected);
    SliceFile file(bad, 0);
    SliceProjector projector(&*projection);
    rpc::ResponseBody body;
    auto walked = projector.Project(file.Slice(0, bad.size()), SIZE_MAX, &body);
    ASSERT_EQ(walked.status().code(), consumed.status().code())
        << walked.status().ToString() << " vs " << consumed.status().ToString();
    if (walked.ok()) {
      EXPECT_EQ(walked->consumed, *consumed);
      EXPECT_TRUE(Bytes(body) == expected);
    }
  }
  // A length below any header.
  ByteBuffer bad = blob.bytes;
  StoreI32LE(bad.data() + record::kLogLengthOffset, 3);
  SliceFile file(bad, 0);
  SliceProjector projector(&*projection);
  rpc::ResponseBody body;
  EXPECT_EQ(projector.Project(file.Slice(0, bad.size()), SIZE_MAX, &body).status().code(),
            ErrorCode::kCorruptRecord);
}

}  // namespace
}  // namespace strom::tablet
